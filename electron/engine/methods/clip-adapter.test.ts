/**
 * @file CLIP-Adapter on a synthetic few-shot task (tfjs cpu backend): it beats zero-shot, its logits follow the
 * paper's formula, its gradient matches finite differences, its loss falls, it leaks no tensor, it is deterministic
 * for a seed, and it chooses on validation only.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { fewShotWorld } from '../../../tests/helpers/few-shot-world';
import {
  Adapter,
  ADAPTER_RATIO,
  adapterLogits,
  betterOnVal,
  clipAdapter,
  initAdapter,
  trainAdapter,
  type AdapterHead,
  type AdapterWeights,
} from './clip-adapter';
import { evaluateWeights } from './ensemble';
import { normalizeRows, stack, type Matrix } from './matrix';
import { crossEntropy } from '../train/metrics';
import { Rng } from '../train/splits';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const headOf = (classifier: Matrix, scale = 100): AdapterHead => ({
  classifier: tf.tensor2d(classifier.data, [classifier.rows, classifier.cols]),
  scale,
  ratio: ADAPTER_RATIO,
});
const randomRows = (rng: Rng, n: number, d: number) =>
  normalizeRows(stack(Array.from({ length: n }, () => Float32Array.from({ length: d }, () => rng.normal()))));

/** The paper's formula in plain numbers: scale * cos(0.2 ReLU(ReLU(f W1) W2) + 0.8 f, w_c). */
function referenceLogits(w: AdapterWeights, x: Matrix, classifier: Matrix, scale: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    const f = x.data.subarray(i * w.dim, (i + 1) * w.dim);
    const h = Array.from({ length: w.hidden }, (_, j) =>
      Math.max(
        0,
        f.reduce((s, v, k) => s + v * w.w1[k * w.hidden + j]!, 0),
      ),
    );
    const z = Array.from({ length: w.dim }, (_, k) => {
      const a = Math.max(
        0,
        h.reduce((s, v, j) => s + v * w.w2[j * w.dim + k]!, 0),
      );
      return ADAPTER_RATIO * a + (1 - ADAPTER_RATIO) * f[k]!;
    });
    const n = Math.hypot(...z);
    for (let c = 0; c < classifier.rows; c++)
      out.push((scale * z.reduce((s, v, k) => s + v * classifier.data[c * w.dim + k]!, 0)) / n);
  }
  return out;
}

