/**
 * @file `estimateLearn`: how long a `learn` with the same arguments will take on this machine (engine worker, plain
 * Node). See [Note: learn estimate] in shared/contract/train.ts.
 *
 * [Note: step cost model] A CoOp step runs the text encoder forward and backward over every class prompt (the batch
 * of cached image features costs next to nothing), so its time grows with the class count C. The estimate times real
 * steps of the learner the run will use (same model, backend, context options, prompts, and the same shard threads:
 * `withEngineLearner`): over the run's own classes up to DIRECT_MAX_CLASSES, else over SAMPLE_CLASSES and twice as
 * many of them on the same threads, fitted as a + b x C. Timing smaller class counts on one thread and scaling them
 * (what it did first) fell 3x short at 100 classes on 2 threads in `bench:learn` (481 ms predicted, 1441 ms real):
 * the cost per class is not flat from 4 to 100 classes, and 2 threads are 1.3-1.8x faster than one, not 2x
 * (`bench:train`). A learner whose classes do not fit one chunk (DEFAULT_CHUNK_SIZE) also runs a forward pass over
 * all of them first (f per class, timed too). Timings are cached per model, backend, options, threads and prompts,
 * and the time per image per model and dataset folder, so changing the shots, the schedule or the epochs
 * re-estimates at once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import { resolveSchedule, type LearnEstimate, type learnArgs } from '../../../shared/contract/train';
import type { ClipModel } from '../clip/clip-model';
import { readFolderDataset } from '../data/folder-dataset';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { engineThreads, prepareRunBackend, withEngineLearner } from '../backends/training-backend';
import { embedAll, whichCached, type EmbeddingStore, type EmbedRequest } from '../features/features';
import { clipLogits, crossEntropy } from '../train/metrics';
import { DEFAULT_CHUNK_SIZE, PromptLearner, type PromptLearnerOptions } from '../train/prompt-learner';
import { learnerOptionsOf, planRequests, planSplit, promptsOf, requireTwoClasses } from './run-plan';
import { loadRunSource } from './run-source';
import type { ShardMode } from '../train/sharded-learner';
import type { TrainableLearner } from '../train/trainer';
import { textEncoderFor } from '../train/text-encoder';

type LearnArgs = z.output<typeof learnArgs>;

/** Up to this many classes the steps are timed over the run's own classes (see [Note: step cost model]). */
const DIRECT_MAX_CLASSES = 128;
/** Above it, the steps are timed over this many of them and twice as many, and fitted. */
const SAMPLE_CLASSES = 64;
/** Images embedded to time the image pipeline (they stay in the caches for the run). */
const TIMED_IMAGES = 8;

/** Per-class and fixed milliseconds of a step and of a forward pass. */
interface StepCost {
  a: number;
  b: number;
  fa: number;
  fb: number;
  /** Class count of a direct measurement (b = fb = 0 then). */
  measuredAt: number;
}

const stepCosts = new Map<string, StepCost>();
const imageCosts = new Map<string, number>();

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;

/** Median milliseconds of a step and of a forward pass of `learner` over `c` classes (after one warm-up step). */
async function timeLearner(
  learner: TrainableLearner,
  c: number,
  dim: number,
): Promise<{ step: number; forward: number }> {
  const rows = 32;
  const images = tf.tidy(() => {
    const x = tf.randomNormal([rows, dim], 0, 1, 'float32', 1);
    return tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
  });
  const labels = tf.tensor1d(
    Array.from({ length: rows }, (_, i) => i % c),
    'int32',
  );
  try {
    const steps: number[] = [];
    // The first step pays for kernel set-up and memory growth (see [Note: ETA]): one warm-up, then the median of 3.
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      const { grad } = await learner.step((f) => crossEntropy(clipLogits(images, f), labels, c));
      grad.dispose();
      if (i > 0) steps.push(performance.now() - t);
    }
    const t = performance.now();
    (await learner.features()).dispose();
    return { step: median(steps), forward: performance.now() - t };
  } finally {
    tf.dispose([images, labels]);
  }
}

