/**
 * @file Preload of the main window (Electron renderer, sandboxed, CommonJS bundle).
 *
 * Exposes one narrow API through `contextBridge`: a message channel to the engine (see
 * [Note: IPC]). The renderer builds its typed client from the shared contract over it.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';

const channel = new MessageChannel();
ipcRenderer.postMessage('engine:connect', null, [channel.port2]);
const listeners = new Set<(m: unknown) => void>();
channel.port1.onmessage = (e) => {
  for (const l of listeners) l(e.data);
};

contextBridge.exposeInMainWorld('coopStudio', {
  transport: 'electron',
  send: (message: unknown) => channel.port1.postMessage(message),
  onMessage: (listener: (m: unknown) => void) => {
    listeners.add(listener);
  },
  /** Real path of a dropped file (Electron >= 32 no longer exposes File.path). */
  pathForFile: (file: File) => webUtils.getPathForFile(file),
});
