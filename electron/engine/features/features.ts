/**
 * @file The one image-features pipeline of the engine: every image embedding (folder runs, project runs, the
 * project embedding job, compare, predict, export) is computed here once with ONNX Runtime, through the memory cache
 * and the store's embedding cache, with cached augmented views (engine, plain Node).
 *
 * [Note: cached views] The image encoder is frozen, so the features of an augmented view never change: instead of a
 * fresh random crop per step (the reference code), each training image gets a fixed number of random views (random
 * resized crop, scale 0.08-1, ratio 3/4-4/3, torchvision's sampling, plus a coin-flip horizontal flip), drawn once
 * from the run's seed and embedded once. With 0 views training uses the plain centre-cropped image. Every embedding
 * is kept in a per-process memory cache keyed by (model id, file path + mtime + size, view), so a second run on the
 * same data (another seed, the eval command, the bench) only embeds what it has not seen.
 *
 * [Note: persistent features] Project runs also pass the store's embedding cache (an {@link EmbeddingStore}) and the
 * images' content hashes: what the memory cache lacks is looked up by (sha256, model id, view id), the same keys the
 * embedding job writes (`viewIdOf`), and what is computed is written back chunk by chunk, so a re-run on an unchanged
 * project computes no image embeddings even in a fresh process, and a killed run keeps what it had computed. The
 * project embedding job (embed-project.ts) fills the same store through {@link embedAll}, so both write one key per
 * (sha256, model id, view id) from one code path.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { AppError } from '../../../shared/result';
import type { ViewTransform } from '../clip/preprocess';
import type { Rng } from '../train/splits';

/**
 * What the pipeline needs from the CLIP runtime's `ClipModel` (structural, so any implementation fits: the embedding
 * job's fake encoder, see [Note: embedder seam]). The optional file fields let a job record which model it used.
 */
