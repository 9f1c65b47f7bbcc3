import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessEngine, tempDir } from '../../tests/helpers/engine';
import { confinedPath, fileRoutes } from './file-routes';
import { startWebServer, type WebServer } from './web-server';

describe('web-mode file routes', () => {
  const engine = inProcessEngine();
  const staticDir = tempDir('coop-static-');
  let server: WebServer;
  const auth = { authorization: 'Bearer tok-files' };

  beforeAll(async () => {
    writeFileSync(join(staticDir.path, 'index.html'), 'x');
    server = await startWebServer({
      client: engine.client,
      staticDir: staticDir.path,
      token: 'tok-files',
      routes: fileRoutes(engine.dataDir),
    });
  });
  afterAll(async () => {
    await server.close();
    await engine.cleanup();
    staticDir.cleanup();
  });

  it('confines paths to their folder', () => {
    expect(confinedPath('/data/up', 'cats/a.png')).toBe('/data/up/cats/a.png');
    expect(confinedPath('/data/up', '../etc/passwd')).toBeNull();
    expect(confinedPath('/data/up', 'a/../../b')).toBeNull();
    expect(confinedPath('/data/up', '')).toBeNull();
  });

  it('streams an upload into the session folder, keeping class folders and unicode names', async () => {
    const body = Buffer.from('fake image bytes');
    const r = await fetch(`${server.origin}/upload/session-0001/${encodeURIComponent('chats 🐱')}/a.png`, {
      method: 'PUT',
      headers: auth,
      body,
    });
    expect(r.status).toBe(200);
    const { value } = (await r.json()) as { value: { path: string; folder: string } };
    expect(value.path).toBe(join(engine.dataDir, 'uploads', 'session-0001', 'chats 🐱', 'a.png'));
    expect(readFileSync(value.path)).toEqual(body);
  });

  it('refuses uploads without the token, with a bad session or an escaping path', async () => {
    expect((await fetch(`${server.origin}/upload/session-0001/a.png`, { method: 'PUT', body: 'x' })).status).toBe(401);
    expect((await fetch(`${server.origin}/upload/bad/a.png`, { method: 'PUT', headers: auth, body: 'x' })).status).toBe(
      400,
    );
    const escape = await fetch(`${server.origin}/upload/session-0001/${encodeURIComponent('../../evil.txt')}`, {
      method: 'PUT',
      headers: auth,
      body: 'x',
    });
    expect(escape.status).toBe(400);
  });

  it('serves thumbnails by content hash only', async () => {
    mkdirSync(join(engine.dataDir, 'thumbs'), { recursive: true });
    const hash = 'ab'.repeat(32);
    writeFileSync(join(engine.dataDir, 'thumbs', `${hash}.webp`), 'webp');
    const ok = await fetch(`${server.origin}/thumbs/${hash}.webp`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/webp');
    expect((await fetch(`${server.origin}/thumbs/..%2fsettings.json`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.origin}/thumbs/${'cd'.repeat(32)}.webp`, { headers: auth })).status).toBe(404);
  });
});
