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
  type EvaluateResult,
  type LearnProgress,
  type evaluateArgs,
} from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { useBackend } from '../tf/backends';
import { assertContextFits, readContextFile } from '../formats/context-file';
import { embedAll } from '../features/features';
import { classificationReport, clipLogits, predict } from '../train/metrics';
import { PromptLearner } from '../train/prompt-learner';
import { loadRunSource, toFeatureSet } from './run-source';
import type { SplitItem } from '../train/splits';
import { throwIfCancelled } from '../train/trainer';
import { fillTemplate } from '../methods/templates';
import { textEncoderFor } from '../train/text-encoder';

type EvaluateArgs = z.output<typeof evaluateArgs>;

/** Runs `evaluate`: the saved context and the hand-written prompt on every usable image of a folder or project. */
export async function runEvaluate(
  args: EvaluateArgs,
  env: { dataDir: string },
  { progress, signal }: JobContext<LearnProgress>,
): Promise<EvaluateResult> {
  progress({ kind: 'phase', phase: 'load', message: 'Reading the context, the model and the dataset' });
  const file = await readContextFile(args.context);
  const backend = await useBackend(args.backend);
  const model = await openModel(env.dataDir, args.model);
  const warnings: string[] = [];
  assertContextFits(file, model, args.context);
  const src = await loadRunSource(args, env.dataDir);
  // [Note: context transfer] A unified context is shared by every class, so it applies to any class names, as in the
  // paper's transfer to new classes: the dataset's own names and prompt texts are used. A class-specific context only
  // knows the classes it was learned for.
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
  if (transfer && newNames.length > 0)
    warnings.push(
      `The unified context is applied to ${newNames.length} class name(s) it was not learned on (${newNames.join(', ')}).`,
    );
  // Reports name the classes as people know them (see [Note: class display names]).
  const labelOf = new Map([
    ...file.meta.classNames.map((n, i): [string, string] => [n, file.meta.classLabels?.[i] ?? n]),
    ...src.classes.map((c): [string, string] => [c.name, c.label]),
  ]);
  const labels = classNames.map((n) => labelOf.get(n) ?? n);
  const items: SplitItem[] = src.classes.flatMap((c) =>
    c.files.map((path) => ({ path, label: index.get(c.name) ?? 0 })),
  );
  progress({ kind: 'phase', phase: 'features', message: 'Embedding the images with ONNX Runtime' });
  const emb = await embedAll(
    model,
    items.map((t) => {
      const sha256 = src.images.get(t.path)?.sha256;
      return sha256 ? { path: t.path, sha256 } : { path: t.path };
    }),
    {
      signal,
      ...(src.project ? { store: embeddingStore(storeDb(env.dataDir)) } : {}),
      onProgress: (done, total) => progress({ kind: 'features', done, total }),
    },
  );
  const dim = model.info.config.projectionDim;
  const set = toFeatureSet(items, emb.features, dim);
  const zsText = await model.embedText(prompts.map((p) => fillTemplate(ZERO_SHOT_TEMPLATE, p)));
  throwIfCancelled(signal);
  progress({ kind: 'phase', phase: 'text-encoder', message: 'Loading the text encoder' });
  const encoder = await textEncoderFor(model, backend);
  if (file.shape[file.shape.length - 1] !== encoder.width)
    throw new AppError(
      'invalid_data',
      `The context has width ${file.shape[file.shape.length - 1] ?? '?'} but this model's text encoder has width ${encoder.width}: it belongs to another model.`,
    );
  const learner = new PromptLearner(encoder, model.tokenizer, prompts, {
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
        return classificationReport(predict(logits), set.labels, labels);
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
        skipped: [...src.skipped, ...emb.errors],
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
