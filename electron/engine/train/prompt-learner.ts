/**
 * @file CoOp's prompt learner: learnable context vectors spliced around the class-name tokens and run through the
 * frozen text encoder (engine worker or browser; imports only @tensorflow/tfjs-core).
 *
 * [Note: prompt layout] As in KaiyangZhou/CoOp's PromptLearner, each class prompt is the tokenisation of
 * "X X ... X {name}." with the X embeddings replaced by the context: prefix = [SOS], then (position `end`)
 * [V]1..[V]M, the name tokens, "." and [EOS]; `middle` puts half the context (M // 2) before the name and the rest
 * after it; `front` puts the name first. Features are taken at the EOS, which is the argmax of the token ids. A name
 * too long for the context length is truncated (the "." and EOS are kept).
 *
 * [Note: chunked gradients] `step` receives the loss as a function of all [C, P] class features. With one chunk it
 * is a single forward + backward. With more, the features of all chunks are computed without a tape, dL/dfeatures is
 * taken once, and each chunk is run again under a tape for its vector-Jacobian product sum(features_c * dL/df_c),
 * whose gradient w.r.t. the context is accumulated. Memory is then bounded by one chunk's activations.
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered by a side-effect module of tfjs-core (the core package alone has none).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { plainForward, type TfTextEncoder } from './text-encoder-core';
import { fastForward } from './text-encoder-fast';
import { kernelChunkSize, wasmPathFor } from './text-encoder-wasm';

/** The tokenizer surface the learner needs (engineer A's ClipTokenizer satisfies it). */
export interface PromptTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  encode(text: string): number[];
  idToToken(id: number): string;
}

/** Options of the prompt learner (pinned interface shared with the trainer). */
export interface PromptLearnerOptions {
  nCtx: number;
  csc: boolean;
  position: 'end' | 'middle' | 'front';
  ctxInit?: string;
  seed: number;
  path?: 'optimised' | 'plain';
  chunkSize?: number;
}

interface ClassTokens {
  /** Name token ids (possibly truncated). */
  name: number[];
  /** Token ids after the name: "." and EOS. */
  tail: number[];
}

/** The default number of classes per chunk: bounds activation memory for many classes. */
export const DEFAULT_CHUNK_SIZE = 64;

/** CoOp's learnable prompt context over a frozen text encoder. */
export class PromptLearner {
  /** [M, W] (unified) or [C, M, W] (class-specific). */
  readonly ctx: tf.Variable;
  /** Number of context vectors M. */
  readonly nCtx: number;
  /** Number of classes C. */
  readonly nClasses: number;
  private readonly opts: Required<Omit<PromptLearnerOptions, 'ctxInit'>> & { ctxInit?: string };
  private readonly classes: ClassTokens[];
  private readonly sos: tf.Tensor2D;
  private readonly nameEmb: tf.Tensor2D[];
  private readonly tailEmb: tf.Tensor2D[];
  private readonly owned: tf.Tensor[] = [];

  constructor(
    private readonly encoder: TfTextEncoder,
    private readonly tokenizer: PromptTokenizer,
    classPrompts: string[],
    opts: PromptLearnerOptions,
  ) {
    if (classPrompts.length === 0) throw new Error('The prompt learner needs at least one class.');
    const content = (text: string) =>
      tokenizer.encode(text).filter((id) => id !== tokenizer.sotId && id !== tokenizer.eotId);
    const initIds = opts.ctxInit?.trim() ? content(opts.ctxInit.trim()) : null;
    const nCtx = initIds ? initIds.length : opts.nCtx;
    if (nCtx < 1) throw new Error('The context needs at least one vector.');
    this.nCtx = nCtx;
    this.nClasses = classPrompts.length;
    const room = encoder.contextLength - 2 - nCtx; // SOS and EOS
    const dot = content('.');
    this.classes = classPrompts.map((p) => {
      const name = content(p.trim()).slice(0, Math.max(0, room - dot.length));
      return { name, tail: [...dot, tokenizer.eotId] };
    });
    const path = opts.path ?? 'optimised';
    this.opts = { ...opts, nCtx, path, chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE };
    if (opts.chunkSize === undefined && path === 'optimised' && wasmPathFor(encoder)) {
      // The kernel path keeps far less per token than tfjs' tape: its chunks are sized by memory (see [Note: kernel
      // chunks]); behind the shared prefix a class adds its suffix's rows, otherwise its whole prompt's.
      const longest = this.classes.reduce((n, c) => Math.max(n, c.name.length + c.tail.length), 0);
      const prefix = this.sharesPrefix ? 1 + nCtx : 0;
      this.opts.chunkSize = kernelChunkSize(encoder, prefix ? longest : 1 + nCtx + longest, prefix);
    }
    const keep = <T extends tf.Tensor>(t: T): T => {
      this.owned.push(t);
      return t;
    };
    const embed = (ids: number[]) =>
      keep(tf.tidy(() => tf.gather(encoder.tokenEmbedding, tf.tensor1d(ids, 'int32')) as tf.Tensor2D));
    this.sos = embed([tokenizer.sotId]);
    this.nameEmb = this.classes.map((c) => (c.name.length ? embed(c.name) : keep(tf.zeros([0, encoder.width]))));
    this.tailEmb = this.classes.map((c) => embed(c.tail));
    const shape = opts.csc ? [this.nClasses, nCtx, encoder.width] : [nCtx, encoder.width];
    const init = tf.tidy(() => {
      if (initIds) {
        const e = tf.gather(encoder.tokenEmbedding, tf.tensor1d(initIds, 'int32'));
        return opts.csc ? tf.tile(tf.expandDims(e, 0), [this.nClasses, 1, 1]) : e;
      }
      return tf.randomNormal(shape, 0, 0.02, 'float32', opts.seed);
    });
    this.ctx = tf.variable(init, true);
    init.dispose();
  }

