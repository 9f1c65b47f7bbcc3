/**
 * @file The optimised text-encoder path equals the plain reference path (loss and gradients), chunked gradient
 * accumulation equals one chunk, the same short learn run reaches the same accuracy on both paths, and nothing leaks
 * tensors (plain Node; tfjs cpu and wasm backends; fixture model).
 *
 * Tolerances: both paths compute the same float32 maths in a different order (fused qkv with the scale folded in,
 * shared prefix, EOT-only last layer), so losses agree to ~1e-6 relative and gradients to ~1e-5 of their largest
 * entry; the bounds below (1e-4 relative loss, 1e-3 of the largest gradient) leave room for the backends' reduction
 * orders while still catching any wrong row, mask or position (those change gradients by O(1) of their size).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../electron/engine/tf/backends';
import { trainCoop, type TrainData } from '../../electron/engine/train/trainer';
import { encodeIds } from '../../electron/engine/train/text-encoder';
import {
  CLASS_NAMES,
  coopLoss,
  loadFixtureLearnerParts,
  makeLearner,
  maxAbs,
  maxAbsDiff,
  CONTEXT_LAYOUTS,
} from './learner-fixture';
import { syntheticData } from './train-fake-learner';

type Parts = Awaited<ReturnType<typeof loadFixtureLearnerParts>>;

async function lossAndGrad(parts: Parts, opts: Parameters<typeof makeLearner>[1]) {
  const learner = makeLearner(parts, { seed: 5, ...opts });
  const { loss, dispose } = coopLoss(CLASS_NAMES.length, parts.encoder.projectionDim);
  try {
    const r = await learner.step(loss);
    const grad = r.grad.dataSync().slice();
    r.grad.dispose();
    return { loss: r.loss, grad, sharesPrefix: learner.sharesPrefix };
  } finally {
    dispose();
    learner.dispose();
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`prompt learner paths on ${backend}`, () => {
    let parts: Parts;
    beforeAll(async () => {
      await useBackend(backend);
      parts = await loadFixtureLearnerParts();
    }, 120_000);
    afterAll(() => parts?.encoder.dispose());

    it.each(CONTEXT_LAYOUTS)('optimised = plain for csc=$csc position=$position', async (cfg) => {
      await useBackend(backend);
      const opt = await lossAndGrad(parts, { ...cfg, path: 'optimised' });
      const plain = await lossAndGrad(parts, { ...cfg, path: 'plain' });
      expect(opt.sharesPrefix).toBe(!cfg.csc && cfg.position === 'end');
      expect(Math.abs(opt.loss - plain.loss)).toBeLessThan(1e-4 * Math.abs(plain.loss));
      expect(maxAbs(plain.grad)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(opt.grad, plain.grad)).toBeLessThan(1e-3 * maxAbs(plain.grad));
    });

    it.each([
      { csc: false, position: 'end' as const },
      { csc: true, position: 'front' as const },
    ])('chunks of 2 classes accumulate the same gradient as one chunk (csc=$csc)', async (cfg) => {
      await useBackend(backend);
      const one = await lossAndGrad(parts, { ...cfg, chunkSize: 64 });
      const chunked = await lossAndGrad(parts, { ...cfg, chunkSize: 2 });
      expect(Math.abs(one.loss - chunked.loss)).toBeLessThan(1e-4 * Math.abs(one.loss));
      expect(maxAbsDiff(one.grad, chunked.grad)).toBeLessThan(1e-3 * maxAbs(one.grad));
    });

    it('leaks no tensor across a learner lifetime (steps, features, nearest tokens, dispose)', async () => {
      await useBackend(backend);
      const start = tf.memory().numTensors;
      for (const cfg of [...CONTEXT_LAYOUTS, { csc: true, position: 'end' as const, chunkSize: 2 }]) {
        const learner = makeLearner(parts, cfg);
        const { loss, dispose } = coopLoss(CLASS_NAMES.length, parts.encoder.projectionDim);
        for (let i = 0; i < 2; i++) {
          const { grad } = await learner.step(loss);
          grad.dispose();
        }
        learner.features().dispose();
        expect(learner.nearestTokens(3)).toHaveLength(learner.ctx.shape.length === 3 ? 5 * 4 : 4);
        dispose();
        learner.dispose();
      }
      expect(tf.memory().numTensors).toBe(start);
    });
  });
}

for (const backend of ['cpu', 'wasm'] as const)
  describe(`memory of a chunked step (${backend})`, () => {
    let parts: Parts;
    beforeAll(async () => {
      await useBackend(backend);
      parts = await loadFixtureLearnerParts();
    }, 120_000);
    afterAll(() => parts?.encoder.dispose());

    it('peaks at about one chunk of activations, whatever the number of classes', async () => {
      await useBackend(backend);
      const peak = async (classes: number) => {
        const names = Array.from({ length: classes }, (_, i) => `object number ${i}`);
        const learner = makeLearner(parts, { chunkSize: 4 }, names);
        const { loss, dispose } = coopLoss(classes, parts.encoder.projectionDim);
        const before = tf.memory().numBytes;
        const info = await tf.profile(async () => {
          const { grad } = await learner.step(loss);
          grad.dispose();
        });
        dispose();
        learner.dispose();
        return info.peakBytes - before;
      };
      const few = await peak(8);
      const many = await peak(64);
      // 8x the chunks: only the [C, P] features and their gradient grow (a few KiB here), not the activations.
      expect(many).toBeLessThan(1.5 * few);
    });
  });

describe('a short learn run on both paths (cpu)', () => {
  let parts: Parts;
  let data: TrainData;
  beforeAll(async () => {
    await useBackend('cpu');
    parts = await loadFixtureLearnerParts();
    const zs = encodeIds(
      parts.encoder,
      CLASS_NAMES.map((c) => parts.tokenizer.encode(`a photo of a ${c}.`)),
    );
    const rows = await zs.array();
    zs.dispose();
    const synth = syntheticData({
      classes: CLASS_NAMES.length,
      dim: parts.encoder.projectionDim,
      trainPerClass: 8,
      views: 1,
      seed: 4,
    });
    data = { ...synth, classNames: CLASS_NAMES, zeroShotText: rows.map((r) => Float32Array.from(r)) };
  }, 120_000);
  afterAll(() => parts?.encoder.dispose());

  it('class-specific middle context: same accuracy and losses, no leaked tensor', async () => {
    await useBackend('cpu');
    const start = tf.memory().numTensors;
    const run = async (path: 'optimised' | 'plain') => {
      const learner = makeLearner(parts, { csc: true, position: 'middle', seed: 2, path, chunkSize: 3 });
      try {
        return await trainCoop(data, learner, { epochs: 3, seed: 2, backend: 'cpu' });
      } finally {
        learner.dispose();
      }
    };
    const opt = await run('optimised');
    const plain = await run('plain');
    expect(tf.memory().numTensors).toBe(start);
    expect(plain.test.accuracy).toBe(opt.test.accuracy);
    opt.curve.forEach((p, i) => expect(plain.curve[i]?.trainLoss).toBeCloseTo(p.trainLoss, 4));
  });
});
