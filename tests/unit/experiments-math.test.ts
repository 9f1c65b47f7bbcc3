/**
 * @file The pure parts of the experiment bench: seeded label flipping, the base/new class split and its harmonic
 * mean, the sweep plans, the reproducing command lines and the CSV cells of the reports (plain Node).
 */
import { describe, expect, it } from 'vitest';
import { sweepArgs, baseToNewArgs } from '../../shared/contract/experiments';
import { baseToNewCommand, planSweep, plannedRuns, sweepCommand } from '../../shared/contract/experiment-plan';
import { baseNewClasses, harmonicMean } from '../../electron/engine/train/class-split';
import { flipLabels } from '../../electron/engine/train/label-noise';
import { experimentCsv } from '../../shared/experiment-report';
import { csvCell } from '../../shared/csv';

/** Labels of `k` items per class for `c` classes, interleaved as a split lists them (class by class). */
const labelsOf = (c: number, k: number) => Array.from({ length: c * k }, (_, i) => Math.floor(i / k));

describe('flipLabels', () => {
  it.each([
    [5, 16, 0.125],
    [5, 16, 0.25],
    [5, 16, 0.5],
    [3, 5, 0.5],
    [7, 1, 0.5],
    [4, 3, 0.25],
  ])('flips exactly round(rate x K) labels of each of %i classes of %i shots at rate %f', (c, k, rate) => {
    const labels = labelsOf(c, k);
    const { labels: noisy, flipped } = flipLabels(labels, c, rate, 1);
    const expected = Math.floor(rate * k + 0.5);
    for (let cls = 0; cls < c; cls++) {
      const mine = labels.flatMap((y, i) => (y === cls ? [i] : []));
      expect(mine.filter((i) => noisy[i] !== cls)).toHaveLength(expected);
    }
    expect(flipped).toHaveLength(expected * c);
    // A flipped label always goes to another class, and only flipped items change.
    for (const i of flipped) expect(noisy[i]).not.toBe(labels[i]);
    labels.forEach((y, i) => {
      if (!flipped.includes(i)) expect(noisy[i]).toBe(y);
      expect(noisy[i]).toBeGreaterThanOrEqual(0);
      expect(noisy[i]).toBeLessThan(c);
    });
  });

  it('counts per class when classes have different sizes (a class smaller than K keeps what it has)', () => {
    const labels = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2];
    const { labels: noisy } = flipLabels(labels, 3, 0.25, 7);
    const changed = (cls: number) => labels.filter((y, i) => y === cls && noisy[i] !== y).length;
    expect([changed(0), changed(1), changed(2)]).toEqual([1, 1, 2]);
  });

  it('is seeded: the same seed flips the same items to the same classes, another seed differs', () => {
    const labels = labelsOf(5, 16);
    expect(flipLabels(labels, 5, 0.25, 3)).toEqual(flipLabels(labels, 5, 0.25, 3));
    expect(flipLabels(labels, 5, 0.25, 4).flipped).not.toEqual(flipLabels(labels, 5, 0.25, 3).flipped);
  });

  it('nests the noise levels of one seed: what 25% flips, 50% flips the same way', () => {
    const labels = labelsOf(5, 16);
    const low = flipLabels(labels, 5, 0.25, 2);
    const high = flipLabels(labels, 5, 0.5, 2);
    for (const i of low.flipped) {
      expect(high.flipped).toContain(i);
      expect(high.labels[i]).toBe(low.labels[i]);
    }
  });

  it('draws targets spread over the other classes', () => {
    const labels = labelsOf(4, 400);
    const { labels: noisy, flipped } = flipLabels(labels, 4, 0.5, 1);
    const counts = new Map<string, number>();
    for (const i of flipped)
      counts.set(`${labels[i]}->${noisy[i]}`, (counts.get(`${labels[i]}->${noisy[i]}`) ?? 0) + 1);
    // 200 flips per class over 3 other classes: each pair near 67.
    expect(counts.size).toBe(12);
    for (const n of counts.values()) expect(n).toBeGreaterThan(40);
  });

  it('refuses rates outside [0, 1) and fewer than two classes', () => {
    expect(() => flipLabels([0, 1], 2, 1, 1)).toThrow(RangeError);
    expect(() => flipLabels([0, 1], 2, -0.1, 1)).toThrow(RangeError);
    expect(() => flipLabels([0, 0], 1, 0.5, 1)).toThrow(RangeError);
    expect(flipLabels(labelsOf(3, 4), 3, 0, 1).flipped).toEqual([]);
  });
});

