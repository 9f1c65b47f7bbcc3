/**
 * @file A whole learning run from folders: dataset, split, features, zero-shot, CoOp, outputs; and evaluation of a
 * saved context (engine worker, plain Node).
 *
 * This is the glue between the CLIP runtime (ONNX Runtime image/text encoders, tokenizer, folder datasets), the
 * differentiable text encoder and prompt learner, and the pure training loop of `trainer.ts`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { JobContext } from '../../../shared/contract/define';
import {
  ZERO_SHOT_TEMPLATE,
  type EvaluateResult,
  type LearnProgress,
  type LearnResult,
  type SplitSummary,
} from '../../../shared/contract/train';
import type { z } from 'zod';
import type { evaluateArgs, learnArgs } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { openClipModel, type ClipModel } from '../clip/clip-model';
import { readFolderDataset, type FolderDataset } from '../data/folder-dataset';
import { appVersion, demoModelDir } from '../paths';
import { useBackend } from '../tf/backends';
import { readContextFile, writeContextFile, CONTEXT_FORMAT_VERSION } from './context-file';
import { curvePng } from './curve';
import { embedAll, trainingViews, type EmbedRequest } from './features';
import { classificationReport, clipLogits, predict } from './metrics';
import { PromptLearner } from './prompt-learner';
import { loadTextEncoder, type TfTextEncoder } from './text-encoder';
import { defaultEpochs, fewShotSplit, Rng, type SplitItem } from './splits';
import { throwIfCancelled, trainCoop, type FeatureSet, type TrainImage } from './trainer';
import * as tf from '@tensorflow/tfjs-core';

type LearnArgs = z.output<typeof learnArgs>;
type EvaluateArgs = z.output<typeof evaluateArgs>;

const now = () => performance.now();
const secs = (t0: number) => (now() - t0) / 1000;

// [Note: encoder cache] Loading and verifying the text encoder against ONNX Runtime costs seconds; a run keeps the
// last one for the same model and backend so a second run (another seed, eval, the bench) reuses it.
let encoderCache: { key: string; encoder: TfTextEncoder } | null = null;

async function textEncoderFor(model: ClipModel, backend: string): Promise<TfTextEncoder> {
  const key = `${model.info.dir}\n${model.info.id}\n${backend}`;
  if (encoderCache?.key === key) return encoderCache.encoder;
  encoderCache?.encoder.dispose();
  encoderCache = null;
  const encoder = await loadTextEncoder(model.info.dir);
  encoderCache = { key, encoder };
  return encoder;
}

/** Frees the cached text encoder (tests that count tensors call this). */
export function releaseTextEncoderCache(): void {
  encoderCache?.encoder.dispose();
  encoderCache = null;
}

const hashCache = new Map<string, string>();

async function sha256File(path: string): Promise<{ bytes: number; sha256: string }> {
  const s = await stat(path);
  const key = `${path}\n${s.mtimeMs}\n${s.size}`;
  let h = hashCache.get(key);
  if (!h) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    h = hash.digest('hex');
    hashCache.set(key, h);
  }
  return { bytes: s.size, sha256: h };
}

function toFeatureSet(items: SplitItem[], feats: (Float32Array | null)[], dim: number): FeatureSet {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  items.forEach((it, i) => {
    const f = feats[i];
    if (f) {
      rows.push(f);
      labels.push(it.label);
    }
  });
  const features = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => features.set(r, i * dim));
  return { features, labels };
}

function applyTestClasses(train: FolderDataset, test: FolderDataset): string[][] {
  const byName = new Map(test.classes.map((c) => [c.name, c.files]));
  const extra = test.classes.filter((c) => !train.classes.some((t) => t.name === c.name)).map((c) => c.name);
  if (extra.length > 0)
    throw new AppError(
      'invalid_data',
      `The test folder has classes the training folder lacks: ${extra.join(', ')}. Both folders need the same class folders.`,
    );
  return train.classes.map((c) => byName.get(c.name) ?? []);
}

