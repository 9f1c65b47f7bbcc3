/**
 * @file Electron main process: window, menu, engine host (Electron main, kept thin).
 *
 * Heavy work never runs here (see [Note: engine process]); the engine is a utilityProcess that
 * this file starts through `EngineHost` and restarts if it crashes.
 */
import { app, BrowserWindow, dialog, utilityProcess } from 'electron';
import { join } from 'node:path';
import type { EngineMessage } from '../shared/protocol';
import { EngineHost, type WorkerLauncher } from './engine-host/engine-host';
import { appRoot } from './engine/paths';
import { registerEngineIpc } from './ipc-main';
import { SECURE_WEB_PREFERENCES } from './window-options';

const utilityLauncher: WorkerLauncher = (entry, env) => {
  const child = utilityProcess.fork(entry, [], { env, serviceName: 'CoOp Studio engine', stdio: 'inherit' });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', (m: EngineMessage) => l(m)),
    onExit: (l) => child.once('exit', (code) => l(code, null)),
    kill: () => {
      child.kill();
    },
  };
};

async function main(): Promise<void> {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  process.env['COOP_STUDIO_DATA_DIR'] ??= app.getPath('userData');
  const host = new EngineHost({
    launcher: utilityLauncher,
    onCrash: ({ failedCalls }) => {
      dialog.showErrorBox(
        'The engine stopped',
        `The engine process crashed and was restarted.${failedCalls ? ` ${failedCalls} job(s) in flight were marked failed.` : ''}`,
      );
    },
  });
  await host.start();
  registerEngineIpc(host.client, null);
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    title: 'CoOp Studio',
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: join(appRoot(), 'dist', 'electron', 'preload.cjs') },
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  await win.loadFile(join(appRoot(), 'dist', 'renderer', 'index.html'));
  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('window-all-closed', () => {
    void host.stop().then(() => app.quit());
  });
}

void main();
