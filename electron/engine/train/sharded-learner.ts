/**
 * @file A prompt learner whose classes are split across worker threads, one wasm backend per thread (engine worker,
 * plain Node: worker_threads and SharedArrayBuffer).
 *
 * [Note: sharded steps] tfjs-wasm runs single-threaded under Node (tfjs issue 3830), so one learner uses one core.
 * The classes are split into contiguous shards, one per thread; each thread holds its own copy of the frozen text
 * encoder and a PromptLearner over its classes. A step is:
 * 1. main -> each shard: the context (its slice when class-specific);
 * 2. each shard, inside its gradient tape, computes its class features, posts them, and blocks (Atomics.wait);
 * 3. main concatenates the [C, P] features, evaluates the real loss (any loss of the features: CoOp, KgCoOp) and
 *    its gradient dL/dfeatures, writes each shard's rows into that shard's shared buffer and wakes it;
 * 4. each shard finishes its tape with the surrogate sum(features * dL/dfeatures), whose gradient w.r.t. the context
 *    is exactly its classes' share of dL/dcontext, and posts it; main sums the shares (unified context) or
 *    concatenates them (class-specific).
 * No forward pass is repeated (the alternative, a features pass and then a second forward under the tape, costs
 * about 1.5x), and the shards compute in parallel. What is not parallel: with the shared prefix, every shard
 * computes the prefix [SOS][V]1..[V]M itself. Shares are summed in shard order, so a run is deterministic for a given
 * number of shards; 1 shard vs 2 differs only by float rounding (tests compare them).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { TokenTable } from './token-table';
import { MIN_CLASSES_PER_THREAD } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { ClipTextWeights } from '../onnx/clip-text-graph';
import { appRoot } from '../settings/paths';
import type { PromptLearner, PromptLearnerOptions } from './prompt-learner';
import { DF_ABORT, DF_READY, type ShardReply, type ShardRequest } from './shard-protocol';
import { splitsAcross } from './tensor-parallel';
import { wasmKernelsOn } from './text-encoder-wasm';
import type { TrainableLearner } from './trainer';

/** What the shards need to rebuild the learner: the encoder's weights, the tokenised texts, prompts and options. */
export interface ShardSource {
  weights: ClipTextWeights;
  tokens: TokenTable;
  prompts: string[];
  options: PromptLearnerOptions;
}

/** How shard threads share a step: each a range of classes, or each a slice of the encoder's heads. */
export type ShardMode = 'classes' | 'heads';

/** Most shard threads a run uses by default: each holds a copy of the text encoder's weights. */
export const MAX_DEFAULT_SHARDS = 4;

/**
 * Below this text-encoder width a step is too cheap to split: the thread hand-offs cost more than they save (the
 * demo model, width 64 and 2 layers, took 25 ms per step on one thread and 46 ms on two). Real CLIP text encoders
 * are 512 (ViT-B) or 768 (ViT-L) wide.
 */
export const MIN_SHARD_WIDTH = 256;

/**
 * [Note: threads that pay] Fewest classes per thread for the automatic choice ({@link MIN_CLASSES_PER_THREAD}). A step
 * costs a fixed part (the shared prefix, which every thread computes) plus a part per class, and threads that wait
 * for each other (the step's exchange of features) lose what the slowest one loses. Through tfjs ops the fixed part
 * was large (thousands of kernel calls a step, whatever the rows): 2 threads vs 1 on this 2-core machine, ViT-B/32
 * text encoder, unified context, were 0.90x at 10 classes, 1.25x at 20, so a thread needed 10 classes. On the wasm
 * kernels (see [Note: one op per encoder pass]) the fixed part is the prefix's 17 of 87 rows at 10 classes: in
 * `bench:train` the busiest of 2 threads split by classes spends 210 ms CPU a step vs 330 ms for one thread (1.57x;
 * 1.69x at 20 classes, 1.99x at 100). That is per-thread CPU time, measurable while other jobs load the machine;
 * the wall clock gains it only with free cores (under a load average of 13 it was 0.88x at 10 classes, 1.11x at 100,
 * and the tfjs-op path's 0.86x at 10 classes matched the 0.90x above), so the choice assumes a machine left to the
 * learn.
 */

/**
 * Shard threads for `classes` classes of a `width`-wide encoder: `requested` when positive, otherwise one per core
 * (at most {@link MAX_DEFAULT_SHARDS}) when the encoder is at least {@link MIN_SHARD_WIDTH} wide and, split by classes,
 * every thread gets at least {@link MIN_CLASSES_PER_THREAD} classes. Split by classes, never more threads than classes.
 */
