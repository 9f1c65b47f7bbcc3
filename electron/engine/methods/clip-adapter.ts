/**
 * @file CLIP-Adapter (Gao et al. 2021): a residual bottleneck MLP on the frozen image features, trained on the cached
 * (augmented) features against the frozen zero-shot text classifier (engine worker, plain Node + tfjs-core).
 *
 * [Note: CLIP-Adapter] f' = alpha A(f) + (1 - alpha) f, with A(f) = ReLU(ReLU(f W1) W2), W1: D x D/4 and W2: D/4 x D
 * without biases (the reference code's `Adapter(c_in, reduction=4)`) and the residual ratio alpha = 0.2; logits =
 * scale * (f' / |f'|) . w_c with w_c the normalised hand-written prompt features, which stay frozen. A is positively
 * homogeneous (linear maps without bias, ReLUs), so the L2-normalised cached features give exactly the logits of the
 * raw ones. Training: cross-entropy, SGD with momentum 0.9 and weight decay 5e-4 under CoOp's (Dassl's) schedule (one
 * warm-up epoch at 1e-5, then cosine), batch 32, PyTorch's default Linear init (uniform +-1/sqrt(fan in)), all seeded.
 * Model selection on the validation split only: every learning rate of {@link ADAPTER_LRS} trains once for the
 * epochs CoOp's recipe gives the shot count and keeps the weights of its best validation epoch (epoch 0 is the
 * initial adapter); "best" is the higher validation accuracy, then the lower validation loss (a few validation images
 * per class often tie on accuracy), then the earlier epoch and the smaller learning rate. The matrix products run on
 * the active tfjs backend (measured on a 512-d, 10-class, 16-shot task: the plain-TypeScript version of the same
 * loop took about 100 s of CPU per split, which is why this method needs tfjs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type FewShotFeatures, type LabelledFeatures, type MethodOutcome, classesOf, score } from './evaluate';
import type { Matrix } from './matrix';
import { crossEntropy, l2normRows } from '../train/metrics';
import { COOP_SCHEDULE, learningRate } from '../train/schedule';
import { Sgd, COOP_SGD } from '../train/sgd';
import { Rng } from '../train/splits';
import { throwIfCancelled } from '../train/trainer';

/** The reference residual ratio: how much of the adapted feature is mixed into the original one. */
export const ADAPTER_RATIO = 0.2;
/** The reference bottleneck: the hidden layer is D / 4 wide. */
export const ADAPTER_REDUCTION = 4;
/** Learning rates searched on the validation split. */
export const ADAPTER_LRS: readonly number[] = [1e-2, 1e-1];
const BATCH = 32;

/** Fixed inputs of the adapter's logits: the frozen classifier [C, D], the logit scale and the residual ratio. */
export interface AdapterHead {
  classifier: tf.Tensor2D;
  scale: number;
  ratio: number;
}

/** The adapter's weights as plain arrays: W1 [D, H] and W2 [H, D], row-major. */
export interface AdapterWeights {
  dim: number;
  hidden: number;
  w1: Float32Array;
  w2: Float32Array;
}

/** Fresh weights with PyTorch's default Linear init (uniform within +-1/sqrt(fan in)), drawn from `rng`. */
export function initAdapter(dim: number, rng: Rng, reduction = ADAPTER_REDUCTION): AdapterWeights {
  const hidden = Math.max(1, Math.floor(dim / reduction));
  const fill = (n: number, fanIn: number) => {
    const b = 1 / Math.sqrt(fanIn);
    return Float32Array.from({ length: n }, () => rng.uniform(-b, b));
  };
  return { dim, hidden, w1: fill(dim * hidden, dim), w2: fill(hidden * dim, hidden) };
}

/**
 * `a . b` whose gradient multiplies by explicitly transposed operands.
 *
 * [Note: adapter matmul] tfjs's own gradient of `matMul` asks for products with a transposed operand; on the wasm
 * backend those run about 4x slower than a transpose followed by a plain product (measured for 32x512 by 512x128:
 * 3.8 ms against 0.85 ms), and they are most of a CLIP-Adapter step. The values are the same.
 */
const matMulFast = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** The adapter's weights as tfjs variables; `dispose()` frees them. */
export class Adapter {
  readonly w1: tf.Variable<tf.Rank.R2>;
  readonly w2: tf.Variable<tf.Rank.R2>;

