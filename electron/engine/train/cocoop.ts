/**
 * @file CoCoOp (Zhou et al., CVPR 2022): a meta-network turns each image feature into a bias added to every context
 * vector, so each image gets its own prompt (engine worker or browser; tfjs-core only).
 *
 * [Note: CoCoOp] As in KaiyangZhou/CoOp's `cocoop.py`: context M = 4 (or the tokens of an init text such as
 * "a photo of a"), meta-net Linear(D, D/16) - ReLU - Linear(D/16, W) on the normalised image feature (D the image
 * feature size, W the text width), PyTorch's default Linear init, SGD (lr 0.002, momentum 0.9, weight decay 5e-4) with
 * CoOp's warm-up cosine schedule, batch 1, 10 epochs, the last epoch kept. Each image needs the text encoder run on
 * all C prompts with its own context, in training and in evaluation: a step costs about what a CoOp step of a
 * whole batch costs, so an epoch costs about `batch size` times more (27x on ImageNet in the paper's count). The
 * prompt is [SOS][V1 + pi]..[VM + pi] name . [EOS] with the class at the end, so the optimised shared-prefix forward
 * pass applies per image (see [Note: shared-prefix attention]).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import type { ClassificationReport, EpochPoint, TrainProgress } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { classificationReport, CLIP_LOGIT_SCALE, crossEntropy, l2normRows } from './metrics';
import type { PromptTokenizer } from './prompt-learner';
import { COOP_SCHEDULE, learningRate } from './schedule';
import { COOP_SGD, Sgd } from './sgd';
import { Rng } from './splits';
import type { TfTextEncoder } from './text-encoder-core';
import { fastForward } from './text-encoder-fast';
import { throwIfCancelled, yieldToEventLoop, type FeatureSet, type TrainData } from './trainer';

/** Options of the CoCoOp learner. */
export interface CocoopLearnerOptions {
  /** Context vectors when `ctxInit` is not given (CoCoOp: 4). */
  nCtx: number;
  /** Initialise the context from these words (CoCoOp: "a photo of a"). */
  ctxInit?: string;
  /** Image feature size D (the meta-net's input). */
  imageDim: number;
  seed: number;
}

/** The context, the meta-net and the frozen class-name embeddings. */
export class CocoopLearner {
  readonly ctx: tf.Variable;
  readonly params: tf.Variable[];
  readonly nCtx: number;
  private readonly sos: tf.Tensor2D;
  private suffix: tf.Tensor3D;
  private eot: number[];

  constructor(
    private readonly encoder: TfTextEncoder,
    tokenizer: PromptTokenizer,
    classPrompts: string[],
    opts: CocoopLearnerOptions,
  ) {
    const content = (text: string) =>
      tokenizer.encode(text).filter((id) => id !== tokenizer.sotId && id !== tokenizer.eotId);
    const initIds = opts.ctxInit?.trim() ? content(opts.ctxInit.trim()) : null;
    this.nCtx = initIds ? initIds.length : opts.nCtx;
    const W = encoder.width;
    const D = opts.imageDim;
    const hidden = Math.max(1, Math.floor(D / 16));
    const rng = new Rng(opts.seed).fork('cocoop');
    // PyTorch's nn.Linear default: weights and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
    const uniform = (shape: number[], fanIn: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      return tf.tensor(
        Float32Array.from({ length: n }, () => rng.uniform(-bound, bound)),
        shape,
      );
    };
    ({ suffix: this.suffix, eot: this.eot } = this.classTokens(tokenizer, classPrompts));
    const init = tf.tidy(() => {
      const ctx0 = initIds
        ? tf.gather(encoder.tokenEmbedding, tf.tensor1d(initIds, 'int32'))
        : tf.mul(
            tf.tensor(
              Float32Array.from({ length: this.nCtx * W }, () => rng.normal()),
              [this.nCtx, W],
            ),
            0.02,
          );
      return ctx0;
    });
    this.ctx = tf.variable(init, true);
    init.dispose();
    const mk = (shape: number[], fanIn: number) => {
      const t = uniform(shape, fanIn);
      const v = tf.variable(t, true);
      t.dispose();
      return v;
    };
    this.params = [this.ctx, mk([D, hidden], D), mk([hidden], D), mk([hidden, W], hidden), mk([W], hidden)];
    this.sos = tf.tidy(() => tf.gather(encoder.tokenEmbedding, tf.tensor1d([tokenizer.sotId], 'int32')) as tf.Tensor2D);
  }

