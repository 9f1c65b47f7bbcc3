/**
 * @file The CoOp training loop over cached image features (engine; tfjs-core only, any backend).
 *
 * [Note: trainer inputs] The loop sees only numbers: L2-normalised image features of the training views, the
 * validation and test images, the raw text features of the hand-written prompt, and a learner that turns its context
 * into class text features and gradients (D1's `PromptLearner`, or a fake in tests). Reading folders, ONNX Runtime
 * and files live in `trainer-run.ts`, so this file runs unchanged in a browser context.
 *
 * [Note: KgCoOp] KgCoOp (Yao et al., CVPR 2023) is CoOp plus a knowledge-guided term that keeps each learned class
 * text feature close to the hand-written prompt's: loss = CE + lambda * (1 - mean_c cos(w_c, w_c^clip)), exactly the
 * official code's term and weight (lambda = 8, see [Note: KgCoOp weight] in shared/contract/train.ts; the paper
 * writes ||w - w_clip||², which is 2 (1 - cos) for unit vectors). The hand-written features are the run's zero-shot
 * text features, so KgCoOp costs no extra encoder pass per step.
 *
 * [Note: deferred evaluation] Every epoch ends with the validation and test accuracy of the context as it stands.
 * Its class features are exactly what the next step's forward pass computes before that step's update, so the loop
 * copies them there and evaluates then (the epoch's point and event come right after that step), instead of running
 * the text encoder once more per epoch; only the last epoch needs a forward pass of its own. With the `fast`
 * schedule an epoch is one step, so this saves about a third of the run (a forward pass next to forward + backward).
 */
import * as tf from '@tensorflow/tfjs-core';
// The loss (logSoftmax, matMul, norm) is differentiated through; tfjs-core registers no gradients by itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { AppError } from '../../../shared/result';
import type { ClassificationReport, EpochPoint, TrainProgress } from '../../../shared/contract/train';
import { classificationReport, clipLogits, CLIP_LOGIT_SCALE, crossEntropy, l2normRows, predict } from './metrics';
import { EtaClock } from './eta-clock';
import { COOP_SCHEDULE, learningRate, type ScheduleOptions } from './schedule';
import { Adam, ADAM_DEFAULTS, type AdamOptions } from './adam';
import { COOP_SGD, Sgd, type SgdOptions } from './sgd';
import { Rng } from './splits';

export type { EpochPoint, TrainProgress };

/** What the trainer needs from a prompt learner (a subset of D1's `PromptLearner`). */
export interface TrainableLearner {
  readonly ctx: tf.Variable;
  /** Raw class text features [C, P], no gradient (a promise when other threads compute them). */
  features(): tf.Tensor2D | Promise<tf.Tensor2D>;
  /** d loss / d ctx for a loss of the [C, P] features; the caller disposes `grad`. */
  step(lossOfFeatures: (features: tf.Tensor2D) => tf.Scalar): Promise<{ loss: number; grad: tf.Tensor }>;
}

/** Normalised features of a labelled image set: `features` is row-major [labels.length, dim]. */
export interface FeatureSet {
  features: Float32Array;
  labels: number[];
}

/** One training image: its label and the normalised features of its cached views (at least one). */
export interface TrainImage {
  label: number;
  views: Float32Array[];
}

/** The numbers a run trains and evaluates on; see [Note: trainer inputs]. */
export interface TrainData {
  classNames: string[];
  dim: number;
  train: TrainImage[];
  val: FeatureSet;
  test: FeatureSet;
  /** Raw text features of the hand-written prompt per class (the zero-shot baseline). */
  zeroShotText: Float32Array[];
}

/** Options of {@link trainCoop}. */
export interface TrainOptions {
  epochs: number;
  seed: number;
  batchSize?: number;
  schedule?: Omit<ScheduleOptions, 'epochs'>;
  sgd?: SgdOptions;
  /** The optimiser: SGD with momentum (CoOp's, the default) or Adam. */
  optimizer?: 'sgd' | 'adam';
  adam?: AdamOptions;
  logitScale?: number;
  /** KgCoOp's weight lambda of the distance to the hand-written prompt (see [Note: KgCoOp]); 0 or absent: CoOp. */
  kgLambda?: number;
  backend: string;
  signal?: AbortSignal;
  onProgress?: (event: TrainProgress) => void;
}

/** What a training run produced (the learned context stays in `learner.ctx`). */
export interface TrainResult {
  curve: EpochPoint[];
  zeroShot: { test: ClassificationReport; val: ClassificationReport | null };
  test: ClassificationReport;
  val: ClassificationReport | null;
  steps: number;
  trainSeconds: number;
  msPerStep: number;
}