function runFolderName(data: string, seed: number): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return `${stamp}-${basename(resolve(data)).replace(/[^\w.-]+/g, '_')}-coop-seed${seed}`;
}

/** Runs `learn`: see the contract in shared/contract/train.ts. */
export async function runLearn(
  args: LearnArgs,
  env: { dataDir: string; log(message: string): void },
  { progress, signal }: JobContext<LearnProgress>,
): Promise<LearnResult> {
  const tStart = now();
  const phase = (p: Extract<LearnProgress, { kind: 'phase' }>['phase'], message: string) =>
    progress({ kind: 'phase', phase: p, message });
  phase('load', 'Reading the model and the dataset');
  const backend = await useBackend(args.backend);
  const model = await openClipModel(args.model ?? demoModelDir());
  const ds = await readFolderDataset(args.data);
  if (ds.classes.length < 2)
    throw new AppError(
      'invalid_data',
      `${args.data} needs at least two class folders with images; found ${ds.classes.length}.`,
    );
  const testDs = args.test ? await readFolderDataset(args.test) : null;
  const classNames = ds.classes.map((c) => c.name);
  const prompts = ds.classes.map((c) => args.prompts?.[c.name] ?? c.prompt);
  const split = fewShotSplit(
    ds.classes.map((c) => c.files),
    { shots: args.shots, seed: args.seed, ...(testDs ? { testFiles: applyTestClasses(ds, testDs) } : {}) },
  );
  if (split.test.length === 0)
    throw new AppError(
      'invalid_data',
      `No image is left for testing after taking ${args.shots} shots and up to 4 validation images per class; add images, lower --shots or pass --test.`,
    );
  const loadS = secs(tStart);
  throwIfCancelled(signal);

  phase('features', 'Embedding the images with ONNX Runtime');
  const tFeat = now();
  const rng = new Rng(args.seed);
  const views = await trainingViews(
    split.train.map((t) => t.path),
    args.augViews,
    rng.fork('views'),
  );
  const trainReqs: EmbedRequest[] = split.train.flatMap((t, i) =>
    (views[i] ?? [undefined]).map((view) => (view ? { path: t.path, view } : { path: t.path })),
  );
  const evalReqs: EmbedRequest[] = [...split.val, ...split.test].map((t) => ({ path: t.path }));
  const emb = await embedAll(model, [...trainReqs, ...evalReqs], {
    signal,
    onProgress: (done, total) => progress({ kind: 'features', done, total }),
  });
  const skipped = [...ds.skipped, ...(testDs?.skipped ?? []), ...emb.errors];
  const dim = model.info.config.projectionDim;
  const train: TrainImage[] = [];
  let k = 0;
  split.train.forEach((t, i) => {
    const vs = (views[i] ?? [undefined]).map(() => emb.features[k++]).filter((f): f is Float32Array => !!f);
    if (vs.length > 0) train.push({ label: t.label, views: vs });
  });
  const evalFeats = emb.features.slice(trainReqs.length);
  const val = toFeatureSet(split.val, evalFeats.slice(0, split.val.length), dim);
  const test = toFeatureSet(split.test, evalFeats.slice(split.val.length), dim);
  const zeroShotText = await model.embedText(prompts.map((p) => ZERO_SHOT_TEMPLATE.replace('{}', p)));
  const featuresS = secs(tFeat);
  throwIfCancelled(signal);

  phase('text-encoder', 'Loading the text encoder for training (verified against ONNX Runtime)');
  const tEnc = now();
  const encoder = await textEncoderFor(model, backend);
  const learner = new PromptLearner(encoder, model.tokenizer, prompts, {
    nCtx: args.nCtx,
    csc: args.csc,
    position: args.position,
    ...(args.ctxInit ? { ctxInit: args.ctxInit } : {}),
    seed: args.seed,
    path: args.path,
  });
  const textEncoderS = secs(tEnc);
  try {
    const epochs = args.epochs ?? defaultEpochs(args.shots);
    phase('train', `Learning ${learner.nCtx} context vectors for ${epochs} epochs on ${backend}`);
    const result = await trainCoop({ classNames, dim, train, val, test, zeroShotText }, learner, {
      epochs,
      seed: args.seed,
      batchSize: args.batchSize,
      logitScale: model.info.logitScale,
      backend,
      signal,
      onProgress: progress,
    });
    phase('save', 'Saving the context and the curve');
    const outDir = resolve(args.out ?? join(env.dataDir, 'runs', runFolderName(args.data, args.seed)));
    await mkdir(outDir, { recursive: true });
    const nearestTokens = learner.nearestTokens(5);
    const ctxData = (await learner.ctx.data()) as Float32Array;
    const contextPath = join(outDir, 'context.safetensors');
    const curvePath = join(outDir, 'curve.png');
    const files = await Promise.all(
      [model.info.textModelPath, model.info.visionModelPath].map(async (p) => ({
        path: p.startsWith(model.info.dir) ? p.slice(model.info.dir.length + 1) : p,
        ...(await sha256File(p)),
      })),
    );
    await writeContextFile(contextPath, {
      ctx: Float32Array.from(ctxData),
      shape: learner.ctx.shape,
      meta: {
        formatVersion: CONTEXT_FORMAT_VERSION,
        method: 'coop',
        model: { id: model.info.id, dir: model.info.dir, files },
        tokenizer: {
          kind: 'clip-bpe',
          vocabSize: model.tokenizer.vocabSize,
          contextLength: model.tokenizer.contextLength,
        },
        classNames,
        prompts,
        nCtx: learner.nCtx,
        csc: args.csc,
        position: args.position,
        init: args.ctxInit ?? 'random N(0, 0.02^2)',
        seed: args.seed,
        shots: args.shots,
        epochs,
        augViews: args.augViews,
        backend,
        metrics: {
          zeroShotTestAccuracy: result.zeroShot.test.accuracy,
          testAccuracy: result.test.accuracy,
          valAccuracy: result.val?.accuracy ?? null,
          finalTrainLoss: result.curve[result.curve.length - 1]?.trainLoss ?? null,
        },
        appVersion: appVersion(),
        nearestTokens,
        createdAt: new Date().toISOString(),
      },
    });
    await writeFile(
      curvePath,
      await curvePng(result.curve, {
        title: `CoOp on ${basename(resolve(args.data))}: ${args.shots} shots, seed ${args.seed}, ${backend}`,
      }),
    );
    const summary = (name: string, i: number): SplitSummary => ({
      name,
      prompt: prompts[i] ?? name,
      train: split.train.filter((t) => t.label === i).length,
      val: split.val.filter((t) => t.label === i).length,
      test: split.test.filter((t) => t.label === i).length,
    });
    const out: LearnResult = {
      model: { id: model.info.id, dir: model.info.dir },
      data: { root: ds.root, test: testDs?.root ?? null, classes: classNames.map(summary), skipped },
      settings: {
        shots: args.shots,
        seed: args.seed,
        nCtx: learner.nCtx,
        csc: args.csc,
        position: args.position,
        ctxInit: args.ctxInit ?? null,
        epochs,
        augViews: args.augViews,
        batchSize: args.batchSize,
        path: args.path,
      },
      backend,
      zeroShot: {
        template: ZERO_SHOT_TEMPLATE,
        test: result.zeroShot.test,
        valAccuracy: result.zeroShot.val?.accuracy ?? null,
      },
      curve: result.curve,
      test: result.test,
      valAccuracy: result.val?.accuracy ?? null,
      nearestTokens,
      timings: {
        loadS,
        featuresS,
        imagesEmbedded: emb.computed,
        imagesFromCache: emb.cached,
        textEncoderS,
        trainS: result.trainSeconds,
        steps: result.steps,
        msPerStep: result.msPerStep,
        totalS: secs(tStart),
      },
      contextPath,
      curvePath,
      outDir,
    };
    await writeFile(join(outDir, 'result.json'), JSON.stringify(out, null, 2));
    return out;
  } finally {
    learner.dispose();
  }
}