  constructor(w: AdapterWeights) {
    const variable = (data: Float32Array, shape: [number, number]) => {
      const t = tf.tensor2d(data, shape);
      const v = tf.variable(t);
      t.dispose();
      return v;
    };
    this.w1 = variable(w.w1, [w.dim, w.hidden]);
    this.w2 = variable(w.w2, [w.hidden, w.dim]);
  }

  /** Logits of features `x` [N, D] (see [Note: CLIP-Adapter]). */
  logits(x: tf.Tensor2D, head: AdapterHead): tf.Tensor2D {
    return tf.tidy(() => {
      const a = tf.relu(matMulFast(tf.relu(matMulFast(x, this.w1)), this.w2));
      const z = tf.add(tf.mul(a, head.ratio), tf.mul(x, 1 - head.ratio)) as tf.Tensor2D;
      return tf.mul(tf.matMul(l2normRows(z), head.classifier, false, true), head.scale);
    });
  }

  /** A copy of the weights (for the best epoch). */
  snapshot(): AdapterWeights {
    const [dim, hidden] = this.w1.shape;
    return { dim, hidden, w1: Float32Array.from(this.w1.dataSync()), w2: Float32Array.from(this.w2.dataSync()) };
  }

  dispose(): void {
    this.w1.dispose();
    this.w2.dispose();
  }
}

/** Accuracy and mean loss of the adapter on a split (a split without images scores 0 and loss Infinity). */
function evaluate(adapter: Adapter, head: AdapterHead, x: tf.Tensor2D, y: tf.Tensor1D, labels: readonly number[]) {
  if (labels.length === 0) return { accuracy: 0, loss: Infinity };
  const [pred, loss] = tf.tidy(() => {
    const logits = adapter.logits(x, head);
    return [tf.argMax(logits, 1).dataSync(), crossEntropy(logits, y, head.classifier.shape[0]).dataSync()[0] ?? NaN];
  });
  let hits = 0;
  labels.forEach((l, i) => (hits += pred[i] === l ? 1 : 0));
  return { accuracy: hits / labels.length, loss };
}

/** Options of {@link trainAdapter}. */
export interface AdapterTrainOptions {
  lr: number;
  epochs: number;
  seed: number;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, epochs: number) => void;
}

/** What one training run gives: the weights of its best validation epoch, how good they were, and its curve. */
export interface AdapterRun {
  best: AdapterWeights;
  bestEpoch: number;
  bestVal: { accuracy: number; loss: number };
  curve: NonNullable<MethodOutcome['curve']>;
}

/** Whether validation scores `a` beat `b`: higher accuracy, then lower loss (see [Note: CLIP-Adapter]). */
export function betterOnVal(a: { accuracy: number; loss: number }, b: { accuracy: number; loss: number }): boolean {
  return a.accuracy > b.accuracy || (a.accuracy === b.accuracy && a.loss < b.loss);
}

/** The rows `rows` of a split as tensors (built from the arrays: cheaper than a gather on wasm). */
function batchOf(s: LabelledFeatures, rows: readonly number[]): [tf.Tensor2D, tf.Tensor1D] {
  const d = s.features.cols;
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, q) => x.set(s.features.data.subarray(r * d, (r + 1) * d), q * d));
  return [
    tf.tensor2d(x, [rows.length, d]),
    tf.tensor1d(
      rows.map((r) => s.labels[r]!),
      'int32',
    ),
  ];
}

const tensorsOf = (s: LabelledFeatures) =>
  [tf.tensor2d(s.features.data, [s.features.rows, s.features.cols]), tf.tensor1d(s.labels, 'int32')] as const;

