/**
 * @file Migration 0003: which engine process owns each job and run (engine, plain Node).
 *
 * See [Note: job owners] in store/owners.ts: `owner` is `<pid>:<connection id>` of the engine that started the job
 * or run, so an engine opening the database marks `interrupted` only the work of owners that are gone. Rows written
 * before this migration have no owner.
 */

/** SQL of migration 0003. */
export const MIGRATION_0003_OWNERS = `
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN owner TEXT;
CREATE INDEX jobs_live ON jobs(status) WHERE status IN ('queued', 'running');
CREATE INDEX runs_live ON runs(status) WHERE status IN ('queued', 'running');
`;
