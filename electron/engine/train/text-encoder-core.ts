/**
 * @file The frozen CLIP text encoder as tfjs tensors, and its plain reference forward pass (engine worker or browser;
 * imports only @tensorflow/tfjs-core).
 *
 * [Note: plain reference path] `plainForward` is the textbook computation, written to be obviously right: separate
 * q/k/v projections, heads split with reshape + transpose, a full causal mask, the final LayerNorm over every token,
 * then the EOT row and the projection. The optimised path (text-encoder-fast.ts) must agree with it; tests compare
 * both features and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipTextWeights, LayerNormWeights, LinearWeights } from '../onnx/clip-text-graph';
import type { AllReduce } from './tensor-parallel';

/** A linear layer as tensors: weight [in, out], bias [out], and (fast path) the transposed weight [out, in]. */
export interface TfLinear {
  w: tf.Tensor2D;
  b: tf.Tensor1D;
  wT?: tf.Tensor2D;
}

/** A layer norm as tensors. */
export interface TfLayerNorm {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  eps: number;
}

/** One transformer layer; `qkv` is q (pre-scaled by 1/sqrt(d)), k and v fused column-wise ([W, 3W]) for the fast path. */
export interface TfTextLayer {
  ln1: TfLayerNorm;
  q: TfLinear;
  k: TfLinear;
  v: TfLinear;
  qkv: TfLinear;
  out: TfLinear;
  ln2: TfLayerNorm;
  fc1: TfLinear;
  fc2: TfLinear;
}

/** The frozen text encoder (pinned interface shared with the trainer). */
export interface TfTextEncoder {
  width: number;
  heads: number;
  layers: number;
  contextLength: number;
  projectionDim: number;
  vocabSize: number;
  tokenEmbedding: tf.Tensor2D;
  positionalEmbedding: tf.Tensor2D;
  layerWeights: TfTextLayer[];
  finalLn: TfLayerNorm;
  projection: TfLinear;
  activation: 'quick_gelu' | 'gelu';
  /** Set on one rank of a head-parallel encoder (see [Note: head-parallel steps]); the fast path only. */
  allReduce?: AllReduce;
  /** Data derived from the weights on first use (the wasm kernels' packed weights), freed by `dispose`. */
  derived: Map<string, { dispose(): void }>;
  dispose(): void;
}

function linear(l: LinearWeights): TfLinear {
  return { w: tf.tensor2d(l.w, [l.inDim, l.outDim]), b: tf.tensor1d(l.b) };
}

function layerNormT(l: LayerNormWeights): TfLayerNorm {
  return { gamma: tf.tensor1d(l.gamma), beta: tf.tensor1d(l.beta), eps: l.eps };
}

/**
 * Uploads extracted weights as tfjs tensors (kept until `dispose`). With `allReduce`, `wts` is one rank's slice
 * (`sliceForRank`) and the fast path sums the split layers across the ranks.
 */
export function createTextEncoder(wts: ClipTextWeights, opts: { allReduce?: AllReduce } = {}): TfTextEncoder {
  const tensors: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    tensors.push(t);
    return t;
  };
  const lin = (l: LinearWeights): TfLinear => {
    const t = linear(l);
    keep(t.w);
    keep(t.b);
    return t;
  };
  const ln = (l: LayerNormWeights): TfLayerNorm => {
    const t = layerNormT(l);
    keep(t.gamma);
    keep(t.beta);
    return t;
  };
  // [Note: frozen linear backward] tfjs-wasm runs only plain 2-D matmuls (no transpose flag, batch 1) through XNNPACK;
  // `matMul(dy, w, false, true)`, which the stock gradient uses for dx, takes a generic loop about 15x slower. The
  // fast path therefore keeps each weight also transposed and uses a custom gradient dx = dy @ wT (see fastLinear).
  // On wasm the kernel path (text-encoder-wasm.ts) runs instead and never needs the transposes, so there they are
  // made on first use only (151 MB saved for a ViT-B text encoder); elsewhere they are made now, with the encoder.
  const lazyT = tf.getBackend() === 'wasm';
  const withT = (l: TfLinear): TfLinear => {
    let wT: tf.Tensor2D | undefined = lazyT ? undefined : keep(tf.transpose(l.w));
    return Object.defineProperty({ ...l }, 'wT', {
      enumerable: true,
      get: () => (wT ??= keep(tf.keep(tf.transpose(l.w)))),
    });
  };
  const layerWeights = wts.layers.map((l) => {
    const q = lin(l.q);
    const k = lin(l.k);
    const v = lin(l.v);
    // The attention scale 1/sqrt(d) is folded into the fused q columns (see [Note: other savings]).
    const scale = 1 / Math.sqrt(wts.width / wts.heads);
    const qkv = tf.tidy(() => ({
      w: keep(tf.concat([tf.mul(q.w, scale), k.w, v.w], 1) as tf.Tensor2D),
      b: keep(tf.concat([tf.mul(q.b, scale), k.b, v.b], 0) as tf.Tensor1D),
    }));
    return {
      ln1: ln(l.ln1),
      q,
      k,
      v,
      qkv: withT(qkv),
      out: withT(lin(l.out)),
      ln2: ln(l.ln2),
      fc1: withT(lin(l.fc1)),
      fc2: withT(lin(l.fc2)),
    };
  });
  const derived = new Map<string, { dispose(): void }>();
  return {
    width: wts.width,
    heads: wts.heads,
    layers: wts.layers.length,
    contextLength: wts.contextLength,
    projectionDim: wts.projectionDim,
    vocabSize: wts.vocabSize,
    activation: wts.activation,
    tokenEmbedding: keep(tf.tensor2d(wts.tokenEmbedding, [wts.vocabSize, wts.width])),
    positionalEmbedding: keep(tf.tensor2d(wts.positionalEmbedding, [wts.contextLength, wts.width])),
    layerWeights,
    finalLn: ln(wts.finalLn),
    projection: withT(lin(wts.projection)),
    ...(opts.allReduce ? { allReduce: opts.allReduce } : {}),
    derived,
    dispose: () => {
      for (const t of tensors) t.dispose();
      tensors.length = 0;
      for (const d of derived.values()) d.dispose();
      derived.clear();
    },
  };
}

