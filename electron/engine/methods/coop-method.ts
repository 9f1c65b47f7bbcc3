/**
 * @file CoOp and KgCoOp as few-shot methods of `compare`: the prompt learner over the frozen text encoder, trained by
 * the CoOp loop on the compare's cached features (engine worker, plain Node + tfjs-core).
 *
 * [Note: compare CoOp] Inside `compare`, CoOp and KgCoOp are trained exactly as `learn` trains CoOp (same loop, same
 * SGD and schedule, same cached views) but on the features the other methods see, so their rows differ from the
 * baselines only by method. KgCoOp uses the same context settings as CoOp (M, random init), so the table isolates
 * the knowledge-guided term; its hand-written prompt is the compare's template.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CompareMethod } from '../../../shared/contract/methods';
import type { ScheduleSettings } from '../../../shared/contract/train';
import type { ClipModel } from '../clip/clip-model';
import { PromptLearner } from '../train/prompt-learner';
import { trainerSchedule } from '../train/schedule';
import { CocoopLearner, trainCocoop } from '../train/cocoop';
import type { EpochPoint, TrainData, TrainImage } from '../train/trainer';
import { trainInEngine } from '../backends/training-backend';
// One cache of the verified text encoder for learn, eval and compare (see [Note: encoder cache] in text-encoder.ts).
import { textEncoderFor as textEncoderOf } from '../train/text-encoder';
import { classificationReport } from '../train/metrics';
import type { FewShotFeatures, MethodOutcome } from './evaluate';

/** What every prompt method of `compare` trains on and with. */
interface PromptTrainingOptions {
  model: ClipModel;
  backend: string;
  prompts: string[];
  /** Raw text features of the hand-written prompt per class. */
  zeroShotText: Float32Array[];
  /** Training images with their cached views (normalised features). */
  trainImages: TrainImage[];
  epochs: number;
  seed: number;
  signal?: AbortSignal;
}

/** Options of {@link runPromptMethod}. */
export interface PromptMethodOptions extends PromptTrainingOptions {
  method: Extract<CompareMethod, 'coop' | 'kgcoop'>;
  /**
   * The schedule `learn` would use for this split (its epochs are `epochs`); absent: CoOp's published recipe for
   * `epochs` (batches of 32, SGD), which the research protocols (sweeps, base-to-new, domain shift) reproduce.
   */
  schedule?: ScheduleSettings;
  nCtx: number;
  kgLambda: number;
  /** Class-specific context (default: unified, as in `compare`). */
  csc?: boolean;
  /** Where the class name sits (default: at the end). */
  position?: 'end' | 'middle' | 'front';
  /** Initialise the context from these words (M becomes their token count); random when absent. */
  ctxInit?: string;
  onEpoch?: (epoch: number, epochs: number) => void;
  /** Called with the trained learner before it is freed: to score other classes or other domains with it. */
  afterTraining?: (learner: PromptLearner) => Promise<void>;
  /** After every optimiser step: steps done, of `total`. */
  onStep?: (done: number, total: number) => void;
}

/** CoOp's optimiser steps of one run (batch 32, the last incomplete batch dropped; see [Note: batches]). */
export function coopSteps(trainImages: number, epochs: number): number {
  return (trainImages >= 32 ? Math.floor(trainImages / 32) : 1) * epochs;
}

/** The training loop's inputs from a compare's cached features (shared by the prompt methods). */
function trainData(data: FewShotFeatures, o: { trainImages: TrainImage[]; zeroShotText: Float32Array[] }): TrainData {
  return {
    classNames: data.classNames ?? Array.from({ length: data.numClasses }, (_, i) => String(i)),
    dim: data.zeroShotWeights.cols,
    train: o.trainImages,
    val: { features: data.val.features.data, labels: data.val.labels },
    test: { features: data.test.features.data, labels: data.test.labels },
    zeroShotText: o.zeroShotText,
  };
}

/** A training curve as a method outcome's curve. */
function methodCurve(curve: EpochPoint[]): MethodOutcome['curve'] {
  return curve.map((p) => ({
    epoch: p.epoch,
    loss: p.trainLoss,
    trainAccuracy: p.trainAccuracy,
    valAccuracy: p.valAccuracy ?? 0,
  }));
}

