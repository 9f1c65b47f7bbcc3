/**
 * @file Preload of the main window (Electron renderer, sandboxed, CommonJS bundle).
 *
 * Exposes one narrow API through `contextBridge` (see `shared/preload-api.ts`): a message channel
 * to the engine, the desktop operations, and menu notices (see [Note: IPC]). No Node or Electron
 * object reaches the page.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { MenuCommand, PreloadApi } from '../shared/preload-api';

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
