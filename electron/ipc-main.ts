/**
 * @file The one place that touches `ipcMain` (Electron main process).
 *
 * [Note: IPC] The renderer reaches the engine through one MessagePort handed over by the preload
 * (`engine:connect`). Before the port is bridged, the sender frame is validated (our own page
 * only); every message is then shape-checked and its arguments parsed by the contract's zod
 * schemas in the engine, like the web transport (see `bridgeToEngine`).
 */
import { ipcMain, type IpcMainEvent, type WebFrameMain } from 'electron';
import type { EngineClient } from '../shared/client';
import { bridgeToEngine } from './engine-host/bridge';

/** True for frames that show our own renderer (file:// bundle or the dev server we started). */
export function isTrustedFrameUrl(url: string, devServerOrigin: string | null): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === 'file:') return u.pathname.endsWith('/renderer/index.html');
    return devServerOrigin !== null && u.origin === devServerOrigin;
  } catch {
    return false;
  }
}

/** Registers the engine connection handler; returns a function that removes it. */
export function registerEngineIpc(client: EngineClient, devServerOrigin: string | null): () => void {
  const onConnect = (event: IpcMainEvent) => {
    const frame: WebFrameMain | null = event.senderFrame;
    const port = event.ports[0];
    if (!frame || !port || !isTrustedFrameUrl(frame.url, devServerOrigin)) {
      port?.close();
      return;
    }
    const onMessage = bridgeToEngine(client, (m) => port.postMessage(m));
    port.on('message', (e) => onMessage(e.data));
    port.start();
  };
  ipcMain.on('engine:connect', onConnect);
  return () => ipcMain.removeListener('engine:connect', onConnect);
}
