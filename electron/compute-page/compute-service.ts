/**
 * @file The compute window's side of [Note: compute window protocol]: answers `probe` and runs `train` jobs (hidden
 * compute window's page; imports only tfjs-core and the browser-safe trainer modules, so tests run it in Node).
 */
import * as tf from '@tensorflow/tfjs-core';
import { servePeer, type EngineMessage, type PeerCall } from '../../shared/protocol';
import { AppError, toAppError } from '../../shared/result';
import { PromptLearner } from '../engine/train/prompt-learner';
import { createTextEncoder } from '../engine/train/text-encoder-core';
import { tokenTableTokenizer } from '../engine/train/token-table';
import { trainCoop } from '../engine/train/trainer';
import type { ComputeProbe, ComputeTrainArgs, ComputeTrainResult } from '../engine/backends/compute-protocol';

/** What the page provides: its GPU probe and a way to switch tfjs backends. */
export interface ComputeEnv {
  probe(): Promise<ComputeProbe>;
  /** Activates a tfjs backend and returns its name; throws when it cannot be initialised. */
  activate(backend: string): Promise<string>;
}

function checkTrainArgs(raw: unknown): ComputeTrainArgs {
  const a = raw as Partial<ComputeTrainArgs> | null;
  const problems = [
    typeof a?.backend !== 'string' && 'backend',
    (typeof a?.weights !== 'object' || !(a.weights?.tokenEmbedding instanceof Float32Array)) && 'weights',
    !Array.isArray(a?.tokens?.encodings) && 'tokens',
    (!Array.isArray(a?.prompts) || a.prompts.length === 0) && 'prompts',
    typeof a?.learner?.nCtx !== 'number' && 'learner',
    !(a?.initCtx instanceof Float32Array) && 'initCtx',
    (!Array.isArray(a?.data?.train) || typeof a.data.dim !== 'number') && 'data',
    typeof a?.options?.epochs !== 'number' && 'options',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length) throw new AppError('bad_args', `Invalid train arguments: ${problems.join(', ')}.`);
  return a as ComputeTrainArgs;
}

async function train(
  env: ComputeEnv,
  raw: unknown,
  signal: AbortSignal,
  progress: (e: unknown) => void,
): Promise<ComputeTrainResult> {
  const args = checkTrainArgs(raw);
  const backend = await env.activate(args.backend);
  const encoder = createTextEncoder(args.weights);
  let learner: PromptLearner | null = null;
  try {
    learner = new PromptLearner(encoder, tokenTableTokenizer(args.tokens), args.prompts, args.learner);
    const ctxVar = learner.ctx;
    if (ctxVar.size !== args.initCtx.length)
      throw new AppError('bad_args', `The initial context has ${args.initCtx.length} values; expected ${ctxVar.size}.`);
    tf.tidy(() => ctxVar.assign(tf.tensor(args.initCtx, ctxVar.shape)));
    const result = await trainCoop(args.data, learner, { ...args.options, backend, signal, onProgress: progress });
    const ctx = Float32Array.from((await ctxVar.data()) as Float32Array);
    return { result, ctx, shape: [...ctxVar.shape], backend };
  } finally {
    learner?.dispose();
    encoder.dispose();
  }
}

/**
 * Returns the function to feed with the engine's protocol messages; answers go through `post`. Training jobs run one
 * at a time (they would only compete for the same GPU); `probe` answers at once.
 */
export function createComputeService(env: ComputeEnv, post: (m: EngineMessage) => void): (message: unknown) => void {
  let queue: Promise<unknown> = Promise.resolve();
  const run = async (m: PeerCall, signal: AbortSignal, progress: (e: unknown) => void): Promise<unknown> => {
    if (m.op === 'probe') return env.probe();
    if (m.op === 'train') {
      const previous = queue;
      let release = () => {};
      queue = new Promise<void>((r) => (release = r));
      try {
        await previous;
        if (signal.aborted) throw new AppError('cancelled', 'The job was cancelled.');
        return await train(env, m.args, signal, progress);
      } finally {
        release();
      }
    }
    throw new AppError('unknown_op', `The compute window has no operation "${m.op}".`);
  };
  return servePeer(post, (m, signal, onProgress) =>
    run(m, signal, onProgress ?? (() => {})).then(
      (value) => ({ ok: true, value }),
      (e: unknown) => ({ ok: false, error: toAppError(e) }),
    ),
  );
}
