/**
 * @file The renderer's one engine client, over whichever transport is present (renderer).
 *
 * In the desktop app the preload exposes `window.coopStudio` (Electron IPC); in web mode the page
 * talks to `coop-studio serve` over a WebSocket authenticated by the token in the page URL.
 *
 * [Note: the page's token] The token arrives once, in the URL `coop-studio serve` printed. The page
 * moves it into the tab's sessionStorage (per origin, so no other port can read it, and it survives a
 * reload of the same tab) and drops it from the address bar with `history.replaceState`. It then
 * travels as a WebSocket subprotocol, an `Authorization` header on uploads, and a query parameter only
 * on same-origin thumbnail URLs (an `<img>` cannot send headers). Never a cookie: see
 * [Note: no token cookie] in electron/server/web-server.ts.
 */
import type { EngineClient } from '../../../shared/client';
import { MessageClient } from '../../../shared/message-client';
import type { PreloadApi } from '../../../shared/preload-api';
import type { EngineMessage } from '../../../shared/protocol';
import type { AppErrorData } from '../../../shared/result';
import { thumbnailUrl } from '../../../shared/files';
import { authHeaders, webSocketProtocols, withTokenQuery } from '../../../shared/web-auth';

declare global {
  interface Window {
    coopStudio?: PreloadApi;
  }
}

/** The error of every call in a web page opened without the token. */
export const NO_TOKEN: AppErrorData = {
  code: 'unauthorized',
  message: 'This page has no access token. Open the URL that `coop-studio serve` printed (it ends in ?token=...).',
};

/** Which transport the page uses. */
export type TransportKind = 'electron' | 'web';

const TOKEN_KEY = 'coop-studio-token';
let pageToken: string | null | undefined;

/** The page's token (web mode), see [Note: the page's token]; null when the tab never had one. */
export function webToken(): string | null {
  if (pageToken !== undefined) return pageToken;
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
  }
  pageToken = fromUrl ?? sessionStorage.getItem(TOKEN_KEY);
  return pageToken;
}

/** Headers that authenticate an HTTP request of this page to `coop-studio serve` (none in the desktop app). */
export function serverAuthHeaders(): Record<string, string> {
  const token = window.coopStudio ? null : webToken();
  return token ? authHeaders(token) : {};
}

/** The `src` of a thumbnail by content hash for this page's transport. */
export function thumbnailSrc(hash: string): string {
  if (window.coopStudio) return thumbnailUrl(hash, 'electron');
  const token = webToken();
  return token ? withTokenQuery(thumbnailUrl(hash, 'web'), token) : thumbnailUrl(hash, 'web');
}

function connectWeb(): MessageClient {
  const token = webToken();
  let socket: WebSocket | null = null;
  let queue: string[] = [];
  let retry = 0;
  const client = new MessageClient((m) => {
    const data = JSON.stringify(m);
    if (socket?.readyState === WebSocket.OPEN) socket.send(data);
    else queue.push(data);
  });
  if (!token) {
    // Without a token the server refuses the socket: fail every call with a sentence instead of retrying forever.
    client.failAll(NO_TOKEN, true);
    return client;
  }
  const open = () => {
    const ws = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`,
      webSocketProtocols(token),
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
