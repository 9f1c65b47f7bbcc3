/**
 * @file The demo CLIP in tfjs-core: parameters, the text and image encoders, and the contrastive
 * loss (build script, plain Node; any tfjs backend).
 *
 * The architecture is CLIP's in miniature, laid out like Hugging Face's `CLIPModel` so that the
 * ONNX export (`onnx-export.ts`) can mirror each op: a ViT (patch embedding, class token, positional
 * embedding, pre-LN, pre-LN blocks, post-LN on the class token, projection) and a causal text
 * transformer (token + positional embedding, pre-LN blocks, final LN, EOT pooling, projection),
 * both with quick-GELU.
 *
 * [Note: demo training-friendly ops] The wasm backend has no `UnsortedSegmentSum`, so no gradient
 * flows through `gather`: the token lookup is a one-hot matrix product and EOT pooling a one-hot
 * weighted sum. Both equal the ONNX graph's `Gather` exactly (a one-hot row picks one row).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Rng } from './rng';

/** Sizes of the demo model. */
export interface DemoClipConfig {
  vocabSize: number;
  contextLength: number;
  textWidth: number;
  textLayers: number;
  textHeads: number;
  imageSize: number;
  patchSize: number;
  visionWidth: number;
  visionLayers: number;
  visionHeads: number;
  projectionDim: number;
}

/** Parameters by Hugging Face-style name (see `paramShapes`). */
export type DemoClipParams = Map<string, tf.Variable>;

/** LayerNorm epsilon, as CLIP. */
export const LN_EPS = 1e-5;

/** Every parameter's name, shape and initial standard deviation (0 = zeros, -1 = ones). */
export function paramShapes(c: DemoClipConfig): [string, number[], number][] {
  const out: [string, number[], number][] = [];
  const blocks = (prefix: string, w: number, layers: number) => {
    const attnStd = w ** -0.5;
    const projStd = w ** -0.5 * (2 * layers) ** -0.5;
    const fcStd = (2 * w) ** -0.5;
    for (let i = 0; i < layers; i++) {
      const p = `${prefix}.encoder.layers.${i}`;
      out.push([`${p}.layer_norm1.weight`, [w], -1], [`${p}.layer_norm1.bias`, [w], 0]);
      for (const n of ['q_proj', 'k_proj', 'v_proj'])
        out.push([`${p}.self_attn.${n}.weight`, [w, w], attnStd], [`${p}.self_attn.${n}.bias`, [w], 0]);
      out.push([`${p}.self_attn.out_proj.weight`, [w, w], projStd], [`${p}.self_attn.out_proj.bias`, [w], 0]);
      out.push([`${p}.layer_norm2.weight`, [w], -1], [`${p}.layer_norm2.bias`, [w], 0]);
      out.push([`${p}.mlp.fc1.weight`, [w, 4 * w], fcStd], [`${p}.mlp.fc1.bias`, [4 * w], 0]);
      out.push([`${p}.mlp.fc2.weight`, [4 * w, w], projStd], [`${p}.mlp.fc2.bias`, [w], 0]);
    }
  };
  const tw = c.textWidth;
  out.push(['text_model.embeddings.token_embedding.weight', [c.vocabSize, tw], 0.02]);
  out.push(['text_model.embeddings.position_embedding.weight', [c.contextLength, tw], 0.01]);
  blocks('text_model', tw, c.textLayers);
  out.push(['text_model.final_layer_norm.weight', [tw], -1], ['text_model.final_layer_norm.bias', [tw], 0]);
  out.push(['text_projection.weight', [tw, c.projectionDim], tw ** -0.5]);
  const vw = c.visionWidth;
  const grid = c.imageSize / c.patchSize;
  out.push(['vision_model.embeddings.class_embedding', [vw], vw ** -0.5]);
  out.push([
    'vision_model.embeddings.patch_embedding.weight',
    [3 * c.patchSize * c.patchSize, vw],
    (3 * c.patchSize * c.patchSize) ** -0.5,
  ]);
  out.push(['vision_model.embeddings.position_embedding.weight', [grid * grid + 1, vw], vw ** -0.5]);
  out.push(['vision_model.pre_layrnorm.weight', [vw], -1], ['vision_model.pre_layrnorm.bias', [vw], 0]);
  blocks('vision_model', vw, c.visionLayers);
  out.push(['vision_model.post_layernorm.weight', [vw], -1], ['vision_model.post_layernorm.bias', [vw], 0]);
  out.push(['visual_projection.weight', [vw, c.projectionDim], vw ** -0.5]);
  return out;
}

