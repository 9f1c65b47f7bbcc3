/**
 * @file The training backend of a run (setting + machine -> choice) and CoOp training in the compute window (engine).
 *
 * A run asks `chooseBackendForRun` where to train (see [Note: training backend choice]). For `engine` it activates
 * the backend with `useBackend` and calls `trainCoop` as before; for `compute-window` it keeps its local learner
 * (the wasm engine still owns the context, the nearest words and the saved file) and calls `trainCoopOnCompute`,
 * which has `trainCoop`'s signature plus the few inputs the page needs to rebuild the same learner.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { chooseTrainingBackend, parseBackendSetting, type BackendChoice } from './backend-choice';
import type { TrainingBackendSetting } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { readSettings } from '../settings/settings';
import type { PromptLearner, PromptLearnerOptions, PromptTokenizer } from '../train/prompt-learner';
import { defaultShardCount, ShardedLearner, type ShardMode } from '../train/sharded-learner';
import { readTextWeights, textModelFile } from '../train/text-encoder';
import { tokenTable } from '../train/token-table';
import {
  trainCoop,
  type TrainableLearner,
  type TrainData,
  type TrainOptions,
  type TrainResult,
} from '../train/trainer';
import { tfjsNodeAvailable, useBackend, type NodeBackend } from '../tf/backends';
import { computeLink, type ComputeLink } from './compute-link';

/** The settings key of the training backend (shared/contract/settings.ts `preferencesSet` writes it). */
export const TRAINING_BACKEND_KEY = 'trainBackend';

/** The stored training-backend setting (`auto` when absent or unknown). */
export function trainingBackendSetting(dataDir: string): TrainingBackendSetting {
  return parseBackendSetting(readSettings(dataDir)[TRAINING_BACKEND_KEY]);
}

/**
 * Where a run trains: `requested` (a run's explicit `backend` argument) wins over the setting. The compute window is
 * asked for its probe only when one is connected; a probe that fails counts as no window.
 */
export async function chooseBackendForRun(
  dataDir: string,
  requested?: string,
  link: ComputeLink | null = computeLink(),
): Promise<BackendChoice> {
  const setting = requested ? parseBackendSetting(requested) : trainingBackendSetting(dataDir);
  const compute = link ? await link.probe().catch(() => null) : null;
  return chooseTrainingBackend(setting, { compute, tfjsNode: tfjsNodeAvailable() });
}

/**
 * The engine backend of a job that trains only in the engine (compare) when its caller names none: the setting's
 * choice among the engine's own backends (`auto`, and a compute-window backend, fall back along the usual order).
 */
export function engineBackendFromSetting(dataDir: string): NodeBackend {
  const setting = trainingBackendSetting(dataDir);
  return chooseTrainingBackend(setting, { compute: null, tfjsNode: tfjsNodeAvailable() }).backend as NodeBackend;
}

/** What the compute window needs besides `trainCoop`'s arguments to rebuild the run's learner. */
export interface ComputeLearnerSource {
  /** `webgpu` or `webgl` (a chosen `compute-window` backend). */
  backend: string;
  modelDir: string;
  heads: number;
  tokenizer: PromptTokenizer;
  prompts: string[];
  options: PromptLearnerOptions;
}

/**
 * `trainCoop` run in the compute window: starts from `learner.ctx`, streams the same progress events, and leaves the
 * learned context in `learner.ctx`. Cancelling `opts.signal` cancels the job in the window.
 */
export async function trainCoopOnCompute(
  source: ComputeLearnerSource,
  data: TrainData,
  learner: TrainableLearner,
  opts: TrainOptions,
  link: ComputeLink | null = computeLink(),
): Promise<TrainResult> {
  if (!link) throw new AppError('unsupported', 'The GPU compute window is not running; train with wasm instead.');
  const { weights } = readTextWeights(new Uint8Array(readFileSync(textModelFile(source.modelDir))), source.heads);
  const { signal, onProgress, backend: _label, ...options } = opts;
  const r = await link.train(
    {
      backend: source.backend,
      weights,
      tokens: tokenTable(source.tokenizer, source.prompts, source.options.ctxInit),
      prompts: source.prompts,
      learner: source.options,
      initCtx: Float32Array.from((await learner.ctx.data()) as Float32Array),
      data,
      options,
    },
    {
      ...(signal ? { signal } : {}),
      ...(onProgress ? { onProgress: (e: unknown) => onProgress(e as Parameters<typeof onProgress>[0]) } : {}),
    },
  );
  if (r.ctx.length !== learner.ctx.size)
    throw new AppError(
      'internal',
      `The compute window returned ${r.ctx.length} context values for ${learner.ctx.size}.`,
    );
  tf.tidy(() => learner.ctx.assign(tf.tensor(r.ctx, learner.ctx.shape)));
  return r.result;
}

