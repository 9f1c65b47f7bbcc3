/**
 * @file Repository of runs, curves (metrics) and learned contexts, for the trainer (engine, plain Node).
 *
 * The trainer records a run with `createRun` -> `startRun` -> `appendMetrics`... -> `saveContext` ->
 * `finishRun`. Each call is its own transaction, so a SIGKILL keeps every metric and context written
 * before it, and the run becomes `interrupted` at the next open (see [Note: interrupted jobs]).
 */
import type { JobStatus, RunDetail, RunImage, RunSummary } from '../../../shared/contract/projects';
import type { EpochPoint, LearnResult } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { blobToFloats, floatsToBlob } from './blob';
import type { Db } from './db';
import { ownerOf } from './owners';
import { stmt } from './statements';

/** What a new run records. */
export interface NewRun {
  projectId: number;
  modelId: string;
  method: string;
  options: Record<string, unknown>;
  seed: number;
  shots: number;
  backend: string;
}

/** One point of a training curve. */
export interface MetricPoint {
  epoch: number;
  step: number;
  loss?: number | null;
  trainAcc?: number | null;
  valAcc?: number | null;
  testAcc?: number | null;
  lr?: number | null;
  /** Duration of the epoch. */
  seconds?: number | null;
}

/** A learned tensor of a run (context vectors, adapter weights...). */
export interface SavedContext {
  name: string;
  shape: number[];
  data: Float32Array;
  meta: Record<string, unknown>;
}

