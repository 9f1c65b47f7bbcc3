/**
 * @file Exports reach the browser: `prepareDownload` makes one file (a zip named after the project and run when there
 * are several) and the web server's token-protected `/download/` route hands it over as an attachment (plain Node,
 * in-process engine behind the web server, fixture CLIP model).
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedDownload } from '../../shared/contract/downloads';
import { DOWNLOADS_FOLDER, parseDownloadPath, safeDownloadName } from '../../shared/files';
import { unwrap } from '../../shared/result';
import { fileRoutes } from '../../electron/hosts/server/file-routes';
import { startWebServer, type WebServer } from '../../electron/hosts/server/web-server';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const engine = inProcessEngine();
const tmp = tempDir('coop-downloads-');
const statics = tempDir('coop-static-');
const model = fixtureModelDirs()[0] as string;
const TOKEN = 'tok-downloads';
let server: WebServer;
let projectId = 0;
let runDir = '';
let runId = 0;

beforeAll(async () => {
  writeFileSync(join(statics.path, 'index.html'), 'x');
  server = await startWebServer({
    client: engine.client,
    staticDir: statics.path,
    token: TOKEN,
    routes: fileRoutes(engine.dataDir),
  });
  await writeColourDataset(join(tmp.path, 'data'), 8, 1);
  projectId = unwrap(await engine.client.call('projectCreate', { name: 'Colours' })).id;
  unwrap(
    await engine.client.call('projectImportData', { projectId, sources: [join(tmp.path, 'data')], thumbnails: false }),
  );
  const r = unwrap(
    await engine.client.call('learn', { model, project: projectId, shots: 2, epochs: 2, nCtx: 4, backend: 'cpu' }),
  );
  runDir = r.outDir;
  runId = r.project?.runId ?? 0;
}, 180_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await server.close();
  await engine.cleanup();
  tmp.cleanup();
  statics.cleanup();
});

const fetchDownload = (d: PreparedDownload, token: string | null = TOKEN) =>
  fetch(`${server.origin}${d.url}${token ? `?token=${token}` : ''}`);

describe('downloads', { timeout: 180_000 }, () => {
  it('packs a run export into one zip named after the project and run, served as an attachment', async () => {
    const d = unwrap(
      await engine.client.call('prepareDownload', { kind: 'run', run: runDir, format: 'onnx', backend: 'cpu' }),
    );
    expect(d.fileName).toBe(`Colours-run${runId}-onnx.zip`);
    expect(d.url).toBe(`/download/${d.path.split('/').at(-2) ?? ''}/${d.fileName}`);
    expect(d.contents).toEqual(['classifier.onnx', 'preprocessor_config.json']);
    expect(d.export?.verification?.agree).toBe(d.export?.verification?.images);
    expect(existsSync(d.path)).toBe(true);
    const res = await fetchDownload(d);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`attachment; filename="${d.fileName}"`);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBe(d.bytes);
    const files = unzipSync(body);
    expect(Object.keys(files).sort()).toEqual(['classifier.onnx', 'preprocessor_config.json']);
    const session = await ort.InferenceSession.create(files['classifier.onnx'] ?? new Uint8Array());
    try {
      expect(session.outputNames).toEqual(expect.arrayContaining(['logits', 'probs']));
    } finally {
      await session.release();
    }
  });

  it('names a context export by run id too, and a project as its .coopproj file, which imports again', async () => {
    const ctx = unwrap(
      await engine.client.call('prepareDownload', { kind: 'run', run: String(runId), format: 'context' }),
    );
    expect(ctx.fileName).toBe(`Colours-run${runId}-context.zip`);
    expect(Object.keys(unzipSync(new Uint8Array(await (await fetchDownload(ctx)).arrayBuffer()))).sort()).toEqual([
      'README.md',
      'context.safetensors',
    ]);
    const proj = unwrap(await engine.client.call('prepareDownload', { kind: 'project', projectId }));
    expect(proj).toMatchObject({ fileName: 'Colours.coopproj', contents: ['Colours.coopproj'], export: null });
    const saved = join(tmp.path, 'saved.coopproj');
    writeFileSync(saved, new Uint8Array(await (await fetchDownload(proj)).arrayBuffer()));
    const again = unwrap(await engine.client.call('projectImportFile', { file: saved, name: 'Colours again' }));
    expect(again.images).toBe(24);
  });

  it('needs the token, names nothing outside its folder, and leaves nothing behind when preparing fails', async () => {
    const d = unwrap(await engine.client.call('prepareDownload', { kind: 'run', run: runDir, format: 'results' }));
    expect((await fetchDownload(d, null)).status).toBe(401);
    expect((await fetchDownload(d, 'wrong')).status).toBe(401);
    for (const bad of [
      '/download/..%2F..%2Fetc%2Fpasswd',
      `/download/${'0'.repeat(32)}/..%2F..%2Fsettings.json`,
      '/download/abc/x.zip',
    ])
      expect((await fetch(`${server.origin}${bad}?token=${TOKEN}`)).status, bad).toBe(404);
    expect(parseDownloadPath(`${'a'.repeat(32)}/../x`)).toBeNull();
    // Any project or run name becomes one plain segment the route accepts.
    for (const name of ['../../a b/ç.zip', 'v1..2.coopproj', '.hidden', '猫.zip'])
      expect(parseDownloadPath(`${'a'.repeat(32)}/${safeDownloadName(name)}`), name).not.toBeNull();
    const before = readdirSync(join(engine.dataDir, DOWNLOADS_FOLDER)).length;
    const failed = await engine.client.call('prepareDownload', { kind: 'run', run: '99999', format: 'onnx' });
    expect(failed.ok ? null : failed.error.code).toBe('not_found');
    expect(readdirSync(join(engine.dataDir, DOWNLOADS_FOLDER))).toHaveLength(before);
  });
});
