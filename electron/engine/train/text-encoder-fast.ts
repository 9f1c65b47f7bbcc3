/**
 * @file The optimised forward pass of the frozen CLIP text encoder for prompt learning (engine worker or browser;
 * imports only @tensorflow/tfjs-core). Gradients come from tfjs autodiff over these ops.
 *
 * [Note: shared-prefix attention] With a unified context and the class name at the end, every prompt starts with the
 * same [SOS][V]1..[V]M. Because the mask is causal, those P positions have identical hidden states in every prompt,
 * so they are computed once ([P, W] instead of [C, P, W]) and each class suffix (name, ".", EOT) attends to the
 * prefix's keys/values plus its own causal keys/values: scores = [q_s K_p^T | q_s K_s^T + causal], one softmax over
 * both blocks, output = p_1 V_p + p_2 V_s. Gradients from every class flow back into the single prefix.
 *
 * [Note: other savings] Prompts are cut after their EOT (later positions cannot influence it), q/k/v are one fused
 * [W, 3W] matmul with the 1/sqrt(d) scale folded into the q columns at load time, all linear layers run as 2-D
 * matmuls, heads are split with one rank-3 transpose for q, k and v together, and in the last layer only the EOT
 * rows go through the output projection and the MLP (and the prefix only contributes its keys/values), since nothing
 * else reaches the features. The final LayerNorm runs on the EOT rows only (it is row-wise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { reduceOps } from './tensor-parallel';
import { activate, causalMask, fastLinear, layerNorm, type TfTextEncoder } from './text-encoder-core';
import { wasmForward, wasmPathFor } from './text-encoder-wasm';

/** Causal self-attention of q, k, v [batch, len, D] (q pre-scaled) -> [batch, len, D]. */
function attendOnly(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const scores = tf.add(tf.matMul(q, k, false, true), mask);
  return tf.matMul(tf.softmax(scores), v);
}

/**
 * Splits a fused [B*S, 3W] projection into q, k, v of shape [H, B, S, D] each.
 *
 * [Note: rank-3 head transposes] On tfjs-wasm a rank-5 transpose (`[B, S, 3, H, D]` -> `[3, H, B, S, D]`) runs a
 * generic loop about 20x slower than a rank-3 one of the same size (29 ms vs 0.5 ms for 10 x 7 tokens at width 512),
 * and a split along the last axis copies strided columns (17 ms). So the fused projection is viewed as [N, 3H, D],
 * transposed once to [3H, N, D] (rank 3) and split along the first axis, which is contiguous; the backward pass is
 * the same rank-3 transpose and a contiguous concat.
 */
function splitHeads(qkv: tf.Tensor, B: number, S: number, H: number, D: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  // Split as a 2-D [3H, N*D] matrix: tfjs-wasm slices rank 2 with row copies, rank 3 element by element (5x slower).
  const t = tf.reshape(tf.transpose(tf.reshape(qkv, [B * S, 3 * H, D]), [1, 0, 2]), [3 * H, B * S * D]);
  const [q, k, v] = tf.split(t, 3, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
  return [tf.reshape(q, [H, B, S, D]), tf.reshape(k, [H, B, S, D]), tf.reshape(v, [H, B, S, D])];
}

/** Merges [H, B, S, D] heads back to [B*S, W] rows (one rank-3 transpose). */
function mergeHeads(o: tf.Tensor, B: number, S: number, H: number, D: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(o, [H, B * S, D]), [1, 0, 2]), [B * S, H * D]);
}

/**
 * Rows `rows` of x2d [N, W] -> [rows.length, W] as a one-hot matmul: differentiable on every backend (see
 * [Note: differentiable row pick]) without the middle-axis reduction of `pickRows`, which tfjs-wasm runs through a
 * transpose.
 */
function selectRows(x2d: tf.Tensor, rows: number[], n: number): tf.Tensor2D {
  // tfjs-wasm's OneHot ignores a float32 dtype (it writes int32 bits), so the selector is cast instead.
  const sel = tf.cast(tf.oneHot(tf.tensor1d(rows, 'int32'), n), 'float32') as tf.Tensor2D;
  return tf.matMul(sel, x2d as tf.Tensor2D);
}

/**
 * The row max over the last axis as a constant for autodiff: softmax is shift-invariant, so the max only guards
 * against overflow and its (mathematically zero) gradient path, an Equal mask per score, is skipped.
 */
const constantRowMax = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.max(x, -1, true), gradFunc: () => tf.zerosLike(x) };
});

/**
 * Features [C, P_out] of prompts made of an optional shared `prefix` [P, W] followed by per-class `suffix` [C, S, W]
 * (token embeddings, positions not yet added); `eot[c]` is the EOT row within the suffix.
 *
 * [Note: one row block] The prefix rows and all suffix rows go through every row-wise operation (layer norms, the
 * fused qkv, the output projection, the MLP) together as one [P + C*S, W] matrix, so each linear layer is one
 * matmul per step instead of two (small matmuls are the least efficient on wasm); only attention treats the two
 * blocks differently. Row splits and concats along the first axis are contiguous copies.
 * `constantSuffix` promises that no gradient is needed w.r.t. `suffix` (the kernel path then returns zeros for it).
 */
