/**
 * @file Evaluation of a saved context file on a folder or a project, next to the hand-written prompt (engine worker,
 * plain Node).
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import {
  ZERO_SHOT_TEMPLATE,
  type ClassificationReport,
  type EvaluateResult,
  type LearnProgress,
  type evaluateArgs,
} from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { useBackend } from '../tf/backends';
import { assertContextFits, readContextFile, type ContextFile } from '../formats/context-file';
import { embedAll } from '../features/features';
import { classificationReport, clipLogits, predict } from '../train/metrics';
import { PromptLearner } from '../train/prompt-learner';
import { loadRunSource, toFeatureSet, type RunSource } from './run-source';
import type { SplitItem } from '../train/splits';
import { throwIfCancelled } from '../train/trainer';
import { fillTemplate } from '../methods/templates';
import { textEncoderFor } from '../train/text-encoder';

type EvaluateArgs = z.output<typeof evaluateArgs>;
type Progress = JobContext<LearnProgress>['progress'];

/** What `evaluate` scores: the context file, the model, the classes it is applied to and every image. */
interface EvaluatePlan {
  file: ContextFile;
  backend: string;
  model: ClipModel;
  src: RunSource;
  classNames: string[];
  /** The class names as people know them, for the reports (see [Note: class display names]). */
  labels: string[];
  prompts: string[];
  items: SplitItem[];
  warnings: string[];
}

/**
 * Step 1: the context (refused for another model), the dataset, and the classes the context is applied to.
 *
 * [Note: context transfer] A unified context is shared by every class, so it applies to any class names, as in the
 * paper's transfer to new classes: the dataset's own names and prompt texts are used. A class-specific context only
 * knows the classes it was learned for.
 */
async function planEvaluate(args: EvaluateArgs, dataDir: string, progress: Progress): Promise<EvaluatePlan> {
  progress({ kind: 'phase', phase: 'load', message: 'Reading the context, the model and the dataset' });
  const file = await readContextFile(args.context);
  const backend = await useBackend(args.backend);
  const model = await openModel(dataDir, args.model);
  // Context vectors live in one text encoder's embedding space (see assertContextFits): another model cannot use them.
  assertContextFits(file, model, args.context);
  const src = await loadRunSource(args, dataDir);
  const transfer = !file.meta.csc;
  const classNames = transfer ? src.classes.map((c) => c.name) : file.meta.classNames;
  const prompts = transfer ? src.classes.map((c) => c.prompt) : file.meta.prompts;
  const index = new Map(classNames.map((n, i) => [n, i]));
  const unknown = src.classes.filter((c) => !index.has(c.name)).map((c) => c.name);
  if (unknown.length > 0)
    throw new AppError(
      'invalid_data',
      `The ${src.project ? 'project' : 'folder'} has classes the class-specific context was not learned for: ${unknown.join(', ')}. It knows: ${file.meta.classNames.join(', ')}.`,
    );
  const learnedFor = new Set(file.meta.classNames);
  const newNames = classNames.filter((n) => !learnedFor.has(n));
  const warnings =
    transfer && newNames.length > 0
      ? [
          `The unified context is applied to ${newNames.length} class name(s) it was not learned on (${newNames.join(', ')}).`,
        ]
      : [];
  const items = src.classes.flatMap((c) => c.files.map((path) => ({ path, label: index.get(c.name) ?? 0 })));
  // Reports name the classes as people know them (see [Note: class display names]).
  const labelOf = new Map([
    ...file.meta.classNames.map((n, i): [string, string] => [n, file.meta.classLabels?.[i] ?? n]),
    ...src.classes.map((c): [string, string] => [c.name, c.label]),
  ]);
  const labels = classNames.map((n) => labelOf.get(n) ?? n);
  return { file, backend, model, src, classNames, labels, prompts, items, warnings };
}

/** Step 2: every image's feature (a project's through the store) and the hand-written prompts' text features. */
async function embedEvaluate(plan: EvaluatePlan, dataDir: string, { progress, signal }: JobContext<LearnProgress>) {
  const { model, src, items } = plan;
  progress({ kind: 'phase', phase: 'features', message: 'Embedding the images with ONNX Runtime' });
  const emb = await embedAll(
    model,
    items.map((t) => {
      const sha256 = src.images.get(t.path)?.sha256;
      return sha256 ? { path: t.path, sha256 } : { path: t.path };
    }),
    {
      signal,
      ...(src.project ? { store: embeddingStore(storeDb(dataDir)) } : {}),
      onProgress: (done, total) => progress({ kind: 'features', done, total }),
    },
  );
  const set = toFeatureSet(items, emb.features, model.info.config.projectionDim);
  const zsText = await model.embedText(plan.prompts.map((p) => fillTemplate(ZERO_SHOT_TEMPLATE, p)));
  throwIfCancelled(signal);
  return { set, zsText, errors: emb.errors };
}

/** Step 3: the learned prompt and the hand-written one, each scored on every image. */
async function scoreEvaluate(
  plan: EvaluatePlan,
  feats: Awaited<ReturnType<typeof embedEvaluate>>,
  progress: Progress,
): Promise<{ test: ClassificationReport; zeroShot: ClassificationReport }> {
  const { file, model, set } = { ...plan, ...feats };
  progress({ kind: 'phase', phase: 'text-encoder', message: 'Loading the text encoder' });
  const encoder = await textEncoderFor(model, plan.backend);
  const learner = new PromptLearner(encoder, model.tokenizer, plan.prompts, {
    nCtx: file.meta.nCtx,
    csc: file.meta.csc,
    position: file.meta.position,
    seed: file.meta.seed,
  });
  const dim = model.info.config.projectionDim;
  const report = (text: tf.Tensor2D) => {
    const imgs = tf.tensor2d(set.features, [set.labels.length, dim]);
    const logits = clipLogits(imgs, text, model.info.logitScale);
    try {
      return classificationReport(predict(logits), set.labels, plan.labels);
    } finally {
      imgs.dispose();
      logits.dispose();
    }
  };
  try {
    tf.tidy(() => learner.ctx.assign(tf.tensor(file.ctx, file.shape)));
    progress({ kind: 'phase', phase: 'evaluate', message: 'Classifying' });
    const learned = learner.features();
    const zs = tf.tensor2d(
      feats.zsText.flatMap((f) => Array.from(f)),
      [feats.zsText.length, dim],
    );
    try {
      return { test: report(learned), zeroShot: report(zs) };
    } finally {
      learned.dispose();
      zs.dispose();
    }
  } finally {
    learner.dispose();
  }
}

/** Runs `evaluate`: the saved context and the hand-written prompt on every usable image of a folder or project. */
export async function runEvaluate(
  args: EvaluateArgs,
  env: { dataDir: string },
  job: JobContext<LearnProgress>,
): Promise<EvaluateResult> {
  const plan = await planEvaluate(args, env.dataDir, job.progress);
  const feats = await embedEvaluate(plan, env.dataDir, job);
  const scores = await scoreEvaluate(plan, feats, job.progress);
  const { file, model } = plan;
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
    backend: plan.backend,
    test: scores.test,
    zeroShot: { template: ZERO_SHOT_TEMPLATE, test: scores.zeroShot },
    skipped: [...plan.src.skipped, ...feats.errors],
    warnings: plan.warnings,
  };
}
