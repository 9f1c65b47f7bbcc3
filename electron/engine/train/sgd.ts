/**
 * @file SGD with momentum and weight decay, PyTorch semantics, over tfjs-core (engine; any tfjs backend).
 *
 * [Note: SGD semantics] `torch.optim.SGD(lr, momentum=0.9, weight_decay=5e-4, dampening=0, nesterov=False)`:
 * d = g + wd * p; on the first step buf = d, afterwards buf = momentum * buf + d; p = p - lr * buf. Weight decay is
 * added to the gradient before the momentum (not decoupled as in AdamW), and the first step does not shrink d.
 * tfjs' own `MomentumOptimizer` has no weight decay and starts buf at zero, so it is not used.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link Sgd}. */
export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

/** CoOp's optimiser settings (momentum 0.9, weight decay 5e-4). */
export const COOP_SGD: SgdOptions = { momentum: 0.9, weightDecay: 5e-4 };

/** Stateful SGD for one variable; `dispose()` frees the momentum buffer. */
export class Sgd {
  private buf: tf.Tensor | null = null;

  constructor(
    private readonly param: tf.Variable,
    private readonly opts: SgdOptions = COOP_SGD,
  ) {}

  /** Applies one update with gradient `grad` (not disposed here) at learning rate `lr`. */
  step(grad: tf.Tensor, lr: number): void {
    const { momentum, weightDecay } = this.opts;
    const prev = this.buf;
    const next = tf.tidy(() => {
      const d = weightDecay !== 0 ? tf.add(grad, tf.mul(this.param, weightDecay)) : grad.clone();
      const buf = prev && momentum !== 0 ? tf.add(tf.mul(prev, momentum), d) : d;
      this.param.assign(tf.sub(this.param, tf.mul(buf, lr)));
      return buf;
    });
    prev?.dispose();
    this.buf = tf.keep(next);
  }

  /** Frees the momentum buffer. */
  dispose(): void {
    this.buf?.dispose();
    this.buf = null;
  }
}