describe('base/new class split', () => {
  it.each([2, 3, 4, 5, 10, 11, 100, 101])('for %i classes: first ceil(n/2) base, the rest new, nothing shared', (n) => {
    const { base, new: fresh } = baseNewClasses(n);
    expect(base).toHaveLength(Math.ceil(n / 2));
    expect(base.filter((c) => fresh.includes(c))).toEqual([]);
    expect([...base, ...fresh].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(base.every((b) => fresh.every((f) => b < f))).toBe(true);
  });

  it('takes an explicit choice of base classes, never sharing a class, and refuses an empty side', () => {
    const { base, new: fresh } = baseNewClasses(6, [5, 1, 1, 3]);
    expect(base).toEqual([1, 3, 5]);
    expect(fresh).toEqual([0, 2, 4]);
    expect(() => baseNewClasses(3, [0, 1, 2])).toThrow(RangeError);
    expect(() => baseNewClasses(3, [])).toThrow(RangeError);
    expect(() => baseNewClasses(3, [3])).toThrow(RangeError);
    expect(() => baseNewClasses(1)).toThrow(RangeError);
  });

  it('summarises base and new with the harmonic mean', () => {
    expect(harmonicMean(0.8, 0.6)).toBeCloseTo((2 * 0.8 * 0.6) / 1.4, 12);
    expect(harmonicMean(1, 1)).toBe(1);
    expect(harmonicMean(0, 0)).toBe(0);
    expect(harmonicMean(0.9, 0)).toBe(0);
  });
});

describe('sweep plans', () => {
  const parse = (a: object) => sweepArgs.parse({ data: '/d', ...a });

  it('context length: one CoOp cell per M (random init) and the hand-written prompt', () => {
    const cells = planSweep(parse({ kind: 'context-length', contextLengths: [1, 4, 4, 16], ctxInit: 'a b' }));
    expect(cells.map((c) => c.setting)).toEqual(['M=1', 'M=4', 'M=16', 'hand-written prompt']);
    expect(cells.slice(0, 3).map((c) => [c.learn.nCtx, c.learn.ctxInit])).toEqual([
      [1, null],
      [4, null],
      [16, null],
    ]);
    expect(plannedRuns(cells, 3)).toBe(9);
  });

  it('init: random and word init with the same number of vectors', () => {
    const cells = planSweep(parse({ kind: 'init' }), { initTokens: 4 });
    expect(cells.map((c) => [c.method, c.learn.nCtx, c.learn.ctxInit])).toEqual([
      ['coop', 4, null],
      ['coop', 4, 'a photo of a'],
      ['zs', 16, null],
    ]);
  });

  it('layout: unified and class-specific x end, middle, front', () => {
    const cells = planSweep(parse({ kind: 'layout' })).filter((c) => c.method === 'coop');
    expect(cells.map((c) => `${c.learn.csc}/${c.learn.position}`)).toEqual([
      'false/end',
      'false/middle',
      'false/front',
      'true/end',
      'true/middle',
      'true/front',
    ]);
  });

  it('label noise: zero-shot, linear probe and CoOp at every rate, in rate order', () => {
    const cells = planSweep(parse({ kind: 'label-noise', noiseRates: [0.5, 0] }));
    expect(cells.map((c) => `${c.method}@${c.noiseRate}`)).toEqual([
      'zs@0',
      'linear@0',
      'coop@0',
      'zs@0.5',
      'linear@0.5',
      'coop@0.5',
    ]);
  });

  it('backbone: zero-shot and CoOp per model, named by folder', () => {
    const cells = planSweep(parse({ kind: 'backbone' }), { models: ['/m/a', '/n/b', '/o/a'] });
    expect(cells.map((c) => `${c.method} ${c.setting} ${c.model}`)).toEqual([
      'zs a /m/a',
      'coop a /m/a',
      'zs b /n/b',
      'coop b /n/b',
      'zs a (3) /o/a',
      'coop a (3) /o/a',
    ]);
  });

  it('refuses models outside the backbone sweep and a second data source', () => {
    expect(sweepArgs.safeParse({ kind: 'init', data: '/d', models: ['x'] }).success).toBe(false);
    expect(sweepArgs.safeParse({ kind: 'init', data: '/d', project: 1 }).success).toBe(false);
    expect(sweepArgs.safeParse({ kind: 'label-noise', data: '/d', noiseRates: [1] }).success).toBe(false);
  });

  it('renders the command that reproduces an experiment', () => {
    expect(sweepCommand(parse({ kind: 'label-noise', seeds: [1, 2], noiseRates: [0, 0.5], out: '/tmp/x y' }))).toBe(
      "coop-studio sweep --kind label-noise --data /d --seeds 1,2 --shots 16 --out '/tmp/x y' --noise 0,0.5",
    );
    expect(baseToNewCommand(baseToNewArgs.parse({ data: '/d', baseClasses: ['a', 'b'] }))).toBe(
      'coop-studio base-to-new --data /d --seeds 1,2,3 --shots 16 --methods zs,coop,kgcoop,cocoop --base a,b',
    );
  });
});

describe('report CSV', () => {
  it('neutralises formula starts and quotes per RFC 4180 (the shared writer)', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('@sum')).toBe("'@sum");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell(null)).toBe('');
    const csv = experimentCsv(
      {
        title: 't',
        groupAxis: 'g',
        metric: 'm',
        groups: ['=cmd'],
        series: ['s'],
        cells: [{ group: '=cmd', series: 's', mean: 0.5, std: 0.1, values: [0.4, 0.6] }],
      },
      { columns: ['a'], rows: [['-x']] },
    );
    expect(csv).toContain("'=cmd,s,0.5,0.1,2,0.4 0.6");
    expect(csv).toContain("\n'-x\n");
  });
});