  /** Classes per chunk of a step (see [Note: chunked gradients]). */
  get chunkSize(): number {
    return this.opts.chunkSize;
  }

  /** Whether the fast shared-prefix path applies (unified context, class name at the end). */
  get sharesPrefix(): boolean {
    return this.opts.path === 'optimised' && !this.opts.csc && this.opts.position === 'end';
  }

  /** Context vectors of class c as [M, W] (ctx is passed explicitly so gradients can be taken w.r.t. it). */
  private ctxOf(ctx: tf.Tensor, c: number, c0: number): tf.Tensor2D {
    if (!this.opts.csc) return ctx as tf.Tensor2D;
    return tf.reshape(tf.slice(ctx, [c - c0, 0, 0], [1, this.nCtx, this.encoder.width]), [
      this.nCtx,
      this.encoder.width,
    ]);
  }

  /** Token embeddings [n, L, W] and EOS rows of classes [c0, c1); `ctx` holds the context of those classes. */
  private fullSequences(ctx: tf.Tensor, c0: number, c1: number): { x: tf.Tensor3D; eot: number[] } {
    const W = this.encoder.width;
    const half = Math.floor(this.nCtx / 2);
    const rows: tf.Tensor2D[] = [];
    const eot: number[] = [];
    let L = 0;
    for (let c = c0; c < c1; c++) {
      const cx = this.ctxOf(ctx, c, c0);
      const name = this.nameEmb[c] as tf.Tensor2D;
      const tail = this.tailEmb[c] as tf.Tensor2D;
      let pieces: tf.Tensor2D[];
      if (this.opts.position === 'end') pieces = [this.sos, cx, name, tail];
      else if (this.opts.position === 'front') pieces = [this.sos, name, cx, tail];
      else {
        const a = tf.slice(cx, [0, 0], [half, W]);
        const b = tf.slice(cx, [half, 0], [this.nCtx - half, W]);
        pieces = [this.sos, a, name, b, tail];
      }
      const row = tf.concat(pieces, 0);
      rows.push(row);
      eot.push(row.shape[0] - 1);
      L = Math.max(L, row.shape[0]);
    }
    // Pad after the EOS (causal mask: padding never reaches the EOS row).
    const padded = rows.map((r) =>
      r.shape[0] < L
        ? tf.pad(r, [
            [0, L - r.shape[0]],
            [0, 0],
          ])
        : r,
    );
    return { x: tf.stack(padded) as tf.Tensor3D, eot };
  }

  /** Suffixes [n, S, W] (name, ".", EOS) of classes [c0, c1) and their EOS rows, for the shared-prefix path. */
  private suffixes(c0: number, c1: number): { x: tf.Tensor3D; eot: number[] } {
    const rows: tf.Tensor2D[] = [];
    const eot: number[] = [];
    for (let c = c0; c < c1; c++) {
      const row = tf.concat([this.nameEmb[c] as tf.Tensor2D, this.tailEmb[c] as tf.Tensor2D], 0);
      rows.push(row);
      eot.push(row.shape[0] - 1);
    }
    const S = Math.max(...rows.map((r) => r.shape[0]));
    const padded = rows.map((r) =>
      r.shape[0] < S
        ? tf.pad(r, [
            [0, S - r.shape[0]],
            [0, 0],
          ])
        : r,
    );
    return { x: tf.stack(padded) as tf.Tensor3D, eot };
  }

