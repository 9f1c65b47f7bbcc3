/**
 * @file Scoring a trained prompt beyond its own test split: on other classes (base-to-new's new classes) and on other
 * image sets (domain shift's targets) (engine worker, plain Node + tfjs-core).
 *
 * A unified context applies to any class names: the new classes' prompts are built with the learned context and run
 * through the same text encoder (`contextClassFeatures`). CoCoOp keeps its meta-net and context and swaps the class
 * prompts (`CocoopLearner.setClasses`).
 */
import type { ClipModel } from '../clip/clip-model';
import type { ClassificationReport } from '../../../shared/contract/train';
import { evaluateCocoop, type CocoopLearner } from '../train/cocoop';
import type { PromptLearner } from '../train/prompt-learner';
import { contextClassFeatures } from './coop-method';
import { score, type LabelledFeatures } from './evaluate';
import { matmulT, normalizeRows, stack, type Matrix } from './matrix';

/** Normalised class weights [C, P] of a trained prompt learner's own classes. */
export async function learnedWeights(learner: PromptLearner): Promise<Matrix> {
  const f = learner.features();
  try {
    const [c, p] = f.shape;
    const flat = (await f.data()) as Float32Array;
    return normalizeRows({ rows: c, cols: p, data: Float32Array.from(flat) });
  } finally {
    f.dispose();
  }
}

/** Normalised class weights of a trained unified context applied to other class prompts (class name at the end). */
export async function contextWeightsFor(
  model: ClipModel,
  backend: string,
  learner: PromptLearner,
  prompts: string[],
): Promise<Matrix> {
  const data = Float32Array.from((await learner.ctx.data()) as Float32Array);
  const feats = await contextClassFeatures(model, backend, prompts, {
    data,
    shape: learner.ctx.shape,
    nCtx: learner.nCtx,
    csc: false,
    position: 'end',
  });
  return normalizeRows(stack(feats));
}

/** The report of class weights on a labelled image set (argmax of the cosine). */
export function scoreWeights(
  weights: Matrix,
  set: LabelledFeatures,
  classNames: readonly string[],
): ClassificationReport {
  return score(matmulT(set.features, weights), set.labels, classNames);
}

/** The report of a trained CoCoOp learner on a labelled image set of its current classes. */
export async function scoreCocoop(
  learner: CocoopLearner,
  set: LabelledFeatures,
  classNames: string[],
  signal?: AbortSignal,
): Promise<ClassificationReport> {
  const r = await evaluateCocoop(
    learner,
    { features: set.features.data, labels: set.labels },
    set.features.cols,
    classNames,
    signal,
  );
  return r ?? score({ rows: 0, cols: classNames.length, data: new Float32Array(0) }, [], classNames);
}
