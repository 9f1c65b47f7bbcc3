/**
 * @file Where the embedding job gets its image encoder (engine, plain Node).
 *
 * [Note: embedder seam] The job codes against the structural `ImageEmbedder` (the CLIP runtime's
 * `ClipModel` fits it). The default loader is the CLIP runtime's `openClipModel`; tests swap in a fake encoder
 * with `setEmbedderLoader` so the store, cache and crash-safety logic are tested without ONNX.
 * The environment variable `COOP_STUDIO_FAKE_EMBEDDER=1` selects the deterministic fake in a
 * worker process, which is how the SIGKILL test drives a real embedding job in a forked engine.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { openClipModel } from '../clip/clip-model';
import type { ViewTransform } from '../clip/preprocess';
import type { ImageEmbedder } from './features';

type Loader = (modelDir: string) => Promise<ImageEmbedder>;

const defaultLoader: Loader = (modelDir) => openClipModel(modelDir);

let loader: Loader | null = null;

/** Replaces how encoders are opened (tests; wiring of the CLIP runtime). */
export function setEmbedderLoader(next: Loader | null): void {
  loader = next;
}

/** Opens the image encoder of a model folder. */
export function loadEmbedder(modelDir: string): Promise<ImageEmbedder> {
  if (loader) return loader(modelDir);
  if (process.env['COOP_STUDIO_FAKE_EMBEDDER'] === '1') return Promise.resolve(fakeEmbedder());
  return defaultLoader(modelDir);
}

/**
 * A deterministic stand-in encoder: each vector is derived from the file's bytes and the view, so a
 * re-computation gives the same vector. `delayMs` per image lets tests kill a job mid-way.
 */
export function fakeEmbedder(
  opts: { id?: string; dim?: number; delayMs?: number; calls?: { count: number } } = {},
): ImageEmbedder {
  const dim = opts.dim ?? 8;
  const delay = opts.delayMs ?? Number(process.env['COOP_STUDIO_FAKE_EMBED_DELAY_MS'] ?? 0);
  return {
    info: { id: opts.id ?? 'fake-embedder' },
    async embedImages(inputs: { path?: string; view?: ViewTransform }[], o?: { signal?: AbortSignal }) {
      const embeddings: (Float32Array | null)[] = [];
      const errors: { index: number; path: string; reason: string }[] = [];
      for (const [index, input] of inputs.entries()) {
        o?.signal?.throwIfAborted();
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (opts.calls) opts.calls.count++;
        const data = await readFile(input.path ?? '').catch(() => null);
        if (!data) {
          embeddings.push(null);
          errors.push({ index, path: input.path ?? '', reason: 'cannot read the file' });
          continue;
        }
        const h = createHash('sha256')
          .update(data)
          .update(JSON.stringify(input.view ?? null))
          .digest();
        embeddings.push(Float32Array.from({ length: dim }, (_, i) => ((h[i % h.length] ?? 0) - 128) / 128));
      }
      return { embeddings, errors };
    },
  };
}
