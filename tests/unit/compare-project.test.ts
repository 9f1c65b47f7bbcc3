/**
 * @file `compare` on a stored project gives the same table as `compare` on the folder the project was imported from
 * (in-process engine, fixture CLIP model, plain Node).
 *
 * The fixture model has random weights, so the accuracies say nothing about the methods; the test checks that a
 * project source reads the same classes, prompts and files (so the same seeded splits) as the folder source.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EngineClient } from '../../shared/client';
import { unwrap } from '../../shared/result';
import { Engine, inProcessClient } from '../../electron/engine/engine';
import { createHandlers } from '../../electron/engine/handlers';
import { closeStoreDb, storeDb } from '../../electron/engine/store/db';
import { setSplits } from '../../electron/engine/store/projects-repo';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const SAMPLES = join(process.cwd(), 'resources/samples/backgrounds');
const CLASSES = ['checkered', 'dotted', 'striped'];
const PER_CLASS = 8;
const data = tempDir('coop-compare-data-');
const src = tempDir('coop-compare-src-');
const model = fixtureModelDirs()[0] as string;
let client: EngineClient;
let projectId = 0;

beforeAll(async () => {
  for (const name of CLASSES) {
    mkdirSync(join(src.path, name));
    for (const f of readdirSync(join(SAMPLES, name)).sort().slice(0, PER_CLASS))
      copyFileSync(join(SAMPLES, name, f), join(src.path, name, f));
  }
  client = inProcessClient(new Engine(createHandlers({ dataDir: data.path, log: () => {} })));
  projectId = unwrap(await client.call('projectCreate', { name: 'Backgrounds' })).id;
  unwrap(await client.call('projectImportData', { projectId, sources: [src.path], thumbnails: false }));
});

afterAll(async () => {
  releaseTextEncoderCache();
  await client.close();
  closeStoreDb(data.path);
  data.cleanup();
  src.cleanup();
});

it('compares the same methods on a project as on its source folder', async () => {
  const common = { model, methods: ['zs', 'linear'] as ('zs' | 'linear')[], shots: [1, 2], seeds: [1] };
  const fromFolder = unwrap(await client.call('compare', { ...common, data: src.path }));
  const fromProject = unwrap(await client.call('compare', { ...common, project: projectId }));
  expect(fromProject.data.classes).toEqual(fromFolder.data.classes);
  expect(fromProject.data.prompts).toEqual(fromFolder.data.prompts);
  expect(fromFolder.table).toHaveLength(4);
  expect(fromProject.table).toEqual(fromFolder.table);
  expect(fromProject.rows.map((r) => r.testAccuracy)).toEqual(fromFolder.rows.map((r) => r.testAccuracy));
});

it('needs exactly one data source', async () => {
  const none = await client.call('compare', { model });
  expect(none.ok).toBe(false);
  const both = await client.call('compare', { model, data: src.path, project: projectId });
  expect(both.ok).toBe(false);
  if (!both.ok) expect(both.error.message).toMatch(/not both/);
});

it('trains on the backend of the settings when the caller names none (the UI sends none)', async () => {
  const settings = join(data.path, 'settings.json');
  const args = { model, project: projectId, methods: ['coop' as const], shots: [1], seeds: [1], epochs: 1, nCtx: 2 };
  try {
    writeFileSync(settings, JSON.stringify({ trainBackend: 'cpu' }));
    expect(unwrap(await client.call('compare', args)).backend).toBe('cpu');
    expect(unwrap(await client.call('compare', { ...args, backend: 'wasm' })).backend).toBe('wasm');
  } finally {
    rmSync(settings, { force: true });
  }
});

it("takes a project's pinned images as learn does, so its CoOp row is the Learn run with the same shots and seed", async () => {
  const images = unwrap(await client.call('projectImages', { projectId })).images;
  // Pin two images of the first class to test and one to training: a split that ignored pins would differ.
  const first = images.filter((im) => im.classId === images[0]?.classId);
  setSplits(storeDb(data.path), [
    { imageId: first[0]?.id ?? 0, split: 'test' },
    { imageId: first[1]?.id ?? 0, split: 'test' },
    { imageId: first[2]?.id ?? 0, split: 'train' },
  ]);
  const settings = { model, shots: 2, seed: 1, epochs: 2, nCtx: 4, augViews: 0, backend: 'cpu' as const };
  const learned = unwrap(await client.call('learn', { ...settings, project: projectId }));
  const cmp = unwrap(
    await client.call('compare', {
      model,
      project: projectId,
      methods: ['coop'],
      shots: [2],
      seeds: [1],
      epochs: 2,
      nCtx: 4,
      backend: 'cpu',
    }),
  );
  const sum = (k: 'train' | 'val' | 'test') => learned.data.classes.reduce((a, c) => a + c[k], 0);
  expect(cmp.splits).toEqual([
    { shots: 2, requestedShots: 2, seed: 1, train: sum('train'), val: sum('val'), test: sum('test'), pinned: true },
  ]);
  expect(cmp.splitNote).toMatch(/pinned images included/);
  expect(cmp.rows[0]?.testAccuracy).toBe(learned.test.accuracy);
  expect(cmp.rows[0]?.perClass).toEqual(learned.test.perClass.map((c) => c.accuracy));
  expect(cmp.data.classes).toEqual(learned.data.classes.map((c) => c.name));
}, 120_000);