describe('CLIP-Adapter', () => {
  it('beats the corrupted zero-shot prompt on every seed, by a wide margin on average, and leaks no tensor', () => {
    const before = tf.memory().numTensors;
    const gains = [1, 2, 3].map((seed) => {
      const data = fewShotWorld(seed, 6, 24, 4);
      const zs = evaluateWeights('zs', data, data.zeroShotWeights).test.accuracy;
      const ca = clipAdapter(data, { epochs: 100, seed });
      expect(ca.test.accuracy, `seed ${seed}`).toBeGreaterThanOrEqual(zs);
      expect(ca.chosen).toMatchObject({ ratio: 0.2, reduction: 4 });
      return ca.test.accuracy - zs;
    });
    expect(gains.reduce((a, b) => a + b) / gains.length).toBeGreaterThan(0.2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('computes the paper’s logits: a D/4 bottleneck, two ReLUs, residual ratio 0.2, cosine with the prompts', () => {
    const rng = new Rng(3);
    const x = randomRows(rng, 4, 12);
    const classifier = randomRows(rng, 3, 12);
    const w = initAdapter(12, rng);
    expect(w.hidden).toBe(3);
    const head = headOf(classifier);
    const got = adapterLogits(w, head, { features: x, labels: [0, 1, 2, 0] }).data;
    referenceLogits(w, x, classifier, 100).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 3));
    // Positively homogeneous: the same logits for a feature at any scale.
    const scaled = { ...x, data: x.data.map((v) => 3 * v) };
    const again = adapterLogits(w, head, { features: scaled, labels: [0, 1, 2, 0] }).data;
    got.forEach((v, i) => expect(again[i]).toBeCloseTo(v, 3));
    head.classifier.dispose();
  });

  it('has the gradient of its loss (finite differences on both layers)', () => {
    const rng = new Rng(11);
    const x = randomRows(rng, 5, 8);
    const head = headOf(randomRows(rng, 3, 8), 10);
    const w = initAdapter(8, rng, 2);
    for (const a of [w.w1, w.w2]) a.forEach((v, i) => (a[i] = 3 * v)); // so that the adapter's branch matters
    const labels = [0, 1, 2, 1, 0];
    const loss = (weights: AdapterWeights, grads?: Record<'w1' | 'w2', Float32Array>): number => {
      const adapter = new Adapter(weights);
      try {
        return tf.tidy(() => {
          const xs = tf.tensor2d(x.data, [5, 8]);
          const ys = tf.tensor1d(labels, 'int32');
          const f = () => crossEntropy(adapter.logits(xs, head), ys, 3);
          if (!grads) return f().dataSync()[0]!;
          const { value, grads: g } = tf.variableGrads(f, [adapter.w1, adapter.w2]);
          grads.w1.set(g[adapter.w1.name]!.dataSync());
          grads.w2.set(g[adapter.w2.name]!.dataSync());
          return value.dataSync()[0]!;
        });
      } finally {
        adapter.dispose();
      }
    };
    const grads = { w1: new Float32Array(w.w1.length), w2: new Float32Array(w.w2.length) };
    loss(w, grads);
    const eps = 1e-2;
    let checked = 0;
    for (const key of ['w1', 'w2'] as const)
      for (let i = 0; i < w[key].length; i++) {
        const at = (d: number) => loss({ ...w, [key]: w[key].map((v, j) => (j === i ? v + d : v)) });
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        expect(grads[key][i]!, `${key}[${i}]`).toBeCloseTo(fd, 2);
        if (Math.abs(fd) > 1e-2) checked++;
      }
    expect(checked).toBeGreaterThan(20);
    head.classifier.dispose();
  });

  it('lowers its training loss and is deterministic for a seed', () => {
    const data = fewShotWorld(4, 5, 16, 8);
    const head = headOf(data.zeroShotWeights);
    const a = trainAdapter(data, head, { lr: 0.01, epochs: 30, seed: 5 });
    const b = trainAdapter(data, head, { lr: 0.01, epochs: 30, seed: 5 });
    expect(a.curve).toEqual(b.curve);
    expect(a.best).toEqual(b.best);
    expect(a.curve.at(-1)!.loss).toBeLessThan(a.curve[0]!.loss / 2);
    const other = trainAdapter(data, head, { lr: 0.01, epochs: 30, seed: 6 });
    expect(other.curve).not.toEqual(a.curve);
    head.classifier.dispose();
  });

  it('chooses its learning rate and epoch on validation only: another test set changes no choice', () => {
    const data = fewShotWorld(2, 4, 16, 4);
    const other = { ...data, test: fewShotWorld(99, 4, 16, 4).test };
    const a = clipAdapter(data, { epochs: 40, seed: 1 });
    const b = clipAdapter(other, { epochs: 40, seed: 1 });
    expect(b.chosen).toEqual(a.chosen);
    expect(b.val).toEqual(a.val);
    expect(b.curve).toEqual(a.curve);
    expect(betterOnVal({ accuracy: 0.5, loss: 9 }, { accuracy: 0.25, loss: 1 })).toBe(true);
    expect(betterOnVal({ accuracy: 0.5, loss: 1 }, { accuracy: 0.5, loss: 2 })).toBe(true);
    expect(betterOnVal({ accuracy: 0.5, loss: 2 }, { accuracy: 0.5, loss: 2 })).toBe(false);
  });
});
