/**
 * @file The renderer's one engine client, over whichever transport is present (renderer).
 *
 * In the desktop app the preload exposes `window.coopStudio` (Electron IPC); in web mode the page
 * talks to `coop-studio serve` over a WebSocket authenticated by the token in the page URL.
 */
import type { EngineClient } from '../../../shared/client';
import { MessageClient } from '../../../shared/message-client';
import type { PreloadApi } from '../../../shared/preload-api';
import type { EngineMessage } from '../../../shared/protocol';

declare global {
  interface Window {
    coopStudio?: PreloadApi;
  }
}

/** Which transport the page uses. */
export type TransportKind = 'electron' | 'web';

/** The page's token (web mode), kept for reconnects after the URL is cleaned. */
export function webToken(): string | null {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) sessionStorage.setItem('coop-studio-token', fromUrl);
  return fromUrl ?? sessionStorage.getItem('coop-studio-token');
}

function connectWeb(): MessageClient {
  const token = webToken() ?? '';
  let socket: WebSocket | null = null;
  let queue: string[] = [];
  let retry = 0;
  const client = new MessageClient((m) => {
    const data = JSON.stringify(m);
    if (socket?.readyState === WebSocket.OPEN) socket.send(data);
    else queue.push(data);
  });
  const open = () => {
    const ws = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`,
    );
    socket = ws;
    ws.onopen = () => {
      retry = 0;
      for (const d of queue) ws.send(d);
      queue = [];
    };
    ws.onmessage = (e) => client.receive(JSON.parse(String(e.data)) as EngineMessage);
    ws.onclose = () => {
      client.failAll(
        { code: 'engine_crashed', message: 'The connection to the engine was lost; reconnecting.' },
        false,
      );
      retry = Math.min(retry + 1, 6);
      setTimeout(open, 250 * 2 ** retry);
    };
  };
  open();
  return client;
}

function connectElectron(api: PreloadApi): MessageClient {
  const client = new MessageClient((m) => api.send(m));
  api.onMessage((m) => client.receive(m as EngineMessage));
  return client;
}

/** The transport this page runs on. */
export const transport: TransportKind = window.coopStudio ? 'electron' : 'web';

/** The shared client of the whole renderer. */
export const engine: EngineClient = window.coopStudio ? connectElectron(window.coopStudio) : connectWeb();
