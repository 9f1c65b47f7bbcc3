/**
 * @file Tests of the one-file HTTP downloader: stalled connections, unreachable servers, ETag parsing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadFile, probeFile, sha256FromEtag } from '../../electron/engine/models/http-download';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { sha256Hex, startHfServer, type HfServer } from './models-hf-server';

const fixture = fixtureModelDirs()[0] ?? '';
const FILE = 'onnx/vision_model.onnx';
const out = tempDir('coop-http-');
let server: HfServer;

beforeAll(async () => {
  server = await startHfServer({ 'test/tiny': fixture });
});
afterAll(async () => {
  await server.close();
  out.cleanup();
});

describe('downloadFile', () => {
  it('drops a connection that stalls and resumes where the bytes stopped', async () => {
    const signal = new AbortController().signal;
    const url = `${server.endpoint}/test/tiny/resolve/main/${FILE}`;
    const remote = await probeFile(url, signal);
    expect(remote?.sha256).toBe(sha256Hex(readFileSync(join(fixture, FILE))));
    if (!remote) return;
    server.faults.stallAfter.set(FILE, 100_000);
    server.requests.length = 0;
    const dest = join(out.path, 'stall', FILE);
    const resumed: number[] = [];
    const r = await downloadFile({
      remote,
      dest,
      signal,
      stallTimeoutMs: 300,
      retryDelayMs: 10,
      onBytes: () => {},
      onResume: (from) => resumed.push(from),
    });
    expect(r.sha256).toBe(remote.sha256);
    const gets = server.requests.filter((q) => q.kind === 'cdn' && q.method === 'GET');
    expect(gets.map((g) => g.range)).toEqual([null, 'bytes=100000-']);
    expect(resumed).toEqual([100_000]);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('takes size and sha256 from the hub redirect when the CDN refuses HEAD', async () => {
    const signal = new AbortController().signal;
    server.faults.cdnRefusesHead.on = true;
    try {
      const remote = await probeFile(`${server.endpoint}/test/tiny/resolve/main/${FILE}`, signal);
      const data = readFileSync(join(fixture, FILE));
      expect(remote).toMatchObject({ size: data.length, sha256: sha256Hex(data), etag: null });
      if (!remote) return;
      const r = await downloadFile({ remote, dest: join(out.path, 'nohead', FILE), signal, onBytes: () => {} });
      expect(r).toEqual({ bytes: data.length, sha256: sha256Hex(data) });
    } finally {
      server.faults.cdnRefusesHead.on = false;
    }
  });

  it('gives up on an unreachable server with a network error after its retries', async () => {
    const signal = new AbortController().signal;
    const closed = await startHfServer({});
    const endpoint = closed.endpoint;
    await closed.close();
    const r = downloadFile({
      remote: { url: `${endpoint}/a/b/resolve/main/x`, size: 10, sha256: null, etag: null },
      dest: join(out.path, 'refused', 'x'),
      signal,
      maxRetries: 2,
      retryDelayMs: 5,
      onBytes: () => {},
    });
    await expect(r).rejects.toMatchObject({ code: 'network' });
  });
});

describe('sha256FromEtag', () => {
  it('accepts 64-hex ETags (LFS) and ignores git-blob and other ETags', () => {
    const sha = 'a'.repeat(64);
    expect(sha256FromEtag(`"${sha}"`)).toBe(sha);
    expect(sha256FromEtag(`W/"${sha.toUpperCase()}"`)).toBe(sha);
    expect(sha256FromEtag(`"${'b'.repeat(40)}"`)).toBeNull();
    expect(sha256FromEtag('"abc-123"')).toBeNull();
    expect(sha256FromEtag(null)).toBeNull();
  });
});
