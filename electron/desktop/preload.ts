/**
 * @file Preload of the app's windows (Electron renderer, sandboxed, CommonJS bundle).
 *
 * The main window gets one narrow API through `contextBridge` (see `shared/preload-api.ts`): a message channel
 * to the engine, the desktop operations, and menu notices (see [Note: IPC]). No Node or Electron object reaches
 * the page. The hidden compute window (started with `COMPUTE_WINDOW_ARG`) gets no API at all: its preload only
 * passes on the MessagePorts the main process sends (see [Note: compute port]).
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { MenuCommand, PreloadApi } from '../../shared/preload-api';
import { COMPUTE_PORT_MESSAGE } from '../engine/backends/compute-protocol';
import { COMPUTE_WINDOW_ARG } from './window-options';

function exposeAppApi(): void {
  const channel = new MessageChannel();
  ipcRenderer.postMessage('engine:connect', null, [channel.port2]);
  const listeners = new Set<(m: unknown) => void>();
  channel.port1.onmessage = (e) => {
    for (const l of listeners) l(e.data);
  };

  const api: PreloadApi = {
    transport: 'electron',
    send: (message) => channel.port1.postMessage(message),
    onMessage: (listener) => {
      listeners.add(listener);
    },
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