/** Trains CoOp or KgCoOp on `data` and scores the last epoch's prompt (see [Note: compare CoOp]). */
export async function runPromptMethod(data: FewShotFeatures, o: PromptMethodOptions): Promise<MethodOutcome> {
  const encoder = await textEncoderOf(o.model, o.backend);
  // The options `learn` gives its learner for the same settings (see [Note: compare CoOp]).
  const options = {
    nCtx: o.nCtx,
    csc: o.csc ?? false,
    position: o.position ?? ('end' as const),
    ...(o.ctxInit ? { ctxInit: o.ctxInit } : {}),
    seed: o.seed,
  };
  const learner = new PromptLearner(encoder, o.model.tokenizer, o.prompts, options);
  const train = trainData(data, o);
  const total = o.schedule?.steps ?? coopSteps(o.trainImages.length, o.epochs);
  let steps = 0;
  try {
    const r = await trainInEngine(
      o.backend,
      { modelDir: o.model.info.dir, heads: encoder.heads, tokenizer: o.model.tokenizer, prompts: o.prompts, options },
      train,
      learner,
      {
        ...(o.schedule ? trainerSchedule(o.schedule) : { epochs: o.epochs }),
        seed: o.seed,
        logitScale: data.logitScale,
        backend: o.backend,
        ...(o.method === 'kgcoop' ? { kgLambda: o.kgLambda } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onProgress: (e) => {
          if (e.kind === 'step') o.onStep?.(++steps, total);
          else if (e.point.epoch > 0) o.onEpoch?.(e.point.epoch, e.epochs);
        },
      },
    );
    await o.afterTraining?.(learner);
    return {
      method: o.method,
      val: r.val ?? classificationReport([], [], train.classNames),
      test: r.test,
      chosen: { epochs: o.epochs, nCtx: learner.nCtx, ...(o.method === 'kgcoop' ? { lambda: o.kgLambda } : {}) },
      curve: methodCurve(r.curve),
    };
  } finally {
    learner.dispose();
  }
}

/** Options of {@link runCocoopMethod}. */
export interface CocoopMethodOptions extends PromptTrainingOptions {
  /** After every step: steps done, of `total`. */
  onStep?: (done: number, total: number) => void;
  /** Called with the trained learner before it is freed: to score other classes or other domains with it. */
  afterTraining?: (learner: CocoopLearner) => Promise<void>;
}

/** CoCoOp's context init (the paper's setting; M = 4). */
export const COCOOP_CTX_INIT = 'a photo of a';

/** Trains CoCoOp (see [Note: CoCoOp]) on `data` and scores it. */
export async function runCocoopMethod(data: FewShotFeatures, o: CocoopMethodOptions): Promise<MethodOutcome> {
  const encoder = await textEncoderOf(o.model, o.backend);
  const dim = data.zeroShotWeights.cols;
  const learner = new CocoopLearner(encoder, o.model.tokenizer, o.prompts, {
    nCtx: 4,
    ctxInit: COCOOP_CTX_INIT,
    imageDim: dim,
    seed: o.seed,
  });
  const train = trainData(data, o);
  try {
    let steps = 0;
    const r = await trainCocoop(train, learner, {
      epochs: o.epochs,
      seed: o.seed,
      logitScale: data.logitScale,
      backend: o.backend,
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (e) => {
        if (e.kind === 'step') o.onStep?.(++steps, o.trainImages.length * o.epochs);
      },
    });
    await o.afterTraining?.(learner);
    return {
      method: 'cocoop',
      val: r.val ?? classificationReport([], [], train.classNames),
      test: r.test,
      chosen: { epochs: o.epochs, nCtx: learner.nCtx },
      curve: methodCurve(r.curve),
    };
  } finally {
    learner.dispose();
  }
}

/** Learned class text features (raw, [C, P]) of a context applied to `prompts`; used by predict and export. */
export async function contextClassFeatures(
  model: ClipModel,
  backend: string,
  prompts: string[],
  ctx: { data: Float32Array; shape: number[]; nCtx: number; csc: boolean; position: 'end' | 'middle' | 'front' },
): Promise<Float32Array[]> {
  const encoder = await textEncoderOf(model, backend);
  const learner = new PromptLearner(encoder, model.tokenizer, prompts, {
    nCtx: ctx.nCtx,
    csc: ctx.csc,
    position: ctx.position,
    seed: 0,
  });
  try {
    tf.tidy(() => learner.ctx.assign(tf.tensor(ctx.data, ctx.shape)));
    const f = learner.features();
    try {
      const [c, p] = f.shape;
      const flat = f.dataSync();
      return Array.from({ length: c }, (_, i) => Float32Array.from(flat.subarray(i * p, (i + 1) * p)));
    } finally {
      f.dispose();
    }
  } finally {
    learner.dispose();
  }
}
