/**
 * @file Records of long jobs (import, embedding) so that a killed one shows as `interrupted` (engine, plain Node).
 */
import type { JobRecord, JobStatus } from '../../../shared/contract/projects';
import type { Db } from './db';
import { ownerOf } from './owners';
import { stmt } from './statements';

/** Starts a `running` job record owned by this engine (see [Note: job owners]); returns its id. */
export function startJob(db: Db, projectId: number | null, kind: string, detail: Record<string, unknown> = {}): number {
  return Number(
    stmt(
      db,
      `INSERT INTO jobs (project_id, kind, status, detail_json, started_at, owner) VALUES (?, ?, 'running', ?, ?, ?)`,
    ).run(projectId, kind, JSON.stringify(detail), Date.now(), ownerOf(db)).lastInsertRowid,
  );
}

/** Updates a job's detail (progress counters) while it runs. */
export function updateJob(db: Db, jobId: number, detail: Record<string, unknown>): void {
  stmt(db, 'UPDATE jobs SET detail_json = ? WHERE id = ?').run(JSON.stringify(detail), jobId);
}

/** Ends a job. */
export function finishJob(
  db: Db,
  jobId: number,
  status: Exclude<JobStatus, 'queued' | 'running'>,
  detail?: Record<string, unknown>,
  error?: string,
): void {
  stmt(
    db,
    'UPDATE jobs SET status = ?, finished_at = ?, error = ?, detail_json = coalesce(?, detail_json) WHERE id = ?',
  ).run(status, Date.now(), error ?? null, detail ? JSON.stringify(detail) : null, jobId);
}

interface JobRow {
  id: number;
  kind: string;
  status: JobStatus;
  detail_json: string;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

function toJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    detail: JSON.parse(r.detail_json) as Record<string, unknown>,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** A project's jobs, newest first. */
export function listJobs(db: Db, projectId: number, limit = 20): JobRecord[] {
  return (
    stmt(db, 'SELECT * FROM jobs WHERE project_id = ? ORDER BY id DESC LIMIT ?').all(projectId, limit) as JobRow[]
  ).map(toJob);
}

/** One job record, or undefined. */
export function getJob(db: Db, jobId: number): JobRecord | undefined {
  const r = stmt(db, 'SELECT * FROM jobs WHERE id = ?').get(jobId) as JobRow | undefined;
  return r ? toJob(r) : undefined;
}