/** A run's training backend: where it trains, and the engine backend its local tensors (learner, evaluation) use. */
export interface RunBackend {
  choice: BackendChoice;
  /** The tfjs backend now active in the engine (the chosen one, or the best engine backend next to a GPU run). */
  engineBackend: NodeBackend;
}

/** Chooses where a run trains and activates the engine's backend for it (a run calls this instead of `useBackend`). */
export async function prepareRunBackend(
  dataDir: string,
  requested?: string,
  link: ComputeLink | null = computeLink(),
): Promise<RunBackend> {
  const choice = await chooseBackendForRun(dataDir, requested, link);
  const engineBackend = await useBackend(choice.runsIn === 'engine' ? (choice.backend as NodeBackend) : undefined);
  return { choice, engineBackend };
}

/** Where and how the learner trains: `source` plus the thread count asked for (0 or absent: one per core). */
export type TrainSource = Omit<ComputeLearnerSource, 'backend'> & { threads?: number; split?: ShardMode };

/**
 * `trainCoop` where `choice` says: in the engine ({@link trainInEngine}), or in the compute window (then `source`
 * rebuilds the learner). `threads` in the result says how many threads computed the steps (1 for the GPU window).
 */
export async function trainWhereChosen(
  choice: BackendChoice,
  source: TrainSource,
  data: TrainData,
  learner: PromptLearner,
  opts: TrainOptions,
  link: ComputeLink | null = computeLink(),
): Promise<TrainResult & { threads: number; split: ShardMode }> {
  if (choice.runsIn === 'engine') return trainInEngine(choice.backend, source, data, learner, opts);
  return {
    ...(await trainCoopOnCompute({ ...source, backend: choice.backend }, data, learner, opts, link)),
    threads: 1,
    split: 'classes',
  };
}

/**
 * Threads the engine trains `classes` classes of a `width`-wide text encoder with on `backend`: shard threads on wasm
 * (see defaultShardCount: `requested` when given), one elsewhere.
 */
export function engineThreads(
  backend: string,
  classes: number,
  width: number,
  requested: number | undefined,
  split: ShardMode,
): number {
  return backend === 'wasm' ? defaultShardCount(classes, width, requested, undefined, split) : 1;
}

/**
 * Runs `fn` on the learner the engine trains `learner`'s prompts with on `backend`: `learner` itself, or, on wasm with
 * more than one core, an encoder wide enough and enough classes for it to pay, shard threads splitting the classes
 * (see [Note: sharded steps]) or, with `split: 'heads'`, the encoder's heads (see [Note: head-parallel steps]; one
 * thread per core unless told). The threads are closed when `fn` ends. Training and the learn estimate's timed steps
 * both go through here, so the estimate times the learner the run will use.
 */
export async function withEngineLearner<T>(
  backend: string,
  source: TrainSource,
  learner: PromptLearner,
  fn: (trainable: TrainableLearner, threads: number, split: ShardMode) => Promise<T>,
): Promise<T> {
  const width = learner.ctx.shape[learner.ctx.shape.length - 1] ?? 0;
  const split = source.split ?? 'classes';
  const threads = engineThreads(backend, learner.nClasses, width, source.threads, split);
  if (threads <= 1) return fn(learner, 1, split);
  const { weights } = readTextWeights(new Uint8Array(readFileSync(textModelFile(source.modelDir))), source.heads);
  const tokens = tokenTable(source.tokenizer, source.prompts, source.options.ctxInit);
  const sharded = await ShardedLearner.start(
    learner,
    { weights, tokens, prompts: source.prompts, options: source.options },
    threads,
    split,
  );
  try {
    return await fn(sharded, sharded.threads, split);
  } finally {
    await sharded.close();
  }
}

/** `trainCoop` in the engine on the active `backend`, on {@link withEngineLearner}'s learner. */
export async function trainInEngine(
  backend: string,
  source: TrainSource,
  data: TrainData,
  learner: PromptLearner,
  opts: TrainOptions,
): Promise<TrainResult & { threads: number; split: ShardMode }> {
  return withEngineLearner(backend, source, learner, async (trainable, threads, split) => ({
    ...(await trainCoop(data, trainable, opts)),
    threads,
    split,
  }));
}
