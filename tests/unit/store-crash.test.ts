/**
 * @file Crash safety for real: spawn the engine worker, SIGKILL it in the middle of an import and of an embedding
 * job, reopen the database, and check integrity, foreign keys, kept rows, interrupted jobs and resumption.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { EngineHost } from '../../electron/hosts/engine-host/engine-host';
import { Engine, inProcessClient } from '../../electron/engine/engine';
import { createHandlers } from '../../electron/engine/handlers';
import { fakeEmbedder, setEmbedderLoader } from '../../electron/engine/features/embedder';
import { closeStoreDb, openDatabase } from '../../electron/engine/store/db';
import { writeImage } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';

const IMAGES = 800;
const data = tempDir('coop-crash-data-');
const src = tempDir('coop-crash-src-');

beforeAll(async () => {
  for (let i = 0; i < IMAGES; i++)
    await writeImage(join(src.path, `class${i % 4}`, `${i}.png`), 9000 + i, { w: 48, h: 40 });
});
afterAll(() => {
  closeStoreDb(data.path);
  data.cleanup();
  src.cleanup();
});

function startHost(): EngineHost {
  return new EngineHost({
    restart: false,
    env: {
      ...process.env,
      COOP_STUDIO_DATA_DIR: data.path,
      COOP_STUDIO_FAKE_EMBEDDER: '1',
      COOP_STUDIO_FAKE_EMBED_DELAY_MS: '10',
    },
  });
}

/** Opens the database as the next engine would, and checks it is consistent. */
function reopenAndCheck() {
  const db = openDatabase(join(data.path, 'coop-studio.sqlite'));
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(db.pragma('foreign_key_check')).toEqual([]);
  return db;
}

async function killWhen<T>(
  host: EngineHost,
  call: (onProgress: (p: T) => void) => Promise<unknown>,
  when: (p: T) => boolean,
) {
  let killed = false;
  const result = await call((p) => {
    if (!killed && when(p)) {
      killed = true;
      process.kill(host.pid ?? 0, 'SIGKILL');
    }
  });
  return { killed, result };
}

describe('SIGKILL of the engine', () => {
  let projectId = 0;
  let importedBeforeKill = 0;

  it('mid-import keeps committed images, marks the job interrupted, and a re-import completes', async () => {
    const host = startHost();
    await host.start();
    projectId = unwrap(await host.client.call('projectCreate', { name: 'Crash' })).id;
    const { killed, result } = await killWhen<{ imported: number }>(
      host,
      (onProgress) => host.client.call('projectImportData', { projectId, sources: [src.path] }, { onProgress }),
      (p) => p.imported >= 100,
    );
    expect(killed).toBe(true);
    expect(result).toMatchObject({ ok: false, error: { code: 'engine_crashed' } });
    await host.shutdown();

    const db = reopenAndCheck();
    const jobs = db.prepare('SELECT kind, status FROM jobs WHERE project_id = ?').all(projectId);
    expect(jobs).toEqual([{ kind: 'import', status: 'interrupted' }]);
    importedBeforeKill = (
      db.prepare('SELECT count(*) AS n FROM images WHERE project_id = ?').get(projectId) as { n: number }
    ).n;
    expect(importedBeforeKill).toBeGreaterThanOrEqual(100);
    expect(importedBeforeKill).toBeLessThan(IMAGES);
    const orphans = db.prepare('SELECT count(*) AS n FROM images WHERE class_id IS NULL').get() as { n: number };
    expect(orphans.n).toBe(0);
    db.close();

    const again = startHost();
    await again.start();
    const rest = unwrap(await again.client.call('projectImportData', { projectId, sources: [src.path] }));
    expect(rest.duplicates).toBe(importedBeforeKill);
    expect(rest.imported).toBe(IMAGES - importedBeforeKill);
    await again.shutdown();
  }, 240_000);

  it('mid-embedding keeps committed batches, marks the job interrupted, and the next run resumes', async () => {
    const host = startHost();
    await host.start();
    const { killed } = await killWhen<{ done: number }>(
      host,
      (onProgress) => host.client.call('projectEmbed', { projectId, batchSize: 8 }, { onProgress }),
      (p) => p.done >= 40,
    );
    expect(killed).toBe(true);
    await host.shutdown();

    const db = reopenAndCheck();
    const job = db.prepare(`SELECT status FROM jobs WHERE kind = 'embed'`).all();
    expect(job).toEqual([{ status: 'interrupted' }]);
    const kept = (
      db.prepare(`SELECT count(*) AS n FROM embeddings WHERE model_id = 'fake-embedder'`).get() as { n: number }
    ).n;
    expect(kept).toBeGreaterThanOrEqual(40);
    expect(kept % 8).toBe(0);
    expect(kept).toBeLessThan(IMAGES);
    db.close();

    const calls = { count: 0 };
    setEmbedderLoader(async () => fakeEmbedder({ calls }));
    const client = inProcessClient(new Engine(createHandlers({ dataDir: data.path, log: () => {} })));
    try {
      const resumed = unwrap(await client.call('projectEmbed', { projectId, batchSize: 64 }));
      expect(resumed).toMatchObject({ total: IMAGES, cached: kept, computed: IMAGES - kept });
      expect(calls.count).toBe(IMAGES - kept);
    } finally {
      setEmbedderLoader(null);
      await client.close();
    }
  }, 240_000);
});