export function defaultShardCount(
  classes: number,
  width: number,
  requested?: number,
  cores = availableParallelism(),
  split: ShardMode = 'classes',
): number {
  const perCore = width >= MIN_SHARD_WIDTH ? Math.min(cores, MAX_DEFAULT_SHARDS) : 1;
  if (split === 'heads') return Math.max(1, requested && requested > 0 ? requested : perCore);
  const n = requested && requested > 0 ? requested : Math.min(perCore, Math.floor(classes / MIN_CLASSES_PER_THREAD));
  return Math.max(1, Math.min(n, classes));
}

/** The bundled shard thread entry (built by scripts/build.mjs). */
export function shardWorkerPath(): string {
  return join(appRoot(), 'dist', 'train-shard-worker.js');
}

class Shard {
  private readonly waiters: { resolve(m: ShardReply): void; reject(e: Error): void }[] = [];
  private failure: Error | null = null;
  readonly flag: Int32Array;
  readonly dF: Float32Array;

  constructor(
    readonly worker: Worker,
    readonly c0: number,
    readonly c1: number,
    projection: number,
  ) {
    this.flag = new Int32Array(new SharedArrayBuffer(4));
    this.dF = new Float32Array(new SharedArrayBuffer((c1 - c0) * projection * 4));
    worker.on('message', (m: ShardReply) => {
      const w = this.waiters.shift();
      if (!w) return;
      if (m.type === 'error') w.reject(new AppError('internal', `A training thread failed: ${m.message}`));
      else w.resolve(m);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const w of this.waiters.splice(0)) w.reject(e);
    };
    worker.on('error', (e) => fail(new AppError('internal', `A training thread crashed: ${e.message}`)));
    worker.on('exit', (code) => fail(new AppError('internal', `A training thread exited (code ${code}).`)));
  }

  send(m: ShardRequest): void {
    this.worker.postMessage(m);
  }

  /** The next reply, which must be of type `type`. */
  next<T extends ShardReply['type']>(type: T): Promise<Extract<ShardReply, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) =>
      this.waiters.push({
        resolve: (m) =>
          m.type === type
            ? resolve(m as Extract<ShardReply, { type: T }>)
            : reject(new AppError('internal', `A training thread replied ${m.type}, expected ${type}.`)),
        reject,
      }),
    );
  }

  /** Hands the shard its dL/dfeatures rows (or tells it to abandon the step). */
  release(rows: Float32Array | null): void {
    if (rows) this.dF.set(rows);
    Atomics.store(this.flag, 0, rows ? DF_READY : DF_ABORT);
    Atomics.notify(this.flag, 0);
  }
}

/**
 * A `TrainableLearner` over shard threads (see [Note: sharded steps]). The context variable is the local learner's:
 * the SGD update, the saved file and the nearest words work on it as before.
 */
export class ShardedLearner implements TrainableLearner {
  readonly ctx: tf.Variable;

  private constructor(
    private readonly local: PromptLearner,
    private readonly shards: Shard[],
    private readonly projection: number,
    /** How the threads share the work: by classes, or by heads (see [Note: head-parallel steps]). */
    readonly mode: ShardMode,
  ) {
    this.ctx = local.ctx;
  }

  /** Number of shard threads. */
  get threads(): number {
    return this.shards.length;
  }