/** Runs `evaluate`: the saved context and the hand-written prompt on every image of a folder. */
export async function runEvaluate(
  args: EvaluateArgs,
  { progress, signal }: JobContext<LearnProgress>,
): Promise<EvaluateResult> {
  progress({ kind: 'phase', phase: 'load', message: 'Reading the context, the model and the dataset' });
  const file = await readContextFile(args.context);
  const backend = await useBackend(args.backend);
  const model = await openClipModel(args.model ?? demoModelDir());
  const warnings: string[] = [];
  if (file.meta.model.id !== model.info.id)
    warnings.push(
      `The context was learned with model "${file.meta.model.id}" and is evaluated with "${model.info.id}"; accuracy may suffer.`,
    );
  const ds = await readFolderDataset(args.data);
  const index = new Map(file.meta.classNames.map((n, i) => [n, i]));
  const unknown = ds.classes.filter((c) => !index.has(c.name)).map((c) => c.name);
  if (unknown.length > 0)
    throw new AppError(
      'invalid_data',
      `The folder has classes the context was not learned for: ${unknown.join(', ')}. It knows: ${file.meta.classNames.join(', ')}.`,
    );
  const items: SplitItem[] = ds.classes.flatMap((c) =>
    c.files.map((path) => ({ path, label: index.get(c.name) ?? 0 })),
  );
  progress({ kind: 'phase', phase: 'features', message: 'Embedding the images with ONNX Runtime' });
  const emb = await embedAll(
    model,
    items.map((t) => ({ path: t.path })),
    { signal, onProgress: (done, total) => progress({ kind: 'features', done, total }) },
  );
  const dim = model.info.config.projectionDim;
  const set = toFeatureSet(items, emb.features, dim);
  const zsText = await model.embedText(file.meta.prompts.map((p) => ZERO_SHOT_TEMPLATE.replace('{}', p)));
  throwIfCancelled(signal);
  progress({ kind: 'phase', phase: 'text-encoder', message: 'Loading the text encoder' });
  const encoder = await textEncoderFor(model, backend);
  if (file.shape[file.shape.length - 1] !== encoder.width)
    throw new AppError(
      'invalid_data',
      `The context has width ${file.shape[file.shape.length - 1] ?? '?'} but this model's text encoder has width ${encoder.width}: it belongs to another model.`,
    );
  const learner = new PromptLearner(encoder, model.tokenizer, file.meta.prompts, {
    nCtx: file.meta.nCtx,
    csc: file.meta.csc,
    position: file.meta.position,
    seed: file.meta.seed,
  });
  try {
    tf.tidy(() => learner.ctx.assign(tf.tensor(file.ctx, file.shape)));
    progress({ kind: 'phase', phase: 'evaluate', message: 'Classifying' });
    const report = (text: tf.Tensor2D) => {
      const imgs = tf.tensor2d(set.features, [set.labels.length, dim]);
      const logits = clipLogits(imgs, text, model.info.logitScale);
      try {
        return classificationReport(predict(logits), set.labels, file.meta.classNames);
      } finally {
        imgs.dispose();
        logits.dispose();
      }
    };
    const learned = learner.features();
    const zs = tf.tensor2d(
      zsText.flatMap((f) => Array.from(f)),
      [zsText.length, dim],
    );
    try {
      return {
        model: { id: model.info.id, dir: model.info.dir },
        context: {
          path: resolve(args.context),
          modelId: file.meta.model.id,
          nCtx: file.meta.nCtx,
          csc: file.meta.csc,
          position: file.meta.position,
          shots: file.meta.shots,
          seed: file.meta.seed,
        },
        backend,
        test: report(learned),
        zeroShot: { template: ZERO_SHOT_TEMPLATE, test: report(zs) },
        skipped: [...ds.skipped, ...emb.errors],
        warnings,
      };
    } finally {
      learned.dispose();
      zs.dispose();
    }
  } finally {
    learner.dispose();
  }
}
