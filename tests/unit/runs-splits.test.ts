/**
 * @file The few-shot split with images pinned to a split (see [Note: pinned splits]): pins land where pinned, count
 * towards K shots and the validation size, and pinning nothing draws exactly the unpinned split.
 */
import { describe, expect, it } from 'vitest';
import { fewShotSplit } from '../../electron/engine/train/splits';

const classes = [0, 1].map((c) => Array.from({ length: 12 }, (_, i) => `/d/c${c}/${String(i).padStart(2, '0')}.png`));
const of = (items: { path: string; label: number }[], label: number) =>
  items.filter((i) => i.label === label).map((i) => i.path);

describe('fewShotSplit with pinned images', () => {
  it('pinning nothing (or empty pins) gives the unpinned draw', () => {
    const plain = fewShotSplit(classes, { shots: 4, seed: 3 });
    expect(fewShotSplit(classes, { shots: 4, seed: 3, pinned: [{}, { train: [], val: [], test: [] }] })).toEqual(plain);
  });

  it('puts pinned images where they are pinned and samples the rest around them', () => {
    const c0 = classes[0] as string[];
    const pinned = [
      { train: [c0[0] as string], val: [c0[1] as string, c0[2] as string], test: [c0[3] as string, c0[4] as string] },
    ];
    const s = fewShotSplit(classes, { shots: 4, seed: 3, pinned });
    const train = of(s.train, 0);
    const val = of(s.val, 0);
    const test = of(s.test, 0);
    expect(train).toHaveLength(4);
    expect(train).toContain(c0[0]);
    expect(val).toHaveLength(4);
    expect(val).toEqual(expect.arrayContaining([c0[1], c0[2]]));
    expect(test).toEqual(expect.arrayContaining([c0[3], c0[4]]));
    expect(new Set([...train, ...val, ...test]).size).toBe(12);
    expect(of(s.train, 1)).toHaveLength(4);
  });

  it('keeps every pinned training image even beyond K shots', () => {
    const c1 = classes[1] as string[];
    const s = fewShotSplit(classes, { shots: 2, seed: 1, pinned: [{}, { train: c1.slice(0, 5) }] });
    expect(of(s.train, 1)).toEqual(c1.slice(0, 5));
    expect(of(s.val, 1)).toHaveLength(2);
    expect(of(s.test, 1)).toHaveLength(5);
  });
});