/** Trains one adapter on the (augmented) training features; keeps the best validation epoch. Frees every tensor. */
export function trainAdapter(data: FewShotFeatures, head: AdapterHead, o: AdapterTrainOptions): AdapterRun {
  const trainSet = data.trainAugmented ?? data.train;
  const rng = new Rng(o.seed).fork('clip-adapter');
  const adapter = new Adapter(initAdapter(trainSet.features.cols, rng.fork('init')));
  const order = rng.fork('batches');
  const sgds = [new Sgd(adapter.w1, COOP_SGD), new Sgd(adapter.w2, COOP_SGD)];
  const [xVal, yVal] = tensorsOf(data.val);
  const schedule = { ...COOP_SCHEDULE, baseLr: o.lr, epochs: o.epochs };
  try {
    const val0 = evaluate(adapter, head, xVal, yVal, data.val.labels);
    const run: AdapterRun = { best: adapter.snapshot(), bestEpoch: 0, bestVal: val0, curve: [] };
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const lr = learningRate(epoch, schedule);
      const idx = order.shuffle(trainSet.labels.map((_, i) => i));
      let lossSum = 0;
      let hits = 0;
      for (let start = 0; start < idx.length; start += BATCH) {
        throwIfCancelled(o.signal);
        const rows = idx.slice(start, start + BATCH);
        const { value, grads } = tf.tidy(() => {
          const [x, y] = batchOf(trainSet, rows);
          return tf.variableGrads(() => {
            const logits = adapter.logits(x, head);
            // Training accuracy from the same forward pass, as the CoOp trainer does; argMax has no gradient.
            const pred = tf.argMax(logits, 1).dataSync();
            rows.forEach((r, q) => (hits += pred[q] === trainSet.labels[r] ? 1 : 0));
            return crossEntropy(logits, y, head.classifier.shape[0]);
          }, [adapter.w1, adapter.w2]);
        });
        lossSum += (value.dataSync()[0] ?? NaN) * rows.length;
        sgds[0]!.step(grads[adapter.w1.name]!, lr);
        sgds[1]!.step(grads[adapter.w2.name]!, lr);
        tf.dispose([value, ...Object.values(grads)]);
      }
      const val = evaluate(adapter, head, xVal, yVal, data.val.labels);
      const n = Math.max(1, idx.length);
      run.curve.push({ epoch: epoch + 1, loss: lossSum / n, trainAccuracy: hits / n, valAccuracy: val.accuracy });
      if (betterOnVal(val, run.bestVal))
        Object.assign(run, { best: adapter.snapshot(), bestEpoch: epoch + 1, bestVal: val });
      o.onEpoch?.(epoch + 1, o.epochs);
    }
    return run;
  } finally {
    sgds.forEach((s) => s.dispose());
    tf.dispose([xVal, yVal]);
    adapter.dispose();
  }
}

/** Options of {@link clipAdapter}. */
export interface ClipAdapterOptions {
  /** Epochs of each training run (CoOp's count for the shot number in `compare`). */
  epochs: number;
  seed: number;
  lrs?: readonly number[];
  signal?: AbortSignal;
  onEpoch?: (epoch: number, epochs: number) => void;
}

/** Logits of given adapter weights on a split, as a plain matrix. */
export function adapterLogits(w: AdapterWeights, head: AdapterHead, split: LabelledFeatures): Matrix {
  const adapter = new Adapter(w);
  try {
    const out = tf.tidy(() =>
      adapter.logits(tf.tensor2d(split.features.data, [split.features.rows, split.features.cols]), head),
    );
    try {
      return { rows: out.shape[0], cols: out.shape[1], data: Float32Array.from(out.dataSync()) };
    } finally {
      out.dispose();
    }
  } finally {
    adapter.dispose();
  }
}

/** CLIP-Adapter with the learning rate and epoch chosen on the validation split (see [Note: CLIP-Adapter]). */
export function clipAdapter(data: FewShotFeatures, o: ClipAdapterOptions): MethodOutcome {
  const w = data.zeroShotWeights;
  const head: AdapterHead = {
    classifier: tf.tensor2d(w.data, [w.rows, w.cols]),
    scale: data.logitScale,
    ratio: ADAPTER_RATIO,
  };
  try {
    const lrs = o.lrs ?? ADAPTER_LRS;
    let chosen: (AdapterRun & { lr: number }) | null = null;
    for (const [i, lr] of lrs.entries()) {
      const run = trainAdapter(data, head, {
        lr,
        epochs: o.epochs,
        seed: o.seed,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onEpoch ? { onEpoch: (e: number, n: number) => o.onEpoch?.(i * n + e, lrs.length * n) } : {}),
      });
      if (!chosen || betterOnVal(run.bestVal, chosen.bestVal)) chosen = { ...run, lr };
    }
    if (!chosen) throw new Error('CLIP-Adapter needs at least one learning rate.');
    const best = chosen;
    const report = (split: LabelledFeatures) =>
      score(adapterLogits(best.best, head, split), split.labels, classesOf(data));
    return {
      method: 'clip-adapter',
      val: report(data.val),
      test: report(data.test),
      chosen: { lr: best.lr, epochs: best.bestEpoch, ratio: ADAPTER_RATIO, reduction: ADAPTER_REDUCTION },
      curve: best.curve,
    };
  } finally {
    head.classifier.dispose();
  }
}
