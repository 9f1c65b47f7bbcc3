/**
 * @file Patch tokens of one image in CLIP's joint space: the vision encoder's last hidden state through the graph's
 * own post-layernorm and visual projection (engine worker, plain Node + ONNX Runtime).
 *
 * The head sub-graph (see [Note: vision head sub-graph]) runs in its own small ONNX Runtime session, cached per vision
 * model file. Every call checks the path: the class token through the head must reproduce the model's
 * `image_embeds` (within 1e-4 of its scale for fp32 graphs, 2e-2 for fp16 and quantized ones), else it refuses.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { decodeRgb, normalizeInto, resizeAndCrop } from '../clip/preprocess';
import { GraphMatchError } from '../onnx/clip-text-graph';
import { decodeModel, encodeModel } from '../onnx/onnx-proto';
import { extractVisionHead, HEAD_INPUT } from '../onnx/vision-head';

/** What one image gives. */
export interface PatchFeatures {
  /** The model's input crop as 8-bit RGB (what the patches cover). */
  crop: { data: Uint8Array; width: number; height: number };
  grid: { rows: number; cols: number };
  /** Raw projected patch tokens, row-major over the grid ([rows x cols][projection]). */
  patches: Float32Array[];
  /** Raw `image_embeds` of the image. */
  imageEmbeds: Float32Array;
  /** max |class token through the head - image_embeds| and the tolerance it was held to. */
  check: { clsMaxAbsDiff: number; tolerance: number };
}

const heads = new Map<string, Promise<{ session: ort.InferenceSession; clsIndex: number; hidden: string }>>();

async function headSession(model: ClipModel) {
  const key = model.info.visionModelPath;
  let pending = heads.get(key);
  if (!pending) {
    pending = (async () => {
      let head;
      try {
        head = extractVisionHead(decodeModel(await readFile(key)));
      } catch (e) {
        if (e instanceof GraphMatchError)
          throw new AppError('invalid_model', `Cannot read the patch tokens of ${key}: ${e.message}`);
        throw e;
      }
      const session = await ort.InferenceSession.create(encodeModel(head.model), { executionProviders: ['cpu'] });
      return { session, clsIndex: head.clsIndex, hidden: head.hiddenOutput };
    })();
    heads.set(key, pending);
    pending.catch(() => heads.delete(key));
  }
  return pending;
}

/** Frees the cached head sessions (tests and shutdown). */
export async function releasePatchHeads(): Promise<void> {
  const all = [...heads.values()];
  heads.clear();
  for (const p of all) await (await p.catch(() => null))?.session.release();
}

/** Projects `count` tokens of `width` values through the head: [count][projection]. */
async function project(session: ort.InferenceSession, tokens: Float32Array, count: number): Promise<Float32Array[]> {
  const width = tokens.length / count;
  const out = await session.run({ [HEAD_INPUT]: new ort.Tensor('float32', tokens, [count, width]) });
  const t = out['image_embeds'];
  if (!t) throw new AppError('invalid_model', 'The vision head returned no image_embeds.');
  const data = t.type === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>, Number);
  const p = data.length / count;
  return Array.from({ length: count }, (_, i) => data.slice(i * p, (i + 1) * p));
}

/** The patch tokens of one image file (see the file note); throws `invalid_image` / `invalid_model`. */
export async function patchFeatures(model: ClipModel, image: string | Uint8Array): Promise<PatchFeatures> {
  const { session, clsIndex, hidden } = await headSession(model);
  const pre = model.info.preprocess;
  const crop = resizeAndCrop(await decodeRgb(image), pre);
  const pixels = new Float32Array(3 * crop.width * crop.height);
  normalizeInto(crop, pre, pixels);
  const out = await model.runVision(pixels, 1, ['image_embeds', hidden]);
  const h = out[hidden];
  const imageEmbeds = out['image_embeds']?.data;
  if (!h || !imageEmbeds) throw new AppError('invalid_model', 'The vision encoder returned no hidden states.');
  const [, tokens = 0, width = 0] = h.dims;
  const cls = clsIndex < 0 ? tokens + clsIndex : clsIndex;
  const side = Math.round(Math.sqrt(tokens - 1));
  if (side * side !== tokens - 1 || cls < 0 || cls >= tokens || width * tokens !== h.data.length)
    throw new AppError(
      'invalid_model',
      `The hidden state has ${tokens} tokens of ${width}: not a class token plus a square grid of patches.`,
    );
  const projected = await project(session, h.data, tokens);
  const clsOut = projected[cls] ?? new Float32Array(0);
  const scale = Math.max(1e-6, ...Array.from(imageEmbeds, Math.abs));
  const tolerance = (model.info.variant === 'fp32' ? 1e-4 : 2e-2) * scale;
  const clsMaxAbsDiff = Math.max(...Array.from(imageEmbeds, (v, i) => Math.abs(v - (clsOut[i] ?? NaN))));
  if (!(clsMaxAbsDiff <= tolerance))
    throw new AppError(
      'invalid_model',
      `The class token through the vision head differs from image_embeds by ${clsMaxAbsDiff.toExponential(2)} (tolerance ${tolerance.toExponential(2)}); the head of this graph is not what it seems, so no patch map is drawn.`,
    );
  return {
    crop,
    grid: { rows: side, cols: side },
    patches: projected.filter((_, i) => i !== cls),
    imageEmbeds,
    check: { clsMaxAbsDiff, tolerance },
  };
}
