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

/** Lets the event loop run (progress messages, a cancel) between steps of a long computation. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

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

/** A finished epoch waiting for its evaluation (see [Note: deferred evaluation]). */
type EpochDone = Omit<EpochPoint, 'valAccuracy' | 'testAccuracy'>;

/** The latest evaluation of the context on the validation and test images. */
interface Evaluation {
  val: ClassificationReport | null;
  test: ClassificationReport | null;
}

/** One step's images: indices into `data.train` and the view each one shows. */
interface Batch {
  indices: number[];
  views: number[];
}

/** What one training run holds from start to end: made by {@link openRun}, freed by {@link closeRun}. */
interface Run {
  data: TrainData;
  learner: TrainableLearner;
  opts: TrainOptions;
  scale: number;
  classes: number;
  batchSize: number;
  stepsPerEpoch: number;
  schedule: ScheduleOptions;
  optimizer: Sgd | Adam;
  rng: Rng;
  valImages: tf.Tensor2D | null;
  testImages: tf.Tensor2D | null;
  zsText: tf.Tensor2D;
  /** The hand-written prompt's normalised features when KgCoOp's term is on, else null. */
  zsNormed: tf.Tensor2D | null;
  curve: EpochPoint[];
  clock: EtaClock;
}

function openRun(data: TrainData, learner: TrainableLearner, opts: TrainOptions): Run {
  if (data.train.length === 0) throw new AppError('invalid_data', 'There are no training images.');
  if (data.train.some((t) => t.views.length === 0)) throw new AppError('internal', 'A training image has no views.');
  const batchSize = opts.batchSize ?? 32;
  // [Note: batches] Dassl drops the last incomplete batch when the set holds at least one full batch.
  const n = data.train.length;
  const stepsPerEpoch = n >= batchSize ? Math.floor(n / batchSize) : 1;
  const classes = data.classNames.length;
  const zsText = tf.tensor2d(
    data.zeroShotText.flatMap((f) => Array.from(f)),
    [classes, data.dim],
  );
  return {
    data,
    learner,
    opts,
    scale: opts.logitScale ?? CLIP_LOGIT_SCALE,
    classes,
    batchSize,
    stepsPerEpoch,
    schedule: { ...(opts.schedule ?? COOP_SCHEDULE), epochs: opts.epochs },
    optimizer:
      opts.optimizer === 'adam'
        ? new Adam(learner.ctx, opts.adam ?? ADAM_DEFAULTS)
        : new Sgd(learner.ctx, opts.sgd ?? COOP_SGD),
    rng: new Rng(opts.seed).fork('batches'),
    valImages: toTensor(data.val, data.dim),
    testImages: toTensor(data.test, data.dim),
    zsText,
    zsNormed: (opts.kgLambda ?? 0) > 0 ? l2normRows(zsText) : null,
    curve: [],
    clock: new EtaClock(stepsPerEpoch * opts.epochs, opts.epochs),
  };
}

function closeRun(run: Run): void {
  run.optimizer.dispose();
  run.zsNormed?.dispose();
  run.valImages?.dispose();
  run.testImages?.dispose();
  run.zsText.dispose();
}

/** Evaluates `text` on the validation and test images. */
function evaluate(run: Run, text: tf.Tensor2D): Evaluation {
  const { data, scale } = run;
  return {
    val: evaluateSet(run.valImages, data.val, text, data.classNames, scale),
    test: evaluateSet(run.testImages, data.test, text, data.classNames, scale),
  };
}

/** The curve's epoch 0: the hand-written prompt on the training, validation and test images. */
function zeroShotPoint(run: Run): Evaluation {
  const t0 = performance.now();
  const train = trainMetrics(run.data, run.zsText, run.scale);
  const zs = evaluate(run, run.zsText);
  const point: EpochPoint = {
    epoch: 0,
    lr: null,
    trainLoss: train.loss,
    trainAccuracy: train.accuracy,
    valAccuracy: zs.val?.accuracy ?? null,
    testAccuracy: zs.test?.accuracy ?? null,
    seconds: (performance.now() - t0) / 1000,
  };
  run.curve.push(point);
  run.opts.onProgress?.({ kind: 'epoch', point, epochs: run.opts.epochs, etaS: 0, backend: run.opts.backend });
  return zs;
}

/** Evaluates the context whose class features are `text` at the end of epoch `done`, adds the point and reports it. */
function epochPoint(run: Run, text: tf.Tensor2D, done: EpochDone): Evaluation {
  const t = performance.now();
  const ev = evaluate(run, text);
  const point: EpochPoint = { ...done, valAccuracy: ev.val?.accuracy ?? null, testAccuracy: ev.test?.accuracy ?? null };
  run.curve.push(point);
  run.clock.evalDone(performance.now() - t);
  const { epochs, backend } = run.opts;
  run.opts.onProgress?.({ kind: 'epoch', point, epochs, etaS: run.clock.etaS(), backend });
  return ev;
}

/** An epoch's batches: the training images shuffled, one random view each, cut into `stepsPerEpoch` batches. */
function epochBatches(run: Run): Batch[] {
  const { data, rng, batchSize } = run;
  const order = rng.shuffle(data.train.map((_, i) => i));
  const viewOf = order.map((i) => rng.int(0, (data.train[i]?.views.length ?? 1) - 1));
  return Array.from({ length: run.stepsPerEpoch }, (_, s) => ({
    indices: order.slice(s * batchSize, (s + 1) * batchSize),
    views: viewOf.slice(s * batchSize, (s + 1) * batchSize),
  }));
}