/** LayerNorm over the last axis. */
export function layerNorm<T extends tf.Tensor>(x: T, ln: TfLayerNorm): T {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, ln.eps))), ln.gamma), ln.beta) as T;
}

/** The MLP activation: CLIP's quick GELU (x * sigmoid(1.702 x)) or exact GELU. */
export function activate<T extends tf.Tensor>(x: T, kind: TfTextEncoder['activation']): T {
  if (kind === 'quick_gelu') return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))) as T;
  // Exact GELU via erf (tfjs-core has erf with a gradient).
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
}

/** x @ w + b over the last axis of any-rank x. */
export function applyLinear(x: tf.Tensor, l: TfLinear): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1] ?? 0;
  const out2d = tf.add(tf.matMul(tf.reshape(x, [-1, inDim]), l.w), l.b);
  return tf.reshape(out2d, [...shape.slice(0, -1), l.w.shape[1]]);
}

/**
 * x2d [N, in] @ w + b with a custom gradient for x only (dx = dy @ wT: a plain 2-D matmul, the fast kernel), since
 * the weights are frozen. Falls back to applyLinear when the layer has no transposed weight.
 */
export function fastLinear(x: tf.Tensor, l: TfLinear): tf.Tensor2D {
  const wT = l.wT;
  if (!wT) return applyLinear(x, l) as tf.Tensor2D;
  const x2d = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, l.w.shape[0]]);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.fused.matMul({ a: args[0] as tf.Tensor2D, b: l.w, bias: l.b }),
    gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wT),
  }));
  return f(x2d) as tf.Tensor2D;
}

/** A [L, L] additive causal mask (0 on and below the diagonal, -1e9 above). */
export function causalMask(len: number): tf.Tensor2D {
  return tf.tidy(() => {
    const r = tf.range(0, len, 1, 'int32');
    const above = tf.greater(tf.reshape(r, [1, len]), tf.reshape(r, [len, 1]));
    return tf.where(above, tf.fill([len, len], -1e9), tf.zeros([len, len])) as tf.Tensor2D;
  });
}

/**
 * The reference forward pass: token embeddings `x` [B, L, W] (positions not yet added) -> projected features at
 * `eot` [B] (row indices) -> [B, P].
 */
export function plainForward(enc: TfTextEncoder, x: tf.Tensor3D, eot: number[]): tf.Tensor2D {
  const [B = 0, L = 0, W = 0] = x.shape;
  const H = enc.heads;
  const D = W / H;
  const mask = causalMask(L);
  let h: tf.Tensor = tf.add(x, tf.slice(enc.positionalEmbedding, [0, 0], [L, W]));
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, L, H, D]), [0, 2, 1, 3]);
  for (const lw of enc.layerWeights) {
    const a = layerNorm(h, lw.ln1);
    const q = heads(applyLinear(a, lw.q));
    const k = heads(applyLinear(a, lw.k));
    const v = heads(applyLinear(a, lw.v));
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), mask);
    const attn = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [B, L, W]);
    h = tf.add(h, applyLinear(attn, lw.out));
    const m = layerNorm(h, lw.ln2);
    h = tf.add(h, applyLinear(activate(applyLinear(m, lw.fc1), enc.activation), lw.fc2));
  }
  const normed = layerNorm(h, enc.finalLn);
  return applyLinear(pickRows(normed, eot), enc.projection) as tf.Tensor2D;
}

/**
 * Row `rows[b]` of each sequence of `x` [B, L, W] -> [B, W].
 *
 * [Note: differentiable row pick] `tf.gather`'s gradient needs the UnsortedSegmentSum kernel, which the wasm backend
 * lacks, so rows are picked with a one-hot mask and a sum over the sequence axis (cost B*L*W, negligible).
 */
export function pickRows(x: tf.Tensor, rows: number[]): tf.Tensor2D {
  const [B = 0, L = 0] = x.shape;
  const hot = tf.oneHot(tf.tensor1d(rows, 'int32'), L);
  return tf.sum(tf.mul(x, tf.reshape(hot, [B, L, 1])), 1) as tf.Tensor2D;
}