/** Fresh parameters drawn from `rng` (plus `logit_scale` = log(1/0.07), as CLIP). */
export function initParams(c: DemoClipConfig, rng: Rng): DemoClipParams {
  const params: DemoClipParams = new Map();
  for (const [name, shape, std] of paramShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = std === 0 ? new Float32Array(n) : std === -1 ? new Float32Array(n).fill(1) : rng.normalArray(n, std);
    params.set(name, tf.variable(tf.tensor(data, shape), true, name));
  }
  params.set('logit_scale', tf.variable(tf.scalar(Math.log(1 / 0.07)), true, 'logit_scale'));
  return params;
}

function p(params: DemoClipParams, name: string): tf.Tensor {
  const v = params.get(name);
  if (!v) throw new Error(`missing parameter ${name}`);
  return v;
}

/**
 * 2-D matrix product whose gradient transposes explicitly.
 *
 * [Note: wasm transposed matmul] The wasm backend's `BatchMatMul` with `transposeA`/`transposeB`
 * runs 5-25x slower than on explicitly transposed operands (measured 150-330 ms vs 13-25 ms for a
 * [3000,128]x[128,512] product), and tfjs' default matMul gradient uses those flags. Training is
 * dominated by the backward pass, so linear layers use this instead.
 */
export const mm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** Batched (rank-4) matrix product with the same explicit-transpose gradient as {@link mm}. */
export const bmm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor4D, b as tf.Tensor4D),
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor4D, tf.Tensor4D];
      const t = [0, 1, 3, 2];
      return [tf.matMul(dy as tf.Tensor4D, tf.transpose(sb, t)), tf.matMul(tf.transpose(sa, t), dy as tf.Tensor4D)];
    },
  };
}) as (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D;

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.div(centred, tf.sqrt(tf.add(variance, LN_EPS))), g), b);
}

function linear(x: tf.Tensor, params: DemoClipParams, name: string): tf.Tensor {
  const w = p(params, `${name}.weight`) as tf.Tensor2D;
  const [b, l, d] = x.shape as [number, number, number];
  const y = mm(tf.reshape(x, [b * l, d]), w);
  return tf.add(tf.reshape(y, [b, l, w.shape[1]]), p(params, `${name}.bias`));
}

function attention(
  x: tf.Tensor,
  params: DemoClipParams,
  prefix: string,
  heads: number,
  mask: tf.Tensor | null,
): tf.Tensor {
  const [b, l, w] = x.shape as [number, number, number];
  const d = w / heads;
  const q = tf.transpose(tf.reshape(linear(x, params, `${prefix}.q_proj`), [b, l, heads, d]), [0, 2, 1, 3]);
  const k = tf.transpose(tf.reshape(linear(x, params, `${prefix}.k_proj`), [b, l, heads, d]), [0, 2, 3, 1]);
  const v = tf.transpose(tf.reshape(linear(x, params, `${prefix}.v_proj`), [b, l, heads, d]), [0, 2, 1, 3]);
  let scores = tf.mul(bmm(q as tf.Tensor4D, k as tf.Tensor4D), d ** -0.5);
  if (mask) scores = tf.add(scores, mask);
  const ctx = bmm(tf.softmax(scores, -1) as tf.Tensor4D, v as tf.Tensor4D);
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, l, w]);
  return linear(merged, params, `${prefix}.out_proj`);
}

function encoder(
  x: tf.Tensor,
  params: DemoClipParams,
  prefix: string,
  layers: number,
  heads: number,
  mask: tf.Tensor | null,
): tf.Tensor {
  let h = x;
  for (let i = 0; i < layers; i++) {
    const lp = `${prefix}.encoder.layers.${i}`;
    const a = layerNorm(h, p(params, `${lp}.layer_norm1.weight`), p(params, `${lp}.layer_norm1.bias`));
    h = tf.add(h, attention(a, params, `${lp}.self_attn`, heads, mask));
    const m = layerNorm(h, p(params, `${lp}.layer_norm2.weight`), p(params, `${lp}.layer_norm2.bias`));
    const f = linear(m, params, `${lp}.mlp.fc1`);
    const g = tf.mul(f, tf.sigmoid(tf.mul(f, 1.702)));
    h = tf.add(h, linear(g, params, `${lp}.mlp.fc2`));
  }
  return h;
}

/** Additive causal mask [L, L]: 0 on and below the diagonal, -1e9 above (the ONNX graph uses -FLT_MAX). */
export function causalMask(l: number): Float32Array {
  const m = new Float32Array(l * l);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) m[i * l + j] = -1e9;
  return m;
}

