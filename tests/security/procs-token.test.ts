/**
 * @file The web token never travels in a cookie (issue 15, defect 2): cookies are scoped by host, not port, so a
 * cookie of `coop-studio serve` reaches every other server on 127.0.0.1. No response sets one, and a request that
 * carries the token only as a cookie is refused everywhere data lives (Node test runner).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { thumbnailUrl } from '../../shared/files';
import { unwrap } from '../../shared/result';
import { webSocketProtocols, withTokenQuery } from '../../shared/web-auth';
import { fileRoutes } from '../../electron/hosts/server/file-routes';
import { startWebServer, type WebServer } from '../../electron/hosts/server/web-server';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { rawWebSocket } from './procs-serve';

const TOKEN = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4';
/** The cookie names any version of the server used, or might; none of them may open anything. */
const COOKIES = [`coop_studio_token=${TOKEN}`, `token=${TOKEN}`].join('; ');

describe('the web token stays out of cookies', () => {
  const engine = inProcessEngine();
  const staticDir = tempDir('coop-sec-static-');
  let server: WebServer;
  let thumb = '';

  beforeAll(async () => {
    mkdirSync(join(staticDir.path, 'assets'));
    writeFileSync(join(staticDir.path, 'index.html'), '<!doctype html><title>shell</title>');
    writeFileSync(join(staticDir.path, 'assets', 'app.js'), 'console.log(1)');
    server = await startWebServer({
      client: engine.client,
      staticDir: staticDir.path,
      token: TOKEN,
      routes: fileRoutes(engine.dataDir),
    });
    const root = join(staticDir.path, 'dataset', 'red');
    mkdirSync(root, { recursive: true });
    const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#c02020' } })
      .png()
      .toBuffer();
    writeFileSync(join(root, 'a.png'), png);
    const { id } = unwrap(await engine.client.call('projectCreate', { name: 'Cookies' }));
    unwrap(
      await engine.client.call('projectImportData', { projectId: id, sources: [join(staticDir.path, 'dataset')] }),
    );
    const [image] = unwrap(await engine.client.call('projectImages', { projectId: id })).images;
    thumb = thumbnailUrl(image?.sha256 ?? '', 'web');
  });
  afterAll(async () => {
    await server.close();
    await engine.cleanup();
    staticDir.cleanup();
  });

  it('never sends Set-Cookie, whichever way the token comes', async () => {
    const responses = await Promise.all([
      fetch(server.url),
      fetch(`${server.origin}/`),
      fetch(`${server.origin}/assets/app.js?token=${TOKEN}`),
      fetch(`${server.origin}/some/route?token=${TOKEN}`),
      fetch(server.origin + thumb, { headers: { authorization: `Bearer ${TOKEN}` } }),
      fetch(server.origin + withTokenQuery(thumb, TOKEN)),
    ]);
    for (const r of responses) expect(r.headers.get('set-cookie'), r.url).toBeNull();
    expect(responses.map((r) => r.status)).toEqual([200, 401, 200, 200, 200, 200]);
  });

  it('refuses a WebSocket that carries the token only as a cookie', async () => {
    const { socket, response } = await rawWebSocket(server.port, { Origin: server.origin, Cookie: COOKIES });
    socket.destroy();
    expect(response).toMatch(/^HTTP\/1\.1 401/);
  });

  it('refuses uploads and thumbnails that carry the token only as a cookie', async () => {
    const upload = await fetch(`${server.origin}/upload/session-cookie/a.png`, {
      method: 'PUT',
      headers: { cookie: COOKIES },
      body: 'x',
    });
    expect(upload.status).toBe(401);
    const image = await fetch(server.origin + thumb, { headers: { cookie: COOKIES } });
    expect(image.status).toBe(401);
    expect(image.headers.get('content-type')).not.toMatch(/image/);
  });

  it('accepts the token as the WebSocket subprotocol the page offers, and selects the plain protocol', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, webSocketProtocols(TOKEN), { origin: server.origin });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // The token is never echoed back: the server selects the protocol without it.
    expect(ws.protocol).toBe('coop-studio');
    ws.close();
    const wrong = new WebSocket(`ws://127.0.0.1:${server.port}/api`, webSocketProtocols('nope'), {
      origin: server.origin,
    });
    const refusal = await new Promise<string>((resolve) => {
      wrong.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      wrong.on('error', (e) => resolve(e.message));
    });
    expect(refusal).toMatch(/401/);
  });

  it('accepts uploads with the bearer header the page sends', async () => {
    const r = await fetch(`${server.origin}/upload/session-bearer/red/a.png`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: 'x',
    });
    expect(r.status).toBe(200);
  });
});
