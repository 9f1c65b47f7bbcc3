/**
 * @file Small datasets work out of the box (see [Note: small datasets]): 5 classes x 20 images learn with the default
 * shots (stepped down to 8, with a note), from the engine and the CLI; `projectReadiness` says per class what a run
 * will take before it runs, and agrees with the run; errors carry a reason the CLI phrases with its own flags (plain
 * Node, in-process engine, the built CLI, the fixture CLIP model).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LearnResult } from '../../shared/contract/train';
import { unwrap } from '../../shared/result';
import { appRoot } from '../../electron/engine/settings/paths';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const FIVE: Record<string, [number, number, number]> = {
  red_thing: [220, 30, 30],
  green_thing: [30, 200, 40],
  blue_thing: [30, 40, 220],
  yellow_thing: [230, 220, 40],
  purple_thing: [150, 40, 170],
};
const tmp = tempDir('coop-small-');
const engine = inProcessEngine();
const model = fixtureModelDirs()[0] as string;
const five = join(tmp.path, 'five');
const tiny = join(tmp.path, 'tiny');
const fast = { model, epochs: 1, nCtx: 2, backend: 'cpu' as const };

beforeAll(async () => {
  await writeColourDataset(five, 20, 1, { classes: FIVE });
  await writeColourDataset(tiny, 2, 2);
}, 120_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

function cli(...args: string[]) {
  return spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, COOP_STUDIO_DATA_DIR: engine.dataDir },
    timeout: 120_000,
  });
}

describe('a dataset of the size people bring', () => {
  it('5 classes x 20 images learn with the default shots: 8 shots, 4 validation and 8 test images per class', async () => {
    const r = unwrap(await engine.client.call('learn', { ...fast, data: five, out: join(tmp.path, 'run') }));
    expect(r.settings).toMatchObject({ shots: 8, requestedShots: 16 });
    expect(r.data.classes.map((c) => [c.train, c.val, c.test])).toEqual(new Array(5).fill([8, 4, 8]));
    expect(r.notes).toEqual([
      expect.objectContaining({ code: 'shots_capped', requested: 16, used: 8, smallestImages: 20 }),
    ]);
    expect(r.notes[0]?.message).not.toMatch(/--/);
  }, 120_000);

  it('CLI: learn on the same folder exits 0; too small a dataset gets the CLI hint with its flags', () => {
    const ok = cli(
      'learn',
      '--data',
      five,
      '--model',
      model,
      '--epochs',
      '1',
      '--n-ctx',
      '2',
      '--backend',
      'cpu',
      '--json',
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as LearnResult).settings.shots).toBe(8);
    const bad = cli('learn', '--data', tiny, '--model', model, '--json');
    expect(bad.status).toBe(1);
    const err = JSON.parse(bad.stdout).error as { reason: string; message: string; hint: string };
    expect(err.reason).toBe('no_test_images');
    expect(err.message).not.toMatch(/--/);
    expect(err.hint).toMatch(/--shots.*--test DIR/);
    const human = cli('learn', '--data', tiny, '--model', model);
    expect(human.stderr).toMatch(/No image is left for testing[\s\S]*--test DIR/);
  }, 180_000);

  it('projectReadiness says per class what the run will take, with the names the user gave, and the run agrees', async () => {
    const projectId = unwrap(await engine.client.call('projectCreate', { name: 'Five' })).id;
    const mixed = join(tmp.path, 'mixed');
    cpSync(five, mixed, { recursive: true });
    cpSync(join(tiny, 'red_thing'), join(mixed, 'few_red'), { recursive: true });
    mkdirSync(join(mixed, 'empty'));
    unwrap(await engine.client.call('projectImportData', { projectId, sources: [mixed], thumbnails: false }));
    const list = unwrap(await engine.client.call('projectShow', { projectId })).classList;
    const blue = list.find((c) => c.folderName === 'blue_thing');
    unwrap(
      await engine.client.call('projectEditClasses', {
        projectId,
        edit: { kind: 'rename', classId: blue?.id ?? 0, prompt: 'sky' },
      }),
    );
    const ready = unwrap(await engine.client.call('projectReadiness', { projectId }));
    expect(ready).toMatchObject({ requestedShots: 16, shots: 8, epochs: 200, minImagesPerClass: 3, canLearn: true });
    expect(ready.ready).toBe(false);
    const byFolder = Object.fromEntries(ready.classes.map((c) => [c.folderName, c]));
    expect(byFolder['blue_thing']).toMatchObject({ name: 'sky', images: 20, train: 8, val: 4, test: 8, ready: true });
    // A class too small to test does not pull the others down: it trains on what it has.
    expect(byFolder['few_red']).toMatchObject({
      images: 2,
      train: 2,
      val: 0,
      test: 0,
      ready: false,
      problem: 'too_few_images',
    });
    expect(ready.notes.map((n) => n.code)).toEqual(['shots_capped', 'classes_without_test']);

    const run = unwrap(await engine.client.call('learn', { ...fast, project: projectId }));
    expect(run.settings.shots).toBe(ready.shots);
    expect(run.notes).toEqual(ready.notes);
    const usable = ready.classes.filter((c) => c.images > 0);
    expect(run.data.classes.map((c) => [c.name, c.train, c.val, c.test])).toEqual(
      usable.map((c) => [c.name, c.train, c.val, c.test]),
    );
    const runs = unwrap(await engine.client.call('projectRuns', { projectId })).runs;
    expect(runs[0]?.shots).toBe(8);

    const bigger = unwrap(await engine.client.call('projectReadiness', { projectId, shots: 4 }));
    expect(bigger).toMatchObject({ shots: 4, requestedShots: 4 });
    expect(bigger.notes.map((n) => n.code)).toEqual(['classes_without_test']);
  }, 180_000);
});