/** Raw text embeddings [B, P] of token ids [B, L] (L <= context length); pooled at `eotIndex`. */
export function encodeText(
  params: DemoClipParams,
  c: DemoClipConfig,
  ids: tf.Tensor2D,
  eotIndex: number[],
): tf.Tensor2D {
  const [b, l] = ids.shape;
  const tokEmb = p(params, 'text_model.embeddings.token_embedding.weight') as tf.Tensor2D;
  // Only the batch's distinct ids are picked from the table (a batch uses ~100 of the vocabulary).
  const flatIds = Array.from(ids.dataSync());
  const distinct = [...new Set(flatIds)].sort((x, y) => x - y);
  const local = new Map(distinct.map((id, i) => [id, i]));
  const select = tf.cast(tf.oneHot(tf.tensor1d(distinct, 'int32'), c.vocabSize), 'float32') as tf.Tensor2D;
  const rows = mm(select, tokEmb);
  const pick = tf.cast(
    tf.oneHot(
      tf.tensor1d(
        flatIds.map((id) => local.get(id) ?? 0),
        'int32',
      ),
      distinct.length,
    ),
    'float32',
  ) as tf.Tensor2D;
  const tok = tf.reshape(mm(pick, rows), [b, l, c.textWidth]);
  const pos = tf.slice(p(params, 'text_model.embeddings.position_embedding.weight'), [0, 0], [l, c.textWidth]);
  const causal = tf.tensor2d(causalMask(l), [l, l]);
  const h = encoder(tf.add(tok, pos), params, 'text_model', c.textLayers, c.textHeads, causal);
  const hn = layerNorm(
    h,
    p(params, 'text_model.final_layer_norm.weight'),
    p(params, 'text_model.final_layer_norm.bias'),
  );
  const eotPick = tf.reshape(tf.oneHot(tf.tensor1d(eotIndex, 'int32'), l), [b, l, 1]);
  const pooled = tf.sum(tf.mul(hn, eotPick), 1) as tf.Tensor2D;
  return mm(pooled, p(params, 'text_projection.weight') as tf.Tensor2D);
}

/** Raw image embeddings [B, P] of normalised pixels [B, 3, S, S]. */
export function encodeImage(params: DemoClipParams, c: DemoClipConfig, pixels: tf.Tensor4D): tf.Tensor2D {
  const b = pixels.shape[0];
  const ps = c.patchSize;
  const g = c.imageSize / ps;
  const w = c.visionWidth;
  const patches = tf.reshape(tf.transpose(tf.reshape(pixels, [b, 3, g, ps, g, ps]), [0, 2, 4, 1, 3, 5]), [
    b * g * g,
    3 * ps * ps,
  ]) as tf.Tensor2D;
  const emb = tf.reshape(mm(patches, p(params, 'vision_model.embeddings.patch_embedding.weight') as tf.Tensor2D), [
    b,
    g * g,
    w,
  ]);
  const cls = tf.tile(tf.reshape(p(params, 'vision_model.embeddings.class_embedding'), [1, 1, w]), [b, 1, 1]);
  const x = tf.add(tf.concat([cls, emb], 1), p(params, 'vision_model.embeddings.position_embedding.weight'));
  const pre = layerNorm(x, p(params, 'vision_model.pre_layrnorm.weight'), p(params, 'vision_model.pre_layrnorm.bias'));
  const h = encoder(pre, params, 'vision_model', c.visionLayers, c.visionHeads, null);
  const clsOut = tf.reshape(tf.slice(h, [0, 0, 0], [b, 1, w]), [b, w]);
  const post = layerNorm(
    clsOut,
    p(params, 'vision_model.post_layernorm.weight'),
    p(params, 'vision_model.post_layernorm.bias'),
  );
  return mm(post as tf.Tensor2D, p(params, 'visual_projection.weight') as tf.Tensor2D);
}

/** Symmetric InfoNCE with the learned temperature (CLIP's loss); scalar. */
export function clipLoss(params: DemoClipParams, img: tf.Tensor2D, txt: tf.Tensor2D): tf.Scalar {
  const ni = tf.div(img, tf.norm(img, 'euclidean', 1, true));
  const nt = tf.div(txt, tf.norm(txt, 'euclidean', 1, true));
  const scale = tf.exp(tf.minimum(p(params, 'logit_scale'), Math.log(100)));
  const logits = tf.mul(tf.matMul(ni, nt, false, true), scale);
  const n = img.shape[0];
  const labels = tf.oneHot(tf.range(0, n, 1, 'int32'), n);
  const li = tf.losses.softmaxCrossEntropy(labels, logits);
  const lt = tf.losses.softmaxCrossEntropy(labels, tf.transpose(logits));
  return tf.div(tf.add(li, lt), 2) as tf.Scalar;
}
