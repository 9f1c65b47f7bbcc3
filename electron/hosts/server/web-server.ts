/**
 * @file The local web transport: HTTP for the built renderer, a WebSocket for the contract (Node).
 *
 * [Note: web mode security] `coop-studio serve` binds 127.0.0.1 only and makes a random token per
 * start, printed in the URL as Jupyter does. Every request needs the token (query `token`,
 * `Authorization: Bearer`, or the HttpOnly SameSite=Strict cookie set when the tokenised URL is
 * first opened). The `Host` header must name the loopback address we bound (defeats DNS
 * rebinding) and any `Origin` header must be our own origin (defeats cross-site requests and
 * cross-site WebSocket hijacking). Static files are served from the renderer build only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EngineClient } from '../../../shared/client';
import { bridgeToEngine } from '../engine-host/bridge';

const COOKIE = 'coop_studio_token';
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

function cookieToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Starts the web transport on 127.0.0.1. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const staticDir = resolve(options.staticDir);
  let port = 0;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = () => allowedHosts().map((h) => `http://${h}`);

  /** Returns an HTTP status to refuse with, or 0 when the request may proceed. */
  function check(req: IncomingMessage, url: URL): { status: number; why: string; viaQuery: boolean } {
    if (!allowedHosts().includes(req.headers.host ?? ''))
      return { status: 403, why: 'Forbidden host.', viaQuery: false };
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().includes(origin)) {
      return { status: 403, why: 'Forbidden origin.', viaQuery: false };
    }
    const q = url.searchParams.get('token');
    const auth = req.headers.authorization?.replace(/^Bearer\s+/i, '');
    const c = cookieToken(req);
    if (q !== null && safeEqual(q, token)) return { status: 0, why: '', viaQuery: true };
    if ((auth && safeEqual(auth, token)) || (c && safeEqual(c, token))) return { status: 0, why: '', viaQuery: false };
    return {
      status: 401,
      why: 'Missing or wrong token. Open the URL that `coop-studio serve` printed.',
      viaQuery: false,
    };
  }

  function serveStatic(res: ServerResponse, pathname: string): void {
    const rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
    let file = resolve(staticDir, rel);
    if (file !== staticDir && !file.startsWith(staticDir + sep)) {
      res.writeHead(403).end('Forbidden path.');
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(staticDir, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('The renderer is not built. Run `npm run build`.');
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const verdict = check(req, url);
    if (verdict.status !== 0) {
      res.writeHead(verdict.status, { 'content-type': 'text/plain; charset=utf-8' }).end(verdict.why);
      return;
    }
    if (verdict.viaQuery) {
      res.setHeader('set-cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    void (async () => {
      try {
        if (options.routes && (await options.routes(req, res, url))) return;
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405).end('Method not allowed.');
          return;
        }
        serveStatic(res, url.pathname);
      } catch (e) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(e instanceof Error ? e.message : String(e));
      }
    })();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const verdict = check(req, url);
    if (verdict.status !== 0 || url.pathname !== '/api') {
      socket.write(`HTTP/1.1 ${verdict.status || 404} Refused\r\nConnection: close\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, options.client));
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    close: () =>
      new Promise<void>((done) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function bridge(ws: WebSocket, client: EngineClient): void {
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
