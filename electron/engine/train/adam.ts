/**
 * @file Adam with L2 weight decay, PyTorch semantics, over tfjs-core (engine; any tfjs backend).
 *
 * [Note: Adam semantics] `torch.optim.Adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)`: d = g + wd * p;
 * m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d²; p = p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * The schedule study (docs/schedule-study.md) tried it against SGD with momentum for few, large steps.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link Adam}. */
export interface AdamOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** PyTorch's Adam defaults with CoOp's weight decay. */
export const ADAM_DEFAULTS: AdamOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 5e-4 };

/** Stateful Adam for one variable; `dispose()` frees the moment buffers. */
export class Adam {
  private m: tf.Tensor | null = null;
  private v: tf.Tensor | null = null;
  private t = 0;

  constructor(
    private readonly param: tf.Variable,
    private readonly opts: AdamOptions = ADAM_DEFAULTS,
  ) {}

  /** Applies one update with gradient `grad` (not disposed here) at learning rate `lr`. */
  step(grad: tf.Tensor, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.opts;
    this.t++;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    const [prevM, prevV] = [this.m, this.v];
    const [m, v] = tf.tidy(() => {
      const d = weightDecay !== 0 ? tf.add(grad, tf.mul(this.param, weightDecay)) : grad;
      const m = prevM ? tf.add(tf.mul(prevM, beta1), tf.mul(d, 1 - beta1)) : tf.mul(d, 1 - beta1);
      const v = prevV ? tf.add(tf.mul(prevV, beta2), tf.mul(tf.square(d), 1 - beta2)) : tf.mul(tf.square(d), 1 - beta2);
      const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
      this.param.assign(tf.sub(this.param, tf.mul(update, lr)));
      return [m, v];
    });
    prevM?.dispose();
    prevV?.dispose();
    this.m = tf.keep(m);
    this.v = tf.keep(v);
  }

  /** Frees the moment buffers. */
  dispose(): void {
    this.m?.dispose();
    this.v?.dispose();
    this.m = null;
    this.v = null;
  }
}