/** What the learner of a run is made of: the model, the engine's backend, the prompts and the learner options. */
interface LearnerSpec {
  model: ClipModel;
  backend: string;
  prompts: string[];
  options: PromptLearnerOptions;
  /** Shard threads of the run (0: as many as the engine picks for the class count). */
  threads: number;
  split: ShardMode;
}

/** Median step and forward-pass milliseconds of the engine's learner over `prompts` (see [Note: step cost model]). */
async function timePrompts(spec: LearnerSpec, prompts: string[]): Promise<{ step: number; forward: number }> {
  const { model } = spec;
  const encoder = await textEncoderFor(model, spec.backend);
  const learner = new PromptLearner(encoder, model.tokenizer, prompts, spec.options);
  const source = {
    modelDir: model.info.dir,
    heads: encoder.heads,
    tokenizer: model.tokenizer,
    prompts,
    options: spec.options,
    ...(spec.threads > 0 ? { threads: spec.threads } : {}),
    split: spec.split,
  };
  try {
    const dim = model.info.config.projectionDim;
    return await withEngineLearner(spec.backend, source, learner, (l) => timeLearner(l, prompts.length, dim));
  } finally {
    learner.dispose();
  }
}

/** `k` of `prompts`, evenly spaced, so their names are as long as the run's on average. */
const evenly = (prompts: string[], k: number) =>
  Array.from({ length: k }, (_, i) => prompts[Math.floor((i * prompts.length) / k)] ?? '');

/** The step cost of the run's learner (see [Note: step cost model]). */
async function stepCost(spec: LearnerSpec): Promise<StepCost> {
  const { prompts } = spec;
  const key = JSON.stringify([
    spec.model.info.dir,
    spec.model.info.id,
    spec.backend,
    spec.options,
    spec.threads,
    prompts,
  ]);
  const known = stepCosts.get(key);
  if (known) return known;
  let cost: StepCost;
  if (prompts.length <= DIRECT_MAX_CLASSES) {
    const t = await timePrompts(spec, prompts);
    cost = { a: t.step, b: 0, fa: t.forward, fb: 0, measuredAt: prompts.length };
  } else {
    // The same threads for both counts as for the run's.
    const same = { ...spec, threads: threadsFor(spec, prompts.length) };
    const s = await timePrompts(same, evenly(prompts, SAMPLE_CLASSES));
    const l = await timePrompts(same, evenly(prompts, 2 * SAMPLE_CLASSES));
    const b = Math.max(0, (l.step - s.step) / SAMPLE_CLASSES);
    const fb = Math.max(0, (l.forward - s.forward) / SAMPLE_CLASSES);
    cost = {
      a: Math.max(0, s.step - b * SAMPLE_CLASSES),
      b,
      fa: Math.max(0, s.forward - fb * SAMPLE_CLASSES),
      fb,
      measuredAt: 0,
    };
  }
  stepCosts.set(key, cost);
  return cost;
}

/** The threads the engine trains `classes` classes of the spec's model with. */
const threadsFor = (spec: LearnerSpec, classes: number) =>
  engineThreads(
    spec.backend,
    classes,
    spec.model.info.config.text.width,
    spec.threads > 0 ? spec.threads : undefined,
    spec.split,
  );

/** Milliseconds of a step over `classes` classes and of a forward pass over all of them (the threads are timed in). */
function predict(cost: StepCost, classes: number, threads: number): { step: number; forward: number } {
  if (cost.measuredAt === classes) return { step: cost.a, forward: cost.fa };
  const per = Math.ceil(classes / Math.max(1, threads));
  const chunked = per > DEFAULT_CHUNK_SIZE ? cost.fb * classes : 0;
  return { step: cost.a + cost.b * classes + chunked, forward: cost.fa + cost.fb * classes };
}