/** Throws the app's `cancelled` error when `signal` is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError('cancelled', 'The job was cancelled.');
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function toTensor(set: FeatureSet, dim: number): tf.Tensor2D | null {
  return set.labels.length > 0 ? tf.tensor2d(set.features, [set.labels.length, dim]) : null;
}

function evaluateSet(
  images: tf.Tensor2D | null,
  set: FeatureSet,
  text: tf.Tensor2D,
  names: string[],
  scale: number,
): ClassificationReport | null {
  if (!images) return null;
  const logits = clipLogits(images, text, scale);
  try {
    return classificationReport(predict(logits), set.labels, names);
  } finally {
    logits.dispose();
  }
}

/** Loss and accuracy of `text` over every cached view of the training images (for the curve's epoch 0). */
function trainMetrics(data: TrainData, text: tf.Tensor2D, scale: number): { loss: number; accuracy: number } {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (const img of data.train)
    for (const v of img.views) {
      rows.push(v);
      labels.push(img.label);
    }
  if (rows.length === 0) return { loss: 0, accuracy: 0 };
  const flat = new Float32Array(rows.length * data.dim);
  rows.forEach((r, i) => flat.set(r, i * data.dim));
  return tf.tidy(() => {
    const logits = clipLogits(tf.tensor2d(flat, [rows.length, data.dim]), text, scale);
    const loss = crossEntropy(logits, tf.tensor1d(labels, 'int32'), data.classNames.length).dataSync()[0] ?? 0;
    const preds = predict(logits);
    return { loss, accuracy: preds.filter((p, i) => p === labels[i]).length / labels.length };
  });
}

/** KgCoOp's term: 1 - mean over classes of cos(raw_c, hand_c) (`hand` already normalised); see [Note: KgCoOp]. */
export function knowledgeDistance(raw: tf.Tensor2D, hand: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sub(1, tf.mean(tf.sum(tf.mul(l2normRows(raw), hand), 1))) as tf.Scalar);
}

/**
 * Trains `learner.ctx` with CoOp's recipe (SGD + warm-up cosine, batches of cached views) and evaluates before,
 * during and after. Deterministic for a given seed and backend; frees every tensor it made (the learner's own are
 * the caller's).
 */
