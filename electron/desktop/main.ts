/**
 * @file Electron main process: single instance, windows, menu, IPC, engine host (Electron main, kept thin).
 *
 * Heavy work never runs here (see [Note: engine process]), and no engine message passes through here: the engine is a
 * utilityProcess that `EngineHost` starts, restarts after a crash (the user is told) and asks to cancel its jobs on
 * quit; the page and the hidden compute window (GPU training, see [Note: compute port]) each get a MessagePort
 * straight to every engine incarnation when that engine says it is ready (see [Note: engine port]).
 */
import {
  app,
  BrowserWindow,
  MessageChannelMain,
  nativeTheme,
  screen,
  session,
  utilityProcess,
  type MessagePortMain,
} from 'electron';
import { join } from 'node:path';
import type { EngineMessage } from '../../shared/protocol';
import { COMPUTE_WINDOW_BACKENDS } from '../../shared/contract/train';
import { parseBackendSetting } from '../engine/backends/backend-choice';
import { ComputeWindow, type EnginePortSink } from './compute-window';
import { EngineHost, type WorkerLauncher } from '../hosts/engine-host/engine-host';
import { readSettings } from '../engine/settings/settings';
import { appRoot, dataDir } from '../engine/settings/paths';
import { EnginePorts } from './engine-ports';
import { isTrustedFrameUrl, registerIpc, type TrustedOrigin } from './ipc-main';
import { desktopHandlers } from './desktop-handlers';
import { appPageUrl } from './app-scheme';
import { handleAppProtocol, handleFileProtocol, registerAppSchemes } from './file-protocol';
import { guardWebContents, hardenSession } from './guards';
import { installMenu } from './menu';
import { followThemeSetting } from './theme';
import { loadWindowState, trackWindowState } from './window-state';
import { DESKTOP_CSP, keepOnScreen, SECURE_WEB_PREFERENCES } from './window-options';

const preloadPath = () => join(appRoot(), 'dist', 'electron', 'preload.cjs');
let mainWindow: BrowserWindow | null = null;
let computeWindow: ComputeWindow | null = null;
/** How to hand a compute port to the engine that is running now (null while none is ready). */
let engineSink: EnginePortSink | null = null;

const utilityLauncher: WorkerLauncher = (entry, env) => {
  const child = utilityProcess.fork(entry, [], { env, serviceName: 'CoOp Studio engine', stdio: 'inherit' });
  // A ready engine gets its own port to the compute window; one that exited gets none.
  const sink: EnginePortSink = (port) => child.postMessage({ type: 'compute-port' }, [port]);
  child.on('message', (m: EngineMessage) => {
    if (m.type !== 'ready') return;
    engineSink = sink;
    computeWindow?.setEngine(sink);
  });
  child.once('exit', () => {
    if (engineSink !== sink) return;
    engineSink = null;
    computeWindow?.setEngine(null);
  });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => child.postMessage(m),
    postPort: (message, port) => child.postMessage(message, [port as MessagePortMain]),
    onMessage: (l) => child.on('message', (m: EngineMessage) => l(m)),
    onExit: (l) => child.once('exit', (code) => l(code, null)),
    kill: () => {
      child.kill();
    },
  };
};

function createWindow(trust: TrustedOrigin): BrowserWindow {
  const displays = screen.getAllDisplays().map((d) => d.workArea);
  const state = keepOnScreen(loadWindowState(app.getPath('userData')), displays);
  const win = new BrowserWindow({
    ...state,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'CoOp Studio',
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: preloadPath() },
  });
  if (state.maximized) win.maximize();
  trackWindowState(win, app.getPath('userData'));
  win.once('ready-to-show', () => win.show());
  // The hidden compute window would keep the app alive: closing the main window quits.
  win.on('closed', () => {
    mainWindow = null;
    app.quit();
  });
  void win.loadURL(appPageUrl(trust.rendererHost));
  return win;
}

/** The compute window is skipped when the user chose a backend of the engine (wasm, tfjs-node, cpu). */
function wantsComputeWindow(data: string): boolean {
  if (process.env['COOP_STUDIO_NO_COMPUTE_WINDOW'] === '1') return false;
  let setting;
  try {
    setting = parseBackendSetting(readSettings(data)['trainBackend']);
  } catch {
    setting = 'auto' as const;
  }
  return setting === 'auto' || (COMPUTE_WINDOW_BACKENDS as readonly string[]).includes(setting);
}

async function main(): Promise<void> {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  registerAppSchemes();
  // Every web contents, whoever creates it: no new windows, no webviews, no navigation away from our pages.
  app.on('web-contents-created', (_e, contents) => guardWebContents(contents));
  await app.whenReady();
  // The engine and the CLI resolve the same data folder (env override, moved location, OS default).
  const data = (process.env['COOP_STUDIO_DATA_DIR'] ??= dataDir());
  handleFileProtocol(data);
  // Pages load from app://renderer and app://compute, never file:// (see [Note: app scheme]).
  handleAppProtocol(
    { renderer: join(appRoot(), 'dist', 'renderer'), compute: join(appRoot(), 'dist', 'compute') },
    DESKTOP_CSP,
  );
  hardenSession(session.defaultSession, DESKTOP_CSP);
  const stopTheme = followThemeSetting(data, (theme) => (nativeTheme.themeSource = theme));

  const trust: TrustedOrigin = { rendererHost: 'renderer', devServerOrigin: null };
  const host = new EngineHost({
    launcher: utilityLauncher,
    // Called only after host.start() below, when `ports` exists.
    onReady: () => ports.engineReady(),
    onCrash: () => {
      // The page fails its calls in flight (they were on the dead port) and gets a new port once the engine is ready.
      mainWindow?.webContents.send('engine:notice', {
        kind: 'crashed',
        message: 'The engine stopped unexpectedly and was restarted; the jobs that were running were marked failed.',
      });
    },
  });
  const ports = new EnginePorts<MessagePortMain>({
    newChannel: () => new MessageChannelMain(),
    toEngine: (port) => host.sendPeerPort(port),
    trusted: (url) => isTrustedFrameUrl(url, trust),
    close: (port) => port.close(),
  });
  await host.start();
  registerIpc(
    ports,
    desktopHandlers(() => mainWindow, data),
    trust,
  );
  installMenu(() => mainWindow);
  mainWindow = createWindow(trust);
  // After the main window, so that it is the app's first window (and its first paint is not delayed).
  if (wantsComputeWindow(data)) {
    computeWindow = new ComputeWindow({
      page: appPageUrl('compute'),
      preload: preloadPath(),
      log: (message) => process.stderr.write(`[compute] ${message}\n`),
    });
    computeWindow.setEngine(engineSink);
    computeWindow.start();
  }

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
    stopTheme();
    void host.shutdown().finally(() => {
      computeWindow?.close();
      app.quit();
    });
  });
  app.on('window-all-closed', () => app.quit());
}

void main();
