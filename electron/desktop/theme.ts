/**
 * @file The `theme` setting -> the window's colour scheme (Electron main; no Electron import, so tests run it in Node).
 *
 * [Note: theme] The Settings screen writes `theme` (system | light | dark) into `<dataDir>/settings.json` through the
 * engine (`preferencesSet`). The main process does not get a message for it: it watches the data folder for the
 * settings file changing and applies the value to `nativeTheme.themeSource`, which sets `prefers-color-scheme` in
 * the renderer and the colour of native dialogs and menus. One source of truth, and the CLI can change it too.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { readSettings, settingsPath } from '../engine/settings/settings';

/** Values of `nativeTheme.themeSource`. */
export type ThemeSource = 'system' | 'light' | 'dark';

/** The theme a settings object asks for; anything missing or unknown follows the system. */
export function themeSourceOf(settings: Record<string, unknown>): ThemeSource {
  const t = settings['theme'];
  return t === 'light' || t === 'dark' ? t : 'system';
}

/** The current theme setting of a data folder (`system` when the file is missing or unreadable). */
export function readThemeSource(dataDir: string): ThemeSource {
  try {
    return themeSourceOf(readSettings(dataDir));
  } catch {
    return 'system';
  }
}

/** Applies the theme now and whenever the settings file changes; returns a function that stops watching. */
export function followThemeSetting(dataDir: string, apply: (theme: ThemeSource) => void): () => void {
  let last = readThemeSource(dataDir);
  apply(last);
  const file = basename(settingsPath(dataDir));
  let watcher: FSWatcher | null = null;
  try {
    // The settings file is replaced by a rename, so the folder is watched, not the file.
    watcher = watch(dataDir, (_event, name) => {
      if (name !== null && name !== file) return;
      const next = readThemeSource(dataDir);
      if (next === last) return;
      last = next;
      apply(next);
    });
  } catch {
    // No watcher (a folder that vanished, a file system without notifications): the theme applies at next start.
  }
  return () => watcher?.close();
}
