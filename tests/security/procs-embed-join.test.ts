/**
 * @file Parallel `projectEmbed` calls on one project share one job (issue 15, defect 13): twenty callers compute each
 * embedding once, all get the same report (same job id) and progress; a caller that cancels leaves the others'
 * job running; the job is cancelled only when every caller has left (Node test runner).
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { fakeEmbedder, setEmbedderLoader } from '../../electron/engine/features/embedder';
import { closeStoreDb } from '../../electron/engine/store/db';
import { writeImage } from '../../electron/engine/store/test-images';
import { inProcessEngine, tempDir } from '../helpers/engine';

const IMAGES = 30;
const CALLERS = 20;
const src = tempDir('coop-sec-embed-src-');
beforeAll(async () => {
  for (let i = 0; i < IMAGES; i++)
    await writeImage(join(src.path, `class${i % 3}`, `${i}.png`), 61_000 + i, { w: 24, h: 20 });
});
afterAll(() => src.cleanup());
afterEach(() => setEmbedderLoader(null));

/** An in-process engine with one imported project and a counting fake encoder (`delayMs` per image). */
async function project(delayMs: number) {
  const calls = { count: 0 };
  const loads = { count: 0 };
  setEmbedderLoader(async () => {
    loads.count++;
    return fakeEmbedder({ calls, delayMs });
  });
  const engine = inProcessEngine();
  const { id } = unwrap(await engine.client.call('projectCreate', { name: 'Shared embeddings' }));
  unwrap(await engine.client.call('projectImportData', { projectId: id, sources: [src.path] }));
  const jobs = async () => unwrap(await engine.client.call('projectShow', { projectId: id })).jobs;
  const cleanup = async () => {
    closeStoreDb(engine.dataDir);
    await engine.cleanup();
  };
  return { engine, id, calls, loads, jobs, cleanup };
}

describe('parallel projectEmbed calls', () => {
  it('twenty callers share one job: each embedding computed once, one report, progress for everyone', async () => {
    const p = await project(5);
    try {
      const seen = Array.from({ length: CALLERS }, () => 0);
      const reports = await Promise.all(
        seen.map((_, i) =>
          p.engine.client.call(
            'projectEmbed',
            { projectId: p.id },
            { onProgress: () => (seen[i] = (seen[i] ?? 0) + 1) },
          ),
        ),
      );
      const values = reports.map((r) => unwrap(r));
      expect(p.calls.count).toBe(IMAGES);
      expect(p.loads.count).toBe(1);
      expect(new Set(values.map((v) => v.jobId)).size).toBe(1);
      expect(values[0]).toMatchObject({ total: IMAGES, computed: IMAGES, cached: 0 });
      for (const count of seen) expect(count).toBeGreaterThan(0);
      expect((await p.jobs()).filter((j) => j.kind === 'embed')).toMatchObject([{ status: 'done' }]);

      // Once it is done, a new call starts a new job, which finds everything cached.
      const again = unwrap(await p.engine.client.call('projectEmbed', { projectId: p.id }));
      expect(again).toMatchObject({ cached: IMAGES, computed: 0 });
      expect(again.jobId).not.toBe(values[0]?.jobId);
    } finally {
      await p.cleanup();
    }
  });

  it('a caller that cancels leaves the job to the others; the last one to leave cancels it', async () => {
    const p = await project(20);
    try {
      const quitter = new AbortController();
      const stayer = p.engine.client.call('projectEmbed', { projectId: p.id });
      const leaving = p.engine.client.call('projectEmbed', { projectId: p.id }, { signal: quitter.signal });
      setTimeout(() => quitter.abort(), 100);
      expect(await leaving).toMatchObject({ ok: false, error: { code: 'cancelled' } });
      expect(unwrap(await stayer)).toMatchObject({ computed: IMAGES });
      expect(p.calls.count).toBe(IMAGES);

      // A different view is different work: its own job, which both callers leave.
      const a = new AbortController();
      const b = new AbortController();
      const first = p.engine.client.call('projectEmbed', { projectId: p.id, views: ['flip'] }, { signal: a.signal });
      const second = p.engine.client.call('projectEmbed', { projectId: p.id, views: ['flip'] }, { signal: b.signal });
      setTimeout(() => a.abort(), 50);
      setTimeout(() => b.abort(), 100);
      expect(await Promise.all([first, second])).toMatchObject([
        { ok: false, error: { code: 'cancelled' } },
        { ok: false, error: { code: 'cancelled' } },
      ]);
      await expect
        .poll(async () => (await p.jobs()).filter((j) => j.kind === 'embed').map((j) => j.status))
        .toEqual(['cancelled', 'done']);
      expect(p.calls.count).toBeLessThan(2 * IMAGES);
    } finally {
      await p.cleanup();
    }
  });
});