export function fastForward(
  enc: TfTextEncoder,
  prefix: tf.Tensor2D | null,
  suffix: tf.Tensor3D,
  eot: number[],
  opts: { constantSuffix?: boolean } = {},
): tf.Tensor2D {
  // On tfjs-wasm the same maths runs as one op over SIMD kernels (see [Note: one op per encoder pass]).
  const wasm = wasmPathFor(enc);
  if (wasm) return wasmForward(wasm, enc, prefix, suffix, eot, opts.constantSuffix ?? false);
  return opsForward(enc, prefix, suffix, eot);
}

/** `fastForward` through tfjs ops (every backend; see [Note: one row block]). */
function opsForward(enc: TfTextEncoder, prefix: tf.Tensor2D | null, suffix: tf.Tensor3D, eot: number[]): tf.Tensor2D {
  const [C = 0, S = 0, W = 0] = suffix.shape;
  const P = prefix?.shape[0] ?? 0;
  const N = C * S;
  const D = W / enc.heads;
  // This rank's heads: all of them, or H / ranks on a head-parallel rank (see [Note: head-parallel steps]).
  const H = (enc.layerWeights[0]?.qkv.w.shape[1] ?? 3 * W) / (3 * D);
  const { f, g } = reduceOps(enc.allReduce);
  const lastLayer = enc.layerWeights.length - 1;
  const maskS = causalMask(S);
  const maskP = P > 0 ? causalMask(P) : null;
  const hs0 = tf.reshape(tf.add(suffix, tf.slice(enc.positionalEmbedding, [P, 0], [S, W])), [N, W]);
  let h: tf.Tensor = prefix
    ? tf.concat([tf.add(prefix, tf.slice(enc.positionalEmbedding, [0, 0], [P, W])), hs0], 0)
    : hs0;
  enc.layerWeights.forEach((lw, li) => {
    const last = li === lastLayer;
    const qkv = fastLinear(f(layerNorm(h, lw.ln1)), lw.qkv);
    const [qkvP, qkvS] = P > 0 ? (tf.split(qkv, [P, N], 0) as [tf.Tensor, tf.Tensor]) : [null, qkv];
    const [qS, kS, vS] = splitHeads(qkvS, C, S, H, D);
    // Within-suffix causal scores, [H*C, S, S].
    const s2 = tf.add(tf.matMul(tf.reshape(qS, [H * C, S, D]), tf.reshape(kS, [H * C, S, D]), false, true), maskS);
    let o: tf.Tensor;
    let oP: tf.Tensor | null = null;
    if (qkvP && maskP) {
      const [qP, kP, vP] = splitHeads(qkvP, 1, P, H, D);
      const kP3 = tf.reshape(kP, [H, P, D]);
      const vP3 = tf.reshape(vP, [H, P, D]);
      // Suffix queries against the shared prefix keys: [H, C*S, P] -> [H, C, S, P].
      const s1 = tf.reshape(tf.matMul(tf.reshape(qS, [H, N, D]), kP3, false, true), [H, C, S, P]);
      // One softmax over both key blocks, without concatenating them (a strided concat and two strided slices cost
      // more than these few element-wise ops on wasm): subtract the joint row max, exponentiate, share the sum.
      const s2r = tf.reshape(s2, [H, C, S, S]);
      const m = tf.maximum(constantRowMax(s1), constantRowMax(s2r));
      const e1 = tf.exp(tf.sub(s1, m));
      const e2 = tf.exp(tf.sub(s2r, m));
      const z = tf.add(tf.sum(e1, 3, true), tf.sum(e2, 3, true));
      const p1 = tf.reshape(tf.div(e1, z), [H, N, P]);
      const p2 = tf.reshape(tf.div(e2, z), [H * C, S, S]);
      const o2 = tf.reshape(tf.matMul(p2, tf.reshape(vS, [H * C, S, D])), [H, N, D]);
      o = tf.add(tf.matMul(p1, vP3), o2);
      if (!last) oP = attendOnly(tf.reshape(qP, [H, P, D]), kP3, vP3, maskP);
    } else {
      o = tf.matMul(tf.softmax(s2), tf.reshape(vS, [H * C, S, D]));
    }
    let merged: tf.Tensor = mergeHeads(o, C, S, H, D);
    if (last) {
      // Only the EOT rows reach the features (the prefix rows only gave their keys and values).
      const rows = eot.map((r, c) => c * S + r);
      merged = selectRows(merged, rows, N);
      h = selectRows(
        h,
        rows.map((r) => P + r),
        P + N,
      );
    } else if (oP) {
      merged = tf.concat([mergeHeads(oP, 1, P, H, D), merged], 0);
    }
    h = tf.add(h, g(fastLinear(merged, lw.out)));
    h = tf.add(h, g(fastLinear(activate(fastLinear(f(layerNorm(h, lw.ln2)), lw.fc1), enc.activation), lw.fc2)));
  });
  return fastLinear(layerNorm(h, enc.finalLn), enc.projection) as tf.Tensor2D;
}
