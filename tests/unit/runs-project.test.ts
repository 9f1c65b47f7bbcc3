/**
 * @file `learn` and `evaluate` on a stored project through the in-process engine (fixture CLIP model, tfjs cpu):
 * the dataset comes from the store (edited prompts, excluded images left out), the run is recorded (curve, split,
 * predictions, context, report), reopening shows the same run, and a re-run in a fresh cache computes no embedding.
 *
 * The fixture model has random weights, so accuracies say nothing about CoOp; the tests compare the store with what
 * `learn` returned and with itself after reopening.
 */
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../shared/client';
import type { LearnResult } from '../../shared/contract/train';
import { unwrap } from '../../shared/result';
import { Engine, inProcessClient } from '../../electron/engine/engine';
import { createHandlers } from '../../electron/engine/handlers';
import { closeStoreDb, storeDb } from '../../electron/engine/store/db';
import { setSplits } from '../../electron/engine/store/projects-repo';
import { loadContexts } from '../../electron/engine/store/runs-repo';
import { writeImage } from '../../electron/engine/store/test-images';
import { readContextFile } from '../../electron/engine/formats/context-file';
import { decodeModel } from '../../electron/engine/onnx/onnx-proto';
import { featureCache } from '../../electron/engine/features/features';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const data = tempDir('coop-runs-data-');
const src = tempDir('coop-runs-src-');
const model = fixtureModelDirs()[0] as string;
const COLOURS: Record<string, [number, number, number]> = {
  red_thing: [220, 30, 30],
  green_thing: [30, 200, 40],
  blue_thing: [30, 40, 220],
};
const PER_CLASS = 8;

let client: EngineClient;
const openEngine = () => inProcessClient(new Engine(createHandlers({ dataDir: data.path, log: () => {} })));
/** Closes the engine and the store, as quitting the app does. */
async function closeEngine(): Promise<void> {
  await client.close();
  closeStoreDb(data.path);
}

let projectId = 0;
let excludedPath = '';
let first: LearnResult;
const args = () => ({ model, project: projectId, shots: 2, nCtx: 4, epochs: 3, augViews: 1, backend: 'cpu' as const });

beforeAll(async () => {
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 80 - 40;
  for (const [name, [r, g, b]] of Object.entries(COLOURS)) {
    mkdirSync(join(src.path, name), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const px = Buffer.alloc(20 * 20 * 3);
      for (let p = 0; p < 400; p++) {
        px[p * 3] = Math.max(0, Math.min(255, r + rand()));
        px[p * 3 + 1] = Math.max(0, Math.min(255, g + rand()));
        px[p * 3 + 2] = Math.max(0, Math.min(255, b + rand()));
      }
      await sharp(px, { raw: { width: 20, height: 20, channels: 3 } })
        .png()
        .toFile(join(src.path, name, `${i}.png`));
    }
  }
  client = openEngine();
  projectId = unwrap(await client.call('projectCreate', { name: 'Colours' })).id;
  unwrap(await client.call('projectImportData', { projectId, sources: [src.path], thumbnails: false }));
  const classes = unwrap(await client.call('projectShow', { projectId })).classList;
  const red = classes.find((c) => c.folderName === 'red_thing');
  unwrap(
    await client.call('projectEditClasses', {
      projectId,
      edit: { kind: 'rename', classId: red?.id ?? 0, prompt: 'crimson object' },
    }),
  );
  const img = unwrap(await client.call('projectImages', { projectId, classId: red?.id ?? 0 })).images[0];
  excludedPath = img?.path ?? '';
  unwrap(
    await client.call('projectEditClasses', {
      projectId,
      edit: { kind: 'exclude', imageIds: [img?.id ?? 0], excluded: true },
    }),
  );
}, 120_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await closeEngine();
  data.cleanup();
  src.cleanup();
});

