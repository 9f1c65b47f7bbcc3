/**
 * @file `sweep` end to end through the in-process engine on the demo model and its `backgrounds` sample task (plain
 * Node, tfjs cpu backend, 2 shots and 2 epochs so it runs in seconds): a CoOp cell is exactly `learn` with the cell's
 * options and seed, every cell of a seed shares one split, label noise flips exactly the asked share of the training
 * labels and leaves zero-shot alone, and the reports are written and self-contained.
 *
 * Accuracies are not asserted (the demo model is retrained from time to time); docs/experiments.md has the numbers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentProgress, SweepResult } from '../../shared/contract/experiments';
import { unwrap } from '../../shared/result';
import { resourcesDir } from '../../electron/engine/settings/paths';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { meanStd } from '../../electron/engine/train/metrics';
import { inProcessEngine, tempDir } from '../helpers/engine';

const tmp = tempDir('coop-sweep-');
const engine = inProcessEngine();
const data = join(resourcesDir(), 'samples', 'backgrounds');
const base = { data, shots: 2, epochs: 2, backend: 'cpu' as const };

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

describe('sweep: layout', () => {
  let result: SweepResult;
  const events: ExperimentProgress[] = [];

  beforeAll(async () => {
    result = unwrap(
      await engine.client.call(
        'sweep',
        { ...base, kind: 'layout', seeds: [1, 2], nCtx: 4, out: join(tmp.path, 'layout') },
        { onProgress: (e) => events.push(e) },
      ),
    );
  }, 300_000);

  it('runs the six layouts and the hand-written prompt on every seed, summarised as mean and std', () => {
    expect(result.cells).toHaveLength(7);
    expect(result.rows).toHaveLength(7 * 2);
    for (const cell of result.table.cells) {
      const key = result.cells.find((c) => c.setting === cell.group)?.key;
      const values = result.rows.filter((r) => r.cell === key).map((r) => r.testAccuracy);
      expect(cell.values).toEqual(values);
      expect(cell.mean).toBeCloseTo(meanStd(values).mean, 12);
      expect(cell.std).toBeCloseTo(meanStd(values).std, 12);
    }
    expect(events.filter((e) => e.kind === 'run')).toHaveLength(14);
    expect(result.split.perSeed.map((s) => s.train)).toEqual([10, 10]);
  });

  it.each([
    ['unified, end', false, 'end'],
    ['class-specific, middle', true, 'middle'],
    ['class-specific, front', true, 'front'],
  ] as const)(
    'a cell (%s) is exactly `learn` with the same options and seed',
    async (setting, csc, position) => {
      const learned = unwrap(
        await engine.client.call('learn', {
          ...base,
          seed: 2,
          nCtx: 4,
          csc,
          position,
          out: join(tmp.path, `learn-${setting}`),
        }),
      );
      const cell = result.cells.find((c) => c.setting === setting);
      const row = result.rows.find((r) => r.cell === cell?.key && r.seed === 2);
      expect(row?.testAccuracy).toBe(learned.test.accuracy);
      expect(row?.perClass).toEqual(learned.test.perClass.map((c) => c.accuracy));
      expect(row?.valAccuracy).toBe(learned.valAccuracy);
      expect(row?.finalTrainLoss).toBe(learned.curve[learned.curve.length - 1]?.trainLoss);
    },
    120_000,
  );

  it('writes the table, the runs, the chart and a self-contained HTML report', async () => {
    const dir = join(tmp.path, 'layout');
    expect(result.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
      ['sweep-layout.csv', 'sweep-layout.html', 'sweep-layout.json', 'sweep-layout.png', 'sweep-layout.svg'].sort(),
    );
    const json = JSON.parse(readFileSync(join(dir, 'sweep-layout.json'), 'utf8')) as SweepResult;
    expect(json.rows).toEqual(result.rows);
    const csv = readFileSync(join(dir, 'sweep-layout.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + result.table.cells.length + 1 + 1 + result.rows.length);
    expect((await sharp(join(dir, 'sweep-layout.png')).metadata()).format).toBe('png');
    const html = readFileSync(join(dir, 'sweep-layout.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain(result.command.replace(/'/g, '&#39;'));
    expect(html).toContain('class-specific, middle');
    // Nothing to fetch: no script, no remote or file reference.
    expect(html).not.toMatch(/<script|src=|href=|url\(/i);
    expect(result.command).toMatch(/^coop-studio sweep --kind layout --data \S+ --seeds 1,2 --shots 2 --epochs 2/);
  });
});

describe('sweep: context length with augmented views', () => {
  it('a cell sees the views `learn` draws for the seed, and equals it', async () => {
    const common = { ...base, shots: 1, augViews: 2 };
    const swept = unwrap(
      await engine.client.call('sweep', { ...common, kind: 'context-length', contextLengths: [2], seeds: [2] }),
    );
    const learned = unwrap(
      await engine.client.call('learn', { ...common, nCtx: 2, seed: 2, out: join(tmp.path, 'learn-views') }),
    );
    const row = swept.rows.find((r) => r.cell === 'coop M=2');
    expect(row?.testAccuracy).toBe(learned.test.accuracy);
    expect(row?.finalTrainLoss).toBe(learned.curve[learned.curve.length - 1]?.trainLoss);
  }, 180_000);
});

describe('sweep: label noise', () => {
  let result: SweepResult;

  beforeAll(async () => {
    result = unwrap(
      await engine.client.call('sweep', {
        ...base,
        kind: 'label-noise',
        shots: 4,
        nCtx: 4,
        seeds: [3],
        noiseRates: [0, 0.25, 0.5],
      }),
    );
  }, 300_000);

  it('flips round(rate x K) training labels per class and leaves the hand-written prompt unchanged', () => {
    const row = (method: string, rate: number) =>
      result.rows.find((r) =>
        result.cells.find((c) => c.key === r.cell && c.method === method && c.noiseRate === rate),
      );
    // 5 classes of 4 shots: 1 and 2 labels per class.
    expect([0, 0.25, 0.5].map((rate) => row('coop', rate)?.flippedLabels)).toEqual([0, 5, 10]);
    expect([0, 0.25, 0.5].map((rate) => row('linear', rate)?.flippedLabels)).toEqual([0, 5, 10]);
    const zs = [0, 0.25, 0.5].map((rate) => row('zs', rate)?.testAccuracy);
    expect(new Set(zs).size).toBe(1);
  });

  it('at rate 0 CoOp is exactly `learn`; with noise it trains on other labels', async () => {
    const learned = unwrap(
      await engine.client.call('learn', { ...base, shots: 4, nCtx: 4, seed: 3, out: join(tmp.path, 'learn-noise') }),
    );
    const coop = result.rows.filter((r) => result.cells.find((c) => c.key === r.cell)?.method === 'coop');
    expect(coop[0]?.testAccuracy).toBe(learned.test.accuracy);
    expect(coop[0]?.finalTrainLoss).toBe(learned.curve[learned.curve.length - 1]?.trainLoss);
    expect(coop[2]?.finalTrainLoss).not.toBe(coop[0]?.finalTrainLoss);
  }, 120_000);

  it('refuses a split with nothing left to test, with a clear error', async () => {
    const r = await engine.client.call('sweep', { ...base, kind: 'context-length', shots: 60, seeds: [1] });
    expect(r.ok ? null : r.error.code).toBe('invalid_data');
    expect(r.ok ? '' : r.error.message).toMatch(/No image is left for testing/);
  });
});
