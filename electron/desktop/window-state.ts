/**
 * @file Saves and restores the main window's size and position (Electron main).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserWindow } from 'electron';
import { parseWindowState, type WindowState } from './window-options';

/** Reads the saved state from the user-data folder. */
export function loadWindowState(userData: string): WindowState {
  const file = join(userData, 'window-state.json');
  try {
    return parseWindowState(existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null);
  } catch {
    return parseWindowState(null);
  }
}

/** Saves the window's geometry whenever it stops moving or resizing, and on close. */
export function trackWindowState(win: BrowserWindow, userData: string): void {
  const file = join(userData, 'window-state.json');
  let timer: NodeJS.Timeout | undefined;
  const save = () => {
    if (win.isDestroyed()) return;
    const b = win.getNormalBounds();
    const state: WindowState = { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() };
    try {
      writeFileSync(file, JSON.stringify(state));
    } catch {
      // best effort: losing the window position is not worth an error
    }
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('close', save);
}
