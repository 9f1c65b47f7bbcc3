/**
 * @file The CLIP encoders on ONNX Runtime: cached sessions, batched text and image embedding (engine, plain Node).
 *
 * [Note: ORT sessions] A session of ViT-B/32 takes about a second to create and holds ~600 MB, so
 * `openClipModel` creates the two sessions once per (folder, variant, provider) and every caller
 * shares them. The execution provider is chosen per platform (CUDA on Linux/Windows when its
 * runtime is installed, DirectML on Windows, CoreML on macOS, else CPU), can be forced with
 * `provider`, and falls back to CPU when the preferred one fails to initialise; `provider` on
 * the model says which one is in use.
 *
 * [Note: image pipeline] `embedImages` overlaps work: while ORT runs batch k on its own threads
 * (the Node binding's `run` is asynchronous), the images of batch k+1 are decoded by sharp on the
 * libuv pool and resized in JS. On a CPU-only machine that overlap only pays if ORT gives the cores
 * back between ops: by default its intra-op threads spin-wait for the next op, which on a 2-core
 * machine starves decoding (and every other process), so sessions turn spinning off
 * (`session.intra_op.allow_spinning = 0`); measured with `npm run bench:embed` on a random-weight
 * ViT-B/32 (scripts/make-bench-model.ts). Resizing is the largest preprocessing cost, hence the
 * tuned loops in `pil-resize.ts`. One bad image (corrupt, empty, too large, not an image) becomes a
 * `null` embedding plus an `{ index, path, reason }` error; it never fails the batch.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { AppError } from '../../../shared/result';
import { float16ToFloat32, float32ToFloat16 } from '../formats/half-float';
import { loadModelFolder, type ClipModelInfo } from './model-folder';
import { decodeRgb, normalizeInto, resizeAndCrop, type ViewTransform } from './preprocess';
import { ClipTokenizer } from './tokenizer';

/** An image to embed: a path, or bytes, with an optional augmentation view. */
export type ImageInput = string | { path?: string; data?: Uint8Array; view?: ViewTransform };

/** Embeddings in input order; bad images are `null` with an error naming them. */
export interface ImageEmbedResult {
  embeddings: (Float32Array | null)[];
  errors: { index: number; path: string; reason: string }[];
}

