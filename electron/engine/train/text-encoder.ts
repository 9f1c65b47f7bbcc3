/**
 * @file Loads a model folder's frozen CLIP text encoder into tfjs and verifies it against ONNX Runtime (engine worker,
 * Node: reads files and runs onnxruntime-node; the math lives in text-encoder-core.ts, which the browser can import).
 *
 * [Note: verify before first use] A structural match of an exported graph can be subtly wrong (a swapped q/k, a
 * different epsilon or activation). Every text model is therefore run through ONNX Runtime and through the tfjs
 * encoder on a fixed set of token sequences (seeded random content ids of lengths 1 to 40, so no tokenizer is needed
 * and truncation after the EOT is exercised), and refused with `invalid_model` when the text features differ by more
 * than the tolerance: 1e-4 for fp32 weights, 5e-2 for fp16 weights or outputs (ONNX Runtime then computes or returns
 * half precision while tfjs computes in fp32 from the same rounded weights; half-float outputs are decoded as IEEE
 * half floats, never as the integers of their bit patterns). The verdict is cached in memory per file hash.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import type { ModelCheckReport } from '../../../shared/contract/model-check';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { extractClipTextWeights, GraphMatchError, type ClipTextWeights } from '../onnx/clip-text-graph';
import { decodeModel, OnnxDataType, outputToFloat32 } from '../onnx/onnx-proto';
import { createTextEncoder, plainForward, type TfTextEncoder } from './text-encoder-core';
import { fastForward } from './text-encoder-fast';

export type { TfTextEncoder } from './text-encoder-core';

/** The outcome of comparing the tfjs encoder with ONNX Runtime: `checkModel`'s report without the call's context. */
export type TextEncoderCheck = Omit<ModelCheckReport, 'modelDir' | 'variant' | 'backend' | 'seconds'> & {
  weights: ModelCheckReport['variant'];
};

const verdicts = new Map<string, TextEncoderCheck>();

const VARIANT_FILES = {
  fp32: 'text_model.onnx',
  fp16: 'text_model_fp16.onnx',
  quantized: 'text_model_quantized.onnx',
} as const;

/**
 * The text model file to train from: the requested variant, else fp32 if present, else fp16; quantized-only folders
 * are refused (an explicitly requested quantized file is returned so the graph check can name its int8 nodes).
 */
export function textModelFile(modelDir: string, variant?: keyof typeof VARIANT_FILES): string {
  if (variant) {
    const p = join(modelDir, 'onnx', VARIANT_FILES[variant]);
    if (!existsSync(p)) throw new AppError('invalid_model', `No ${variant} text model found: expected ${p}.`);
    return p;
  }
  for (const name of [VARIANT_FILES.fp32, VARIANT_FILES.fp16]) {
    const p = join(modelDir, 'onnx', name);
    if (existsSync(p)) return p;
  }
  if (existsSync(join(modelDir, 'onnx', VARIANT_FILES.quantized))) {
    throw new AppError(
      'invalid_model',
      'This model folder only has an int8-quantized text model; use the fp32 file for training (onnx/text_model.onnx): download the full-precision variant.',
    );
  }
  throw new AppError('invalid_model', `No text model found: expected ${join(modelDir, 'onnx', 'text_model.onnx')}.`);
}

function headsFromConfig(modelDir: string): number | undefined {
  try {
    const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as {
      text_config?: { num_attention_heads?: number };
    };
    return cfg.text_config?.num_attention_heads;
  } catch {
    return undefined;
  }
}

/** Parses a text model file into weights (throws AppError('invalid_model') with the reason). */
export function readTextWeights(
  bytes: Uint8Array,
  heads?: number,
): { weights: ClipTextWeights; precision: 'fp32' | 'fp16' } {
  try {
    const model = decodeModel(bytes);
    const weights = extractClipTextWeights(model, heads === undefined ? {} : { heads });
    // Half-precision weights, or half-precision outputs: either way ONNX Runtime's features carry fp16 rounding.
    const half: number[] = [OnnxDataType.FLOAT16, OnnxDataType.BFLOAT16];
    const fp16 =
      (model.graph?.initializer ?? []).some((t) => half.includes(t.dataType ?? 0) && (t.dims ?? []).length === 2) ||
      (model.graph?.output ?? []).some((o) => half.includes(o.type?.tensorType?.elemType ?? 0));
    return { weights, precision: fp16 ? 'fp16' : 'fp32' };
  } catch (e) {
    if (e instanceof GraphMatchError) throw new AppError('invalid_model', e.message);
    throw new AppError('invalid_model', `The text model could not be read: ${(e as Error).message}`);
  }
}