/** What one step did; `before` holds the class features of the context before the step when asked for. */
interface StepOutcome {
  loss: number;
  correct: number;
  before: tf.Tensor2D | null;
}

/**
 * One optimisation step on `batch` at learning rate `lr`. With `keepFeatures` it also returns the class features its
 * forward pass computed: the context's before the update (see [Note: deferred evaluation]).
 */
async function trainStep(run: Run, batch: Batch, lr: number, keepFeatures: boolean): Promise<StepOutcome> {
  const { data, scale, classes } = run;
  const flat = new Float32Array(batch.indices.length * data.dim);
  const labels = batch.indices.map((i, r) => {
    const img = data.train[i] as TrainImage;
    flat.set(img.views[batch.views[r] ?? 0] as Float32Array, r * data.dim);
    return img.label;
  });
  const images = tf.tensor2d(flat, [labels.length, data.dim]);
  const labelT = tf.tensor1d(labels, 'int32');
  let preds: ArrayLike<number> = [];
  let before: { data: Float32Array; width: number } | null = null;
  try {
    const { loss, grad } = await run.learner.step((features) => {
      if (keepFeatures) before = { data: Float32Array.from(features.dataSync()), width: features.shape[1] };
      const logits = clipLogits(images, features, scale);
      // Training accuracy from the same forward pass, as Dassl does; argMax has no gradient.
      const am = tf.argMax(logits, 1);
      preds = am.dataSync();
      am.dispose();
      const ce = crossEntropy(logits, labelT, classes);
      const kg = run.zsNormed;
      return kg ? tf.add(ce, tf.mul(knowledgeDistance(features, kg), run.opts.kgLambda ?? 0)) : ce;
    });
    try {
      run.optimizer.step(grad, lr);
    } finally {
      grad.dispose();
    }
    const p = preds;
    const kept = before as { data: Float32Array; width: number } | null;
    return {
      loss,
      correct: labels.filter((y, r) => p[r] === y).length,
      before: kept ? tf.tensor2d(kept.data, [classes, kept.width]) : null,
    };
  } finally {
    images.dispose();
    labelT.dispose();
  }
}

/**
 * Trains epoch `epoch` (0-based). `pending` is the previous epoch, evaluated on the first step's forward pass; returns
 * this epoch, to be evaluated likewise by the next one or by the final pass.
 */
async function trainEpoch(run: Run, epoch: number, pending: EpochDone | null): Promise<EpochDone> {
  const epochStart = performance.now();
  const lr = learningRate(epoch, run.schedule);
  let waiting = pending;
  let lossSum = 0;
  let seen = 0;
  let correct = 0;
  for (const [s, batch] of epochBatches(run).entries()) {
    throwIfCancelled(run.opts.signal);
    const out = await trainStep(run, batch, lr, waiting !== null);
    lossSum += out.loss * batch.indices.length;
    seen += batch.indices.length;
    correct += out.correct;
    run.clock.stepDone();
    if (waiting && out.before) {
      try {
        epochPoint(run, out.before, waiting);
      } finally {
        out.before.dispose();
      }
      waiting = null;
    }
    run.opts.onProgress?.({
      kind: 'step',
      epoch: epoch + 1,
      epochs: run.opts.epochs,
      step: s + 1,
      stepsPerEpoch: run.stepsPerEpoch,
      loss: out.loss,
      lr,
      etaS: run.clock.etaS(),
      backend: run.opts.backend,
    });
    await yieldToEventLoop();
  }
  // A learner that never calls the loss with features (none does; kept for fakes) gets a forward pass.
  const unevaluated = waiting;
  if (unevaluated) await withFeatures(run, (text) => epochPoint(run, text, unevaluated));
  return {
    epoch: epoch + 1,
    lr,
    trainLoss: seen > 0 ? lossSum / seen : 0,
    trainAccuracy: seen > 0 ? correct / seen : 0,
    seconds: (performance.now() - epochStart) / 1000,
  };
}

/** Runs `fn` on the learner's current class features (a forward pass of their own) and frees them. */
async function withFeatures<T>(run: Run, fn: (text: tf.Tensor2D) => T): Promise<T> {
  const text = await run.learner.features();
  try {
    return fn(text);
  } finally {
    text.dispose();
  }
}

/**
 * Trains `learner.ctx` with CoOp's recipe (SGD + warm-up cosine, batches of cached views, or the options' optimiser
 * and batch) and evaluates before, during and after. Deterministic for a given seed and backend; frees every tensor it
 * made (the learner's own are the caller's).
 */
export async function trainCoop(data: TrainData, learner: TrainableLearner, opts: TrainOptions): Promise<TrainResult> {
  const run = openRun(data, learner, opts);
  try {
    const zeroShot = zeroShotPoint(run);
    const trainStart = performance.now();
    let pending: EpochDone | null = null;
    for (let epoch = 0; epoch < opts.epochs; epoch++) pending = await trainEpoch(run, epoch, pending);
    // The last epoch (or, with epochs = 0, the initial context as the "learned" prompt) needs a forward pass.
    const last = await withFeatures(run, (text) => (pending ? epochPoint(run, text, pending) : evaluate(run, text)));
    const trainSeconds = (performance.now() - trainStart) / 1000;
    const steps = run.stepsPerEpoch * opts.epochs;
    const empty = classificationReport([], [], data.classNames);
    return {
      curve: run.curve,
      zeroShot: { test: zeroShot.test ?? empty, val: zeroShot.val },
      test: last.test ?? empty,
      val: last.val,
      steps,
      trainSeconds,
      msPerStep: steps > 0 ? (trainSeconds * 1000) / steps : 0,
    };
  } finally {
    closeRun(run);
  }
}