/** Options of {@link ClipModel.embedImages}. */
export interface EmbedImagesOptions {
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** A loaded CLIP model: both encoders, the tokenizer and the folder's settings. */
export interface ClipModel {
  info: ClipModelInfo;
  tokenizer: ClipTokenizer;
  /** The execution provider in use (`cpu`, `cuda`, `dml`, `coreml`, ...). */
  provider: string;
  /** Raw `text_embeds` (not normalised), one per text. */
  embedText(texts: string[]): Promise<Float32Array[]>;
  /** Raw `text_embeds` of already tokenised rows (each `[SOT, ..., EOT]`, padded or not). */
  embedTokenIds(ids: number[][]): Promise<Float32Array[]>;
  /** Raw `image_embeds` through the pipeline of [Note: image pipeline]. */
  embedImages(inputs: ImageInput[], opts?: EmbedImagesOptions): Promise<ImageEmbedResult>;
  /** Raw `image_embeds` of preprocessed `[count, 3, H, W]` pixels. */
  embedPixels(pixels: Float32Array, count: number): Promise<Float32Array[]>;
  /** The vision graph's named outputs (e.g. `last_hidden_state`) for preprocessed pixels, as float32 with their dims. */
  runVision(pixels: Float32Array, count: number, outputs: string[]): Promise<Record<string, VisionOutput>>;
  /** The vision graph's output names. */
  visionOutputs: readonly string[];
  /** Releases both sessions and forgets the model in the cache. */
  release(): Promise<void>;
}

/** One output of the vision graph: float32 values and their dims. */
export interface VisionOutput {
  data: Float32Array;
  dims: number[];
}

/** The default image batch size: big enough to amortise ORT's per-run cost, small enough for 8 GB machines. */
export const DEFAULT_IMAGE_BATCH = 16;
const TEXT_BATCH = 64;

/** Providers to try, best first, on this platform (see [Note: ORT sessions]). */
export function preferredProviders(platform: NodeJS.Platform = process.platform): string[] {
  const available = new Set(
    ort
      .listSupportedBackends()
      .filter((b) => b.bundled)
      .map((b) => b.name),
  );
  const wanted = platform === 'darwin' ? ['coreml'] : platform === 'win32' ? ['cuda', 'dml'] : ['cuda'];
  return [...wanted.filter((p) => available.has(p)), 'cpu'];
}

async function createSession(path: string, provider: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: availableParallelism(),
    // See [Note: image pipeline]: idle ORT threads sleep instead of spinning, leaving the cores to decoding.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

/** Converts an ORT output tensor (float32 or float16) to rows of float32. */
function rows(t: ort.Tensor, count: number): Float32Array[] {
  let data: Float32Array;
  if (t.type === 'float32') data = t.data as Float32Array;
  else if (t.type === 'float16') data = float16ToFloat32(t.data as Uint16Array);
  else throw new AppError('invalid_model', `The encoder returned ${t.type} embeddings; expected float32 or float16.`);
  const dim = data.length / count;
  return Array.from({ length: count }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

const cache = new Map<string, Promise<ClipModel>>();

/** Opens (or returns the cached) CLIP model of a folder; throws `invalid_model` for a bad folder. */
export async function openClipModel(
  dir: string,
  opts: { variant?: ClipModelInfo['variant']; provider?: string } = {},
): Promise<ClipModel> {
  const info = await loadModelFolder(dir, opts.variant ? { variant: opts.variant } : {});
  const key = `${info.dir}|${info.variant}|${opts.provider ?? 'auto'}|${info.id}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = createModel(info, opts.provider, () => cache.delete(key));
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

/** Releases every cached model (tests and shutdown). */
export async function closeClipModels(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const p of all) await (await p.catch(() => null))?.release();
}

/** The folder's tokenizer, refused when it has ids that the text encoder's token table lacks. */
async function openTokenizer(info: ClipModelInfo): Promise<ClipTokenizer> {
  const tokenizer = await ClipTokenizer.fromModelDir(info.dir, info.config.text.contextLength);
  // An id the text encoder's token table does not have would fail (or read garbage) at the first prompt.
  if (tokenizer.vocabSize > info.config.text.vocabSize)
    throw new AppError(
      'invalid_model',
      `The tokenizer in ${info.dir} has token ids up to ${tokenizer.vocabSize - 1}, but config.json's text vocab_size is ${info.config.text.vocabSize}: the tokenizer belongs to another model.`,
    );
  return tokenizer;
}

/** Both encoders' sessions on the first provider that opens them, best first (see [Note: ORT sessions]). */
async function openSessions(
  info: ClipModelInfo,
  forced: string | undefined,
): Promise<{ textSession: ort.InferenceSession; visionSession: ort.InferenceSession; provider: string }> {
  const candidates = forced ? [forced] : preferredProviders();
  let text: ort.InferenceSession | undefined;
  let vision: ort.InferenceSession | undefined;
  let provider = '';
  const failures: string[] = [];
  for (const p of candidates) {
    try {
      text = await createSession(info.textModelPath, p);
      vision = await createSession(info.visionModelPath, p);
      provider = p;
      break;
    } catch (e) {
      await text?.release();
      text = undefined;
      failures.push(`${p}: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  if (!text || !vision)
    throw new AppError(
      forced && !failures.some((f) => f.startsWith('cpu')) ? 'unsupported' : 'invalid_model',
      `ONNX Runtime could not open the model in ${info.dir} (${failures.join('; ')}).`,
    );
  return { textSession: text, visionSession: vision, provider };
}

/** One run at a time per session: concurrent runs would split the same cores and only add memory. */
function sessionQueues(): <T>(which: 'text' | 'vision', fn: () => Promise<T>) => Promise<T> {
  const queues: Record<'text' | 'vision', Promise<unknown>> = { text: Promise.resolve(), vision: Promise.resolve() };
  return <T>(which: 'text' | 'vision', fn: () => Promise<T>): Promise<T> => {
    const next = queues[which].then(fn, fn);
    queues[which] = next.catch(() => undefined);
    return next;
  };
}

/** The model's encoders on ORT with their queues and the embedding functions over them. */
async function createModel(info: ClipModelInfo, forced: string | undefined, forget: () => void): Promise<ClipModel> {
  const tokenizer = await openTokenizer(info);
  const { textSession, visionSession, provider } = await openSessions(info, forced);
  const ctx = info.config.text.contextLength;
  const visionHalf = visionSession.inputMetadata.some(
    (m) => m.name === 'pixel_values' && m.isTensor && m.type === 'float16',
  );
  const imageSize = 3 * info.preprocess.cropHeight * info.preprocess.cropWidth;

  const serial = sessionQueues();

  async function embedTokenIds(ids: number[][]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < ids.length; start += TEXT_BATCH) {
      const chunk = ids.slice(start, start + TEXT_BATCH);
      const n = chunk.length;
      const feeds = tokenFeeds(chunk, ctx, tokenizer, info.textHasAttentionMask);
      const result = await serial('text', () => textSession.run(feeds, ['text_embeds']));
      const t = result['text_embeds'];
      if (!t) throw new AppError('invalid_model', 'The text encoder returned no text_embeds.');
      out.push(...rows(t, n));
    }
    return out;
  }

  /** The vision graph's `pixel_values` for `count` preprocessed images (float16 when the graph takes that). */
  const pixelInput = (pixels: Float32Array, count: number): ort.Tensor => {
    if (pixels.length !== count * imageSize)
      throw new AppError('bad_args', `Expected ${count} images of ${imageSize} values, got ${pixels.length} values.`);
    const dims = [count, 3, info.preprocess.cropHeight, info.preprocess.cropWidth];
    return visionHalf
      ? new ort.Tensor('float16', float32ToFloat16(pixels), dims)
      : new ort.Tensor('float32', pixels, dims);
  };

  async function embedPixels(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    const input = pixelInput(pixels, count);
    if (count === 0) return [];
    const result = await serial('vision', () => visionSession.run({ pixel_values: input }, ['image_embeds']));
    const t = result['image_embeds'];
    if (!t) throw new AppError('invalid_model', 'The vision encoder returned no image_embeds.');
    return rows(t, count);
  }

  async function runVision(
    pixels: Float32Array,
    count: number,
    outputs: string[],
  ): Promise<Record<string, VisionOutput>> {
    const input = pixelInput(pixels, count);
    checkVisionOutputs(visionSession, outputs, info.dir);
    const result = await serial('vision', () => visionSession.run({ pixel_values: input }, outputs));
    const out: Record<string, VisionOutput> = {};
    for (const name of outputs) {
      const t = result[name];
      if (!t) throw new AppError('invalid_model', `The vision encoder returned no ${name}.`);
      out[name] = { data: rows(t, 1)[0] ?? new Float32Array(0), dims: [...t.dims] };
    }
    return out;
  }

  return {
    info,
    tokenizer,
    provider,
    embedText: async (texts) => embedTokenIds(texts.map((t) => tokenizer.encode(t))),
    embedTokenIds,
    embedImages: (inputs, opts) => embedInBatches(inputs, opts ?? {}, info.preprocess, embedPixels),
    embedPixels,
    runVision,
    visionOutputs: [...visionSession.outputNames],
    async release() {
      forget();
      await textSession.release();
      await visionSession.release();
    },
  };
}

/** Refuses vision outputs the graph does not have, naming those it has. */
function checkVisionOutputs(session: ort.InferenceSession, outputs: string[], dir: string): void {
  const missing = outputs.filter((o) => !session.outputNames.includes(o));
  if (missing.length > 0)
    throw new AppError(
      'invalid_model',
      `The vision encoder of ${dir} has no ${missing.join(', ')} output (it has ${session.outputNames.join(', ')}).`,
    );
}

/** Decodes and preprocesses batch k+1 while ORT embeds batch k (see [Note: image pipeline]); bad images give errors. */
async function embedInBatches(
  inputs: ImageInput[],
  opts: EmbedImagesOptions,
  preprocess: ClipModelInfo['preprocess'],
  embedPixels: ClipModel['embedPixels'],
): Promise<ImageEmbedResult> {
  const imageSize = 3 * preprocess.cropHeight * preprocess.cropWidth;
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? DEFAULT_IMAGE_BATCH));
  const embeddings: (Float32Array | null)[] = new Array<Float32Array | null>(inputs.length).fill(null);
  const errors: ImageEmbedResult['errors'] = [];
  const nameOf = (inp: ImageInput, i: number) =>
    typeof inp === 'string' ? inp : (inp.path ?? `image #${i + 1} (${inp.data?.length ?? 0} bytes)`);
  const prepare = (start: number) => {
    const slice = inputs.slice(start, start + batchSize);
    const pixels = new Float32Array(slice.length * imageSize);
    return Promise.all(
      slice.map(async (inp, j) => {
        const index = start + j;
        try {
          const src = typeof inp === 'string' ? inp : (inp.data ?? inp.path);
          if (src === undefined) throw new AppError('invalid_image', 'neither a path nor image bytes were given');
          const rgb = await decodeRgb(src, typeof inp === 'string' ? undefined : inp.view);
          cancelled(opts.signal);
          normalizeInto(resizeAndCrop(rgb, preprocess), preprocess, pixels, j * imageSize);
          return true;
        } catch (e) {
          if (opts.signal?.aborted) return false;
          errors.push({ index, path: nameOf(inp, index), reason: e instanceof Error ? e.message : String(e) });
          return false;
        }
      }),
    ).then((ok) => ({ start, ok, pixels }));
  };
  let next: ReturnType<typeof prepare> | null = inputs.length > 0 ? prepare(0) : null;
  let done = 0;
  opts.onProgress?.(0, inputs.length);
  while (next) {
    const batch = await next;
    cancelled(opts.signal);
    const following = batch.start + batchSize;
    next = following < inputs.length ? prepare(following) : null;
    const good = batch.ok.flatMap((ok, j) => (ok ? [j] : []));
    if (good.length > 0) {
      let pixels = batch.pixels;
      if (good.length < batch.ok.length) {
        pixels = new Float32Array(good.length * imageSize);
        good.forEach((j, k) => pixels.set(batch.pixels.subarray(j * imageSize, (j + 1) * imageSize), k * imageSize));
      }
      const embs = await embedPixels(pixels, good.length);
      good.forEach((j, k) => {
        embeddings[batch.start + j] = embs[k] ?? null;
      });
    }
    done += batch.ok.length;
    opts.onProgress?.(done, inputs.length);
  }
  errors.sort((a, b) => a.index - b.index);
  return { embeddings, errors };
}

/** The text encoder's inputs for token rows: ids padded to `ctx`, and the attention mask when the graph takes one. */
function tokenFeeds(
  chunk: number[][],
  ctx: number,
  tokenizer: ClipTokenizer,
  withMask: boolean,
): Record<string, ort.Tensor> {
  const n = chunk.length;
  const idData = new BigInt64Array(n * ctx);
  const mask = new BigInt64Array(n * ctx);
  chunk.forEach((row, i) => {
    if (row.length > ctx)
      throw new AppError('bad_args', `A token row has ${row.length} ids; the model takes at most ${ctx}.`);
    // Pad by id with the tokenizer's pad id (see [Note: pad by id]). The mask covers SOT up to the
    // first EOT, where the encoder pools; with its causal mask nothing after that position matters.
    const end = firstEot(row, tokenizer.eotId);
    for (let j = 0; j < ctx; j++) {
      const id = row[j];
      idData[i * ctx + j] = BigInt(id ?? tokenizer.padId);
      if (id !== undefined && j <= end) mask[i * ctx + j] = 1n;
    }
  });
  const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', idData, [n, ctx]) };
  if (withMask) feeds['attention_mask'] = new ort.Tensor('int64', mask, [n, ctx]);
  return feeds;
}

/** Index of the first EOT of a row (the pooling position), or its last index when it has none. */
function firstEot(row: number[], eot: number): number {
  const i = row.indexOf(eot);
  return i >= 0 ? i : row.length - 1;
}

function cancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError('cancelled', 'The job was cancelled.');
}
