/**
 * @file The embedding job: compute the image embeddings a project is missing, through the persistent
 * cache (engine, plain Node).
 *
 * [Note: resumable embedding] Work is split into batches; each batch's embeddings are written in
 * one transaction as soon as they are computed, keyed by (content sha256, model id, view id). A
 * job killed at any moment therefore keeps every finished batch, and the next run asks the cache
 * first and computes only what is missing. Re-running on an unchanged dataset computes nothing.
 * A changed model has a different id, so it misses the cache instead of reading stale vectors.
 */
import type { EmbedProgress, EmbedReport } from '../../../shared/contract/projects';
import { AppError } from '../../../shared/result';
import type { Db } from '../store/db';
import { putEmbeddings, missingEmbeddings } from '../store/embeddings-repo';
import { finishJob, startJob, updateJob } from '../store/jobs-repo';
import { projectRow } from '../store/projects-repo';
import { stmt } from '../store/statements';

/** A crop (fractions x0, y0, x1, y1 of the oriented image) and a flip: the CLIP runtime's `ViewTransform`. */
export interface ViewTransform {
  crop?: [number, number, number, number];
  flip?: boolean;
}

/** What this job needs from the CLIP runtime's `ClipModel` (structural, so any implementation fits). */
export interface ImageEmbedder {
  info: { id: string; dir?: string; textModelPath?: string; visionModelPath?: string };
  embedImages(
    inputs: { path?: string; view?: ViewTransform }[],
    opts?: { batchSize?: number; signal?: AbortSignal },
  ): Promise<{ embeddings: (Float32Array | null)[]; errors: { index: number; path: string; reason: string }[] }>;
}

/**
 * The view a view id names: `center` (the plain preprocessed image), `flip`, or
 * `crop:x0,y0,x1,y1` with an optional `:flip` suffix (fractions of the oriented image).
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

/** Options of {@link embedProject}. */
export interface EmbedOptions {
  projectId: number;
  embedder: ImageEmbedder;
  views: readonly string[];
  batchSize: number;
  progress?: (p: EmbedProgress) => void;
  signal: AbortSignal;
}

/** Computes the missing embeddings of a project's usable images (not excluded, not missing). */
export async function embedProject(db: Db, opts: EmbedOptions): Promise<EmbedReport> {
  const project = projectRow(db, opts.projectId);
  const modelId = opts.embedder.info.id;
  const images = stmt(
    db,
    'SELECT sha256, path FROM images WHERE project_id = ? AND excluded = 0 AND missing = 0 ORDER BY id',
  ).all(project.id) as { sha256: string; path: string }[];
  const byHash = new Map(images.map((i) => [i.sha256, i.path]));
  const hashes = [...byHash.keys()];
  const total = hashes.length * opts.views.length;
  const report: EmbedReport = { jobId: 0, modelId, views: [...opts.views], total, cached: 0, computed: 0, failed: [] };
  const todo: { sha256: string; viewId: string }[] = [];
  for (const viewId of opts.views) {
    viewFromId(viewId);
    const missing = missingEmbeddings(db, hashes, modelId, viewId);
    report.cached += hashes.length - missing.length;
    for (const sha256 of missing) todo.push({ sha256, viewId });
  }
  report.jobId = startJob(db, project.id, 'embed', { modelId, views: opts.views, total, cached: report.cached });
  const progress = () =>
    opts.progress?.({ done: report.cached + report.computed + report.failed.length, total, cached: report.cached });
  progress();
  try {
    for (let start = 0; start < todo.length; start += opts.batchSize) {
      opts.signal.throwIfAborted();
      const batch = todo.slice(start, start + opts.batchSize);
      const inputs = batch.map((t) => {
        const view = viewFromId(t.viewId);
        return { path: byHash.get(t.sha256) ?? '', ...(view ? { view } : {}) };
      });
      const out = await opts.embedder.embedImages(inputs, { batchSize: opts.batchSize, signal: opts.signal });
      const byView = new Map<string, { sha256: string; vec: Float32Array }[]>();
      batch.forEach((t, i) => {
        const vec = out.embeddings[i];
        if (!vec) return;
        let rows = byView.get(t.viewId);
        if (!rows) byView.set(t.viewId, (rows = []));
        rows.push({ sha256: t.sha256, vec });
      });
      db.transaction(() => {
        for (const [viewId, rows] of byView) putEmbeddings(db, rows, modelId, viewId);
        updateJob(db, report.jobId, {
          modelId,
          views: opts.views,
          total,
          cached: report.cached,
          computed: report.computed,
        });
      })();
      for (const rows of byView.values()) report.computed += rows.length;
      for (const e of out.errors) report.failed.push({ path: e.path, reason: e.reason });
      progress();
    }
    finishJob(db, report.jobId, 'done', {
      modelId,
      views: opts.views,
      total,
      cached: report.cached,
      computed: report.computed,
      failed: report.failed.length,
    });
    return report;
  } catch (e) {
    const cancelled = opts.signal.aborted;
    finishJob(
      db,
      report.jobId,
      cancelled ? 'cancelled' : 'failed',
      undefined,
      cancelled ? undefined : e instanceof Error ? e.message : String(e),
    );
    if (cancelled)
      throw new AppError('cancelled', 'The embedding job was cancelled; the embeddings computed so far were kept.');
    throw e;
  }
}
