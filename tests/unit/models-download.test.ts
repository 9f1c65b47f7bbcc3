/**
 * @file Tests of model downloads against a local Hugging Face-like server serving the fixture models.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DownloadProgress, ModelManifest } from '../../shared/contract/models';
import { downloadId } from '../../electron/engine/models/model-store';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { sha256Hex, startHfServer, type HfServer } from './models-hf-server';

const fixture = fixtureModelDirs().find((d) => d.endsWith('hf-tiny-op14')) ?? '';
const REPO = 'test/hf-tiny-op14';
const ID = downloadId(REPO, 'main', 'fp32');
const TEXT = 'onnx/text_model.onnx';
const noTokenizer = tempDir('coop-repo-');
const truncated = tempDir('coop-repo-');

let server: HfServer;
let engine: ReturnType<typeof inProcessEngine>;

beforeAll(async () => {
  // A repository whose files all verify but which is not a usable model (no tokenizer at all).
  cpSync(fixture, noTokenizer.path, { recursive: true });
  for (const f of ['tokenizer.json', 'vocab.json', 'merges.txt']) rmSync(join(noTokenizer.path, f));
  // A repository that serves a truncated text graph consistently: sizes and hashes agree, the model does not load.
  cpSync(fixture, truncated.path, { recursive: true });
  const graph = readFileSync(join(fixture, TEXT));
  writeFileSync(join(truncated.path, TEXT), graph.subarray(0, Math.floor(graph.length / 2)));
  server = await startHfServer({
    [REPO]: fixture,
    'test/no-tokenizer': noTokenizer.path,
    'test/truncated': truncated.path,
  });
});
afterAll(async () => {
  await server.close();
  noTokenizer.cleanup();
  truncated.cleanup();
});
beforeEach(() => {
  engine = inProcessEngine();
  server.requests.length = 0;
});
afterEach(async () => {
  server.faults.killAfter.clear();
  server.faults.slow.clear();
  server.faults.wrongSha.clear();
  server.faults.wrongSize.clear();
  server.faults.ignoreRange.clear();
  await engine.cleanup();
});

function download(
  args: Record<string, unknown> = {},
  onProgress?: (e: DownloadProgress) => void,
  signal?: AbortSignal,
) {
  return engine.client.call(
    'modelsDownload',
    { repo: REPO, endpoint: server.endpoint, ...args },
    { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) },
  );
}

function fixtureSha(file: string): string {
  return sha256Hex(readFileSync(join(fixture, file)));
}

function textGets() {
  return server.requests.filter((r) => r.kind === 'cdn' && r.file === TEXT && r.method === 'GET');
}

/** Folders visible in `<dataDir>/models` (what a listing could ever show). */
function visibleModels(): string[] {
  const root = join(engine.dataDir, 'models');
  return existsSync(root) ? readdirSync(root).filter((n) => !n.startsWith('.')) : [];
}

