/**
 * @file Test helper: a tiny stand-in for D1's PromptLearner and synthetic CLIP-like features (tests, plain Node).
 *
 * The fake's "text encoder" is `features = base + gain * ctx` with a class-specific context [C, P], so gradients are
 * exact and cheap while the trainer sees the same interface as with the real learner.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FeatureSet, TrainableLearner, TrainData } from '../../electron/engine/train/trainer';
import { Rng } from '../../electron/engine/train/splits';

/** A learner whose class features are `base + gain * ctx`. */
export class FakeLearner implements TrainableLearner {
  readonly ctx: tf.Variable;
  private readonly base: tf.Tensor2D;

  constructor(
    base: Float32Array[],
    dim: number,
    private readonly gain = 5,
  ) {
    this.base = tf.tensor2d(
      base.flatMap((b) => Array.from(b)),
      [base.length, dim],
    );
    // tidy frees the zeros tensor the variable was initialised from (tf.variable copies its reference).
    this.ctx = tf.tidy(() => tf.variable(tf.zeros([base.length, dim]), true));
  }

  features(): tf.Tensor2D {
    return tf.tidy(() => tf.add(this.base, tf.mul(this.ctx, this.gain)));
  }

  async step(lossOf: (f: tf.Tensor2D) => tf.Scalar): Promise<{ loss: number; grad: tf.Tensor }> {
    const { value, grads } = tf.variableGrads(
      () => lossOf(tf.add(this.base, tf.mul(this.ctx, this.gain)) as tf.Tensor2D),
      [this.ctx],
    );
    const loss = (await value.data())[0] ?? NaN;
    value.dispose();
    const grad = grads[this.ctx.name];
    if (!grad) throw new Error('no gradient');
    return { loss, grad };
  }

  dispose(): void {
    this.base.dispose();
    this.ctx.dispose();
  }
}

function unit(v: number[]): Float32Array {
  const n = Math.hypot(...v) || 1;
  return Float32Array.from(v, (x) => x / n);
}

/** Synthetic task: class centres in `dim` dimensions, noisy images, a weak zero-shot text feature per class. */
export function syntheticData(opts: {
  classes: number;
  dim: number;
  trainPerClass: number;
  views: number;
  seed: number;
}): TrainData {
  const rng = new Rng(opts.seed);
  const centres = Array.from({ length: opts.classes }, () => Array.from({ length: opts.dim }, () => rng.normal()));
  const sample = (k: number, noise: number) => unit((centres[k] ?? []).map((x) => x + noise * rng.normal()));
  const set = (perClass: number): FeatureSet => {
    const rows: Float32Array[] = [];
    const labels: number[] = [];
    for (let k = 0; k < opts.classes; k++)
      for (let i = 0; i < perClass; i++) {
        rows.push(sample(k, 0.8));
        labels.push(k);
      }
    const features = new Float32Array(rows.length * opts.dim);
    rows.forEach((r, i) => features.set(r, i * opts.dim));
    return { features, labels };
  };
  const train = [];
  for (let k = 0; k < opts.classes; k++)
    for (let i = 0; i < opts.trainPerClass; i++)
      train.push({ label: k, views: Array.from({ length: Math.max(1, opts.views) }, () => sample(k, 0.8)) });
  return {
    classNames: Array.from({ length: opts.classes }, (_, k) => `class ${k}`),
    dim: opts.dim,
    train,
    val: set(4),
    test: set(20),
    // The hand-written prompt is far from the centres: zero-shot is weak, so learning has room.
    zeroShotText: Array.from({ length: opts.classes }, (_, k) =>
      unit((centres[k] ?? []).map((x) => 0.3 * x + 1.2 * rng.normal())),
    ),
  };
}