/** Milliseconds per image of the image pipeline, timed on a few of the run's own images (kept in the caches). */
async function imageCost(
  model: ClipModel,
  root: string,
  todo: EmbedRequest[],
  store: EmbeddingStore | undefined,
): Promise<number> {
  const key = `${model.info.id}\n${root}`;
  const known = imageCosts.get(key);
  if (known !== undefined) return known;
  const opts = store ? { store } : {};
  await embedAll(model, todo.slice(0, 1), opts);
  const timed = todo.slice(1, 1 + TIMED_IMAGES);
  if (timed.length === 0) return 0;
  const t = performance.now();
  await embedAll(model, timed, opts);
  const ms = (performance.now() - t) / timed.length;
  imageCosts.set(key, ms);
  return ms;
}

/** Runs `estimateLearn` (see [Note: learn estimate]). */
export async function estimateLearn(
  args: LearnArgs,
  env: { dataDir: string },
  _job: JobContext<never>,
): Promise<LearnEstimate> {
  const { choice, engineBackend } = await prepareRunBackend(env.dataDir, args.backend);
  const model = await openModel(env.dataDir, args.model);
  const src = requireTwoClasses(await loadRunSource(args, env.dataDir));
  const prompts = promptsOf(args, src);
  const testDs = args.test ? await readFolderDataset(args.test) : null;
  const { split, shots } = planSplit(args, src, testDs);
  const { trainReqs, evalReqs } = await planRequests(args, src, split);
  const all = [...trainReqs, ...evalReqs];
  const store = src.project ? embeddingStore(storeDb(env.dataDir)) : undefined;
  const storeOpt = store ? { store } : {};
  const before = await whichCached(model.info.id, all, storeOpt);
  const todo = all.filter((_, i) => !before[i]);
  const msPerImage = todo.length > 0 ? await imageCost(model, src.root, todo, store) : 0;
  const cached = (await whichCached(model.info.id, all, storeOpt)).filter(Boolean).length;
  const toEmbed = all.length - cached;
  const schedule = resolveSchedule({
    schedule: args.schedule,
    classes: prompts.length,
    shots,
    trainImages: split.train.length,
    epochs: args.epochs,
    batchSize: args.batchSize,
  });
  const featuresS = (toEmbed * msPerImage) / 1000;
  const classes = prompts.length;
  if (choice.runsIn !== 'engine')
    return {
      classes,
      trainImages: split.train.length,
      evalImages: evalReqs.length,
      toEmbed,
      cached,
      schedule,
      threads: 1,
      msPerImage,
      msPerStep: null,
      seconds: { features: featuresS, train: null, total: null },
      basis: `Training runs on ${choice.backend} in the GPU window, which is timed once the run starts.`,
    };
  const spec: LearnerSpec = {
    model,
    backend: engineBackend,
    prompts,
    options: learnerOptionsOf(args),
    threads: args.threads ?? 0,
    split: args.split,
  };
  const cost = await stepCost(spec);
  const threads = threadsFor(spec, classes);
  const p = predict(cost, classes, threads);
  // Two forward passes after the last step: the last epoch's evaluation and the test predictions.
  const trainS = (schedule.steps * p.step + 2 * p.forward) / 1000;
  return {
    classes,
    trainImages: split.train.length,
    evalImages: evalReqs.length,
    toEmbed,
    cached,
    schedule,
    threads,
    msPerImage,
    msPerStep: p.step,
    seconds: { features: featuresS, train: trainS, total: featuresS + trainS },
    basis:
      cost.measuredAt > 0
        ? `Timed training steps over the ${classes} classes on ${engineBackend} on ${threads} thread(s).`
        : `Timed training steps over ${SAMPLE_CLASSES} and ${2 * SAMPLE_CLASSES} of the ${classes} classes on ${engineBackend} on ${threads} thread(s), scaled to ${classes} classes.`,
  };
}
