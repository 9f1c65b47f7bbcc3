/**
 * @file Tests of the one features pipeline: folder runs, project runs and the project embedding job write and read
 * the same store keys through `embedAll`, and the job writes each batch with its counters in one transaction (Node).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unwrap } from '../../../shared/result';
import { inProcessEngine, tempDir } from '../../../tests/helpers/engine';
import { storeDb, type Db } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { writeImage } from '../store/test-images';
import { embedProject } from './embed-project';
import { fakeEmbedder } from './embedder';
import {
  embedAll,
  FeatureCache,
  featureCache,
  normalised,
  viewFromId,
  viewIdOf,
  type EmbedRequest,
  type ImageEmbedder,
} from './features';

const VIEWS = ['center', 'crop:0.1,0.2,0.9,1:flip'];
const cleanups: (() => unknown)[] = [];
let db: Db;
let projectId: number;
let images: { path: string; sha256: string }[];

beforeEach(async () => {
  const e = inProcessEngine();
  cleanups.push(e.cleanup);
  const d = tempDir('coop-features-');
  cleanups.push(d.cleanup);
  for (let i = 0; i < 6; i++) await writeImage(join(d.path, `k${i % 2}`, `${i}.png`), 900 + i);
  projectId = unwrap(await e.client.call('projectCreate', { name: 'F' })).id;
  unwrap(await e.client.call('projectImportData', { projectId, sources: [d.path], thumbnails: false }));
  images = unwrap(await e.client.call('projectImages', { projectId })).images;
  db = storeDb(e.dataDir);
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** The requests a project run makes for every image in every view of {@link VIEWS}. */
function requests(): EmbedRequest[] {
  return VIEWS.flatMap((id) => {
    const view = viewFromId(id);
    return images.map((i) => ({ path: i.path, sha256: i.sha256, ...(view ? { view } : {}) }));
  });
}

/** The project embedding job over the test project, in batches of 4. */
function embedJob(embedder: ImageEmbedder, views: readonly string[], progress?: (p: { done: number }) => void) {
  return embedProject(db, {
    projectId,
    embedder,
    views,
    batchSize: 4,
    signal: new AbortController().signal,
    ...(progress ? { progress } : {}),
  });
}

describe('one features pipeline', () => {
  it('the embedding job fills the store keys a project run reads: the run computes nothing', async () => {
    const calls = { count: 0 };
    const embedder = fakeEmbedder({ id: 'm', calls });
    const report = await embedJob(embedder, VIEWS);
    expect(report).toMatchObject({ total: 12, computed: 12, cached: 0, failed: [] });
    expect(calls.count).toBe(12);
    const keys = db.prepare('SELECT DISTINCT view_id AS v FROM embeddings ORDER BY v').all() as { v: string }[];
    expect(keys.map((k) => k.v)).toEqual([...VIEWS].sort());
    const run = await embedAll(embedder, requests(), { cache: new FeatureCache(), store: embeddingStore(db) });
    expect(run).toMatchObject({ computed: 0, cached: 12, errors: [] });
    expect(calls.count).toBe(12);
    // What the run reads is the stored raw vector, normalised.
    const direct = await fakeEmbedder({ id: 'm' }).embedImages(requests());
    run.features.forEach((f, i) => expect(f).toEqual(normalised(direct.embeddings[i] as Float32Array)));
  });

  it('a project run fills the store keys the embedding job reads: the job computes nothing', async () => {
    const calls = { count: 0 };
    const embedder = fakeEmbedder({ id: 'm', calls });
    const run = await embedAll(embedder, requests(), { cache: new FeatureCache(), store: embeddingStore(db) });
    expect(run).toMatchObject({ computed: 12, cached: 0 });
    const report = await embedJob(embedder, VIEWS);
    expect(report).toMatchObject({ total: 12, computed: 0, cached: 12 });
    expect(calls.count).toBe(12);
  });

  it('the job writes each batch with its counters in one transaction, and never fills the memory cache', async () => {
    const before = featureCache.size;
    const seen: number[] = [];
    const job = (embedder: ImageEmbedder, progress?: (p: { done: number }) => void) =>
      embedJob(embedder, ['center'], progress);
    await job(fakeEmbedder({ id: 'm' }), (p) => seen.push(p.done));
    expect(seen).toEqual([0, 4, 6]);
    const done = db.prepare(`SELECT detail_json AS d FROM jobs WHERE kind = 'embed'`).get() as { d: string };
    expect(JSON.parse(done.d)).toMatchObject({ computed: 6, failed: 0 });
    expect(featureCache.size).toBe(before);
    // The job's counters cannot be written: the batch's embeddings roll back with them.
    db.exec(`CREATE TRIGGER no_progress BEFORE UPDATE OF detail_json ON jobs WHEN NEW.status = 'running'
             BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    await expect(job(fakeEmbedder({ id: 'other' }))).rejects.toThrow(/disk full/);
    const failed = db.prepare(`SELECT status FROM jobs ORDER BY id DESC LIMIT 1`).get();
    expect(failed).toEqual({ status: 'failed' });
    expect(db.prepare(`SELECT count(*) AS n FROM embeddings WHERE model_id = 'other'`).get()).toEqual({ n: 0 });
  });

  it('keys the memory cache by view id, so equal views share one entry', () => {
    const view = viewFromId('crop:0.25,0,1,0.5:flip');
    expect(viewIdOf(view)).toBe('crop:0.25,0,1,0.5:flip');
    expect(FeatureCache.key('m', '/a.png', 1, 2, view)).toBe(
      FeatureCache.key('m', '/a.png', 1, 2, { crop: [0.25, 0, 1, 0.5], flip: true }),
    );
    expect(FeatureCache.key('m', '/a.png', 1, 2)).not.toBe(FeatureCache.key('m', '/a.png', 1, 2, { flip: true }));
  });
});