describe('models download', () => {
  it('installs a repository that is not in the catalogue, verified, with a manifest and progress', async () => {
    const events: DownloadProgress[] = [];
    const r = await download({}, (e) => events.push(e));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ id: ID, source: 'download', repo: REPO, revision: 'main', variant: 'fp32' });
    const dir = join(engine.dataDir, 'models', ID);
    expect(r.value.dir).toBe(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelManifest;
    // Only the fp32 files: the fixture's fp16 files, images and references are not part of the variant.
    expect(manifest.files.map((f) => f.path).sort()).toEqual(
      [
        'config.json',
        'merges.txt',
        'onnx/text_model.onnx',
        'onnx/vision_model.onnx',
        'preprocessor_config.json',
        'special_tokens_map.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'vocab.json',
      ].sort(),
    );
    for (const f of manifest.files) {
      expect(f.sha256, f.path).toBe(fixtureSha(f.path));
      expect(statSync(join(dir, f.path)).size, f.path).toBe(f.bytes);
    }
    expect(manifest.origin).toBe(server.endpoint);
    expect(readdirSync(join(dir, 'onnx')).sort()).toEqual(['text_model.onnx', 'vision_model.onnx']);
    // Nothing is left in the staging area.
    expect(readdirSync(join(engine.dataDir, 'downloads'))).toEqual([]);

    const phases = [...new Set(events.map((e) => e.phase))];
    expect(phases).toEqual(['resolve', 'download', 'validate', 'install']);
    const total = manifest.files.reduce((s, f) => s + f.bytes, 0);
    const downloads = events.filter((e) => e.phase === 'download');
    expect(downloads.every((e) => e.total === total)).toBe(true);
    for (let i = 1; i < downloads.length; i++)
      expect(downloads[i]?.bytes ?? 0).toBeGreaterThanOrEqual(downloads[i - 1]?.bytes ?? 0);
    expect(downloads.at(-1)?.bytes).toBe(total);
    expect(downloads.some((e) => e.file === TEXT && e.fileTotal === statSync(join(fixture, TEXT)).size)).toBe(true);

    const list = await engine.client.call('modelsList', {});
    expect(list.ok && list.value.installed.map((m) => m.id)).toContain(ID);
  });

  it('resumes a file after the connection drops half-way, fetching only the missing bytes', async () => {
    const size = statSync(join(fixture, TEXT)).size;
    const cut = Math.floor(size / 2);
    server.faults.killAfter.set(TEXT, cut);
    const r = await download();
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const gets = textGets();
    expect(gets).toHaveLength(2);
    expect(gets[0]).toMatchObject({ range: null, status: 200, sent: cut });
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]?.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(cut);
    expect(gets[1]).toMatchObject({ status: 206, sent: size - from });
    expect(gets[1]?.ifRange).toBe(`"${fixtureSha(TEXT)}"`);
    const installed = join(engine.dataDir, 'models', ID, TEXT);
    expect(sha256Hex(readFileSync(installed))).toBe(fixtureSha(TEXT));
  });

  it('starts a file over when the server ignores Range, and still installs a verified copy', async () => {
    const size = statSync(join(fixture, TEXT)).size;
    server.faults.killAfter.set(TEXT, Math.floor(size / 3));
    server.faults.ignoreRange.add(TEXT);
    const r = await download();
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const gets = textGets();
    expect(gets).toHaveLength(2);
    expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
    expect(gets[1]).toMatchObject({ status: 200, sent: size });
    expect(sha256Hex(readFileSync(join(engine.dataDir, 'models', ID, TEXT)))).toBe(fixtureSha(TEXT));
  });

  it('cancels mid-file, keeps the partial file out of the model list, and the next run resumes it', async () => {
    server.faults.slow.set(TEXT, { chunk: 64 * 1024, everyMs: 15 });
    const controller = new AbortController();
    const r = await download(
      {},
      (e) => {
        if (e.file === TEXT && e.fileBytes > 256 * 1024) controller.abort();
      },
      controller.signal,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('cancelled');
    expect(visibleModels()).toEqual([]);
    const list = await engine.client.call('modelsList', {});
    expect(list.ok && list.value.installed.some((m) => m.id === ID)).toBe(false);
    const part = join(engine.dataDir, 'downloads', ID, 'model', `${TEXT}.part`);
    const have = statSync(part).size;
    expect(have).toBeGreaterThan(0);
    const partial = list.ok ? list.value.partial : [];
    expect(partial.map((p) => [p.id, p.running])).toEqual([[ID, false]]);
    expect(partial[0]?.bytes).toBeGreaterThanOrEqual(have + statSync(join(fixture, 'tokenizer.json')).size);

    server.faults.slow.clear();
    server.requests.length = 0;
    const again = await download();
    expect(again.ok, JSON.stringify(again)).toBe(true);
    expect(textGets().map((g) => g.range)).toEqual([`bytes=${have}-`]);
    // Files finished before the cancel are not fetched again.
    expect(server.requests.filter((q) => q.method === 'GET' && q.file === 'tokenizer.json')).toEqual([]);
    expect(sha256Hex(readFileSync(join(engine.dataDir, 'models', ID, TEXT)))).toBe(fixtureSha(TEXT));
    const after = await engine.client.call('modelsList', {});
    expect(after.ok && after.value.partial).toEqual([]);
  });

  it('discards an unfinished download on remove', async () => {
    server.faults.slow.set(TEXT, { chunk: 64 * 1024, everyMs: 15 });
    const controller = new AbortController();
    const onProgress = (e: DownloadProgress) => {
      if (e.file === TEXT && e.fileBytes > 0) controller.abort();
    };
    expect((await download({}, onProgress, controller.signal)).ok).toBe(false);
    expect(existsSync(join(engine.dataDir, 'downloads', ID))).toBe(true);
    const removed = await engine.client.call('modelsRemove', { id: ID });
    expect(removed.ok && removed.value.removed).toBe(ID);
    expect(existsSync(join(engine.dataDir, 'downloads', ID))).toBe(false);
    const list = await engine.client.call('modelsList', {});
    expect(list.ok && list.value.partial).toEqual([]);
  });

  it('rejects a file whose sha256 does not match the ETag, and installs nothing', async () => {
    server.faults.wrongSha.add('onnx/vision_model.onnx');
    const r = await download();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid_data');
      expect(r.error.message).toContain('checksum');
    }
    expect(visibleModels()).toEqual([]);
    expect(existsSync(join(engine.dataDir, 'downloads', ID, 'model', 'onnx/vision_model.onnx.part'))).toBe(false);
  });

  it('rejects a file whose size differs from the announced size', async () => {
    server.faults.wrongSize.set(TEXT, statSync(join(fixture, TEXT)).size + 10);
    const r = await download();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('invalid_data');
    expect(visibleModels()).toEqual([]);
  });

  it('leaves no half-installed folder when the downloaded files are not a usable model', async () => {
    const r = await download({ repo: 'test/no-tokenizer' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('invalid_model');
    expect(visibleModels()).toEqual([]);
    expect(readdirSync(join(engine.dataDir, 'downloads'))).toEqual([]);
    const cut = await download({ repo: 'test/truncated' });
    expect(!cut.ok && cut.error.code).toBe('invalid_model');
    if (!cut.ok) expect(cut.error.message).toContain('text_model.onnx');
    expect(visibleModels()).toEqual([]);
  });

  it('reports a variant or repository the server does not have as not_found', async () => {
    const quantized = await download({ variant: 'quantized' });
    expect(!quantized.ok && quantized.error.code).toBe('not_found');
    if (!quantized.ok) expect(quantized.error.message).toContain('onnx/text_model_quantized.onnx');
    const missing = await download({ repo: 'nobody/nothing' });
    expect(!missing.ok && missing.error.code).toBe('not_found');
    expect(visibleModels()).toEqual([]);
  });

  it('refuses to overwrite an installed model unless forced, and can activate it', async () => {
    expect((await download({ variant: 'fp16' })).ok).toBe(true);
    const again = await download({ variant: 'fp16' });
    expect(!again.ok && again.error.code).toBe('conflict');
    const forced = await download({ variant: 'fp16', force: true, activate: true });
    expect(forced.ok && forced.value).toMatchObject({ variant: 'fp16', active: true });
    const list = await engine.client.call('modelsList', {});
    expect(list.ok && list.value.activeId).toBe(downloadId(REPO, 'main', 'fp16'));
  });

  it('takes the endpoint from the setting, and the environment variable over the setting', async () => {
    const set = await engine.client.call('settingsSet', { hfEndpoint: server.endpoint });
    expect(set.ok && set.value.hfEndpoint).toBe(server.endpoint);
    const list = await engine.client.call('modelsList', {});
    expect(list.ok && [list.value.endpoint, list.value.endpointSource]).toEqual([server.endpoint, 'setting']);
    const r = await engine.client.call('modelsDownload', { repo: REPO });
    expect(r.ok, JSON.stringify(r)).toBe(true);

    process.env['COOP_STUDIO_HF_ENDPOINT'] = 'http://127.0.0.1:9/';
    try {
      const env = await engine.client.call('modelsList', {});
      expect(env.ok && [env.value.endpoint, env.value.endpointSource]).toEqual(['http://127.0.0.1:9', 'environment']);
    } finally {
      delete process.env['COOP_STUDIO_HF_ENDPOINT'];
    }
    await engine.client.call('settingsSet', { hfEndpoint: null });
    const back = await engine.client.call('modelsList', {});
    expect(back.ok && [back.value.endpoint, back.value.endpointSource]).toEqual(['https://huggingface.co', 'default']);
  });
});
