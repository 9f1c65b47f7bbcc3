/**
 * @file The local web transport: HTTP for the built renderer, a WebSocket for the contract (Node).
 *
 * [Note: web mode security] `coop-studio serve` binds 127.0.0.1 only and makes a random token per
 * start, printed in the URL as Jupyter does. Every request that reads or writes the user's data (the
 * `/api` WebSocket, uploads, thumbnails and any other mounted route) needs the token: the query
 * `token`, `Authorization: Bearer`, or, for the WebSocket, the subprotocol `coop-studio.token.<token>`.
 * The `Host` header must name the loopback address we bound (defeats DNS rebinding) and any `Origin`
 * header must be our own origin (defeats cross-site requests and cross-site WebSocket hijacking).
 * Static files are served from the renderer build only.
 *
 * [Note: no token cookie] The token is never put in a cookie. Cookies are scoped by host, not by
 * port, so a cookie set by 127.0.0.1:PORT is sent to every other server on 127.0.0.1, and any of them
 * could replay it. Instead the page reads the token from its URL once, drops it from the address bar
 * (`history.replaceState`) and keeps it in the tab's sessionStorage, which is per origin (scheme, host
 * and port); see renderer/src/lib/client.ts. The renderer's files are the same public code for every
 * user and carry no data, so its assets are served without the token. The page shell answers 401
 * without a valid query token (a client learns it is not in), but its body is still the shell, so a
 * reload in a tab that holds the token in sessionStorage keeps working.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EngineClient } from '../../../shared/client';
import { WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../../shared/web-auth';
import { bridgeToEngine } from '../engine-host/bridge';

/**
 * Largest WebSocket message the server accepts. Contract calls are JSON of ids, paths and options (kilobytes);
 * a larger frame is refused with close code 1009 before its payload is buffered.
 */
export const MAX_WS_MESSAGE_BYTES = 4 * 1024 * 1024;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Options of {@link startWebServer}. */
export interface WebServerOptions {
  client: EngineClient;
  /** Folder of the built renderer (`dist/renderer`). */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed token (tests); random otherwise. */
  token?: string;
  /** Extra HTTP routes (uploads, files) mounted after authentication; return true when handled. */
  routes?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;
  /** Where refused connections and socket errors are logged (stderr in `serve`). */
  log?: (line: string) => void;
}

