/**
 * @file Typed wrappers of the training calls and of the desktop-only operations (renderer).
 *
 * `learn` and `evaluate` (shared/contract/train.ts) with the argument type the Learn screen builds, and the
 * desktop-only operations, which go through the preload instead of the engine.
 */
import type { z } from 'zod';
import type { CallOptions } from '../../../shared/client';
import type {
  EvaluateResult,
  LearnProgress,
  LearnResult,
  evaluateArgs,
  learnArgs,
} from '../../../shared/contract/train';
import type {
  CompareProgress,
  CompareResult,
  PredictResult,
  compareArgs,
  predictArgs,
} from '../../../shared/contract/methods';
import type { Result } from '../../../shared/result';
import { engine } from './client';

/** Arguments of `learn` as a caller passes them. */
export type LearnArgs = z.input<typeof learnArgs>;

/** Starts CoOp prompt learning on a folder dataset. */
export function callLearn(args: LearnArgs, options: CallOptions<LearnProgress>): Promise<Result<LearnResult>> {
  return engine.call('learn', args, options);
}

/** Evaluates a saved context on a folder dataset next to the zero-shot prompt. */
export function callEvaluate(
  args: z.input<typeof evaluateArgs>,
  options: CallOptions<LearnProgress> = {},
): Promise<Result<EvaluateResult>> {
  return engine.call('evaluate', args, options);
}

/** Top-k classes of image files with a learned context or zero-shot prompts. */
export function callPredict(args: z.input<typeof predictArgs>): Promise<Result<PredictResult>> {
  return engine.call('predict', args);
}

/** Runs every chosen few-shot method side by side on a project or folder (a job with progress and cancellation). */
export function callCompare(
  args: z.input<typeof compareArgs>,
  options: CallOptions<CompareProgress>,
): Promise<Result<CompareResult>> {
  return engine.call('compare', args, options);
}

/** Calls a desktop-only operation (shared/contract/desktop.ts); undefined in web mode. */
export async function callDesktop<T>(op: string, args: unknown): Promise<Result<T> | undefined> {
  const api = window.coopStudio;
  if (!api) return undefined;
  return (await api.desktop(op, args)) as Result<T>;
}
