/**
 * @file `compare` end to end through the in-process engine on a tiny fixture CLIP model and a generated folder
 * dataset (plain Node, tfjs cpu backend): the table is the mean/std of the rows, the CoOp row is exactly what `learn`
 * gives on the same split and seed, zero-shot agrees with the CLIP runtime's `zeroShot`, hyper-parameters do not
 * depend on the test set, outputs are written, and bad inputs fail clearly.
 *
 * The fixture model has random weights, so the accuracies say nothing about the methods; the closing note's table on
 * the demo model does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_METHODS, type CompareProgress, type CompareResult } from '../../shared/contract/methods';
import { unwrap } from '../../shared/result';
import { meanStd } from '../../electron/engine/train/metrics';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const tmp = tempDir('coop-compare-');
const engine = inProcessEngine();
const model = fixtureModelDirs()[0] as string;
const dataDir = join(tmp.path, 'data');
const testDir = join(tmp.path, 'test');
const otherTestDir = join(tmp.path, 'test2');

const writeImages = (root: string, perClass: number, seed: number): Promise<string[][]> =>
  writeColourDataset(root, perClass, seed, { noise: 120 });

beforeAll(async () => {
  await writeImages(dataDir, 8, 1);
  await writeImages(testDir, 4, 2);
  await writeImages(otherTestDir, 2, 3);
}, 60_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

const ALL = COMPARE_METHODS;
const base = { model, data: dataDir, test: testDir, backend: 'cpu' as const, augViews: 1, epochs: 2, nCtx: 4 };

describe('compare', () => {
  let result: CompareResult;
  const events: CompareProgress[] = [];

  beforeAll(async () => {
    result = unwrap(
      await engine.client.call(
        'compare',
        {
          ...base,
          methods: [...ALL],
          shots: [1, 2],
          seeds: [1, 2],
          tipfEpochs: 2,
          cocoopEpochs: 1,
          out: join(tmp.path, 'out'),
        },
        { onProgress: (e) => events.push(e) },
      ),
    );
  }, 180_000);

  it('runs every method on every shot count and seed and summarises them as mean and std', () => {
    expect(result.rows).toHaveLength(ALL.length * 2 * 2);
    expect(result.table).toHaveLength(ALL.length * 2);
    for (const cell of result.table) {
      const acc = result.rows
        .filter((r) => r.method === cell.method && r.shots === cell.shots)
        .map((r) => r.testAccuracy);
      expect(acc).toHaveLength(2);
      const { mean, std } = meanStd(acc);
      expect(cell.mean).toBeCloseTo(mean, 12);
      expect(cell.std).toBeCloseTo(std, 12);
    }
    for (const r of result.rows) {
      expect(r.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.testAccuracy).toBeLessThanOrEqual(1);
      expect(r.perClass).toHaveLength(3);
    }
    expect(result.rows.find((r) => r.method === 'linear')?.chosen['C']).toBeGreaterThan(0);
    expect(result.rows.find((r) => r.method === 'tip')?.chosen['alpha']).toBeGreaterThan(0);
    expect(result.rows.find((r) => r.method === 'kgcoop')?.chosen['lambda']).toBe(8);
    expect(events.filter((e) => e.kind === 'row')).toHaveLength(result.rows.length);
    expect(events.some((e) => e.kind === 'estimate' && Number.isFinite(e.seconds))).toBe(true);
  });

  it('trains CoOp exactly as `learn` does on the same split and seed', async () => {
    const learned = unwrap(
      await engine.client.call('learn', { ...base, shots: 2, seed: 2, out: join(tmp.path, 'learn-2-2') }),
    );
    const row = result.rows.find((r) => r.method === 'coop' && r.shots === 2 && r.seed === 2);
    expect(row?.testAccuracy).toBe(learned.test.accuracy);
    expect(row?.perClass).toEqual(learned.test.perClass.map((c) => c.accuracy));
    expect(row?.valAccuracy).toBe(learned.valAccuracy);
  }, 120_000);

  it('scores zero-shot as the CLIP runtime does on the same test folder', async () => {
    const zs = unwrap(await engine.client.call('zeroShot', { model, data: testDir }));
    for (const r of result.rows.filter((x) => x.method === 'zs')) expect(r.testAccuracy).toBeCloseTo(zs.accuracy, 12);
  }, 60_000);

  it('chooses hyper-parameters on the validation split only: another test set changes no choice', async () => {
    const other = unwrap(
      await engine.client.call('compare', {
        ...base,
        test: otherTestDir,
        methods: ['linear', 'tip'],
        shots: [1, 2],
        seeds: [1, 2],
      }),
    );
    for (const r of other.rows) {
      const same = result.rows.find((x) => x.method === r.method && x.shots === r.shots && x.seed === r.seed);
      expect(r.chosen).toEqual(same?.chosen);
      expect(r.valAccuracy).toBe(same?.valAccuracy);
    }
    expect(other.timings.imagesEmbedded).toBe(6);
  }, 120_000);

  it('writes the table, the rows and the chart', async () => {
    const json = JSON.parse(readFileSync(join(tmp.path, 'out', 'compare.json'), 'utf8')) as CompareResult;
    expect(json.rows).toEqual(result.rows);
    const csv = readFileSync(join(tmp.path, 'out', 'compare.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toContain('test_blue_thing');
    expect(csv).toHaveLength(1 + result.rows.length + 2 + result.table.length);
    expect((await sharp(join(tmp.path, 'out', 'compare.png')).metadata()).format).toBe('png');
    expect(readFileSync(join(tmp.path, 'out', 'compare.svg'), 'utf8')).toContain('KgCoOp');
  });

  it('steps a shot count the dataset is too small for down as learn does, and says where each number comes from', async () => {
    // 8 images per class: 8 shots leave nothing to validate or test; 2 shots keep 2 for validation and 4 for testing.
    const one = unwrap(
      await engine.client.call('compare', { model, data: dataDir, methods: ['zs'], shots: [8], seeds: [1, 2] }),
    );
    expect(one.rows.map((r) => [r.shots, r.seed])).toEqual([
      [2, 1],
      [2, 2],
    ]);
    expect(one.splits).toEqual([
      { shots: 2, requestedShots: 8, seed: 1, train: 6, val: 6, test: 12, pinned: false },
      { shots: 2, requestedShots: 8, seed: 2, train: 6, val: 6, test: 12, pinned: false },
    ]);
    expect(one.notes).toEqual([expect.objectContaining({ code: 'shots_capped', requested: 8, used: 2 })]);
    expect(one.splitNote).toMatch(/same shots and seed.*mean over seeds 1, 2/);
    expect(one.table.map((c) => c.shots)).toEqual([2]);
    // A count that steps down to one the sweep already runs is skipped, with the reason.
    const two = unwrap(
      await engine.client.call('compare', { model, data: dataDir, methods: ['zs'], shots: [1, 2, 8], seeds: [1] }),
    );
    expect(two.rows.map((r) => r.shots)).toEqual([1, 2]);
    expect(two.skipped).toEqual([{ shots: 8, reason: expect.stringMatching(/room for 2 shots/) as unknown as string }]);
  });

  it('refuses a dataset whose splits leave no test image, with a reason the front ends phrase', async () => {
    // 2 images per class: one to learn from, one to validate, none to test.
    const r = await engine.client.call('compare', {
      model,
      data: otherTestDir,
      methods: ['zs'],
      shots: [1],
      seeds: [1],
    });
    expect(r.ok ? null : r.error).toMatchObject({ code: 'invalid_data', reason: 'no_test_images' });
  });
});
