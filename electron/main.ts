/**
 * @file Electron main process: single instance, window, menu, IPC, engine host (Electron main, kept thin).
 *
 * Heavy work never runs here (see [Note: engine process]): the engine is a utilityProcess that
 * `EngineHost` starts, restarts after a crash (the calls in flight fail and the user is told),
 * and asks to cancel its jobs on quit.
 */
import { app, BrowserWindow, session, utilityProcess } from 'electron';
import { join } from 'node:path';
import type { EngineMessage } from '../shared/protocol';
import { EngineHost, type WorkerLauncher } from './engine-host/engine-host';
import { appRoot, dataDir } from './engine/paths';
import { registerIpc, type TrustedOrigin } from './ipc-main';
import { desktopHandlers } from './main/desktop-handlers';
import { handleFileProtocol, registerFileScheme } from './main/file-protocol';
import { installMenu } from './main/menu';
import { loadWindowState, trackWindowState } from './main/window-state';
import { DESKTOP_CSP, SECURE_WEB_PREFERENCES } from './window-options';

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

let mainWindow: BrowserWindow | null = null;

function createWindow(trust: TrustedOrigin): BrowserWindow {
  const state = loadWindowState(app.getPath('userData'));
  const win = new BrowserWindow({
    ...state,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'CoOp Studio',
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: join(appRoot(), 'dist', 'electron', 'preload.cjs') },
  });
  if (state.maximized) win.maximize();
  trackWindowState(win, app.getPath('userData'));
  win.once('ready-to-show', () => win.show());
  // No navigation away from our page and no new windows: links open in the system browser via the allow-list.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e, url) => {
    if (url !== win.webContents.getURL()) e.preventDefault();
  });
  win.webContents.on('will-attach-webview', (e) => e.preventDefault());
  void win.loadFile(trust.rendererFile);
  return win;
}

async function main(): Promise<void> {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  registerFileScheme();
  await app.whenReady();
  // The engine and the CLI resolve the same data folder (env override, moved location, OS default).
  const data = (process.env['COOP_STUDIO_DATA_DIR'] ??= dataDir());
  handleFileProtocol(data);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  const host = new EngineHost({
    launcher: utilityLauncher,
    onCrash: ({ failedCalls }) => {
      mainWindow?.webContents.send('engine:notice', {
        kind: 'crashed',
        message: `The engine stopped unexpectedly and was restarted.${failedCalls ? ` ${failedCalls} job(s) in flight were marked failed.` : ''}`,
      });
    },
  });
  await host.start();
  const trust: TrustedOrigin = {
    rendererFile: join(appRoot(), 'dist', 'renderer', 'index.html'),
    devServerOrigin: null,
  };
  registerIpc(
    host.client,
    desktopHandlers(() => mainWindow),
    trust,
  );
  installMenu(() => mainWindow);
  mainWindow = createWindow(trust);

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    // Graceful quit: the engine cancels its jobs (runs are recorded as cancelled) before it exits.
    quitting = true;
    e.preventDefault();
    void host.shutdown().finally(() => app.quit());
  });
  app.on('window-all-closed', () => app.quit());
}

void main();