  /** Features [c1 - c0, P] of classes [c0, c1) given their context (not tidied: call inside tidy/grad). */
  private chunkFeatures(ctx: tf.Tensor, c0: number, c1: number): tf.Tensor2D {
    if (this.sharesPrefix) {
      const prefix = tf.concat([this.sos, ctx as tf.Tensor2D], 0);
      const { x, eot } = this.suffixes(c0, c1);
      return fastForward(this.encoder, prefix, x, eot, { constantSuffix: true });
    }
    const { x, eot } = this.fullSequences(ctx, c0, c1);
    if (this.opts.path === 'plain') return plainForward(this.encoder, x, eot);
    return fastForward(this.encoder, null, x, eot);
  }

  private chunks(): [number, number][] {
    const size = Math.max(1, this.opts.chunkSize);
    const out: [number, number][] = [];
    for (let c0 = 0; c0 < this.nClasses; c0 += size) out.push([c0, Math.min(this.nClasses, c0 + size)]);
    return out;
  }

  private ctxChunk(ctx: tf.Tensor, c0: number, c1: number): tf.Tensor {
    if (!this.opts.csc) return ctx;
    return tf.slice(ctx, [c0, 0, 0], [c1 - c0, this.nCtx, this.encoder.width]);
  }

  /**
   * Raw (unnormalised) class text features [C, P], without gradient. Each chunk runs in its own tidy, so only one
   * chunk's activations are alive at a time (one tidy around all chunks kept every chunk's intermediates until the
   * end: 1.5 GiB for 100 classes at width 512, and an out-of-memory abort of the wasm heap at 1000).
   */
  features(): tf.Tensor2D {
    const parts = this.chunks().map(([c0, c1]) =>
      tf.tidy(() => this.chunkFeatures(this.ctxChunk(this.ctx, c0, c1), c0, c1)),
    );
    if (parts.length === 1) return parts[0] as tf.Tensor2D;
    const all = tf.concat(parts, 0);
    tf.dispose(parts);
    return all;
  }

  /** Loss and d loss / d ctx for a loss of the [C, P] features; the caller disposes `grad`. */
  async step(lossOfFeatures: (features: tf.Tensor2D) => tf.Scalar): Promise<{ loss: number; grad: tf.Tensor }> {
    const chunks = this.chunks();
    if (chunks.length === 1) {
      const { value, grad } = tf.tidy(() =>
        tf.valueAndGrad((ctx: tf.Tensor) => lossOfFeatures(this.chunkFeatures(ctx, 0, this.nClasses)))(this.ctx),
      );
      const loss = (await value.data())[0] ?? NaN;
      value.dispose();
      return { loss, grad };
    }
    const feats = this.features();
    const { value, grad: dF } = tf.tidy(() => tf.valueAndGrad((f: tf.Tensor2D) => lossOfFeatures(f))(feats));
    feats.dispose();
    let total: tf.Tensor = tf.zerosLike(this.ctx);
    for (const [c0, c1] of chunks) {
      const next = tf.tidy(() => {
        const dFc = tf.slice(dF, [c0, 0], [c1 - c0, dF.shape[1] ?? 0]);
        const g = tf.grad((ctx: tf.Tensor) =>
          tf.sum(tf.mul(this.chunkFeatures(this.ctxChunk(ctx, c0, c1), c0, c1), dFc)),
        )(this.ctx);
        return tf.add(total, g);
      });
      total.dispose();
      total = next;
      await Promise.resolve();
    }
    dF.dispose();
    const loss = (await value.data())[0] ?? NaN;
    value.dispose();
    return { loss, grad: total };
  }

  /** For each context vector, the k vocabulary tokens nearest in Euclidean distance. */
  nearestTokens(k: number): { position: number; tokens: { token: string; id: number; distance: number }[] }[] {
    const { values, indices } = tf.tidy(() => {
      const c = tf.reshape(this.ctx, [-1, this.encoder.width]);
      const e = this.encoder.tokenEmbedding;
      const d2 = tf.add(
        tf.sub(tf.sum(tf.square(c), 1, true), tf.mul(tf.matMul(c, e, false, true), 2)),
        tf.reshape(tf.sum(tf.square(e), 1), [1, -1]),
      );
      return tf.topk(tf.neg(d2), Math.min(k, this.encoder.vocabSize));
    });
    const v = values.arraySync() as number[][];
    const ix = indices.arraySync() as number[][];
    values.dispose();
    indices.dispose();
    return ix.map((row, position) => ({
      position,
      tokens: row.map((id, j) => ({
        id,
        token: this.tokenizer.idToToken(id),
        distance: Math.sqrt(Math.max(0, -(v[position]?.[j] ?? 0))),
      })),
    }));
  }

  /** Frees the context variable and the cached embeddings. */
  dispose(): void {
    this.ctx.dispose();
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}
