/**
 * @file Typed calls of engine operations the renderer needs but the merged contract may not list yet (renderer).
 *
 * [Note: loose ops] `learn` and `evaluate` are declared in shared/contract/train.ts but are only merged into the
 * contract once the CLIP runtime lands. Until then the UI calls them by name through the same client with the types of
 * their declarations; an engine without them answers `unknown_op`, which goes through `showError` like any failure.
 * Once they are merged these wrappers still type-check and can become plain `engine.call`s.
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
import type { Result } from '../../../shared/result';
import { engine } from './client';

interface LooseClient {
  call(name: string, args: unknown, options?: CallOptions<unknown>): Promise<Result<unknown>>;
}

const loose = engine as unknown as LooseClient;

/** Arguments of `learn` as a caller passes them. */
export type LearnArgs = z.input<typeof learnArgs>;

/** Starts CoOp prompt learning on a folder dataset. */
export function callLearn(args: LearnArgs, options: CallOptions<LearnProgress>): Promise<Result<LearnResult>> {
  return loose.call('learn', args, options as CallOptions<unknown>) as Promise<Result<LearnResult>>;
}

/** Evaluates a saved context on a folder dataset next to the zero-shot prompt. */
export function callEvaluate(
  args: z.input<typeof evaluateArgs>,
  options: CallOptions<LearnProgress> = {},
): Promise<Result<EvaluateResult>> {
  return loose.call('evaluate', args, options as CallOptions<unknown>) as Promise<Result<EvaluateResult>>;
}

/** Calls a desktop-only operation (shared/contract/desktop.ts); undefined in web mode. */
export async function callDesktop<T>(op: string, args: unknown): Promise<Result<T> | undefined> {
  const api = window.coopStudio;
  if (!api) return undefined;
  return (await api.desktop(op, args)) as Result<T>;
}