describe('learn on a project', () => {
  it('uses the stored classes and records the run: curve, split, predictions, context and report', async () => {
    first = unwrap(await client.call('learn', { ...args(), seed: 1 }));
    const runId = first.project?.runId ?? 0;
    expect(first.project).toMatchObject({ id: projectId, name: 'Colours' });
    // Classes go by the names the user gave them (the renamed one too); `folder` says where the images came from.
    expect(first.data.classes.map((c) => [c.name, c.folder, c.prompt, c.train, c.val])).toEqual([
      ['blue thing', 'blue_thing', 'blue thing', 2, 2],
      ['green thing', 'green_thing', 'green thing', 2, 2],
      ['crimson object', 'red_thing', 'crimson object', 2, 2],
    ]);
    expect(first.test.perClass.map((c) => c.name)).toEqual(['blue thing', 'green thing', 'crimson object']);
    expect(first.zeroShot.test.perClass.map((c) => c.name)).toEqual(['blue thing', 'green thing', 'crimson object']);
    const tested = first.data.classes.map((c) => c.test);
    expect(tested).toEqual([PER_CLASS - 4, PER_CLASS - 4, PER_CLASS - 5]);
    expect(first.data.skipped).toContainEqual({ path: excludedPath, reason: 'excluded by the user' });

    // Predictions agree with the report they come with.
    expect(first.predictions).toHaveLength(first.test.count);
    const confusion = first.test.confusion.map((row) => row.map(() => 0));
    for (const p of first.predictions) {
      expect(p.imageId).toBeGreaterThan(0);
      expect(p.confidence).toBeGreaterThan(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
      const row = confusion[p.label] as number[];
      row[p.predicted] = (row[p.predicted] ?? 0) + 1;
    }
    expect(confusion).toEqual(first.test.confusion);

    const runs = unwrap(await client.call('projectRuns', { projectId })).runs;
    expect(runs.map((r) => [r.id, r.status, r.method, r.shots, r.seed, r.backend])).toEqual([
      [runId, 'done', 'coop', 2, 1, 'cpu'],
    ]);
    expect(runs[0]).toMatchObject({
      testAccuracy: first.test.accuracy,
      zeroShotAccuracy: first.zeroShot.test.accuracy,
    });
    const run = unwrap(await client.call('projectRun', { runId }));
    expect(run.result).toEqual(first);
    expect(run.curve).toEqual(first.curve);
    expect(run.classes).toEqual(first.data.classes.map((c) => ({ name: c.name, folder: c.folder, prompt: c.prompt })));
    expect(run.images.filter((i) => i.split === 'train')).toHaveLength(6);
    expect(run.images.filter((i) => i.split === 'test').map((i) => i.path)).toEqual(
      first.predictions.map((p) => p.path),
    );
    expect(run.images.map((i) => i.path)).not.toContain(excludedPath);
    expect(run.context).toMatchObject({ name: 'ctx', shape: [4, 64], path: first.contextPath });
    const [stored] = loadContexts(storeDb(data.path), runId);
    expect(Array.from(stored?.data ?? [])).toEqual(Array.from((await readContextFile(first.contextPath)).ctx));
  }, 180_000);

  it('reopening a project after a completed run shows the same classes, splits, curves and context as before', async () => {
    const runId = first.project?.runId ?? 0;
    const before = {
      project: unwrap(await client.call('projectShow', { projectId })),
      run: unwrap(await client.call('projectRun', { runId })),
      context: loadContexts(storeDb(data.path), runId),
    };
    await closeEngine();
    client = openEngine();
    const after = {
      project: unwrap(await client.call('projectShow', { projectId })),
      run: unwrap(await client.call('projectRun', { runId })),
      context: loadContexts(storeDb(data.path), runId),
    };
    expect(after.project.classList).toEqual(before.project.classList);
    expect(after.project.runs).toEqual(before.project.runs);
    expect(after.run).toEqual(before.run);
    expect(after.context).toEqual(before.context);
    expect(after.run.result?.curve).toEqual(first.curve);
  }, 60_000);

  it('a re-run on the unchanged project in a fresh process cache computes no image embedding and repeats the run', async () => {
    await closeEngine();
    featureCache.clear();
    client = openEngine();
    const again = unwrap(await client.call('learn', { ...args(), seed: 1 }));
    expect(again.timings.imagesEmbedded).toBe(0);
    expect(again.timings.imagesFromCache).toBe(first.timings.imagesEmbedded + first.timings.imagesFromCache);
    expect(again.project?.runId).not.toBe(first.project?.runId);
    expect(again.curve.map((p) => p.trainLoss)).toEqual(first.curve.map((p) => p.trainLoss));
    expect(again.predictions).toEqual(first.predictions);
  }, 180_000);

  it('uses the embeddings the embedding job stored: learn after projectEmbed computes none', async () => {
    const tmp = tempDir('coop-runs-fresh-');
    const dir = tmp.path;
    for (let i = 0; i < 12; i++) await writeImage(join(dir, i % 2 ? 'left' : 'right', `${i}.png`), 9100 + i);
    const fresh = unwrap(await client.call('projectCreate', { name: 'Fresh' })).id;
    unwrap(await client.call('projectImportData', { projectId: fresh, sources: [dir], thumbnails: false }));
    const embedded = unwrap(await client.call('projectEmbed', { projectId: fresh, modelDir: model }));
    expect(embedded.computed).toBe(12);
    featureCache.clear();
    const r = unwrap(await client.call('learn', { ...args(), project: fresh, augViews: 0, epochs: 1 }));
    expect(r.timings).toMatchObject({ imagesEmbedded: 0, imagesFromCache: 12 });
    tmp.cleanup();
  }, 120_000);

  it('honours images the user pinned to a split', async () => {
    const { images } = unwrap(await client.call('projectImages', { projectId }));
    const usable = images.filter((i) => !i.excluded);
    const [toTest, toTrain] = [usable[0], usable[1]];
    const db = storeDb(data.path);
    setSplits(db, [
      { imageId: toTest?.id ?? 0, split: 'test' },
      { imageId: toTrain?.id ?? 0, split: 'train' },
    ]);
    try {
      for (const seed of [1, 2]) {
        const r = unwrap(await client.call('learn', { ...args(), seed, epochs: 1 }));
        const run = unwrap(await client.call('projectRun', { runId: r.project?.runId ?? 0 }));
        const splitOf = (id: number | undefined) => run.images.find((i) => i.imageId === id)?.split;
        expect([splitOf(toTest?.id), splitOf(toTrain?.id)]).toEqual(['test', 'train']);
      }
    } finally {
      setSplits(db, [
        { imageId: toTest?.id ?? 0, split: 'auto' },
        { imageId: toTrain?.id ?? 0, split: 'auto' },
      ]);
    }
  }, 120_000);

  it('evaluates a context on every usable image of the project', async () => {
    const ev = unwrap(
      await client.call('evaluate', { model, project: projectId, context: first.contextPath, backend: 'cpu' }),
    );
    expect(ev.test.count).toBe(3 * PER_CLASS - 1);
    expect(ev.skipped).toContainEqual({ path: excludedPath, reason: 'excluded by the user' });
    expect(ev.test.perClass.map((c) => c.name)).toEqual(['blue thing', 'green thing', 'crimson object']);
  }, 120_000);

  it('names the renamed class as the user did in Try it (predict with the context) and in every export', async () => {
    const names = ['blue thing', 'green thing', 'crimson object'];
    const file = await readContextFile(first.contextPath);
    expect(file.meta.classLabels).toEqual(names);
    expect(file.meta.classNames).toEqual(['blue_thing', 'green_thing', 'red_thing']);
    const p = unwrap(
      await client.call('predict', {
        model,
        context: first.contextPath,
        images: [first.predictions[0]?.path ?? ''],
        top: 3,
        backend: 'cpu',
      }),
    );
    expect(p.classNames).toEqual(names);
    expect(p.predictions[0]?.top.map((t) => t.name).sort()).toEqual([...names].sort());
    const out = join(data.path, 'exports');
    const onnx = unwrap(
      await client.call('exportRun', { run: first.outDir, format: 'onnx', out: join(out, 'onnx'), backend: 'cpu' }),
    );
    const meta = decodeModel(new Uint8Array(readFileSync(onnx.files[0] ?? ''))).metadataProps ?? [];
    expect(JSON.parse(meta.find((m) => m.key === 'class_names')?.value ?? '[]')).toEqual(names);
    unwrap(await client.call('exportRun', { run: first.outDir, format: 'results', out: join(out, 'results') }));
    expect(readFileSync(join(out, 'results', 'per-class.csv'), 'utf8')).toContain('crimson object');
  }, 120_000);

  it('a project file carries the run; the imported run has its own context file, curve and the same report', async () => {
    const tmp = tempDir('coop-runs-export-');
    try {
      unwrap(await client.call('projectExport', { projectId, file: join(tmp.path, 'p.coopproj') }));
      const copy = unwrap(await client.call('projectImportFile', { file: join(tmp.path, 'p.coopproj'), name: 'Copy' }));
      const runs = unwrap(await client.call('projectRuns', { projectId: copy.id })).runs;
      const oldest = runs[runs.length - 1];
      const run = unwrap(await client.call('projectRun', { runId: oldest?.id ?? 0 }));
      expect(run.result?.test).toEqual(first.test);
      expect(run.result?.curve).toEqual(first.curve);
      expect(run.images.filter((i) => i.split === 'test').map((i) => i.predicted)).toEqual(
        first.predictions.map((p) => p.predicted),
      );
      expect(run.context?.path).toMatch(new RegExp(`projects[\\/]${copy.id}[\\/]runs`));
      expect(run.result?.contextPath).toBe(run.context?.path);
      const ctx = await readContextFile(run.context?.path ?? '');
      expect(Array.from(ctx.ctx)).toEqual(Array.from((await readContextFile(first.contextPath)).ctx));
      expect((await sharp(run.result?.curvePath ?? '').metadata()).format).toBe('png');
    } finally {
      tmp.cleanup();
    }
  }, 120_000);

  it('lists every run with method, shots, seed, date, accuracy and curve; the project list names its best run', async () => {
    const runs = unwrap(await client.call('projectRuns', { projectId, curves: true })).runs;
    expect(runs.length).toBeGreaterThan(1);
    for (const r of runs) {
      const d = unwrap(await client.call('projectRun', { runId: r.id }));
      expect(r.curve).toEqual(d.curve);
      expect(r).toMatchObject({ method: 'coop', shots: d.shots, seed: d.seed, createdAt: d.createdAt });
      expect(r.testAccuracy).toBe(d.result?.test.accuracy ?? null);
    }
    expect(unwrap(await client.call('projectRuns', { projectId })).runs[0]).not.toHaveProperty('curve');
    const done = runs.filter((r) => r.status === 'done' && r.testAccuracy !== null);
    const best = done.reduce((a, b) => ((b.testAccuracy ?? 0) > (a.testAccuracy ?? 0) ? b : a));
    const listed = unwrap(await client.call('projectList', {})).projects.find((p) => p.id === projectId);
    expect(listed?.runCount).toBe(runs.length);
    expect(listed?.lastRunAt).toBe(Math.max(...runs.map((r) => r.createdAt)));
    expect(listed?.bestRun).toMatchObject({
      testAccuracy: best.testAccuracy,
      method: 'coop',
      modelId: best.modelId,
      modelDir: model,
    });
    const named = runs.find((r) => r.id === listed?.bestRun?.runId);
    expect(named?.testAccuracy).toBe(best.testAccuracy);
    expect(listed?.bestRun).toMatchObject({ shots: named?.shots, seed: named?.seed, createdAt: named?.createdAt });
  });

  it('records failed and cancelled runs, and refuses an ambiguous data source', async () => {
    // A project whose classes are too small for any test image: the run is recorded as failed.
    const tiny = unwrap(await client.call('projectCreate', { name: 'Tiny' })).id;
    const tinySrc = join(src.path, '..', `${basename(src.path)}-tiny`);
    for (const name of ['blue_thing', 'green_thing'])
      cpSync(join(src.path, name), join(tinySrc, name), { recursive: true, filter: (f) => !/[2-9]\.png$/.test(f) });
    unwrap(await client.call('projectImportData', { projectId: tiny, sources: [tinySrc], thumbnails: false }));
    const failed = await client.call('learn', { ...args(), project: tiny, shots: 50 });
    expect(failed.ok ? null : failed.error).toMatchObject({ code: 'invalid_data', reason: 'no_test_images' });
    const [f] = unwrap(await client.call('projectRuns', { projectId: tiny })).runs;
    expect(f?.status).toBe('failed');
    expect(f?.error).toMatch(/No image is left for testing/);
    expect(f?.error).not.toMatch(/--/);
    rmSync(tinySrc, { recursive: true, force: true });
    const ac = new AbortController();
    const cancelled = await client.call(
      'learn',
      { ...args(), epochs: 100 },
      { signal: ac.signal, onProgress: (e) => e.kind === 'epoch' && e.point.epoch === 2 && ac.abort() },
    );
    expect(cancelled.ok ? null : cancelled.error.code).toBe('cancelled');
    const [c] = unwrap(await client.call('projectRuns', { projectId })).runs;
    expect(c?.status).toBe('cancelled');
    const partial = unwrap(await client.call('projectRun', { runId: c?.id ?? 0 }));
    expect(partial.result).toBeNull();
    expect(partial.curve.map((p) => p.epoch)).toEqual([0, 1, 2]);

    const both = await client.call('learn', { ...args(), data: src.path });
    expect(both.ok ? null : both.error).toMatchObject({ code: 'bad_args', message: expect.stringMatching(/not both/) });
    const neither = await client.call('evaluate', { context: first.contextPath });
    expect(neither.ok ? null : neither.error.code).toBe('bad_args');
    const withTest = await client.call('learn', { ...args(), test: src.path });
    expect(withTest.ok ? null : withTest.error.message).toMatch(/test folder goes with a dataset folder/);
    const unknown = await client.call('learn', { ...args(), project: 999 });
    expect(unknown.ok ? null : unknown.error.code).toBe('not_found');
  }, 180_000);
});