export async function trainCoop(data: TrainData, learner: TrainableLearner, opts: TrainOptions): Promise<TrainResult> {
  const scale = opts.logitScale ?? CLIP_LOGIT_SCALE;
  const batchSize = opts.batchSize ?? 32;
  const schedule: ScheduleOptions = { ...(opts.schedule ?? COOP_SCHEDULE), epochs: opts.epochs };
  const c = data.classNames.length;
  if (data.train.length === 0) throw new AppError('invalid_data', 'There are no training images.');
  if (data.train.some((t) => t.views.length === 0)) throw new AppError('internal', 'A training image has no views.');
  const rng = new Rng(opts.seed).fork('batches');
  // [Note: batches] Dassl drops the last incomplete batch when the set holds at least one full batch.
  const n = data.train.length;
  const stepsPerEpoch = n >= batchSize ? Math.floor(n / batchSize) : 1;
  const totalSteps = stepsPerEpoch * opts.epochs;
  const sgd =
    opts.optimizer === 'adam'
      ? new Adam(learner.ctx, opts.adam ?? ADAM_DEFAULTS)
      : new Sgd(learner.ctx, opts.sgd ?? COOP_SGD);
  const valImages = toTensor(data.val, data.dim);
  const testImages = toTensor(data.test, data.dim);
  const zsText = tf.tensor2d(
    data.zeroShotText.flatMap((f) => Array.from(f)),
    [c, data.dim],
  );
  const kgLambda = opts.kgLambda ?? 0;
  const zsNormed = kgLambda > 0 ? l2normRows(zsText) : null;
  const curve: EpochPoint[] = [];
  try {
    const t0 = performance.now();
    const zsTrain = trainMetrics(data, zsText, scale);
    const zsVal = evaluateSet(valImages, data.val, zsText, data.classNames, scale);
    const zsTest = evaluateSet(testImages, data.test, zsText, data.classNames, scale);
    const zeroPoint: EpochPoint = {
      epoch: 0,
      lr: null,
      trainLoss: zsTrain.loss,
      trainAccuracy: zsTrain.accuracy,
      valAccuracy: zsVal?.accuracy ?? null,
      testAccuracy: zsTest?.accuracy ?? null,
      seconds: (performance.now() - t0) / 1000,
    };
    curve.push(zeroPoint);
    opts.onProgress?.({ kind: 'epoch', point: zeroPoint, epochs: opts.epochs, etaS: 0, backend: opts.backend });

    const trainStart = performance.now();
    const clock = new EtaClock(totalSteps, opts.epochs);
    let stepsDone = 0;
    let lastVal: ClassificationReport | null = null;
    let lastTest: ClassificationReport | null = null;
    // The finished epoch waiting for the features of the next step's forward pass (see [Note: deferred evaluation]).
    let pending: Omit<EpochPoint, 'valAccuracy' | 'testAccuracy'> | null = null;
    const evaluateEpoch = (text: tf.Tensor2D, done: Omit<EpochPoint, 'valAccuracy' | 'testAccuracy'>) => {
      const t = performance.now();
      lastVal = evaluateSet(valImages, data.val, text, data.classNames, scale);
      lastTest = evaluateSet(testImages, data.test, text, data.classNames, scale);
      const point: EpochPoint = {
        ...done,
        valAccuracy: lastVal?.accuracy ?? null,
        testAccuracy: lastTest?.accuracy ?? null,
      };
      curve.push(point);
      clock.evalDone(performance.now() - t);
      opts.onProgress?.({ kind: 'epoch', point, epochs: opts.epochs, etaS: clock.etaS(), backend: opts.backend });
    };
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const epochStart = performance.now();
      const lr = learningRate(epoch, schedule);
      const order = rng.shuffle(data.train.map((_, i) => i));
      const viewOf = order.map((i) => rng.int(0, (data.train[i]?.views.length ?? 1) - 1));
      let lossSum = 0;
      let seen = 0;
      let correct = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        throwIfCancelled(opts.signal);
        const idx = order.slice(s * batchSize, (s + 1) * batchSize);
        const flat = new Float32Array(idx.length * data.dim);
        const labels: number[] = [];
        idx.forEach((i, r) => {
          const img = data.train[i] as TrainImage;
          flat.set(img.views[viewOf[s * batchSize + r] ?? 0] as Float32Array, r * data.dim);
          labels.push(img.label);
        });
        const images = tf.tensor2d(flat, [idx.length, data.dim]);
        const labelT = tf.tensor1d(labels, 'int32');
        let preds: Int32Array | Float32Array | Uint8Array | null = null;
        let before: { data: Float32Array; width: number } | null = null;
        try {
          const { loss, grad } = await learner.step((features) => {
            // The context has not moved since the last epoch ended: these are its features.
            if (pending) before = { data: Float32Array.from(features.dataSync()), width: features.shape[1] };
            const logits = clipLogits(images, features, scale);
            // Training accuracy from the same forward pass, as Dassl does; argMax has no gradient.
            const am = tf.argMax(logits, 1);
            preds = am.dataSync();
            am.dispose();
            const ce = crossEntropy(logits, labelT, c);
            return zsNormed ? tf.add(ce, tf.mul(knowledgeDistance(features, zsNormed), kgLambda)) : ce;
          });
          try {
            sgd.step(grad, lr);
          } finally {
            grad.dispose();
          }
          lossSum += loss * idx.length;
          seen += idx.length;
          const p = preds as Int32Array | Float32Array | Uint8Array | null;
          if (p) labels.forEach((y, r) => (correct += p[r] === y ? 1 : 0));
          stepsDone++;
          clock.stepDone();
          const prev = before as { data: Float32Array; width: number } | null;
          if (pending && prev) {
            const text = tf.tensor2d(prev.data, [c, prev.width]);
            try {
              evaluateEpoch(text, pending);
            } finally {
              text.dispose();
            }
            pending = null;
          }
          opts.onProgress?.({
            kind: 'step',
            epoch: epoch + 1,
            epochs: opts.epochs,
            step: s + 1,
            stepsPerEpoch,
            loss,
            lr,
            etaS: clock.etaS(),
            backend: opts.backend,
          });
        } finally {
          images.dispose();
          labelT.dispose();
        }
        await yieldToEventLoop();
      }
      if (pending) {
        // A learner that never calls the loss with features (none does; kept for fakes) gets a forward pass.
        const text = await learner.features();
        try {
          evaluateEpoch(text, pending);
        } finally {
          text.dispose();
        }
      }
      pending = {
        epoch: epoch + 1,
        lr,
        trainLoss: seen > 0 ? lossSum / seen : 0,
        trainAccuracy: seen > 0 ? correct / seen : 0,
        seconds: (performance.now() - epochStart) / 1000,
      };
    }
    // The last epoch (or, with epochs = 0, the initial context as the "learned" prompt) needs a forward pass.
    const text = await learner.features();
    try {
      if (pending) evaluateEpoch(text, pending);
      else {
        lastVal = evaluateSet(valImages, data.val, text, data.classNames, scale);
        lastTest = evaluateSet(testImages, data.test, text, data.classNames, scale);
      }
    } finally {
      text.dispose();
    }
    const trainSeconds = (performance.now() - trainStart) / 1000;
    const empty = classificationReport([], [], data.classNames);
    return {
      curve,
      zeroShot: { test: zsTest ?? empty, val: zsVal },
      test: lastTest ?? empty,
      val: lastVal,
      steps: stepsDone,
      trainSeconds,
      msPerStep: stepsDone > 0 ? (trainSeconds * 1000) / stepsDone : 0,
    };
  } finally {
    sgd.dispose();
    zsNormed?.dispose();
    valImages?.dispose();
    testImages?.dispose();
    zsText.dispose();
  }
}