/** Seeded token sequences [SOT, content..., EOT] of lengths 1..40 content tokens. */
export function verificationIds(vocabSize: number, count = 8): number[][] {
  let s = 12345;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const sot = vocabSize - 2;
  const eot = vocabSize - 1;
  const lengths = [1, 3, 5, 8, 13, 21, 30, 40, 2, 17];
  return Array.from({ length: count }, (_, i) => {
    const n = lengths[i % lengths.length] ?? 4;
    return [sot, ...Array.from({ length: n }, () => Math.floor(rand() * (vocabSize - 2))), eot];
  });
}

async function runOrt(bytes: Uint8Array, ids: number[][], contextLength: number, eot: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const B = ids.length;
    const flat = new BigInt64Array(B * contextLength).fill(BigInt(eot));
    const mask = new BigInt64Array(B * contextLength);
    ids.forEach((row, b) =>
      row.forEach((id, j) => {
        flat[b * contextLength + j] = BigInt(id);
        mask[b * contextLength + j] = 1n;
      }),
    );
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', flat, [B, contextLength]);
      else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', mask, [B, contextLength]);
    }
    const out = await session.run(feeds);
    const emb = out.text_embeds ?? out[session.outputNames[0] ?? ''];
    if (!emb) throw new AppError('invalid_model', 'The text model has no text_embeds output.');
    try {
      return Float32Array.from(outputToFloat32(emb));
    } catch (e) {
      throw new AppError(
        'invalid_model',
        `The text model's text_embeds output is not usable: ${(e as Error).message}.`,
      );
    }
  } finally {
    await session.release();
  }
}

/** The tfjs encoder's features for token id rows (each [SOT ... EOT]), truncated after the longest EOT. */
export function encodeIds(enc: TfTextEncoder, ids: number[][]): tf.Tensor2D {
  return tf.tidy(() => {
    const L = Math.max(...ids.map((r) => r.length));
    const padded = ids.map((r) => [...r, ...new Array<number>(L - r.length).fill(r[r.length - 1] ?? 0)]);
    const x = tf.gather(enc.tokenEmbedding, tf.tensor2d(padded, [ids.length, L], 'int32')) as unknown as tf.Tensor3D;
    return plainForward(
      enc,
      x,
      ids.map((r) => r.length - 1),
    );
  });
}

/** The optimised path's features for the same rows (full prompts, no shared prefix), as the trainer runs it. */
export function encodeIdsFast(enc: TfTextEncoder, ids: number[][]): tf.Tensor2D {
  return tf.tidy(() => {
    const L = Math.max(...ids.map((r) => r.length));
    const padded = ids.map((r) => [...r, ...new Array<number>(L - r.length).fill(r[r.length - 1] ?? 0)]);
    const x = tf.gather(enc.tokenEmbedding, tf.tensor2d(padded, [ids.length, L], 'int32')) as unknown as tf.Tensor3D;
    return fastForward(
      enc,
      null,
      x,
      ids.map((r) => r.length - 1),
    );
  });
}

function maxAbsDiffOf(ref: Float32Array, t: tf.Tensor): number {
  // .slice(): on wasm, dataSync returns a view of the heap that later allocations may move.
  const got = t.dataSync().slice();
  t.dispose();
  if (got.length !== ref.length) return Infinity;
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs((ref[i] ?? 0) - (got[i] ?? NaN)));
  return Number.isNaN(m) ? Infinity : m;
}

/** The allowed difference of text features: fp16 files run in half precision in ONNX Runtime. */
export function toleranceFor(precision: 'fp32' | 'fp16'): number {
  return precision === 'fp16' ? 5e-2 : 1e-4;
}

/** Compares the tfjs encoder (plain and optimised paths) with ONNX Runtime on the verification sequences. */
export async function verifyTextEncoder(
  enc: TfTextEncoder,
  bytes: Uint8Array,
  precision: 'fp32' | 'fp16',
): Promise<{ maxAbsDiff: number; maxAbsDiffOptimised: number; tolerance: number; prompts: number }> {
  const ids = verificationIds(enc.vocabSize);
  const ref = await runOrt(bytes, ids, enc.contextLength, enc.vocabSize - 1);
  const maxAbsDiff = maxAbsDiffOf(ref, encodeIds(enc, ids));
  const maxAbsDiffOptimised = maxAbsDiffOf(ref, encodeIdsFast(enc, ids));
  return { maxAbsDiff, maxAbsDiffOptimised, tolerance: toleranceFor(precision), prompts: ids.length };
}

