/**
 * @file Gradient check of the prompt learner: central finite differences of the CoOp loss agree with tfjs autodiff,
 * for unified and class-specific contexts and every class position (plain Node, tfjs cpu backend, fixture model).
 *
 * [Note: finite differences in float32] tfjs computes in float32, so a difference quotient carries a rounding error
 * of about 1e-7 * |loss| / eps. With eps = 1e-3 on context values of size ~0.02 and a loss of about 3, that is
 * ~3e-4 absolute, while the truncation error (eps^2 * third derivative) is far smaller. The check therefore compares
 * the coordinates with the largest gradients (|g| >= 2e-2, so the noise is under 2% of them) within 5% relative, and
 * one random direction (a sum over every coordinate, hence large) within 2% relative; along that direction every
 * coordinate moves at once, so its step is smaller (1e-4 per coordinate) to keep the curvature term small.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptLearner } from '../../electron/engine/train/prompt-learner';
import { seededValues } from '../helpers/seeded';
import { CLASS_NAMES, coopLoss, loadFixtureLearnerParts, makeLearner, CONTEXT_LAYOUTS } from './learner-fixture';

let parts: Awaited<ReturnType<typeof loadFixtureLearnerParts>>;
beforeAll(async () => {
  await tf.setBackend('cpu');
  parts = await loadFixtureLearnerParts();
}, 120_000);
afterAll(() => parts?.encoder.dispose());

const EPS = 1e-3;
/** Step along the random direction, whose entries are up to 0.5: every coordinate moves by at most 1e-4. */
const DIR_EPS = 2e-4;

/** The loss at ctx + t * direction (the context is restored afterwards). */
function lossAt(
  learner: PromptLearner,
  loss: (f: tf.Tensor2D) => tf.Scalar,
  base: tf.Tensor,
  dir: tf.Tensor,
  t: number,
) {
  learner.ctx.assign(tf.tidy(() => tf.add(base, tf.mul(dir, t))));
  const v = tf.tidy(() => loss(learner.features()).dataSync()[0] ?? NaN);
  learner.ctx.assign(base);
  return v;
}

describe('prompt learner gradients vs central finite differences', () => {
  it.each(CONTEXT_LAYOUTS)('csc=$csc position=$position', async ({ csc, position }) => {
    const learner = makeLearner(parts, { csc, position, seed: 3 });
    const { loss, dispose } = coopLoss(CLASS_NAMES.length, parts.encoder.projectionDim);
    const base = tf.clone(learner.ctx);
    try {
      const { loss: l0, grad } = await learner.step(loss);
      const g = grad.dataSync().slice();
      grad.dispose();
      expect(Number.isFinite(l0)).toBe(true);

      // A few coordinates: the four largest gradients (each a one-hot direction).
      const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b] ?? 0) - Math.abs(g[a] ?? 0));
      const picked = order.slice(0, 4);
      expect(Math.abs(g[picked[3] ?? 0] ?? 0)).toBeGreaterThan(2e-2);
      for (const i of picked) {
        const hot = tf.tidy(() => tf.reshape(tf.oneHot(tf.tensor1d([i], 'int32'), g.length), learner.ctx.shape));
        const fd = (lossAt(learner, loss, base, hot, EPS) - lossAt(learner, loss, base, hot, -EPS)) / (2 * EPS);
        hot.dispose();
        const gi = g[i] ?? NaN;
        expect(Math.abs(fd - gi), `coordinate ${i}: fd ${fd} vs grad ${gi}`).toBeLessThan(0.05 * Math.abs(gi));
      }

      // One random direction through every coordinate.
      const dir = tf.tensor(seededValues(g.length, 17), learner.ctx.shape);
      const d = dir.dataSync();
      let dot = 0;
      for (let i = 0; i < g.length; i++) dot += (g[i] ?? 0) * (d[i] ?? 0);
      const fd =
        (lossAt(learner, loss, base, dir, DIR_EPS) - lossAt(learner, loss, base, dir, -DIR_EPS)) / (2 * DIR_EPS);
      dir.dispose();
      expect(Math.abs(fd - dot), `direction: fd ${fd} vs <grad, d> ${dot}`).toBeLessThan(0.02 * Math.abs(dot));
    } finally {
      base.dispose();
      dispose();
      learner.dispose();
    }
  });
});