/** A running web server. */
export interface WebServer {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function protocolToken(req: IncomingMessage): string | undefined {
  const offered = req.headers['sec-websocket-protocol'];
  if (!offered) return undefined;
  for (const p of offered.split(',')) {
    const name = p.trim();
    if (name.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return name.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

const REFUSAL = 'Missing or wrong token. Open the URL that `coop-studio serve` printed.';

/** What the steps of one server share: its options, token, renderer folder and log, and the port once bound. */
interface ServerState {
  readonly options: WebServerOptions;
  readonly token: string;
  readonly staticDir: string;
  readonly log: (line: string) => void;
  /** 0 until the server listens. */
  port: number;
}

/** Host and Origin checks: an HTTP status to refuse with and why, or null when the request may proceed. */
function checkPeer(state: ServerState, req: IncomingMessage): { status: number; why: string } | null {
  const allowedHosts = [`127.0.0.1:${state.port}`, `localhost:${state.port}`];
  if (!allowedHosts.includes(req.headers.host ?? '')) return { status: 403, why: 'Forbidden host.' };
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedHosts.map((h) => `http://${h}`).includes(origin)) {
    return { status: 403, why: 'Forbidden origin.' };
  }
  return null;
}

/** True when the request carries the token (query, bearer header, or WebSocket subprotocol; never a cookie). */
function hasToken(state: ServerState, req: IncomingMessage, url: URL): boolean {
  const offered = [
    url.searchParams.get('token'),
    req.headers.authorization?.replace(/^Bearer\s+/i, ''),
    protocolToken(req),
  ];
  return offered.some((t) => typeof t === 'string' && t.length > 0 && safeEqual(t, state.token));
}

/** A renderer file: the asset itself, or the page shell (index.html) for any other path. */
function staticFile(staticDir: string, pathname: string): { file: string; shell: boolean } | null {
  let rel: string;
  try {
    rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  } catch {
    return null;
  }
  const file = resolve(staticDir, rel);
  if (file !== staticDir && !file.startsWith(staticDir + sep)) return null;
  const shell = join(staticDir, 'index.html');
  if (existsSync(file) && statSync(file).isFile()) return { file, shell: file === shell };
  return { file: shell, shell: true };
}

/** Serves a renderer file: 403 outside the build, 500 when the build is missing, 401 for the shell without token. */
function serveStatic(state: ServerState, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const found = staticFile(state.staticDir, url.pathname);
  if (!found) {
    res.writeHead(403).end('Forbidden path.');
    return;
  }
  if (!existsSync(found.file)) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('The renderer is not built. Run `npm run build`.');
    return;
  }
  // See [Note: no token cookie]: the shell says 401 without a valid token in its URL, but still is the shell.
  const status = found.shell && !hasToken(state, req, url) ? 401 : 200;
  res.writeHead(status, {
    'content-type': MIME[extname(found.file)] ?? 'application/octet-stream',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(found.file).pipe(res);
}

/** One HTTP request from a peer that passed the Host and Origin checks: public asset, token check, routes, shell. */
async function routeRequest(state: ServerState, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const found = req.method === 'GET' || req.method === 'HEAD' ? staticFile(state.staticDir, url.pathname) : null;
  // Renderer assets are public (see [Note: no token cookie]); everything else needs the token.
  if (found && !found.shell) {
    serveStatic(state, req, res, url);
    return;
  }
  if (!hasToken(state, req, url)) {
    if (found) serveStatic(state, req, res, url);
    else res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end(REFUSAL);
    return;
  }
  if (state.options.routes && (await state.options.routes(req, res, url))) return;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end('Method not allowed.');
    return;
  }
  serveStatic(state, req, res, url);
}

/** The HTTP request handler: refuses foreign peers, then routes; a thrown route error becomes a 500. */
function handleRequest(state: ServerState, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const peer = checkPeer(state, req);
  if (peer) {
    res.writeHead(peer.status, { 'content-type': 'text/plain; charset=utf-8' }).end(peer.why);
    return;
  }
  routeRequest(state, req, res, url).catch((e: unknown) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(e instanceof Error ? e.message : String(e));
  });
}

/** The WebSocket upgrade: only `/api`, with the token, from our own peer; anything else is refused on the socket. */
function handleUpgrade(
  state: ServerState,
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  // Node removes its own error listener from upgraded sockets: an ECONNRESET here would otherwise crash serve.
  socket.on('error', () => socket.destroy());
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const peer = checkPeer(state, req);
  const status = peer ? peer.status : !hasToken(state, req, url) ? 401 : url.pathname !== '/api' ? 404 : 0;
  if (status !== 0) {
    socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\n\r\n`);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, state.options.client, state.log));
}

/** The HTTP server and its WebSocket server, wired to the handlers above (not yet listening). */
function createServers(state: ServerState): { server: Server; wss: WebSocketServer } {
  const server = createServer((req, res) => handleRequest(state, req, res));
  // A client that resets or sends garbage before a request is parsed must not take the server down.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WS_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  wss.on('error', (e) => state.log(`web socket server: ${e.message}`));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    handleUpgrade(state, wss, req, socket, head),
  );
  return { server, wss };
}

/** Listens on 127.0.0.1 and resolves with the bound port. */
async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen());
  });
  return (server.address() as AddressInfo).port;
}

/** Ends every WebSocket and HTTP connection and stops listening. */
function closeServers(server: Server, wss: WebSocketServer): Promise<void> {
  return new Promise<void>((done) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    server.closeAllConnections();
    server.close(() => done());
  });
}

/** Starts the web transport on 127.0.0.1. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const state: ServerState = {
    options,
    token: options.token ?? randomBytes(24).toString('hex'),
    staticDir: resolve(options.staticDir),
    log: options.log ?? (() => {}),
    port: 0,
  };
  const { server, wss } = createServers(state);
  state.port = await listen(server, options.port ?? 0);
  const origin = `http://127.0.0.1:${state.port}`;
  return {
    url: `${origin}/?token=${state.token}`,
    origin,
    port: state.port,
    token: state.token,
    close: () => closeServers(server, wss),
  };
}

/**
 * Serves one WebSocket peer.
 *
 * [Note: hostile frames] `ws` emits 'error' on a protocol violation (invalid UTF-8, reserved opcodes or
 * RSV bits, unmasked or oversized frames, fragmented control frames, invalid close codes) and then closes
 * that connection with the matching close code. An 'error' event without a listener throws, which used
 * to take the whole server and its running jobs down; so every socket gets one, and jobs outlive their
 * connection (see bridge.ts).
 */
function bridge(ws: WebSocket, client: EngineClient, log: (line: string) => void): void {
  ws.on('error', (e) => log(`closed a WebSocket connection: ${e.message}`));
  const onMessage = bridgeToEngine(client, (m) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  });
  ws.on('message', (data) => {
    try {
      onMessage(JSON.parse(String(data)));
    } catch {
      // not JSON: ignored, like any other malformed message
    }
  });
}