function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new AppError('io_error', `Cannot read ${file}: ${(e as Error).message}`);
  }
}

async function runCheck(
  encoder: TfTextEncoder,
  bytes: Uint8Array,
  file: string,
  sha256: string,
  precision: 'fp32' | 'fp16',
): Promise<TextEncoderCheck> {
  const r = await verifyTextEncoder(encoder, bytes, precision);
  const check: TextEncoderCheck = {
    ok: r.maxAbsDiff <= r.tolerance && r.maxAbsDiffOptimised <= r.tolerance,
    file,
    sha256,
    weights: precision,
    ...r,
    width: encoder.width,
    layers: encoder.layers,
    heads: encoder.heads,
    contextLength: encoder.contextLength,
    projectionDim: encoder.projectionDim,
    vocabSize: encoder.vocabSize,
  };
  verdicts.set(sha256, check);
  return check;
}

/** A sentence for a failed check (the trainer's refusal and `check-model`'s exit message). */
export function mismatchMessage(check: TextEncoderCheck): string {
  const worst = Math.max(check.maxAbsDiff, check.maxAbsDiffOptimised);
  return `The text encoder rebuilt from ${check.file} does not match ONNX Runtime (max abs difference of the text features ${worst.toExponential(2)} > tolerance ${check.tolerance}); this export is not supported for training.`;
}

/**
 * Runs the verification afresh (ignoring the cached verdict) and frees the encoder: `check-model`. Structural
 * failures (quantized file, unrecognised graph) throw `invalid_model`; a numerical mismatch returns `ok: false`.
 */
export async function checkTextModelFile(modelDir: string, file: string): Promise<TextEncoderCheck> {
  const bytes = readBytes(file);
  const { weights, precision } = readTextWeights(bytes, headsFromConfig(modelDir));
  const encoder = createTextEncoder(weights);
  try {
    return await runCheck(encoder, bytes, file, createHash('sha256').update(bytes).digest('hex'), precision);
  } finally {
    encoder.dispose();
  }
}

/** Loads and verifies (unless skipped) the text encoder of a model folder, keeping the check's report. */
export async function loadTextEncoderChecked(
  modelDir: string,
  opts: { skipVerify?: boolean; file?: string } = {},
): Promise<{ encoder: TfTextEncoder; check: TextEncoderCheck | null }> {
  const file = opts.file ?? textModelFile(modelDir);
  const bytes = readBytes(file);
  const { weights, precision } = readTextWeights(bytes, headsFromConfig(modelDir));
  const encoder = createTextEncoder(weights);
  if (opts.skipVerify) return { encoder, check: null };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const check = verdicts.get(sha256) ?? (await runCheck(encoder, bytes, file, sha256, precision));
  if (!check.ok) {
    encoder.dispose();
    throw new AppError('invalid_model', mismatchMessage(check));
  }
  return { encoder, check };
}

/** Loads the verified text encoder of a model folder (pinned interface). */
export async function loadTextEncoder(modelDir: string, opts: { skipVerify?: boolean } = {}): Promise<TfTextEncoder> {
  return (await loadTextEncoderChecked(modelDir, opts)).encoder;
}

// [Note: encoder cache] Loading and verifying the text encoder against ONNX Runtime costs seconds; a run keeps the
// last one for the same model and backend so a second run (another seed, eval, the bench) reuses it.
let encoderCache: { key: string; encoder: TfTextEncoder } | null = null;

/** The differentiable text encoder of `model`, cached per model and backend (see [Note: encoder cache]). */
export async function textEncoderFor(model: Pick<ClipModel, 'info'>, backend: string): Promise<TfTextEncoder> {
  const key = `${model.info.dir}\n${model.info.id}\n${backend}`;
  if (encoderCache?.key === key) return encoderCache.encoder;
  encoderCache?.encoder.dispose();
  encoderCache = null;
  const encoder = await loadTextEncoder(model.info.dir);
  encoderCache = { key, encoder };
  return encoder;
}

/** Frees the cached text encoder (tests that count tensors call this). */
export function releaseTextEncoderCache(): void {
  encoderCache?.encoder.dispose();
  encoderCache = null;
}
