import { describe, expect, it } from 'vitest';
import { classWeights, evaluateWeights } from './ensemble';
import { score } from './evaluate';
import { minimize } from './lbfgs';
import { fitLogisticRegression, linearLogits, linearProbe } from './linear-probe';
import type { Matrix } from './matrix';
import { CLIP_7_TEMPLATES, CLIP_80_TEMPLATES, fillTemplate } from './templates';
import { tipAdapter, tipAdapterF } from './tip-adapter';
import { mulberry32 } from '../train/splits';
import { fewShotWorld } from '../../../tests/helpers/few-shot-world';

describe('few-shot methods on synthetic features', () => {
  const data = fewShotWorld(1);
  const zs = evaluateWeights('zs', data, data.zeroShotWeights);

  it('builds a world where zero-shot is imperfect but better than chance', () => {
    expect(zs.test.accuracy).toBeGreaterThan(1 / data.numClasses);
    expect(zs.test.accuracy).toBeLessThan(0.9);
  });

  it('scores predictions into accuracy, per-class accuracy and a confusion matrix', () => {
    const logits: Matrix = { rows: 4, cols: 2, data: Float32Array.from([1, 0, 0, 1, 1, 0, 1, 0]) };
    const s = score(logits, [0, 1, 1, 0], 2);
    expect(s.accuracy).toBe(0.75);
    expect(s.confusion).toEqual([
      [2, 0],
      [1, 1],
    ]);
    expect(s.perClass.map((c) => c.accuracy)).toEqual([1, 0.5]);
    expect(s.count).toBe(4);
  });

  it('L-BFGS finds the minimum of a convex quadratic', () => {
    const target = [3, -2, 0.5];
    const { x } = minimize((p, g) => {
      let f = 0;
      for (let i = 0; i < 3; i++) {
        const w = i + 1;
        f += w * (p[i]! - target[i]!) ** 2;
        g[i] = 2 * w * (p[i]! - target[i]!);
      }
      return f;
    }, new Float64Array(3));
    [...x].forEach((v, i) => expect(v).toBeCloseTo(target[i]!, 5));
  });

  it('logistic regression separates the training shots and generalises', () => {
    const model = fitLogisticRegression(data.train.features, data.train.labels, data.numClasses, 10);
    expect(score(linearLogits(model, data.train.features), data.train.labels, data.numClasses).accuracy).toBe(1);
    expect(score(linearLogits(model, data.test.features), data.test.labels, data.numClasses).accuracy).toBeGreaterThan(
      zs.test.accuracy,
    );
  });

  it('linear probe chooses C on validation and beats the corrupted zero-shot prompt', () => {
    const r = linearProbe(data);
    expect(r.chosen['C']).toBeGreaterThan(0);
    expect(r.test.accuracy).toBeGreaterThan(zs.test.accuracy + 0.1);
  });

  it('Tip-Adapter improves on zero-shot without training, Tip-Adapter-F trains 20 epochs', async () => {
    const tip = tipAdapter(data);
    expect(tip.chosen['alpha']).toBeGreaterThan(0);
    expect(tip.test.accuracy).toBeGreaterThan(zs.test.accuracy + 0.1);
    const tipf = await tipAdapterF(data, { random: mulberry32(7) });
    expect(tipf.curve).toHaveLength(20);
    expect(tipf.curve!.at(-1)!.loss).toBeLessThan(tipf.curve![0]!.loss);
    expect(tipf.test.accuracy).toBeGreaterThan(zs.test.accuracy + 0.1);
  });

  it('Tip-Adapter-F is deterministic for a seed', async () => {
    const a = await tipAdapterF(data, { random: mulberry32(3), epochs: 3 });
    const b = await tipAdapterF(data, { random: mulberry32(3), epochs: 3 });
    expect(a.test).toEqual(b.test);
    expect(a.curve).toEqual(b.curve);
  });
});

describe('prompt templates and ensembling', () => {
  it('has CLIP 80 templates and the 7-template subset, all with a class slot', () => {
    expect(CLIP_80_TEMPLATES).toHaveLength(80);
    expect(new Set(CLIP_80_TEMPLATES).size).toBe(80);
    expect(CLIP_7_TEMPLATES).toHaveLength(7);
    for (const t of CLIP_7_TEMPLATES) expect(CLIP_80_TEMPLATES).toContain(t);
    for (const t of CLIP_80_TEMPLATES) expect(t).toContain('{}');
    expect(fillTemplate('a photo of a {}.', 'red circle')).toBe('a photo of a red circle.');
  });

  it('averages normalised template features and normalises again', async () => {
    const embed = async (texts: string[]) =>
      texts.map((t) => (t.startsWith('a') ? Float32Array.from([2, 0]) : Float32Array.from([0, 5])));
    const w = await classWeights(embed, ['x'], ['a {}', 'b {}']);
    expect(w.data[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(w.data[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });
});
