import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { EngineMessage } from '../../../shared/protocol';
import { inProcessEngine, tempDir } from '../../../tests/helpers/engine';
import { startWebServer, type WebServer } from './web-server';

describe('web transport', () => {
  const engine = inProcessEngine();
  const staticDir = tempDir('coop-static-');
  let server: WebServer;

  beforeAll(async () => {
    mkdirSync(join(staticDir.path, 'assets'));
    writeFileSync(join(staticDir.path, 'index.html'), '<!doctype html><title>shell</title>');
    writeFileSync(join(staticDir.path, 'assets', 'app.js'), 'console.log(1)');
    server = await startWebServer({ client: engine.client, staticDir: staticDir.path, port: 0, token: 't0ken' });
  });
  afterAll(async () => {
    await server.close();
    await engine.cleanup();
    staticDir.cleanup();
  });

  it('prints a tokenised loopback URL', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=t0ken$/);
  });

  it('refuses requests without the token (401)', async () => {
    const r = await fetch(`${server.origin}/`);
    expect(r.status).toBe(401);
    const wrong = await fetch(`${server.origin}/?token=nope`);
    expect(wrong.status).toBe(401);
  });

  it('serves the app with the token, never sets a cookie, and serves its public assets to anyone', async () => {
    const r = await fetch(server.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(r.headers.get('set-cookie')).toBeNull();
    const asset = await fetch(`${server.origin}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
  });

  it('answers the shell without a token with 401 but still the shell, so a reload in a tab holding the token works', async () => {
    const r = await fetch(`${server.origin}/`);
    expect(r.status).toBe(401);
    expect(await r.text()).toBe('<!doctype html><title>shell</title>');
  });

  it('refuses other origins and foreign Host headers (403)', async () => {
    const r = await fetch(server.url, { headers: { origin: 'http://evil.example' } });
    expect(r.status).toBe(403);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      request(
        { host: '127.0.0.1', port: server.port, path: '/?token=t0ken', headers: { host: 'evil.example' } },
        (res) => resolve(res.statusCode ?? 0),
      ).end();
    });
    expect(status).toBe(403);
  });

  it('does not serve files outside the renderer folder', async () => {
    const r = await fetch(`${server.origin}/..%2f..%2fetc%2fpasswd?token=t0ken`);
    // Encoded dot-segments are normalised inside the renderer folder: the SPA fallback answers, never the file.
    expect(await r.text()).toBe('<!doctype html><title>shell</title>');
  });

  it('answers contract calls over the WebSocket with the token, and refuses it without', async () => {
    const wsUrl = `ws://127.0.0.1:${server.port}/api`;
    const refused = new WebSocket(wsUrl);
    const refusal = await new Promise<string>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      refused.on('error', (e) => resolve(e.message));
    });
    expect(refusal).toMatch(/401/);

    const hijack = new WebSocket(`${wsUrl}?token=t0ken`, { origin: 'http://evil.example' });
    const hijackRefusal = await new Promise<string>((resolve) => {
      hijack.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      hijack.on('error', (e) => resolve(e.message));
    });
    expect(hijackRefusal).toMatch(/403/);

    const ws = new WebSocket(`${wsUrl}?token=t0ken`, { origin: server.origin });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const messages: EngineMessage[] = [];
    const done = new Promise<void>((resolve) => {
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as EngineMessage;
        messages.push(m);
        if (m.type === 'result') resolve();
      });
    });
    ws.send(JSON.stringify({ type: 'call', id: 7, op: 'ping', args: { delayMs: 10, ticks: 2 }, wantsProgress: true }));
    await done;
    ws.close();
    expect(messages.filter((m) => m.type === 'progress')).toHaveLength(2);
    expect(messages.at(-1)).toMatchObject({ type: 'result', id: 7, result: { ok: true, value: { pong: true } } });
  });
});
