/**
 * @file What a learning run will compute, decided before it computes anything: the shots and the few-shot split, the
 * cached views and the embedding requests, and the learner's options (engine worker, plain Node). Shared by `learn`
 * (trainer-run.ts) and its time estimate (estimate-learn.ts), so the estimate counts exactly the run's work.
 */
import type { z } from 'zod';
import type { learnArgs } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { FolderDataset } from '../data/folder-dataset';
import type { ViewTransform } from '../clip/preprocess';
import { trainingViews, type EmbedRequest } from '../features/features';
import type { PromptLearnerOptions } from '../train/prompt-learner';
import { planShots, type ShotPlan } from '../train/shot-plan';
import { Rng, type FewShotSplit } from '../train/splits';
import { noTestImages } from './learn-outputs';
import { testFilesByClass, type RunSource } from './run-source';

type LearnArgs = z.output<typeof learnArgs>;

/** `src` when it has the two classes a run needs, else a clear error. */
export function requireTwoClasses(src: RunSource): RunSource {
  if (src.classes.length < 2)
    throw new AppError(
      'invalid_data',
      src.project
        ? `Project "${src.project.name}" needs at least two classes with usable images; found ${src.classes.length}.`
        : `${src.root} needs at least two class folders with images; found ${src.classes.length}.`,
      undefined,
      { reason: 'too_few_classes', facts: { classes: src.classes.length } },
    );
  return src;
}

/** The prompt text of every class: the run's override, else the folder-derived (or project's) text. */
export function promptsOf(args: LearnArgs, src: RunSource): string[] {
  return src.classes.map((c) => args.prompts?.[c.name] ?? c.prompt);
}

/** The run's shots and split (see planShots); no test image left is a clear error. */
export function planSplit(args: LearnArgs, src: RunSource, testDs: FolderDataset | null): ShotPlan {
  const plan = planShots(
    src.classes.map((c) => c.files),
    {
      shots: args.shots,
      seed: args.seed,
      ...(testDs ? { testFiles: testFilesByClass(src, testDs) } : {}),
      ...(src.project ? { pinned: src.classes.map((c) => c.pinned ?? {}) } : {}),
    },
  );
  if (plan.split.test.length === 0) throw noTestImages(src, plan.shots, testDs !== null);
  return plan;
}

/** The embedding requests of a split: every view of every training image, then validation and test images. */
export interface RunRequests {
  views: (ViewTransform | undefined)[][];
  trainReqs: EmbedRequest[];
  evalReqs: EmbedRequest[];
}

/** The views and embedding requests of a split (content hashes from the project, so the store is used). */
export async function planRequests(args: LearnArgs, src: RunSource, split: FewShotSplit): Promise<RunRequests> {
  const views = await trainingViews(
    split.train.map((t) => t.path),
    args.augViews,
    new Rng(args.seed).fork('views'),
  );
  const withHash = (path: string): EmbedRequest => {
    const sha256 = src.images.get(path)?.sha256;
    return sha256 ? { path, sha256 } : { path };
  };
  const trainReqs: EmbedRequest[] = split.train.flatMap((t, i) =>
    (views[i] ?? [undefined]).map((view) => (view ? { ...withHash(t.path), view } : withHash(t.path))),
  );
  const evalReqs: EmbedRequest[] = [...split.val, ...split.test].map((t) => withHash(t.path));
  return { views, trainReqs, evalReqs };
}

/** The prompt learner's options for a run. */
export function learnerOptionsOf(args: LearnArgs): PromptLearnerOptions {
  return {
    nCtx: args.nCtx,
    csc: args.csc,
    position: args.position,
    ...(args.ctxInit ? { ctxInit: args.ctxInit } : {}),
    seed: args.seed,
    path: args.path,
  };
}