  /**
   * Starts `threads` shard threads and resolves when all are ready: over contiguous class ranges of `local`'s
   * classes (`classes`), or each with all classes and a slice of the heads (`heads`; the optimised path only).
   */
  static async start(
    local: PromptLearner,
    source: ShardSource,
    threads: number,
    mode: ShardMode = 'classes',
  ): Promise<ShardedLearner> {
    const C = local.nClasses;
    const n = Math.max(1, mode === 'classes' ? Math.min(threads, C) : threads);
    const P = source.weights.projectionDim;
    if (mode === 'heads' && !splitsAcross(source.weights, n))
      throw new AppError(
        'bad_args',
        `The text encoder's ${source.weights.heads} heads do not split across ${n} threads.`,
      );
    // Every thread chunks as the local learner does; head-parallel all-reduces carry at most one chunk of whole
    // prompts: [(1 + chunk) * contextLength, width].
    const options = { ...source.options, chunkSize: local.chunkSize };
    const slotSize = (1 + Math.min(C, local.chunkSize)) * source.weights.contextLength;
    const control = new SharedArrayBuffer(8);
    const slots = new SharedArrayBuffer(mode === 'heads' ? n * slotSize * source.weights.width * 4 : 0);
    const shards: Shard[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const [c0, c1] = mode === 'classes' ? [Math.floor((i * C) / n), Math.floor(((i + 1) * C) / n)] : [0, C];
        const shard = new Shard(new Worker(shardWorkerPath()), c0, c1, P);
        shards.push(shard);
        shard.send({
          type: 'init',
          weights: source.weights,
          tokens: source.tokens,
          prompts: source.prompts.slice(c0, c1),
          options,
          kernels: wasmKernelsOn(),
          signal: shard.flag.buffer as SharedArrayBuffer,
          dF: shard.dF.buffer as SharedArrayBuffer,
          ...(mode === 'heads'
            ? { heads: { rank: i, ranks: n, control, slots, slotSize: slotSize * source.weights.width } }
            : {}),
        });
      }
      await Promise.all(shards.map((s) => s.next('ready')));
    } catch (e) {
      await Promise.all(shards.map((s) => s.worker.terminate()));
      throw e;
    }
    return new ShardedLearner(local, shards, P, mode);
  }

  private async contexts(): Promise<Float32Array[]> {
    const all = (await this.ctx.data()) as Float32Array;
    if (this.ctx.shape.length === 2) return this.shards.map(() => Float32Array.from(all));
    const per = all.length / this.local.nClasses;
    return this.shards.map((s) => all.slice(s.c0 * per, s.c1 * per));
  }

  private async gatherFeatures(pending: Promise<{ data: Float32Array }>[]): Promise<Float32Array> {
    const parts = await Promise.all(pending);
    const out = new Float32Array(this.local.nClasses * this.projection);
    parts.forEach((p, i) => out.set(p.data, (this.shards[i] as Shard).c0 * this.projection));
    return out;
  }

  /** Raw class text features [C, P] at the current context, computed by the shards. */
  async features(): Promise<tf.Tensor2D> {
    const ctxs = await this.contexts();
    this.shards.forEach((s, i) => s.send({ type: 'features', ctx: ctxs[i] as Float32Array }));
    const pending = this.shards.map((s) => s.next('features'));
    return tf.tensor2d(await this.gatherFeatures(pending), [this.local.nClasses, this.projection]);
  }

  /** Loss and d loss / d ctx for a loss of the [C, P] features (see [Note: sharded steps]); the caller disposes `grad`. */
  async step(lossOfFeatures: (features: tf.Tensor2D) => tf.Scalar): Promise<{ loss: number; grad: tf.Tensor }> {
    const ctxs = await this.contexts();
    this.shards.forEach((s, i) => s.send({ type: 'step', ctx: ctxs[i] as Float32Array }));
    // Replies are matched to waiters in order: each shard answers `features`, then `grad`.
    const features = this.shards.map((s) => s.next('features'));
    const grads = this.shards.map((s) => s.next('grad'));
    grads.forEach((g) => g.catch(() => undefined)); // awaited below; a step abandoned here must not leave a rejection
    let loss: number;
    let dF: Float32Array;
    try {
      const feats = tf.tensor2d(await this.gatherFeatures(features), [this.local.nClasses, this.projection]);
      const { value, grad } = tf.tidy(() => {
        try {
          return tf.valueAndGrad((f: tf.Tensor2D) => lossOfFeatures(f))(feats);
        } finally {
          feats.dispose();
        }
      });
      loss = (value.dataSync()[0] as number) ?? NaN;
      dF = grad.dataSync() as Float32Array;
      tf.dispose([value, grad]);
    } catch (e) {
      // A failed step leaves shard replies out of step with their waiters: the shards cannot be used again.
      for (const s of this.shards) s.release(null);
      await this.close();
      throw e;
    }
    for (const s of this.shards) s.release(dF.subarray(s.c0 * this.projection, s.c1 * this.projection));
    const all = (
      await Promise.all(grads).catch(async (e: unknown) => {
        await this.close();
        throw e;
      })
    ).map((g) => g.data);
    // Head-parallel ranks all end with the same, full gradient (see [Note: head-parallel steps]).
    const shares = this.mode === 'heads' ? all.slice(0, 1) : all;
    if (this.ctx.shape.length === 2) {
      const sum = Float32Array.from(shares[0] as Float32Array);
      for (const share of shares.slice(1))
        for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (share[i] as number);
      return { loss, grad: tf.tensor(sum, this.ctx.shape) };
    }
    const out = new Float32Array(this.ctx.size);
    const per = this.ctx.size / this.local.nClasses;
    shares.forEach((share, i) => out.set(share, (this.shards[i] as Shard).c0 * per));
    return { loss, grad: tf.tensor(out, this.ctx.shape) };
  }

  /** Stops the shard threads (the local learner, which owns the context, is the caller's to dispose). */
  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }
}
