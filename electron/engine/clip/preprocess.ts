/**
 * @file CLIP image preprocessing with sharp: decode, orient, RGB, resize, center crop, normalise (engine, plain Node).
 *
 * [Note: preprocessing order] We follow Hugging Face's CLIPImageProcessor, which the fixtures'
 * PyTorch reference ran: (1) decode (first frame of animations), honour the EXIF orientation;
 * (2) convert to 8-bit sRGB: grayscale is replicated to three channels, CMYK goes through the
 * embedded or default ICC profile, 16-bit is scaled to 8-bit; (3) alpha is DROPPED, exactly like
 * PIL's `convert('RGB')` (the colour under a transparent pixel is kept as stored), see
 * [Note: alpha rule]; (4) resize so the shortest side is `shortest_edge`, the long side
 * `floor(shortest_edge * long / short)`, with Pillow's own resampler ported to TypeScript
 * ([Note: PIL-exact resize]);
 * (5) center crop with the offset floored (HF), padding with zeros where the crop is larger than
 * the image (4 and 5 run as one step that computes only the cropped pixels, [Note: crop-aware
 * resize]); (6) x * rescale_factor, then (x - mean) / std, CHW float32.
 * sharp does stages 1-3 only: within one pipeline it would premultiply alpha before resizing,
 * which is OpenAI's resize-then-drop order, not PIL's.
 *
 * [Note: preprocessing cost] In the embedding pipeline preprocessing competes with ONNX Runtime
 * for the same cores, so its CPU time is what matters. Measured per 640x480 JPEG (CPU ms, 2-core
 * machine): libvips decode about 5, resize + crop 0.7-1.2 (WebAssembly SIMD), normalise 0.3. One
 * libvips call per image (no separate header read), augmentation views cut and mirrored in JS.
 * libvips' operation cache (`sharp.cache`) made no measurable difference (each image is new), so
 * sharp's global settings are left alone.
 *
 * [Note: alpha rule] Transparent images are rare in photo datasets, but the three common rules
 * (drop alpha, composite on white, composite on black) give embeddings with cosine down to 0.84.
 * We drop alpha because it is what `CLIPImageProcessor` (and so the reference embeddings, and every
 * transformers.js user) does. `alpha: 'white' | 'black'` is available for callers that want it.
 *
 * [Note: pixel limit] A 40 kB PNG can declare 50000x50000 pixels and take 10 GB to decode. sharp's
 * `limitInputPixels` (checked on the header, before any pixel is decoded) refuses anything above
 * `MAX_INPUT_PIXELS` (100 megapixels, a 12000x8000 photo still passes); when a decode fails we then
 * read the header to give an `invalid_image` error naming the size. Reading the header only after a
 * failure keeps a second libvips call off the path of every good image.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { AppError } from '../../../shared/result';
import { imageProblem } from './image-problem';
import type { ClipModelInfo } from './model-folder';
import { pilResizeCrop } from './pil-resize';

/** Largest accepted input, in pixels (see [Note: pixel limit]). */
export const MAX_INPUT_PIXELS = 100_000_000;

/** An augmentation view: a crop (fractions of the oriented image) and/or a horizontal flip, applied before resizing. */
export interface ViewTransform {
  /** x0, y0, x1, y1 as fractions of the oriented image. */
  crop?: [number, number, number, number];
  flip?: boolean;
}

/** Options of {@link preprocessImage} beyond the model's settings. */
export interface PreprocessOptions {
  /** How transparency is flattened (see [Note: alpha rule]); default 'drop'. */
  alpha?: 'drop' | 'white' | 'black';
}

function bad(reason: string): AppError {
  return new AppError('invalid_image', reason);
}

/** Describes a failed decode in one short sentence (see [Note: image problems]). */
function decodeReason(e: unknown, bytes: Uint8Array): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(msg)) return `the image is larger than ${MAX_INPUT_PIXELS / 1e6} megapixels`;
  return imageProblem(bytes, e);
}

/**
 * The `invalid_image` error for a failed decode. Only then is the header read (the happy path saves that
 * call): it decodes no pixels, so it runs without the limit and can name the size ([Note: pixel limit]).
 */
async function decodeError(bytes: Uint8Array, e: unknown): Promise<AppError> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (e2) {
    return bad(decodeReason(e2, bytes));
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w < 1 || h < 1) return bad('the image has no pixels');
  if (w * h > MAX_INPUT_PIXELS)
    return bad(
      `the image is ${w}x${h} (${((w * h) / 1e6).toFixed(0)} megapixels), above the limit of ${MAX_INPUT_PIXELS / 1e6} megapixels`,
    );
  return bad(decodeReason(e, bytes));
}