  /** The frozen embeddings after the context (name, ".", EOS; padded to one length) and each prompt's EOS position. */
  private classTokens(tokenizer: PromptTokenizer, classPrompts: string[]): { suffix: tf.Tensor3D; eot: number[] } {
    const content = (text: string) =>
      tokenizer.encode(text).filter((id) => id !== tokenizer.sotId && id !== tokenizer.eotId);
    const room = this.encoder.contextLength - 2 - this.nCtx;
    const dot = content('.');
    const names = classPrompts.map((p) => content(p.trim()).slice(0, Math.max(0, room - dot.length)));
    const S = Math.max(...names.map((n) => n.length + dot.length + 1));
    const suffix = tf.tidy(
      () =>
        tf.stack(
          names.map((n) => {
            const ids = [...n, ...dot, tokenizer.eotId];
            const e = tf.gather(this.encoder.tokenEmbedding, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
            return ids.length < S
              ? tf.pad(e, [
                  [0, S - ids.length],
                  [0, 0],
                ])
              : e;
          }),
        ) as tf.Tensor3D,
    );
    return { suffix, eot: names.map((n) => n.length + dot.length) };
  }

  /**
   * Points the trained context and meta-net at other classes (base-to-new's new classes): the class prompts change,
   * the learned parameters stay.
   */
  setClasses(tokenizer: PromptTokenizer, classPrompts: string[]): void {
    const next = this.classTokens(tokenizer, classPrompts);
    this.suffix.dispose();
    this.suffix = next.suffix;
    this.eot = next.eot;
  }

  /** The meta-net's bias pi(x) [W] of one normalised image feature [1, D] (inside a tidy or a gradient). */
  private bias(image: tf.Tensor2D): tf.Tensor2D {
    const [, w1, b1, w2, b2] = this.params as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(image, w1), b1)), w2), b2) as tf.Tensor2D;
  }

  /** Raw class text features [C, P] for one image feature [1, D] (not tidied: call inside tidy or a gradient). */
  featuresFor(image: tf.Tensor2D): tf.Tensor2D {
    const prefix = tf.concat([this.sos, tf.add(this.ctx, this.bias(image))], 0) as tf.Tensor2D;
    return fastForward(this.encoder, prefix, this.suffix, this.eot, { constantSuffix: true });
  }

  /** Frees every variable and cached embedding. */
  dispose(): void {
    for (const p of this.params) p.dispose();
    this.sos.dispose();
    this.suffix.dispose();
  }
}

/** The report of every image of `set`, one text-encoder pass per image (argmax of cos: the scale changes nothing). */
export async function evaluateCocoop(
  learner: CocoopLearner,
  set: FeatureSet,
  dim: number,
  names: string[],
  signal: AbortSignal | undefined,
): Promise<ClassificationReport | null> {
  if (set.labels.length === 0) return null;
  const preds: number[] = [];
  for (let i = 0; i < set.labels.length; i++) {
    throwIfCancelled(signal);
    const p = tf.tidy(() => {
      const img = tf.tensor2d(set.features.subarray(i * dim, (i + 1) * dim), [1, dim]);
      const text = l2normRows(learner.featuresFor(img));
      return tf.argMax(tf.matMul(img, text, false, true), 1);
    });
    preds.push((await p.data())[0] ?? -1);
    p.dispose();
  }
  return classificationReport(preds, set.labels, names);
}

/** Options of {@link trainCocoop}. */
export interface CocoopOptions {
  epochs: number;
  seed: number;
  logitScale?: number;
  backend: string;
  signal?: AbortSignal;
  onProgress?: (event: TrainProgress) => void;
}

/** What a CoCoOp run produced. */
export interface CocoopResult {
  curve: EpochPoint[];
  test: ClassificationReport;
  val: ClassificationReport | null;
  steps: number;
  msPerStep: number;
}

/**
 * One SGD step of CoCoOp on one cached view (batch 1): the loss and the predicted class of that view before the
 * update. Frees every tensor it made.
 */
