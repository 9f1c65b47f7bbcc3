/**
 * @file `learn` under each training schedule (plain Node, fixture CLIP model, tfjs cpu): a run trains and records the
 * schedule it was given, or the default for its class count, in its result, its context file and the store; runs
 * stored before schedules existed read as `paper`; `estimateLearn` plans the run's own steps and embeddings; the
 * CLI's `--schedule` reaches the engine and a wrong value is refused before it starts (spawned CLI).
 *
 * The fixture model has random weights: nothing here is about accuracy, only about what each schedule decides.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SCHEDULE_RULE,
  resolveSchedule,
  type LearnEstimate,
  type LearnResult,
} from '../../shared/contract/train';
import { unwrap } from '../../shared/result';
import { readContextFile } from '../../electron/engine/formats/context-file';
import { appRoot } from '../../electron/engine/settings/paths';
import { storeDb } from '../../electron/engine/store/db';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const tmp = tempDir('coop-learn-schedule-');
const engine = inProcessEngine();
const model = fixtureModelDirs()[0] as string;
const dataDir = join(tmp.path, 'data');
/** 3 classes x 36 images: 22 shots leave 4 validation and 10 test images per class (a quarter at least is kept for
 * testing; see [Note: small datasets]). */
const PER_CLASS = 36;
const SHOTS = 22;
const TRAIN = 3 * SHOTS;
const EPOCHS = 2;
const base = { model, data: dataDir, shots: SHOTS, nCtx: 4, epochs: EPOCHS, augViews: 0, backend: 'cpu' as const };

beforeAll(async () => {
  await writeColourDataset(dataDir, PER_CLASS, 3);
}, 60_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

describe('learn under a schedule', () => {
  it('estimates the paper run it then trains: its steps and the images it embeds; the run records paper', async () => {
    const args = { ...base, seed: 1, schedule: 'paper' as const, out: join(tmp.path, 'paper') };
    const estimate: LearnEstimate = unwrap(await engine.client.call('estimateLearn', args));
    // 66 training images in batches of 32, the last incomplete one dropped: 2 steps per epoch.
    expect(estimate.schedule).toMatchObject({ schedule: 'paper', batchSize: 32, stepsPerEpoch: 2, steps: 2 * EPOCHS });
    expect(estimate.schedule).toEqual(
      resolveSchedule({ schedule: 'paper', classes: 3, shots: SHOTS, trainImages: TRAIN, epochs: EPOCHS }),
    );
    expect([estimate.classes, estimate.trainImages, estimate.evalImages]).toEqual([3, TRAIN, 3 * (PER_CLASS - SHOTS)]);
    expect(estimate.msPerStep).toBeGreaterThan(0);
    expect(estimate.seconds.total).toBeGreaterThan(0);

    const r = unwrap(await engine.client.call('learn', args));
    expect(r.settings).toMatchObject({ schedule: 'paper', optimizer: 'sgd', lr: 0.002, batchSize: 32 });
    expect(r.timings.steps).toBe(estimate.schedule.steps);
    // The images the estimate timed stay cached: the run embeds exactly the ones it said were left.
    expect(r.timings.imagesEmbedded).toBe(estimate.toEmbed);
    expect(r.timings.imagesEmbedded + r.timings.imagesFromCache).toBe(estimate.toEmbed + estimate.cached);
    expect((await readContextFile(r.contextPath)).meta.schedule).toBe('paper');

    // Once the features are cached, the estimate of the same run has nothing left to embed.
    const again: LearnEstimate = unwrap(await engine.client.call('estimateLearn', args));
    expect([again.toEmbed, again.cached]).toEqual([0, estimate.toEmbed + estimate.cached]);
  }, 120_000);

  it('trains a small task with the default, fast: the whole training set as one Adam step per epoch', async () => {
    const r = unwrap(await engine.client.call('learn', { ...base, seed: 1, out: join(tmp.path, 'default') }));
    expect(r.settings).toMatchObject({ schedule: 'fast', optimizer: 'adam', batchSize: TRAIN, epochs: EPOCHS });
    expect(r.timings.steps).toBe(EPOCHS);
    expect((await readContextFile(r.contextPath)).meta.schedule).toBe('fast');
  }, 120_000);
});

describe('schedules in the store', () => {
  it('records a project run with its schedule, and reads a run stored before schedules existed as paper', async () => {
    const projectId = unwrap(await engine.client.call('projectCreate', { name: 'Colours' })).id;
    unwrap(await engine.client.call('projectImportData', { projectId, sources: [dataDir], thumbnails: false }));
    const { data: _data, ...onProject } = base;
    const r: LearnResult = unwrap(await engine.client.call('learn', { ...onProject, project: projectId, seed: 2 }));
    const runId = r.project?.runId ?? 0;
    expect(unwrap(await engine.client.call('projectRun', { runId })).result?.settings).toMatchObject({
      schedule: 'fast',
      optimizer: 'adam',
    });

    // A result as runs recorded it before schedules: no schedule, optimizer or lr in its settings.
    const db = storeDb(engine.dataDir);
    const row = db.prepare('SELECT result_json FROM runs WHERE id = ?').get(runId) as { result_json: string };
    const old = JSON.parse(row.result_json) as { settings: Record<string, unknown> };
    for (const k of ['schedule', 'optimizer', 'lr']) delete old.settings[k];
    db.prepare('UPDATE runs SET result_json = ? WHERE id = ?').run(JSON.stringify(old), runId);
    expect(unwrap(await engine.client.call('projectRun', { runId })).result?.settings).toMatchObject({
      schedule: 'paper',
      optimizer: 'sgd',
      lr: 0.002,
      batchSize: TRAIN,
    });
  }, 120_000);
});

describe('coop-studio learn --schedule', () => {
  const cliData = tempDir('coop-learn-schedule-cli-');
  afterAll(() => cliData.cleanup());
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, COOP_STUDIO_DATA_DIR: cliData.path },
      timeout: 180_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('trains the schedule asked for, says so, and refuses an unknown one before starting', () => {
    const run = ['--data', dataDir, '--model', model, '--shots', String(SHOTS), '--n-ctx', '4', '--epochs', '1'];
    const r = cli('learn', ...run, '--aug-views', '0', '--backend', 'cpu', '--schedule', 'paper', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as LearnResult;
    expect(result.settings).toMatchObject({ schedule: 'paper', batchSize: 32 });
    expect(result.timings.steps).toBe(2);

    const bad = cli('learn', ...run, '--schedule', 'slow');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--schedule must be one of fast, paper, got "slow"');

    const help = cli('learn', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--schedule');
    expect(help.stdout).toContain(DEFAULT_SCHEDULE_RULE);
  }, 240_000);
});
