/**
 * @file Tests of runs (curves, contexts) surviving a reopen, missing files with relink by hash, and project
 * export/import as one file.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { closeStoreDb, storeDb } from '../../electron/engine/store/db';
import {
  appendMetrics,
  createRun,
  finishRun,
  getMetrics,
  getRun,
  getRunImages,
  loadContexts,
  saveContext,
  saveRunImages,
  saveRunPredictions,
  startRun,
} from '../../electron/engine/store/runs-repo';
import { writeImage } from '../../electron/engine/store/test-images';
import { inProcessEngine, tempDir } from '../helpers/engine';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function scratch(): string {
  const d = tempDir('coop-port-');
  cleanups.push(d.cleanup);
  return d.path;
}
function engine() {
  const e = inProcessEngine();
  cleanups.push(e.cleanup);
  return e;
}

async function projectWithRun(root: string) {
  const e = engine();
  for (let i = 0; i < 6; i++) await writeImage(join(root, 'ds', i % 2 ? 'ant' : 'bee', `${i}.png`), 700 + i);
  const projectId = unwrap(await e.client.call('projectCreate', { name: 'Portable', description: 'd' })).id;
  unwrap(await e.client.call('projectImportData', { projectId, sources: [join(root, 'ds')] }));
  const db = storeDb(e.dataDir);
  const runId = createRun(db, {
    projectId,
    modelId: 'm',
    method: 'coop',
    options: { nCtx: 4 },
    seed: 1,
    shots: 2,
    backend: 'wasm',
  });
  startRun(db, runId);
  appendMetrics(db, runId, [
    { epoch: 0, step: 1, loss: 1.5, trainAcc: 0.5, seconds: 0.25 },
    { epoch: 1, step: 2, loss: 0.75, trainAcc: 0.75, valAcc: 0.5, seconds: 0.5 },
  ]);
  const { images } = unwrap(await e.client.call('projectImages', { projectId }));
  saveRunImages(
    db,
    runId,
    images.map((i, k) => ({
      imageId: i.id,
      path: i.path,
      sha256: i.sha256,
      label: k % 2,
      split: k < 2 ? 'train' : k < 4 ? 'val' : 'test',
    })),
  );
  saveRunPredictions(
    db,
    runId,
    images.slice(4).map((i) => ({ path: i.path, predicted: 1, confidence: 0.625 })),
  );
  const ctx = Float32Array.from({ length: 4 * 8 }, (_, i) => Math.cos(i));
  saveContext(db, runId, { name: 'ctx', shape: [4, 8], data: ctx, meta: { position: 'end' } });
  finishRun(db, runId, 'done', { result: { testAcc: 0.875 } });
  return { ...e, projectId, runId, ctx };
}

describe('runs', () => {
  it('reopening the database shows the same run, curve and context', async () => {
    const { dataDir, runId, ctx } = await projectWithRun(scratch());
    const before = { run: getRun(storeDb(dataDir), runId), curve: getMetrics(storeDb(dataDir), runId) };
    closeStoreDb(dataDir);
    const db = storeDb(dataDir);
    expect(getRun(db, runId)).toEqual(before.run);
    expect(before.run).toMatchObject({ status: 'done', result: { testAcc: 0.875 }, options: { nCtx: 4 } });
    expect(getMetrics(db, runId)).toEqual(before.curve);
    expect(before.curve.map((p) => p.loss)).toEqual([1.5, 0.75]);
    const [saved] = loadContexts(db, runId);
    expect(saved?.shape).toEqual([4, 8]);
    expect(Array.from(saved?.data ?? [])).toEqual(Array.from(ctx));
    expect(() => saveContext(db, runId, { name: 'bad', shape: [3, 3], data: new Float32Array(8), meta: {} })).toThrow(
      /8 values/,
    );
  });
});

describe('missing files', () => {
  it('a project whose images moved opens anyway, lists them, and relinks a folder by hash', async () => {
    const root = scratch();
    const { client, projectId } = await projectWithRun(root);
    mkdirSync(join(root, 'moved'));
    renameSync(join(root, 'ds'), join(root, 'moved', 'renamed'));
    const show = unwrap(await client.call('projectShow', { projectId, checkFiles: true }));
    expect(show.missing).toBe(6);
    expect(show.classList).toHaveLength(2);
    expect(unwrap(await client.call('projectImages', { projectId, missingOnly: true })).total).toBe(6);
    expect(unwrap(await client.call('projectRelink', { projectId, folder: join(root, 'elsewhere') }))).toEqual({
      relinked: 0,
      stillMissing: 6,
    });
    expect(unwrap(await client.call('projectRelink', { projectId, folder: join(root, 'moved') }))).toEqual({
      relinked: 6,
      stillMissing: 0,
    });
    const { images } = unwrap(await client.call('projectImages', { projectId }));
    expect(images.every((i) => i.path.startsWith(join(root, 'moved', 'renamed')) && !i.missing)).toBe(true);
  });
});

describe('project file', () => {
  it('exports and imports a project with classes, images, splits, runs, curves and contexts', async () => {
    const root = scratch();
    const src = await projectWithRun(root);
    const file = join(root, 'p.coopproj');
    const { images } = unwrap(await src.client.call('projectImages', { projectId: src.projectId }));
    unwrap(
      await src.client.call('projectEditClasses', {
        projectId: src.projectId,
        edit: { kind: 'rename', classId: images[0]?.classId ?? 0, prompt: 'honey bee' },
      }),
    );
    const exp = unwrap(await src.client.call('projectExport', { projectId: src.projectId, file }));
    expect(exp.images).toBe(6);

    const dst = engine();
    const imported = unwrap(await dst.client.call('projectImportFile', { file }));
    expect(imported).toMatchObject({ name: 'Portable', description: 'd', images: 6, classes: 2, copyImages: true });
    const a = unwrap(await src.client.call('projectShow', { projectId: src.projectId }));
    const b = unwrap(await dst.client.call('projectShow', { projectId: imported.id, checkFiles: true }));
    const strip = (c: typeof a.classList) => c.map(({ id: _id, ...rest }) => rest);
    expect(strip(b.classList)).toEqual(strip(a.classList));
    expect(b.splits).toEqual(a.splits);
    expect(b.missing).toBe(0);
    const imgs = unwrap(await dst.client.call('projectImages', { projectId: imported.id })).images;
    expect(imgs.map((i) => i.sha256).sort()).toEqual(images.map((i) => i.sha256).sort());
    expect(imgs.every((i) => i.path.startsWith(dst.dataDir))).toBe(true);
    const run = b.runs[0];
    expect(run).toMatchObject({ method: 'coop', status: 'done', seed: 1, shots: 2 });
    const db = storeDb(dst.dataDir);
    expect(getMetrics(db, run?.id ?? 0)).toEqual(getMetrics(storeDb(src.dataDir), src.runId));
    expect(Array.from(loadContexts(db, run?.id ?? 0)[0]?.data ?? [])).toEqual(Array.from(src.ctx));
    const newIds = new Map(imgs.map((i) => [i.sha256, i.id]));
    const newPaths = new Map(imgs.map((i) => [i.sha256, i.path]));
    const srcSplit = getRunImages(storeDb(src.dataDir), src.runId);
    expect(srcSplit.filter((i) => i.predicted === 1)).toHaveLength(2);
    expect(getRunImages(db, run?.id ?? 0)).toEqual(
      srcSplit.map((i) => ({ ...i, imageId: newIds.get(i.sha256 ?? ''), path: newPaths.get(i.sha256 ?? '') })),
    );
    const bad = await dst.client.call('projectImportFile', { file: join(root, 'ds-missing.zip') });
    expect(bad.ok).toBe(false);
  });
});
