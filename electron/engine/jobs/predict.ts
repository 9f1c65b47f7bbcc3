/**
 * @file `predict`: top-k classes with probabilities for image files, with a learned context or zero-shot prompts
 * (engine worker, plain Node + tfjs-core for the learned prompt).
 *
 * Probabilities are softmax(logit scale * cos(image, class)) over the classes the context was learned for (or the
 * given zero-shot classes): the same logits the trainer and `evaluate` score, so a predicted top-1 here is the
 * prediction behind the run's accuracy.
 */
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import type { MethodsProgress, PredictResult, predictArgs } from '../../../shared/contract/methods';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { openModel } from '../models/open-model';
import { useBackend } from '../tf/backends';
import { assertContextFits, readContextFile } from '../formats/context-file';
import { embedAll } from '../features/features';
import { contextClassFeatures } from '../methods/coop-method';
import { matmulT, normalizeRows, stack, type Matrix } from '../methods/matrix';
import { fillTemplate } from '../methods/templates';

type PredictArgs = z.output<typeof predictArgs>;

/** Class names and normalised class weights [C, D] of a context file applied with its own prompts. */
export async function contextWeights(
  path: string,
  model: ClipModel,
  backendName?: 'wasm' | 'tensorflow' | 'cpu',
  newClasses?: string[],
): Promise<{ classNames: string[]; prompts: string[]; weights: Matrix; backend: string }> {
  const file = await readContextFile(path);
  assertContextFits(file, model, path);
  if (newClasses?.length && file.meta.csc)
    throw new AppError(
      'bad_args',
      `${path} holds one context per learned class (class-specific), so it cannot be applied to other class names; only a unified context can.`,
    );
  // A unified context applies to any class names, as in the paper's base-to-new experiments.
  const prompts = newClasses?.length ? newClasses : file.meta.prompts;
  // The names people know the classes by (see [Note: class display names]); older files carry only the folders.
  const classNames = newClasses?.length ? newClasses : (file.meta.classLabels ?? file.meta.classNames);
  const backend = await useBackend(backendName);
  const feats = await contextClassFeatures(model, backend, prompts, {
    data: file.ctx,
    shape: file.shape,
    nCtx: file.meta.nCtx,
    csc: file.meta.csc,
    position: file.meta.position,
  });
  return { classNames, prompts, weights: normalizeRows(stack(feats)), backend };
}

/** Runs `predict`. */
export async function runPredict(
  args: PredictArgs,
  env: { dataDir: string },
  { progress, signal }: JobContext<MethodsProgress>,
): Promise<PredictResult> {
  progress({ kind: 'phase', message: 'Reading the model' });
  const model = await openModel(env.dataDir, args.model);
  let classNames: string[];
  let weights: Matrix;
  if (args.context) {
    progress({ kind: 'phase', message: 'Applying the learned context' });
    ({ classNames, weights } = await contextWeights(args.context, model, args.backend, args.classes));
  } else {
    if (!args.classes?.length)
      throw new AppError(
        'bad_args',
        'Give a learned context file, or the class names to classify into for zero-shot prediction.',
      );
    classNames = args.classes;
    weights = normalizeRows(stack(await model.embedText(classNames.map((c) => fillTemplate(args.template, c)))));
  }
  progress({ kind: 'phase', message: 'Embedding the images' });
  const emb = await embedAll(
    model,
    args.images.map((path) => ({ path })),
    { signal, onProgress: (done, total) => progress({ kind: 'features', done, total }) },
  );
  const reasons = new Map(emb.errors.map((e) => [e.path, e.reason]));
  const scale = model.info.logitScale;
  const predictions = args.images.map((path, i) => {
    const f = emb.features[i];
    if (!f) return { path, top: [], error: reasons.get(path) ?? 'the image could not be read' };
    const logits = Array.from(matmulT(stack([f]), weights).data, (v) => v * scale);
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    const top = logits
      .map((logit, label) => ({
        label,
        name: classNames[label] ?? String(label),
        probability: exps[label]! / sum,
        logit,
      }))
      .sort((a, b) => b.logit - a.logit || a.label - b.label)
      .slice(0, args.top);
    return { path, top };
  });
  return {
    model: { id: model.info.id, dir: model.info.dir },
    mode: args.context ? 'context' : 'zero-shot',
    context: args.context ?? null,
    classNames,
    predictions,
  };
}
