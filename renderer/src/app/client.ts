/**
 * @file Connects the page to the engine over whichever transport is present (renderer).
 *
 * In the desktop app the preload exposes `window.coopStudio`, and the engine answers over a MessagePort that the main
 * process hands over and replaces when the engine restarts (see [Note: engine port] in
 * electron/desktop/engine-ports.ts); in web mode the page talks to `coop-studio serve` over a WebSocket authenticated
 * by the token in the page URL.
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
import { PortClient } from '../../../shared/port-client';
import { ENGINE_PORT_MESSAGE, type PreloadApi } from '../../../shared/preload-api';
import type { EngineMessage } from '../../../shared/protocol';
import type { AppErrorData } from '../../../shared/result';
import { authHeaders, webSocketProtocols } from '../../../shared/web-auth';
import { desktopPlatform, webPlatform, type Platform } from './platform';

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

function connectWeb(token: string | null): EngineClient {
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

function connectDesktop(api: PreloadApi): EngineClient {
  const client = new PortClient();
  // The preload passes each port on with window.postMessage (ports cannot cross the context bridge).
  window.addEventListener('message', (e: MessageEvent) => {
    const port = e.ports[0];
    if (e.source !== window || e.data !== ENGINE_PORT_MESSAGE || !port) return;
    client.attach(port);
  });
  api.onEngineNotice((notice) => {
    if (notice.kind === 'crashed') client.detach();
  });
  api.connectEngine();
  return client;
}

/**
 * The page's engine client and platform (called once, by main.ts); null in a web page opened without the token
 * (see [Note: the page's token]), which cannot reach the engine at all.
 */
export function connect(): { engine: EngineClient; platform: Platform } | null {
  const api = window.coopStudio;
  if (api) return { engine: connectDesktop(api), platform: desktopPlatform(api) };
  const token = webToken();
  if (!token) return null;
  return { engine: connectWeb(token), platform: webPlatform(token) };
}