/** A run with everything needed to show it again. */
export interface RunRecord extends RunSummary {
  projectId: number;
  options: Record<string, unknown>;
  result: Record<string, unknown> | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/** Creates a `queued` run owned by this engine (see [Note: job owners]); returns its id. */
export function createRun(db: Db, run: NewRun): number {
  return Number(
    stmt(
      db,
      `INSERT INTO runs (project_id, model_id, method, options_json, seed, shots, status, backend, created_at, owner)
       VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
    ).run(
      run.projectId,
      run.modelId,
      run.method,
      JSON.stringify(run.options),
      run.seed,
      run.shots,
      run.backend,
      Date.now(),
      ownerOf(db),
    ).lastInsertRowid,
  );
}

/** Marks a run `running`; `shots` records the shots the split took when they differ from the ones asked for. */
export function startRun(db: Db, runId: number, shots?: number): void {
  stmt(db, `UPDATE runs SET status = 'running', started_at = ?, shots = coalesce(?, shots) WHERE id = ?`).run(
    Date.now(),
    shots ?? null,
    runId,
  );
}

/** Appends curve points in one transaction (re-writing a step replaces it). */
export function appendMetrics(db: Db, runId: number, points: MetricPoint[]): void {
  const ins = stmt(
    db,
    `INSERT OR REPLACE INTO metrics (run_id, epoch, step, loss, train_acc, val_acc, test_acc, lr, seconds, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const now = Date.now();
  db.transaction(() => {
    for (const p of points)
      ins.run(
        runId,
        p.epoch,
        p.step,
        p.loss ?? null,
        p.trainAcc ?? null,
        p.valAcc ?? null,
        p.testAcc ?? null,
        p.lr ?? null,
        p.seconds ?? null,
        now,
      );
  })();
}

/** Appends one curve point. */
export function appendMetric(db: Db, runId: number, point: MetricPoint): void {
  appendMetrics(db, runId, [point]);
}

/** Reads a run's curve in step order. */
export function getMetrics(db: Db, runId: number): MetricPoint[] {
  const rows = stmt(
    db,
    'SELECT epoch, step, loss, train_acc, val_acc, test_acc, lr, seconds FROM metrics WHERE run_id = ? ORDER BY step',
  ).all(runId) as {
    epoch: number;
    step: number;
    loss: number | null;
    train_acc: number | null;
    val_acc: number | null;
    test_acc: number | null;
    lr: number | null;
    seconds: number | null;
  }[];
  return rows.map((r) => ({
    epoch: r.epoch,
    step: r.step,
    loss: r.loss,
    trainAcc: r.train_acc,
    valAcc: r.val_acc,
    testAcc: r.test_acc,
    lr: r.lr,
    seconds: r.seconds,
  }));
}

/** Saves (or replaces) a learned tensor of a run. */
export function saveContext(db: Db, runId: number, ctx: SavedContext): void {
  const expected = ctx.shape.reduce((a, b) => a * b, 1);
  if (expected !== ctx.data.length)
    throw new AppError(
      'invalid_data',
      `Context "${ctx.name}" has ${ctx.data.length} values for shape [${ctx.shape.join(', ')}].`,
    );
  stmt(
    db,
    `INSERT OR REPLACE INTO contexts (run_id, name, shape_json, tensor, meta_json, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(runId, ctx.name, JSON.stringify(ctx.shape), floatsToBlob(ctx.data), JSON.stringify(ctx.meta), Date.now());
}

/** Loads the learned tensors of a run. */
export function loadContexts(db: Db, runId: number): SavedContext[] {
  const rows = stmt(db, 'SELECT name, shape_json, tensor, meta_json FROM contexts WHERE run_id = ? ORDER BY id').all(
    runId,
  ) as { name: string; shape_json: string; tensor: Buffer; meta_json: string }[];
  return rows.map((r) => {
    const shape = JSON.parse(r.shape_json) as number[];
    return {
      name: r.name,
      shape,
      data: blobToFloats(
        r.tensor,
        shape.reduce((a, b) => a * b, 1),
      ),
      meta: JSON.parse(r.meta_json) as Record<string, unknown>,
    };
  });
}

/** Ends a run with a final status and optional result (accuracies etc.). */
export function finishRun(
  db: Db,
  runId: number,
  status: Exclude<JobStatus, 'queued' | 'running'>,
  opts: { result?: Record<string, unknown>; error?: string } = {},
): void {
  const now = Date.now();
  stmt(
    db,
    `UPDATE runs SET status = ?, finished_at = ?, duration_ms = ? - coalesce(started_at, created_at),
       result_json = coalesce(?, result_json), error = ? WHERE id = ?`,
  ).run(status, now, now, opts.result ? JSON.stringify(opts.result) : null, opts.error ?? null, runId);
}

interface RunRow {
  id: number;
  project_id: number;
  model_id: string;
  method: string;
  options_json: string;
  seed: number;
  shots: number;
  status: JobStatus;
  backend: string;
  error: string | null;
  result_json: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
}

/** A number at `path` in a stored result, or null. */
function resultNumber(result: Record<string, unknown> | null, path: string[]): number | null {
  let v: unknown = result;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'number' ? v : null;
}

function toRecord(r: RunRow): RunRecord {
  const result = r.result_json ? (JSON.parse(r.result_json) as Record<string, unknown>) : null;
  return {
    id: r.id,
    projectId: r.project_id,
    modelId: r.model_id,
    method: r.method,
    seed: r.seed,
    shots: r.shots,
    status: r.status,
    backend: r.backend,
    createdAt: r.created_at,
    durationMs: r.duration_ms,
    error: r.error,
    testAccuracy: resultNumber(result, ['test', 'accuracy']),
    zeroShotAccuracy: resultNumber(result, ['zeroShot', 'test', 'accuracy']),
    options: JSON.parse(r.options_json) as Record<string, unknown>,
    result,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** One run; throws `not_found`. */
export function getRun(db: Db, runId: number): RunRecord {
  const r = stmt(db, 'SELECT * FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
  if (!r) throw new AppError('not_found', `There is no run with id ${runId}.`);
  return toRecord(r);
}

/** A project's runs, newest first; with `curves`, each with its learning curve. */
export function listRuns(db: Db, projectId: number, curves = false): RunSummary[] {
  return (stmt(db, 'SELECT * FROM runs WHERE project_id = ? ORDER BY id DESC').all(projectId) as RunRow[]).map((r) => {
    const { projectId: _p, options: _o, result: _r, startedAt: _s, finishedAt: _f, ...summary } = toRecord(r);
    return curves ? { ...summary, curve: getMetrics(db, r.id).map(toEpochPoint) } : summary;
  });
}

/** Records a run's split (see [Note: run images]) in one transaction; predictions come later. */
export function saveRunImages(
  db: Db,
  runId: number,
  images: readonly Omit<RunImage, 'predicted' | 'confidence'>[],
): void {
  const ins = stmt(
    db,
    'INSERT OR REPLACE INTO run_images (run_id, image_id, path, sha256, label, split) VALUES (?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const i of images) ins.run(runId, i.imageId, i.path, i.sha256, i.label, i.split);
  })();
}

/** Records the learned prompt's prediction for test images of a run, in one transaction. */
export function saveRunPredictions(
  db: Db,
  runId: number,
  predictions: readonly { path: string; predicted: number; confidence: number }[],
): void {
  const upd = stmt(db, 'UPDATE run_images SET predicted = ?, confidence = ? WHERE run_id = ? AND path = ?');
  db.transaction(() => {
    for (const p of predictions) upd.run(p.predicted, p.confidence, runId, p.path);
  })();
}

/** A run's split in the order it was recorded. */
export function getRunImages(db: Db, runId: number): RunImage[] {
  const rows = stmt(
    db,
    'SELECT image_id, path, sha256, label, split, predicted, confidence FROM run_images WHERE run_id = ? ORDER BY rowid',
  ).all(runId) as {
    image_id: number | null;
    path: string;
    sha256: string | null;
    label: number;
    split: RunImage['split'];
    predicted: number | null;
    confidence: number | null;
  }[];
  return rows.map((r) => ({
    imageId: r.image_id,
    path: r.path,
    sha256: r.sha256,
    label: r.label,
    split: r.split,
    predicted: r.predicted,
    confidence: r.confidence,
  }));
}

/** A stored curve point as the trainer reported it. */
export function toEpochPoint(m: MetricPoint): EpochPoint {
  return {
    epoch: m.epoch,
    lr: m.lr ?? null,
    trainLoss: m.loss ?? 0,
    trainAccuracy: m.trainAcc ?? 0,
    valAccuracy: m.valAcc ?? null,
    testAccuracy: m.testAcc ?? null,
    seconds: m.seconds ?? 0,
  };
}

/** What runs recorded before training schedules existed used: CoOp's paper recipe (SGD, lr 0.002). */
const PRE_SCHEDULE_SETTINGS: Pick<LearnResult['settings'], 'schedule' | 'optimizer' | 'lr'> = {
  schedule: 'paper',
  optimizer: 'sgd',
  lr: 0.002,
};

/**
 * One run in full (see `RunDetail`). A finished run's result is stored without its curve and predictions, which
 * live in `metrics` and `run_images`; this puts them back, so the result equals what `learn` returned.
 */
export function getRunDetail(db: Db, runId: number): RunDetail {
  const run = getRun(db, runId);
  const curve = getMetrics(db, runId).map(toEpochPoint);
  const images = getRunImages(db, runId);
  const ctxRow = stmt(db, 'SELECT name, shape_json, meta_json FROM contexts WHERE run_id = ? ORDER BY id LIMIT 1').get(
    runId,
  ) as { name: string; shape_json: string; meta_json: string } | undefined;
  const meta = ctxRow ? (JSON.parse(ctxRow.meta_json) as Record<string, unknown>) : null;
  const classes = Array.isArray(run.options['classes'])
    ? (run.options['classes'] as { name: string; prompt: string }[])
    : [];
  const { options, result, ...summary } = run;
  const stored = result as Omit<LearnResult, 'curve' | 'predictions'> | null;
  return {
    ...summary,
    options,
    classes,
    curve,
    images,
    context:
      ctxRow && meta
        ? {
            name: ctxRow.name,
            shape: JSON.parse(ctxRow.shape_json) as number[],
            path: typeof meta['path'] === 'string' ? meta['path'] : null,
            meta,
          }
        : null,
    result: stored
      ? {
          ...stored,
          // Runs recorded before training schedules existed used CoOp's paper recipe (SGD, lr 0.002).
          settings: {
            ...PRE_SCHEDULE_SETTINGS,
            ...(stored.settings as Partial<LearnResult['settings']>),
          } as LearnResult['settings'],
          curve,
          predictions: images.flatMap((i) =>
            i.split === 'test' && i.predicted !== null
              ? [
                  {
                    imageId: i.imageId,
                    path: i.path,
                    label: i.label,
                    predicted: i.predicted,
                    confidence: i.confidence ?? 0,
                  },
                ]
              : [],
          ),
        }
      : null,
  };
}
