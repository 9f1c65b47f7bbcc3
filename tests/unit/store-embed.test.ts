/**
 * @file Tests of the embedding job over the persistent cache: computes once, re-runs compute none, shared across
 * projects, invalidated by model id, resumable after a cancel.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../shared/client';
import { unwrap } from '../../shared/result';
import { fakeEmbedder, setEmbedderLoader } from '../../electron/engine/features/embedder';
import { viewFromId, viewIdOf } from '../../electron/engine/features/features';
import { writeImage } from '../../electron/engine/store/test-images';
import { openClipModel } from '../../electron/engine/clip/clip-model';
import { storeDb } from '../../electron/engine/store/db';
import { getEmbeddings } from '../../electron/engine/store/embeddings-repo';
import { fixtureModelDirs } from '../helpers/fixtures';
import { inProcessEngine, tempDir } from '../helpers/engine';

let client: EngineClient;
let dataDir: string;
const cleanups: (() => unknown)[] = [];
let calls: { count: number };
let modelId: string;
let delayMs = 0;
let root: string;
beforeEach(async () => {
  const e = inProcessEngine();
  client = e.client;
  dataDir = e.dataDir;
  cleanups.push(e.cleanup);
  calls = { count: 0 };
  modelId = 'model-a';
  delayMs = 0;
  setEmbedderLoader(async () => fakeEmbedder({ id: modelId, calls, delayMs }));
  const d = tempDir('coop-embed-');
  cleanups.push(d.cleanup);
  root = d.path;
  for (let i = 0; i < 12; i++) await writeImage(join(root, `k${i % 2}`, `${i}.png`), 500 + i);
});
afterEach(async () => {
  setEmbedderLoader(null);
  for (const c of cleanups.splice(0)) await c();
});

async function project(): Promise<number> {
  const id = unwrap(await client.call('projectCreate', { name: 'E' })).id;
  unwrap(await client.call('projectImportData', { projectId: id, sources: [root], thumbnails: false }));
  return id;
}

describe('view ids', () => {
  it('round-trip', () => {
    for (const id of ['center', 'flip', 'crop:0.1,0.2,0.9,1', 'crop:0,0,0.5,0.5:flip'])
      expect(viewIdOf(viewFromId(id))).toBe(id);
    expect(() => viewFromId('zoom')).toThrow(/Unknown view id/);
  });
});

describe('projectEmbed', () => {
  it('computes each (image, model, view) once; a re-run and another project on the same images compute none', async () => {
    const a = await project();
    const first = unwrap(await client.call('projectEmbed', { projectId: a, views: ['center', 'flip'], batchSize: 5 }));
    expect(first).toMatchObject({ total: 24, cached: 0, computed: 24, modelId: 'model-a' });
    expect(calls.count).toBe(24);
    const again = unwrap(await client.call('projectEmbed', { projectId: a, views: ['center', 'flip'] }));
    expect(again).toMatchObject({ total: 24, cached: 24, computed: 0 });
    const b = await project();
    expect(unwrap(await client.call('projectEmbed', { projectId: b, views: ['center'] }))).toMatchObject({
      computed: 0,
      cached: 12,
    });
    expect(calls.count).toBe(24);
  });

  it('a changed model (new id) misses the cache', async () => {
    const a = await project();
    unwrap(await client.call('projectEmbed', { projectId: a }));
    modelId = 'model-a-changed';
    expect(unwrap(await client.call('projectEmbed', { projectId: a }))).toMatchObject({ computed: 12, cached: 0 });
  });

  it('excluded images are not embedded', async () => {
    const a = await project();
    const { images } = unwrap(await client.call('projectImages', { projectId: a }));
    unwrap(
      await client.call('projectEditClasses', {
        projectId: a,
        edit: { kind: 'exclude', imageIds: images.slice(0, 3).map((i) => i.id), excluded: true },
      }),
    );
    expect(unwrap(await client.call('projectEmbed', { projectId: a }))).toMatchObject({ total: 9, computed: 9 });
  });

  it('a cancelled job keeps its committed batches and the next run computes only the rest', async () => {
    const a = await project();
    delayMs = 15;
    const ctl = new AbortController();
    const res = await client.call(
      'projectEmbed',
      { projectId: a, batchSize: 2 },
      { signal: ctl.signal, onProgress: (p) => p.done >= 4 && ctl.abort() },
    );
    expect(res.ok).toBe(false);
    const show = unwrap(await client.call('projectShow', { projectId: a }));
    expect(show.jobs[0]).toMatchObject({ kind: 'embed', status: 'cancelled' });
    delayMs = 0;
    const rest = unwrap(await client.call('projectEmbed', { projectId: a }));
    expect(rest.cached).toBeGreaterThanOrEqual(4);
    expect(rest.cached + rest.computed).toBe(12);
  });

  it('with the real CLIP runtime on a fixture model, stores exactly what the encoder returns', async () => {
    setEmbedderLoader(null);
    const dir = fixtureModelDirs()[0] ?? '';
    const a = await project();
    const r = unwrap(await client.call('projectEmbed', { projectId: a, modelDir: dir, batchSize: 5 }));
    const model = await openClipModel(dir);
    expect(r).toMatchObject({ modelId: model.info.id, total: 12, computed: 12, cached: 0, failed: [] });
    const { images } = unwrap(await client.call('projectImages', { projectId: a }));
    const direct = await model.embedImages(images.map((i) => i.path));
    const stored = getEmbeddings(
      storeDb(dataDir),
      images.map((i) => i.sha256),
      model.info.id,
      'center',
    );
    images.forEach((img, k) => {
      const v = stored.get(img.sha256);
      expect(v?.length).toBe(model.info.config.projectionDim);
      expect(Array.from(v ?? [])).toEqual(Array.from(direct.embeddings[k] ?? []));
    });
    const modelRows = storeDb(dataDir).prepare('SELECT id, dir FROM models').all();
    expect(modelRows).toEqual([{ id: model.info.id, dir: model.info.dir }]);
    expect(unwrap(await client.call('projectEmbed', { projectId: a, modelDir: dir }))).toMatchObject({
      computed: 0,
      cached: 12,
    });
  });
});