/** The decoded, oriented, 8-bit RGB image (stages 1-3 of [Note: preprocessing order]). */
export async function decodeRgb(
  input: string | Uint8Array,
  view?: ViewTransform,
  opts: PreprocessOptions = {},
): Promise<{ data: Buffer; width: number; height: number }> {
  let bytes: Uint8Array;
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input;
  } catch (e) {
    throw bad(`the file could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.length === 0) throw bad('the file is empty');
  let data: Buffer;
  let info: OutputInfo;
  try {
    let img = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, pages: 1, failOn: 'error' }).rotate();
    if (opts.alpha === 'white' || opts.alpha === 'black')
      img = img.flatten({ background: opts.alpha === 'white' ? '#ffffff' : '#000000' });
    img = img.toColourspace('srgb').removeAlpha();
    ({ data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw await decodeError(bytes, e);
  }
  if (info.channels !== 3) throw bad(`the image could not be decoded (decoded to ${info.channels} channels)`);
  if (view && (view.crop || view.flip)) return applyView({ data, width: info.width, height: info.height }, view);
  return { data, width: info.width, height: info.height };
}

/**
 * Crops and/or mirrors decoded RGB (an augmentation view) with plain copies: the same bytes as sharp's
 * `extract` + `flop`, without a second libvips pass over the image (about 2 ms of CPU for 640x480).
 */
export function applyView(
  rgb: { data: Buffer; width: number; height: number },
  view: ViewTransform,
): { data: Buffer; width: number; height: number } {
  let left = 0;
  let top = 0;
  let width = rgb.width;
  let height = rgb.height;
  if (view.crop) {
    const [x0, y0, x1, y1] = view.crop;
    if (!view.crop.every(Number.isFinite)) throw bad(`the view's crop ${JSON.stringify(view.crop)} is not a rectangle`);
    left = Math.min(rgb.width - 1, Math.max(0, Math.floor(x0 * rgb.width)));
    top = Math.min(rgb.height - 1, Math.max(0, Math.floor(y0 * rgb.height)));
    width = Math.max(1, Math.min(rgb.width - left, Math.round((x1 - x0) * rgb.width)));
    height = Math.max(1, Math.min(rgb.height - top, Math.round((y1 - y0) * rgb.height)));
  }
  const src = rgb.data;
  const out = Buffer.alloc(width * height * 3);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * rgb.width + left) * 3;
    const to = y * rowBytes;
    if (!view.flip) {
      src.copy(out, to, from, from + rowBytes);
      continue;
    }
    for (let x = 0, s = from + rowBytes - 3; x < rowBytes; x += 3, s -= 3) {
      out[to + x] = src[s] as number;
      out[to + x + 1] = src[s + 1] as number;
      out[to + x + 2] = src[s + 2] as number;
    }
  }
  return { data: out, width, height };
}

/** Hugging Face's resize target for `shortest_edge` (long side floored). */
export function resizeTarget(width: number, height: number, shortestEdge: number): [number, number] {
  if (width <= height) return [shortestEdge, Math.max(1, Math.floor((shortestEdge * height) / width))];
  return [Math.max(1, Math.floor((shortestEdge * width) / height)), shortestEdge];
}

/** Resizes (PIL-exact, see [Note: PIL-exact resize]) and crops decoded RGB to the model's input as 8-bit HWC RGB. */
export function resizeAndCrop(
  rgb: { data: Uint8Array; width: number; height: number },
  pre: ClipModelInfo['preprocess'],
): { data: Uint8Array; width: number; height: number } {
  const [rw, rh] = pre.doCenterCrop
    ? resizeTarget(rgb.width, rgb.height, pre.shortestEdge)
    : [pre.cropWidth, pre.cropHeight];
  const cw = pre.cropWidth;
  const ch = pre.cropHeight;
  // Only the cropped pixels are computed ([Note: crop-aware resize]); the offset is floored as in HF.
  const left = Math.floor((rw - cw) / 2);
  const top = Math.floor((rh - ch) / 2);
  const data = pilResizeCrop(rgb.data, rgb.width, rgb.height, 3, rw, rh, left, top, cw, ch, pre.resample);
  return { data, width: cw, height: ch };
}

/** Rescales and normalises 8-bit HWC RGB into CHW float32 (stage 6), writing into `out` at `offset`. */
export function normalizeInto(
  rgb: { data: Uint8Array; width: number; height: number },
  pre: ClipModelInfo['preprocess'],
  out: Float32Array,
  offset = 0,
): void {
  const plane = rgb.width * rgb.height;
  const data = rgb.data;
  const rescale = pre.rescaleFactor;
  for (let c = 0; c < 3; c++) {
    const mean = pre.doNormalize ? (pre.mean[c] ?? 0) : 0;
    const std = pre.doNormalize ? (pre.std[c] ?? 1) : 1;
    const base = offset + c * plane;
    for (let i = 0, p = c; i < plane; i++, p += 3) out[base + i] = ((data[p] as number) * rescale - mean) / std;
  }
}

/** Preprocesses one image into a `[3, H, W]` CHW tensor (see [Note: preprocessing order]); throws `invalid_image`. */
export async function preprocessImage(
  input: string | Uint8Array,
  pre: ClipModelInfo['preprocess'],
  view?: ViewTransform,
  opts: PreprocessOptions = {},
): Promise<Float32Array> {
  const crop = resizeAndCrop(await decodeRgb(input, view, opts), pre);
  const out = new Float32Array(3 * crop.width * crop.height);
  normalizeInto(crop, pre, out);
  return out;
}
