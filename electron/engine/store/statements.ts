/**
 * @file Prepared-statement cache (engine, plain Node).
 *
 * [Note: prepared once] Repositories call `stmt(db, sql)`; each SQL text is prepared once per
 * database handle and reused, so hot paths (bulk inserts, cache look-ups) never re-parse SQL.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './db';

const cache = new WeakMap<Db, Map<string, Statement>>();

/** The prepared statement for `sql` on `db`, prepared on first use. */
export function stmt(db: Db, sql: string): Statement {
  let byDb = cache.get(db);
  if (!byDb) cache.set(db, (byDb = new Map()));
  let s = byDb.get(sql);
  if (!s) byDb.set(sql, (s = db.prepare(sql)));
  return s;
}
