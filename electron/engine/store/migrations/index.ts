/**
 * @file The ordered list of store migrations (engine, plain Node). See [Note: immutable migrations].
 *
 * [Note: data migrations] A migration may also rewrite rows: its optional `up(db)` runs after its SQL, inside the
 * same transaction as the SQL and the `schema_migrations` record (the pending migrations of one open apply in one
 * transaction; Signal's `ts/sql/migrations/*.ts` work the same way), so it runs exactly once, and an error in it rolls
 * the migrations back and leaves the database as it was. The
 * recorded sha256 covers the SQL only (a function's source text changes with bundling), so an `up` is as immutable
 * as the SQL by review: once released, fix a data migration with a new one. Give a data-only migration a SQL comment
 * saying what its `up` does.
 */
import type Database from 'better-sqlite3';
import { MIGRATION_0001_INIT } from './0001-init.sql';
import { MIGRATION_0002_RUN_IMAGES } from './0002-run-images.sql';
import { MIGRATION_0003_OWNERS } from './0003-owners.sql';

/** One numbered migration. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Rewrites rows after the SQL, inside the migration's transaction (see [Note: data migrations]). */
  up?: (db: Database.Database) => void;
}

/** Every migration, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '0001-init', sql: MIGRATION_0001_INIT },
  { version: 2, name: '0002-run-images', sql: MIGRATION_0002_RUN_IMAGES },
  { version: 3, name: '0003-owners', sql: MIGRATION_0003_OWNERS },
];
