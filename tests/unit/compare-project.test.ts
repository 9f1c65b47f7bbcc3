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
import { closeStoreDb } from '../../electron/engine/store/db';
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