async function cocoopStep(
  learner: CocoopLearner,
  sgds: Sgd[],
  image: { view: Float32Array; label: number; dim: number },
  lr: number,
  scale: number,
  classes: number,
): Promise<{ loss: number; pred: number }> {
  const x = tf.tensor2d(image.view, [1, image.dim]);
  const y = tf.tensor1d([image.label], 'int32');
  let pred = -1;
  const { value, grads } = tf.variableGrads(() => {
    const logits = tf.mul(tf.matMul(x, l2normRows(learner.featuresFor(x)), false, true), scale) as tf.Tensor2D;
    const am = tf.argMax(logits, 1);
    pred = am.dataSync()[0] ?? -1;
    am.dispose();
    return crossEntropy(logits, y, classes);
  }, learner.params);
  const loss = (await value.data())[0] ?? NaN;
  value.dispose();
  learner.params.forEach((p, k) => {
    const g = grads[p.name];
    if (g) sgds[k]!.step(g, lr);
  });
  tf.dispose(Object.values(grads));
  x.dispose();
  y.dispose();
  return { loss, pred };
}

/**
 * Trains CoCoOp on cached features (see [Note: CoCoOp]): one image per step (a random cached view of it), SGD on the
 * context and the meta-net; evaluates the last epoch on validation and test. Frees every tensor it made.
 */
export async function trainCocoop(data: TrainData, learner: CocoopLearner, opts: CocoopOptions): Promise<CocoopResult> {
  const scale = opts.logitScale ?? CLIP_LOGIT_SCALE;
  const c = data.classNames.length;
  if (data.train.length === 0) throw new AppError('invalid_data', 'There are no training images.');
  const rng = new Rng(opts.seed).fork('batches');
  const sgds = learner.params.map((p) => new Sgd(p, COOP_SGD));
  const schedule = { ...COOP_SCHEDULE, epochs: opts.epochs };
  const total = data.train.length * opts.epochs;
  const curve: EpochPoint[] = [];
  let steps = 0;
  const t0 = performance.now();
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const te = performance.now();
      const lr = learningRate(epoch, schedule);
      let lossSum = 0;
      let correct = 0;
      for (const i of rng.shuffle(data.train.map((_, k) => k))) {
        throwIfCancelled(opts.signal);
        const img = data.train[i]!;
        const view = img.views[rng.int(0, img.views.length - 1)]!;
        const { loss, pred } = await cocoopStep(learner, sgds, { view, label: img.label, dim: data.dim }, lr, scale, c);
        lossSum += loss;
        if (pred === img.label) correct++;
        steps++;
        const perStep = (performance.now() - t0) / 1000 / steps;
        opts.onProgress?.({
          kind: 'step',
          epoch: epoch + 1,
          epochs: opts.epochs,
          step: steps - epoch * data.train.length,
          stepsPerEpoch: data.train.length,
          loss: lossSum / Math.max(1, steps - epoch * data.train.length),
          lr,
          etaS: perStep * (total - steps),
          backend: opts.backend,
        });
        await yieldToEventLoop();
      }
      const point: EpochPoint = {
        epoch: epoch + 1,
        lr,
        trainLoss: lossSum / data.train.length,
        trainAccuracy: correct / data.train.length,
        valAccuracy: null,
        testAccuracy: null,
        seconds: (performance.now() - te) / 1000,
      };
      curve.push(point);
      opts.onProgress?.({ kind: 'epoch', point, epochs: opts.epochs, etaS: 0, backend: opts.backend });
    }
    const msPerStep = steps > 0 ? (performance.now() - t0) / steps : 0;
    const val = await evaluateCocoop(learner, data.val, data.dim, data.classNames, opts.signal);
    const test =
      (await evaluateCocoop(learner, data.test, data.dim, data.classNames, opts.signal)) ??
      classificationReport([], [], data.classNames);
    const last = curve[curve.length - 1];
    if (last) {
      last.valAccuracy = val?.accuracy ?? null;
      last.testAccuracy = test.accuracy;
    }
    return { curve, test, val, steps, msPerStep };
  } finally {
    for (const s of sgds) s.dispose();
  }
}
