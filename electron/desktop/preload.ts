/**
 * @file Preload of the app's windows (Electron renderer, sandboxed, CommonJS bundle).
 *
 * The main window gets one narrow API through `contextBridge` (see `shared/preload-api.ts`): a request for a port to
 * the engine, the desktop operations, and menu notices (see [Note: IPC]). No Node or Electron object reaches the page.
 * The engine ports the main process sends (see [Note: engine port]) and, in the hidden compute window (started with
 * `COMPUTE_WINDOW_ARG`, which gets no API at all), the compute ports (see [Note: compute port]) are passed on to the
 * page with `window.postMessage`, as Electron's docs show for context-isolated pages.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { ENGINE_PORT_MESSAGE, type MenuCommand, type PreloadApi } from '../../shared/preload-api';
import { COMPUTE_PORT_MESSAGE } from '../engine/backends/compute-protocol';
import { ENGINE_PORT_CHANNEL } from './engine-ports';
import { COMPUTE_WINDOW_ARG } from './window-options';

function exposeAppApi(): void {
  // Every port (the first, and a new one after each engine restart) goes to the page as it arrives.
  ipcRenderer.on(ENGINE_PORT_CHANNEL, (e) => window.postMessage(ENGINE_PORT_MESSAGE, '*', e.ports));

  const api: PreloadApi = {
    transport: 'electron',
    connectEngine: () => ipcRenderer.send('engine:connect'),
    desktop: (op, args) => ipcRenderer.invoke('desktop:invoke', op, args) as Promise<unknown>,
    onMenu: (listener) => {
      ipcRenderer.on('menu:command', (_e, command: MenuCommand) => listener(command));
    },
    onEngineNotice: (listener) => {
      ipcRenderer.on('engine:notice', (_e, notice: { kind: 'crashed'; message: string }) => listener(notice));
    },
    pathForFile: (file) => webUtils.getPathForFile(file),
  };

  contextBridge.exposeInMainWorld('coopStudio', api);
}

function forwardComputePorts(): void {
  // The port crosses from the isolated world to the page with window.postMessage, as Electron's docs show.
  ipcRenderer.on('compute:connect', (e) => window.postMessage(COMPUTE_PORT_MESSAGE, '*', e.ports));
}

if (process.argv.includes(COMPUTE_WINDOW_ARG)) forwardComputePorts();
else exposeAppApi();
