/**
 * @file A live job of one engine process is never marked interrupted by another (issue 15, defect 6): three engine
 * worker processes share one data folder; the first to open it exits while the second is mid-job, and a third opens
 * the database. The second's job stays `running` and ends `done`; a SIGKILLed owner's job is still marked
 * `interrupted` (Node test runner).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { EngineHost } from '../../electron/hosts/engine-host/engine-host';
import { closeStoreDb } from '../../electron/engine/store/db';
import { writeImage } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';

const IMAGES = 40;
const data = tempDir('coop-sec-owners-data-');
const src = tempDir('coop-sec-owners-src-');

beforeAll(async () => {
  for (let i = 0; i < IMAGES; i++)
    await writeImage(join(src.path, `class${i % 2}`, `${i}.png`), 31_000 + i, { w: 24, h: 20 });
});
afterAll(() => {
  closeStoreDb(data.path);
  data.cleanup();
  src.cleanup();
});

/** An engine worker process on the shared data folder, with a slow fake image encoder (`delayMs` per image). */
async function engine(delayMs = 20): Promise<EngineHost> {
  const host = new EngineHost({
    restart: false,
    env: {
      ...process.env,
      COOP_STUDIO_DATA_DIR: data.path,
      COOP_STUDIO_FAKE_EMBEDDER: '1',
      COOP_STUDIO_FAKE_EMBED_DELAY_MS: String(delayMs),
    },
  });
  await host.start();
  return host;
}

describe('job owners across processes', () => {
  it("another process's open and exit leave a live job running; a killed owner's job is interrupted", async () => {
    const first = await engine();
    const projectId = unwrap(await first.client.call('projectCreate', { name: 'Owners' })).id;
    unwrap(await first.client.call('projectImportData', { projectId, sources: [src.path] }));

    // 40 images at 120 ms: the job runs for about 5 s, long enough to outlive the other engines' start and exit.
    const second = await engine(120);
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let finished = false;
    const embedding = second.client
      .call('projectEmbed', { projectId, batchSize: 4 }, { onProgress: (p) => p.done >= 4 && started() })
      .finally(() => (finished = true));
    await running;
    // The engine that opened the database first goes away while the second is at work.
    await first.shutdown();

    const third = await engine();
    const during = unwrap(await third.client.call('projectShow', { projectId }));
    expect(finished, 'the job ended before the check; it must outlive the other engines').toBe(false);
    expect(during.jobs.find((j) => j.kind === 'embed')?.status).toBe('running');

    const report = unwrap(await embedding);
    expect(report.computed).toBe(IMAGES);
    const after = unwrap(await third.client.call('projectShow', { projectId }));
    expect(after.jobs.find((j) => j.kind === 'embed')?.status).toBe('done');

    // The owner really dies mid-job: the next engine to open the database marks its job interrupted.
    const doomed = await engine();
    let reached!: () => void;
    const halfway = new Promise<void>((r) => (reached = r));
    const killed = doomed.client.call(
      'projectEmbed',
      { projectId, views: ['flip'], batchSize: 4 },
      { onProgress: (p) => p.done >= 4 && reached() },
    );
    await halfway;
    process.kill(doomed.pid ?? 0, 'SIGKILL');
    expect(await killed).toMatchObject({ ok: false, error: { code: 'engine_crashed' } });
    await doomed.shutdown();
    const fourth = await engine();
    const jobs = unwrap(await fourth.client.call('projectShow', { projectId })).jobs;
    expect(jobs.map((j) => [j.kind, j.status])).toEqual([
      ['embed', 'interrupted'],
      ['embed', 'done'],
      ['import', 'done'],
    ]);
    await Promise.all([second.shutdown(), third.shutdown(), fourth.shutdown()]);
  }, 120_000);
});
