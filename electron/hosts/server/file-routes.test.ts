import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbnailUrl, thumbRelPath } from '../../../shared/files';
import { inProcessEngine, tempDir } from '../../../tests/helpers/engine';
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

  it('serves the thumbnail the import wrote for a real image (thumbs/<h2>/<hash>.webp)', async () => {
    const root = join(staticDir.path, 'dataset');
    mkdirSync(join(root, 'red'), { recursive: true });
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#d03020' } })
      .png()
      .toBuffer();
    writeFileSync(join(root, 'red', 'a.png'), png);
    const project = await engine.client.call('projectCreate', { name: 'Thumbs' });
    if (!project.ok) throw new Error(project.error.message);
    const report = await engine.client.call('projectImportData', { projectId: project.value.id, sources: [root] });
    expect(report.ok && report.value.imported).toBe(1);
    const listed = await engine.client.call('projectImages', { projectId: project.value.id });
    const image = listed.ok ? listed.value.images[0] : undefined;
    expect(image?.thumbnail).toBe(join(engine.dataDir, 'thumbs', ...thumbRelPath(image?.sha256 ?? '').split('/')));

    const r = await fetch(server.origin + thumbnailUrl(image?.sha256 ?? '', 'web'), { headers: auth });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await r.arrayBuffer())).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeGreaterThan(0);
  });

  it('serves thumbnails by content hash only, filed under their own prefix', async () => {
    const hash = 'ab'.repeat(32);
    mkdirSync(join(engine.dataDir, 'thumbs', 'ab'), { recursive: true });
    writeFileSync(join(engine.dataDir, 'thumbs', 'ab', `${hash}.webp`), 'webp');
    writeFileSync(join(engine.dataDir, 'thumbs', `${hash}.webp`), 'flat');
    expect((await fetch(`${server.origin}/thumbs/ab/${hash}.webp`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${server.origin}/thumbs/ab/${hash}.webp`)).status).toBe(401);
    // The old flat layout, a wrong prefix, traversal and unknown hashes are all refused.
    expect((await fetch(`${server.origin}/thumbs/${hash}.webp`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.origin}/thumbs/cd/${hash}.webp`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.origin}/thumbs/ab/..%2f..%2fsettings.json`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.origin}/thumbs/%E0%A4%A`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.origin}/thumbs/cd/${'cd'.repeat(32)}.webp`, { headers: auth })).status).toBe(404);
  });
});
