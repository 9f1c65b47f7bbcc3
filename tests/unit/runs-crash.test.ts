/**
 * @file Crash safety of a learning run for real: spawn the engine worker, SIGKILL it in the middle of `learn` on a
 * project (fixture CLIP model, tfjs cpu), reopen the database, and check it is consistent, keeps the run's split and
 * every epoch recorded before the kill, and shows the run `interrupted`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import type { LearnProgress } from '../../shared/contract/train';
import { EngineHost } from '../../electron/hosts/engine-host/engine-host';
import { Engine, inProcessClient } from '../../electron/engine/engine';
import { createHandlers } from '../../electron/engine/handlers';
import { closeStoreDb, openDatabase } from '../../electron/engine/store/db';
import { writeImage } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const data = tempDir('coop-run-crash-data-');
const src = tempDir('coop-run-crash-src-');
const model = fixtureModelDirs()[0] as string;
const KILL_AT_EPOCH = 3;

beforeAll(async () => {
  for (let i = 0; i < 24; i++) await writeImage(join(src.path, `class${i % 3}`, `${i}.png`), 4000 + i);
  mkdirSync(data.path, { recursive: true });
});
afterAll(() => {
  closeStoreDb(data.path);
  data.cleanup();
  src.cleanup();
});

describe('SIGKILL of the engine during learn on a project', () => {
  it('keeps the split and the recorded epochs, and the run shows as interrupted', async () => {
    const host = new EngineHost({ restart: false, env: { ...process.env, COOP_STUDIO_DATA_DIR: data.path } });
    await host.start();
    const projectId = unwrap(await host.client.call('projectCreate', { name: 'Crash run' })).id;
    unwrap(await host.client.call('projectImportData', { projectId, sources: [src.path], thumbnails: false }));
    let killed = false;
    const result = await host.client.call(
      'learn',
      { model, project: projectId, shots: 2, nCtx: 4, epochs: 10_000, augViews: 0, backend: 'cpu' },
      {
        onProgress: (e: LearnProgress) => {
          if (!killed && e.kind === 'epoch' && e.point.epoch === KILL_AT_EPOCH) {
            killed = true;
            process.kill(host.pid ?? 0, 'SIGKILL');
          }
        },
      },
    );
    expect(killed).toBe(true);
    expect(result).toMatchObject({ ok: false, error: { code: 'engine_crashed' } });
    await host.shutdown();

    const db = openDatabase(join(data.path, 'coop-studio.sqlite'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();

    const client = inProcessClient(new Engine(createHandlers({ dataDir: data.path, log: () => {} })));
    try {
      const [summary] = unwrap(await client.call('projectRuns', { projectId })).runs;
      expect(summary?.status).toBe('interrupted');
      const run = unwrap(await client.call('projectRun', { runId: summary?.id ?? 0 }));
      expect(run.result).toBeNull();
      expect(run.context).toBeNull();
      // The epoch event that triggered the kill was recorded before it was sent; later ones may be too.
      const epochs = run.curve.map((p) => p.epoch);
      expect(epochs.slice(0, KILL_AT_EPOCH + 1)).toEqual([0, 1, 2, 3]);
      expect(epochs).toEqual(epochs.map((_, i) => i));
      expect(run.images.filter((i) => i.split === 'train')).toHaveLength(6);
      expect(run.images).toHaveLength(24);
    } finally {
      await client.close();
    }
  }, 240_000);
});
