/**
 * @file The embedding job: compute the image embeddings a project is missing, through the persistent
 * cache (engine, plain Node).
 *
 * [Note: resumable embedding] Work is split into batches; each batch's embeddings are written in
 * one transaction as soon as they are computed, keyed by (content sha256, model id, view id). A
 * job killed at any moment therefore keeps every finished batch, and the next run asks the cache
 * first and computes only what is missing. Re-running on an unchanged dataset computes nothing.
 * A changed model has a different id, so it misses the cache instead of reading stale vectors.
 * The embeddings themselves come from the engine's one features pipeline (`embedAll` in features.ts, with
 * the store and without the memory cache), the same code that serves project runs.
 */
import type { EmbedProgress, EmbedReport } from '../../../shared/contract/projects';
import { AppError } from '../../../shared/result';
import type { Db } from '../store/db';
import { embeddingStore, missingEmbeddings } from '../store/embeddings-repo';
import { finishJob, startJob, updateJob } from '../store/jobs-repo';
import { projectRow } from '../store/projects-repo';
import { stmt } from '../store/statements';
import { embedAll, viewFromId, type EmbeddingStore, type EmbedRequest, type ImageEmbedder } from './features';

/** Options of {@link embedProject}. */
export interface EmbedOptions {
  projectId: number;
  embedder: ImageEmbedder;
  views: readonly string[];
  batchSize: number;
  progress?: (p: EmbedProgress) => void;
  signal: AbortSignal;
}

/** Step 1: the project's usable images (not excluded, not missing) and, per view, those the store lacks. */
function planProjectEmbedding(db: Db, opts: EmbedOptions): { report: EmbedReport; todo: EmbedRequest[] } {
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
  const todo: EmbedRequest[] = [];
  for (const viewId of opts.views) {
    const view = viewFromId(viewId);
    const missing = missingEmbeddings(db, hashes, modelId, viewId);
    report.cached += hashes.length - missing.length;
    for (const sha256 of missing) todo.push({ path: byHash.get(sha256) ?? '', sha256, ...(view ? { view } : {}) });
  }
  return { report, todo };
}

/** The store as the job writes it: each batch and the job's counters in one transaction. */
function jobStore(db: Db, report: EmbedReport): EmbeddingStore {
  const store = embeddingStore(db);
  const detail = () => ({
    modelId: report.modelId,
    views: report.views,
    total: report.total,
    cached: report.cached,
    computed: report.computed,
  });
  return {
    get: (modelId, keys) => store.get(modelId, keys),
    put: (modelId, rows) =>
      db.transaction(() => {
        store.put(modelId, rows);
        report.computed += rows.length;
        updateJob(db, report.jobId, detail());
      })(),
  };
}

/** Step 2: embeds the missing images batch by batch through the features pipeline; see [Note: resumable embedding]. */
async function embedBatches(db: Db, opts: EmbedOptions, report: EmbedReport, todo: EmbedRequest[]): Promise<void> {
  const store = jobStore(db, report);
  const progress = () =>
    opts.progress?.({
      done: report.cached + report.computed + report.failed.length,
      total: report.total,
      cached: report.cached,
    });
  progress();
  for (let start = 0; start < todo.length; start += opts.batchSize) {
    opts.signal.throwIfAborted();
    const batch = todo.slice(start, start + opts.batchSize);
    const out = await embedAll(opts.embedder, batch, {
      cache: null,
      store,
      batchSize: opts.batchSize,
      signal: opts.signal,
    });
    report.failed.push(...out.errors);
    progress();
  }
}

/** Computes the missing embeddings of a project's usable images (not excluded, not missing). */
export async function embedProject(db: Db, opts: EmbedOptions): Promise<EmbedReport> {
  const { report, todo } = planProjectEmbedding(db, opts);
  const { modelId, views, total } = report;
  report.jobId = startJob(db, opts.projectId, 'embed', { modelId, views, total, cached: report.cached });
  try {
    await embedBatches(db, opts, report, todo);
    const { cached, computed } = report;
    finishJob(db, report.jobId, 'done', { modelId, views, total, cached, computed, failed: report.failed.length });
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
