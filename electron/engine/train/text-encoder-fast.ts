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
 * matmuls, heads are split with one transpose for q, k and v together, and in the last layer only the EOT rows go
 * through the output projection and the MLP (and the prefix only contributes its keys/values), since nothing else
 * reaches the features. The final LayerNorm runs on the EOT rows only (it is row-wise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { activate, causalMask, fastLinear, layerNorm, pickRows, type TfTextEncoder } from './text-encoder-core';

/** Causal self-attention of q, k, v [batch, len, D] (q pre-scaled) -> [batch, len, D]. */
function attendOnly(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const scores = tf.add(tf.matMul(q, k, false, true), mask);
  return tf.matMul(tf.softmax(scores), v);
}

/** Splits a fused [N, 3W] projection of [B, S] rows into q, k, v of shape [H, B, S, D] each. */
function splitHeads(qkv: tf.Tensor, B: number, S: number, H: number, D: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const t = tf.transpose(tf.reshape(qkv, [B, S, 3, H, D]), [2, 3, 0, 1, 4]);
  const [q, k, v] = tf.split(t, 3, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
  return [tf.reshape(q, [H, B, S, D]), tf.reshape(k, [H, B, S, D]), tf.reshape(v, [H, B, S, D])];
}

/** Merges [H, B, S, D] heads back to [B*S, W] rows. */
function mergeHeads(o: tf.Tensor, B: number, S: number, H: number, D: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(o, [H, B, S, D]), [1, 2, 0, 3]), [B * S, H * D]);
}

/**
 * Features [C, P_out] of prompts made of an optional shared `prefix` [P, W] followed by per-class `suffix` [C, S, W]
 * (token embeddings, positions not yet added); `eot[c]` is the EOT row within the suffix.
 */
export function fastForward(
  enc: TfTextEncoder,
  prefix: tf.Tensor2D | null,
  suffix: tf.Tensor3D,
  eot: number[],
): tf.Tensor2D {
  const [C = 0, S = 0, W = 0] = suffix.shape;
  const P = prefix?.shape[0] ?? 0;
  const H = enc.heads;
  const D = W / H;
  const lastLayer = enc.layerWeights.length - 1;
  const maskS = causalMask(S);
  const maskP = P > 0 ? causalMask(P) : null;
  let hs: tf.Tensor = tf.reshape(tf.add(suffix, tf.slice(enc.positionalEmbedding, [P, 0], [S, W])), [C * S, W]);
  let hp: tf.Tensor | null = prefix ? tf.add(prefix, tf.slice(enc.positionalEmbedding, [0, 0], [P, W])) : null;
  enc.layerWeights.forEach((lw, li) => {
    const last = li === lastLayer;
    const [qS, kS, vS] = splitHeads(fastLinear(layerNorm(hs, lw.ln1), lw.qkv), C, S, H, D);
    // Within-suffix causal scores, [H*C, S, S].
    let s2 = tf.add(tf.matMul(tf.reshape(qS, [H * C, S, D]), tf.reshape(kS, [H * C, S, D]), false, true), maskS);
    let o: tf.Tensor;
    if (hp && maskP) {
      const [qP, kP, vP] = splitHeads(fastLinear(layerNorm(hp, lw.ln1), lw.qkv), 1, P, H, D);
      const kP3 = tf.reshape(kP, [H, P, D]);
      const vP3 = tf.reshape(vP, [H, P, D]);
      // Suffix queries against the shared prefix keys: [H, C*S, P] -> [H, C, S, P].
      const s1 = tf.reshape(tf.matMul(tf.reshape(qS, [H, C * S, D]), kP3, false, true), [H, C, S, P]);
      const p = tf.softmax(tf.concat([s1, tf.reshape(s2, [H, C, S, S])], 3));
      const p1 = tf.reshape(tf.slice(p, [0, 0, 0, 0], [H, C, S, P]), [H, C * S, P]);
      const p2 = tf.reshape(tf.slice(p, [0, 0, 0, P], [H, C, S, S]), [H * C, S, S]);
      const o1 = tf.matMul(p1, vP3);
      const o2 = tf.reshape(tf.matMul(p2, tf.reshape(vS, [H * C, S, D])), [H, C * S, D]);
      o = tf.add(o1, o2);
      if (!last) {
        const oP = attendOnly(tf.reshape(qP, [H, P, D]), kP3, vP3, maskP);
        hp = tf.add(hp, fastLinear(mergeHeads(oP, 1, P, H, D), lw.out));
        hp = tf.add(hp, fastLinear(activate(fastLinear(layerNorm(hp, lw.ln2), lw.fc1), enc.activation), lw.fc2));
      }
    } else {
      s2 = tf.softmax(s2);
      o = tf.matMul(s2, tf.reshape(vS, [H * C, S, D]));
    }
    let merged: tf.Tensor = mergeHeads(o, C, S, H, D);
    if (last) {
      // Only the EOT rows reach the features.
      merged = pickRows(tf.reshape(merged, [C, S, W]), eot);
      hs = pickRows(tf.reshape(hs, [C, S, W]), eot);
    }
    hs = tf.add(hs, fastLinear(merged, lw.out));
    hs = tf.add(hs, fastLinear(activate(fastLinear(layerNorm(hs, lw.ln2), lw.fc1), enc.activation), lw.fc2));
  });
  return fastLinear(layerNorm(hs, enc.finalLn), enc.projection) as tf.Tensor2D;
}