export interface ImageEmbedder {
  info: { id: string; dir?: string; textModelPath?: string; visionModelPath?: string };
  embedImages(
    inputs: { path?: string; view?: ViewTransform }[],
    opts?: { batchSize?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<{ embeddings: (Float32Array | null)[]; errors: { index: number; path: string; reason: string }[] }>;
}

/** One image to embed, optionally through a view; `sha256` (content hash) lets the persistent cache serve it. */
export interface EmbedRequest {
  path: string;
  view?: ViewTransform;
  sha256?: string;
}

/** The store's embedding cache as {@link embedAll} sees it (see [Note: persistent features]); raw vectors. */
export interface EmbeddingStore {
  get(modelId: string, keys: readonly { sha256: string; viewId: string }[]): (Float32Array | undefined)[];
  put(modelId: string, rows: readonly { sha256: string; viewId: string; vec: Float32Array }[]): void;
}

/** Images embedded per call when results are written to the persistent cache (what a kill can lose at most). */
export const PERSIST_CHUNK = 64;

/**
 * The view a view id names: `center` (the plain preprocessed image), `flip`, or `crop:x0,y0,x1,y1` with an optional
 * `:flip` suffix (fractions of the oriented image).
 */
export function viewFromId(viewId: string): ViewTransform | undefined {
  if (viewId === 'center') return undefined;
  if (viewId === 'flip') return { flip: true };
  const m = /^crop:([\d.]+),([\d.]+),([\d.]+),([\d.]+)(:flip)?$/.exec(viewId);
  if (!m) throw new AppError('bad_args', `Unknown view id "${viewId}" (use center, flip or crop:x0,y0,x1,y1[:flip]).`);
  const crop = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return m[5] ? { crop, flip: true } : { crop };
}

/** The view id of a view (inverse of {@link viewFromId}; crop fractions rounded to 6 decimals). */
export function viewIdOf(view: ViewTransform | undefined): string {
  if (!view?.crop) return view?.flip ? 'flip' : 'center';
  return `crop:${view.crop.map((x) => Number(x.toFixed(6))).join(',')}${view.flip ? ':flip' : ''}`;
}

/** L2-normalised copy of `v`. */
export function normalised(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

/**
 * torchvision's `RandomResizedCrop.get_params` on a `width` x `height` image, as fractions, plus a random flip:
 * up to 10 tries of area in `scale` and log-uniform aspect ratio, then the centre crop fallback.
 */
export function randomResizedCropView(
  rng: Rng,
  width: number,
  height: number,
  scale = [0.08, 1],
  ratio = [3 / 4, 4 / 3],
): ViewTransform {
  const area = width * height;
  const [lr0, lr1] = [Math.log(ratio[0] ?? 0.75), Math.log(ratio[1] ?? 4 / 3)];
  let crop: [number, number, number, number] | null = null;
  for (let attempt = 0; attempt < 10 && !crop; attempt++) {
    const target = area * rng.uniform(scale[0] ?? 0.08, scale[1] ?? 1);
    const ar = Math.exp(rng.uniform(lr0, lr1));
    const w = Math.round(Math.sqrt(target * ar));
    const h = Math.round(Math.sqrt(target / ar));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h);
      const left = rng.int(0, width - w);
      crop = [left / width, top / height, (left + w) / width, (top + h) / height];
    }
  }
  if (!crop) {
    // Fallback of torchvision: the largest centred crop whose ratio is inside `ratio`.
    const inRatio = width / height;
    let w = width;
    let h = height;
    if (inRatio < (ratio[0] ?? 0.75)) h = Math.round(w / (ratio[0] ?? 0.75));
    else if (inRatio > (ratio[1] ?? 4 / 3)) w = Math.round(h * (ratio[1] ?? 4 / 3));
    const top = Math.floor((height - h) / 2);
    const left = Math.floor((width - w) / 2);
    crop = [left / width, top / height, (left + w) / width, (top + h) / height];
  }
  return { crop, flip: rng.next() < 0.5 };
}

/** Width and height of an image after its EXIF orientation (the frame crops are expressed in). */
export async function orientedSize(path: string): Promise<{ width: number; height: number }> {
  try {
    const m = await sharp(path).metadata();
    const swap = (m.orientation ?? 1) >= 5;
    const w = m.width ?? 0;
    const h = m.height ?? 0;
    if (!w || !h) throw new Error('no size');
    return swap ? { width: h, height: w } : { width: w, height: h };
  } catch (e) {
    throw new AppError(
      'invalid_image',
      `Cannot read the size of ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** `augViews` seeded random views per training image (one plain view when 0); see [Note: cached views]. */
export async function trainingViews(
  paths: readonly string[],
  augViews: number,
  rng: Rng,
): Promise<(ViewTransform | undefined)[][]> {
  if (augViews <= 0) return paths.map(() => [undefined]);
  const out: ViewTransform[][] = [];
  for (const path of paths) {
    const { width, height } = await orientedSize(path);
    out.push(Array.from({ length: augViews }, () => randomResizedCropView(rng, width, height)));
  }
  return out;
}

/** The process-wide memory cache of raw image embeddings; see [Note: cached views]. */
export class FeatureCache {
  private readonly map = new Map<string, Float32Array>();
  hits = 0;
  misses = 0;

  /** The cache key of one request. */
  static key(modelId: string, path: string, mtimeMs: number, size: number, view?: ViewTransform): string {
    return `${modelId}\n${path}\n${mtimeMs}\n${size}\n${viewIdOf(view)}`;
  }

  get(key: string): Float32Array | undefined {
    return this.map.get(key);
  }

  set(key: string, value: Float32Array): void {
    this.map.set(key, value);
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

/** The engine process's feature cache. */
export const featureCache = new FeatureCache();

/** Result of {@link embedAll}: normalised features in request order (null for unreadable images). */
export interface EmbedAllResult {
  features: (Float32Array | null)[];
  errors: { path: string; reason: string }[];
  computed: number;
  cached: number;
}

/** Options of {@link embedAll}. */
export interface EmbedAllOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** The memory cache (the process's {@link featureCache} when omitted; null: none, as the embedding job uses). */
  cache?: FeatureCache | null;
  /** The persistent cache, for requests that carry a content hash (see [Note: persistent features]). */
  store?: EmbeddingStore;
  batchSize?: number;
}

/** What the caches hold for a list of requests: raw vectors (null where missing) and the memory keys. */
interface Lookup {
  keys: (string | null)[];
  raw: (Float32Array | null)[];
  /** Indices of the requests no cache could serve, in request order. */
  todo: number[];
}

/** The store key of a request, or null without a content hash. */
function storeKey(r: EmbedRequest): { sha256: string; viewId: string } | null {
  return r.sha256 ? { sha256: r.sha256, viewId: viewIdOf(r.view) } : null;
}

/** Memory keys by file path, mtime and size (an unreadable file gets a key that never matches a real one). */
async function memoryKeys(modelId: string, requests: readonly EmbedRequest[]): Promise<string[]> {
  const stats = new Map<string, { mtimeMs: number; size: number }>();
  for (const r of requests) {
    if (stats.has(r.path)) continue;
    const s = await stat(r.path).catch(() => null);
    stats.set(r.path, s ? { mtimeMs: s.mtimeMs, size: s.size } : { mtimeMs: -1, size: -1 });
  }
  return requests.map((r) => {
    const s = stats.get(r.path) ?? { mtimeMs: -1, size: -1 };
    return FeatureCache.key(modelId, r.path, s.mtimeMs, s.size, r.view);
  });
}

/** Step 1 of {@link embedAll}: serve what the memory cache, then the store, already hold. */
async function lookUp(
  modelId: string,
  requests: readonly EmbedRequest[],
  cache: FeatureCache | null,
  store: EmbeddingStore | undefined,
): Promise<Lookup> {
  const keys: (string | null)[] = cache ? await memoryKeys(modelId, requests) : requests.map(() => null);
  const raw = keys.map((k) => (k !== null ? (cache?.get(k) ?? null) : null));
  if (store) {
    const ask = raw.flatMap((f, i) => (!f && requests[i]?.sha256 ? [i] : []));
    const got = store.get(
      modelId,
      ask.map((i) => storeKey(requests[i] as EmbedRequest) as { sha256: string; viewId: string }),
    );
    ask.forEach((i, j) => {
      const v = got[j];
      if (!v) return;
      raw[i] = v;
      const k = keys[i];
      if (k) cache?.set(k, v);
    });
  }
  return { keys, raw, todo: raw.flatMap((f, i) => (f ? [] : [i])) };
}

/**
 * Which requests the memory cache (the process's {@link featureCache} when omitted) or the store already hold, as
 * `embedAll` would find them; what `estimateLearn` counts as left to embed. A hit from the store is kept in memory.
 */
export async function whichCached(
  modelId: string,
  requests: readonly EmbedRequest[],
  opts: { cache?: FeatureCache; store?: EmbeddingStore } = {},
): Promise<boolean[]> {
  const { raw } = await lookUp(modelId, requests, opts.cache ?? featureCache, opts.store);
  return raw.map((f) => f !== null);
}

/**
 * Step 2 of {@link embedAll}: embeds what no cache held, chunk by chunk; each chunk goes to the memory cache and the
 * store as soon as it is computed (see [Note: persistent features]).
 */
async function computeMissing(
  model: ImageEmbedder,
  requests: readonly EmbedRequest[],
  found: Lookup,
  cache: FeatureCache | null,
  opts: EmbedAllOptions,
): Promise<{ path: string; reason: string }[]> {
  const errors: { path: string; reason: string }[] = [];
  const cached = requests.length - found.todo.length;
  const chunk = opts.store ? PERSIST_CHUNK : Math.max(1, found.todo.length);
  for (let start = 0; start < found.todo.length; start += chunk) {
    opts.signal?.throwIfAborted();
    const part = found.todo.slice(start, start + chunk);
    const inputs = part.map((i) => {
      const r = requests[i] as EmbedRequest;
      return r.view ? { path: r.path, view: r.view } : { path: r.path };
    });
    const res = await model.embedImages(inputs, {
      ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (done) => opts.onProgress?.(cached + start + done, requests.length),
    });
    const rows: { sha256: string; viewId: string; vec: Float32Array }[] = [];
    res.embeddings.forEach((e, j) => {
      const i = part[j] as number;
      if (!e) return;
      const k = found.keys[i];
      if (k) cache?.set(k, e);
      found.raw[i] = e;
      const sk = storeKey(requests[i] as EmbedRequest);
      if (sk) rows.push({ ...sk, vec: e });
    });
    if (opts.store && rows.length > 0) opts.store.put(model.info.id, rows);
    for (const err of res.errors) errors.push({ path: err.path, reason: err.reason });
  }
  return errors;
}

/**
 * Embeds every request through the memory cache and the optional store, computing only what neither holds; returns
 * L2-normalised features (the caches keep raw vectors).
 */
export async function embedAll(
  model: ImageEmbedder,
  requests: readonly EmbedRequest[],
  opts: EmbedAllOptions = {},
): Promise<EmbedAllResult> {
  const cache = opts.cache === undefined ? featureCache : opts.cache;
  const found = await lookUp(model.info.id, requests, cache, opts.store);
  const cached = requests.length - found.todo.length;
  if (cache) {
    cache.hits += cached;
    cache.misses += found.todo.length;
  }
  const errors = await computeMissing(model, requests, found, cache, opts);
  return {
    features: found.raw.map((f) => (f ? normalised(f) : null)),
    errors,
    computed: found.todo.length,
    cached,
  };
}
