/**
 * @file Fuzz test of project import: seeded mutations of a valid `.coopproj` (bytes of the archive, the JSON of
 * `project.json`, and entry names turned into escaping paths), see [Note: fuzz oracle]. A failed import leaves no
 * project and no files; a successful one keeps every image inside the data folder; nothing lands outside it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { storeDb } from '../../electron/engine/store/db';
import {
  appendMetrics,
  createRun,
  finishRun,
  saveContext,
  saveRunImages,
  startRun,
} from '../../electron/engine/store/runs-repo';
import { writeImage } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';
import { contextMeta } from './files-craft';
import { engineIn, expectClearResult, filesBelow, fuzz, mutateBytes, mutateJson, type Rng } from './fuzz-kit';

const tmp = tempDir('coop-fuzz-proj-');
const engine = engineIn(tmp.path);
const inputs = join(tmp.path, 'in');
let valid: Record<string, Uint8Array> = {};
let doc: unknown;
afterAll(async () => {
  await engine.client.close();
  tmp.cleanup();
});

/** A project with images, a CoOp run (curve, split, context with full metadata) and a plain run, exported. */
beforeAll(async () => {
  mkdirSync(inputs);
  const ds = join(inputs, 'ds');
  for (let i = 0; i < 4; i++) await writeImage(join(ds, i % 2 ? 'ant' : 'bee', `${i}.png`), 900 + i);
  const { client, dataDir } = engine;
  const projectId = unwrap(await client.call('projectCreate', { name: 'Fuzz', description: 'd' })).id;
  unwrap(await client.call('projectImportData', { projectId, sources: [ds] }));
  const db = storeDb(dataDir);
  const { images } = unwrap(await client.call('projectImages', { projectId }));
  for (const method of ['coop', 'linear-probe']) {
    const runId = createRun(db, { projectId, modelId: 'm', method, options: {}, seed: 1, shots: 1, backend: 'cpu' });
    startRun(db, runId);
    appendMetrics(db, runId, [{ epoch: 0, step: 1, loss: 1, trainAcc: 0.5, seconds: 0.1 }]);
    saveRunImages(
      db,
      runId,
      images.map((im, k) => ({ imageId: im.id, path: im.path, sha256: im.sha256, label: k % 2, split: 'test' })),
    );
    if (method === 'coop')
      saveContext(db, runId, {
        name: 'ctx',
        shape: [4, 8],
        data: Float32Array.from({ length: 32 }, (_, i) => i / 32),
        meta: { ...contextMeta(['ant', 'bee']) },
      });
    finishRun(db, runId, 'done', { result: { testAcc: 0.5 } });
  }
  const file = join(inputs, 'valid.coopproj');
  unwrap(await client.call('projectExport', { projectId, file }));
  unwrap(await client.call('projectDelete', { projectId }));
  valid = unzipSync(new Uint8Array(readFileSync(file)));
  doc = JSON.parse(new TextDecoder().decode(valid['project.json']));
  // The sanity check of the harness: the valid file imports.
  unwrap(await client.call('projectImportFile', { file }));
});

const escape = `${'../'.repeat(16)}${tmp.path.replace(/^\/+/, '')}/escaped.png`;

function mutateArchive(rng: Rng): Uint8Array {
  const kind = rng.int(3);
  if (kind === 0) return mutateBytes(zipSync(valid as Zippable), rng, 2);
  const entries: Zippable = { ...valid };
  let d = doc;
  if (kind === 1) d = mutateJson(doc, rng, escape);
  else {
    // Rename an image entry to an escaping path (absolute or ../) and point project.json at it.
    const images = (structuredClone(doc) as { images: { file: string | null }[] }).images;
    const img = rng.pick(images.filter((i) => i.file));
    if (img?.file) {
      const name = rng.next() < 0.5 ? escape : `/${escape.replace(/^(\.\.\/)+/, '')}`;
      entries[name] = valid[img.file] as Uint8Array;
      delete entries[img.file];
      img.file = name;
    }
    d = { ...(doc as object), images };
  }
  entries['project.json'] = new TextEncoder().encode(JSON.stringify(d) ?? 'null');
  return zipSync(entries);
}

describe('fuzz: project files', () => {
  it('mutated project files import cleanly or fail cleanly, and write nothing outside the data folder', async () => {
    const { client, dataDir } = engine;
    const file = join(inputs, 'case.coopproj');
    const projectsDir = join(dataDir, 'projects');
    const ran = await fuzz({ seed: 5, count: 100, budgetMs: 30_000 }, async (rng, label) => {
      writeFileSync(file, mutateArchive(rng));
      const before = unwrap(await client.call('projectList', {})).projects.length;
      const dirsBefore = filesBelow(projectsDir);
      const r = await client.call('projectImportFile', { file });
      expectClearResult(r, label);
      if (!r.ok) {
        expect(unwrap(await client.call('projectList', {})).projects.length, label).toBe(before);
        expect(filesBelow(projectsDir), label).toEqual(dirsBefore);
        return;
      }
      const { images } = unwrap(await client.call('projectImages', { projectId: r.value.id, limit: 1000 }));
      for (const im of images)
        expect(im.path === '' || im.path.startsWith(`${dataDir}${sep}`), `${label}: ${im.path}`).toBe(true);
      unwrap(await client.call('projectShow', { projectId: r.value.id, checkFiles: true }));
      // Keep the data folder small, so every case costs the same.
      unwrap(await client.call('projectDelete', { projectId: r.value.id }));
      rmSync(join(projectsDir, String(r.value.id)), { recursive: true, force: true });
    });
    expect(ran).toBeGreaterThan(20);
    expect(filesBelow(tmp.path, [dataDir])).toEqual(
      ['case.coopproj', 'ds/ant/1.png', 'ds/ant/3.png', 'ds/bee/0.png', 'ds/bee/2.png', 'valid.coopproj'].map((f) =>
        join('in', f),
      ),
    );
  });
});
