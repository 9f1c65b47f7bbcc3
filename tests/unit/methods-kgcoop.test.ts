/**
 * @file KgCoOp's knowledge-guided term in the CoOp loop, on synthetic features with the fake learner (plain Node, tfjs
 * cpu backend): the term's value, lambda 0 = CoOp, and that a large lambda keeps the learned class features near the
 * hand-written ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KGCOOP_LAMBDA } from '../../shared/contract/train';
import { knowledgeDistance, trainCoop } from '../../electron/engine/train/trainer';
import { FakeLearner, syntheticData } from './train-fake-learner';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Mean over classes of cos(learned_c, hand_c), computed by hand. */
function meanCos(a: Float32Array, b: Float32Array[], dim: number): number {
  let s = 0;
  b.forEach((h, c) => {
    const row = a.subarray(c * dim, (c + 1) * dim);
    const dot = row.reduce((acc, v, j) => acc + v * h[j]!, 0);
    s += dot / (Math.hypot(...row) * Math.hypot(...h));
  });
  return s / b.length;
}

describe('KgCoOp', () => {
  const data = syntheticData({ classes: 4, dim: 16, trainPerClass: 16, views: 2, seed: 11 });

  async function train(kgLambda: number | undefined) {
    const learner = new FakeLearner(data.zeroShotText, data.dim);
    try {
      const result = await trainCoop(data, learner, {
        epochs: 10,
        seed: 1,
        backend: 'cpu',
        ...(kgLambda !== undefined ? { kgLambda } : {}),
      });
      const f = learner.features();
      const feats = Float32Array.from(f.dataSync());
      f.dispose();
      return { result, feats };
    } finally {
      learner.dispose();
    }
  }

  it("computes the official code's 1 - mean_c cos(w_c, hand_c), and the default weight is the official 8", () => {
    const raw = tf.tensor2d([
      [3, 4],
      [0, -2],
    ]);
    const hand = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const d = knowledgeDistance(raw, hand);
    // cos = 0.6 and -1: 1 - mean cos = 1 - (-0.4 / 2) = 1.2 (the paper's ||a - b||² would give twice that, 2.4).
    expect(d.dataSync()[0]).toBeCloseTo(1.2, 5);
    expect(KGCOOP_LAMBDA).toBe(8);
    tf.dispose([raw, hand, d]);
  });

  it('equals CoOp with lambda 0, stays nearer the hand-written prompt with lambda 8, and leaks no tensors', async () => {
    const start = tf.memory().numTensors;
    const coop = await train(undefined);
    const zero = await train(0);
    const kg = await train(8);
    expect(tf.memory().numTensors).toBe(start);
    expect(zero.feats).toEqual(coop.feats);
    const cosCoop = meanCos(coop.feats, data.zeroShotText, data.dim);
    const cosKg = meanCos(kg.feats, data.zeroShotText, data.dim);
    expect(cosKg).toBeGreaterThan(cosCoop + 0.05);
    // It still learns the task beyond the hand-written prompt.
    expect(kg.result.test.accuracy).toBeGreaterThan(kg.result.zeroShot.test.accuracy);
  });
});
