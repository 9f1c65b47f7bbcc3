/**
 * @file The one module that opens the project database (engine, plain Node).
 *
 * [Note: one database] `<dataDir>/coop-studio.sqlite` holds projects, classes, images, embeddings,
 * runs, curves and learned contexts. Only the engine process opens it (better-sqlite3 is
 * synchronous, so it must never run on a UI thread). WAL keeps readers and a crash-interrupted
 * writer apart; `synchronous = NORMAL` under WAL loses at most the last transactions on power loss,
 * never consistency, and a SIGKILL of the process loses nothing committed.
 *
 * [Note: interrupted jobs] A process killed mid-job cannot mark its own job. At open, every job
 * and run still `running` (or `queued`) belongs to a dead process, because only one engine owns
 * the database (see [Note: database owner]), so opening the store marks them `interrupted`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../../shared/result';
import { MIGRATIONS, type Migration } from './migrations';

/** The database handle type. */
export type Db = Database.Database;

/** File name of the database inside the data folder. */
export const DB_FILE = 'coop-studio.sqlite';

/** sha256 hex of a migration's SQL. */
export function migrationHash(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Applies pending migrations; refuses a database whose applied migrations differ from ours or are newer. */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied = db.prepare('SELECT version, name, sha256 FROM schema_migrations ORDER BY version').all() as {
    version: number;
    name: string;
    sha256: string;
  }[];
  for (const row of applied) {
    const ours = migrations.find((m) => m.version === row.version);
    if (!ours)
      throw new AppError(
        'unsupported',
        `The database was written by a newer version of CoOp Studio (migration ${row.name}); update the app.`,
      );
    if (migrationHash(ours.sql) !== row.sha256)
      throw new AppError(
        'conflict',
        `Migration ${row.name} applied to this database differs from the one in this app (sha256 mismatch); ` +
          'applied migrations must never change. Restore the original migration file.',
      );
  }
  const done = new Set(applied.map((r) => r.version));
  const record = db.prepare('INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)');
  let count = 0;
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, migrationHash(m.sql), Date.now());
    })();
    count++;
  }
  return count;
}

/** Opens (creating if needed) the database at `file`, migrates it and marks dead jobs interrupted. */
export function openDatabase(
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
  opts: { markInterrupted?: boolean } = {},
): Db {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations);
    if (opts.markInterrupted !== false) markInterrupted(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Marks jobs and runs left `running`/`queued` by a dead process as `interrupted`; returns how many. */
export function markInterrupted(db: Db): { jobs: number; runs: number } {
  const now = Date.now();
  return db.transaction(() => ({
    jobs: db
      .prepare(`UPDATE jobs SET status = 'interrupted', finished_at = ? WHERE status IN ('running', 'queued')`)
      .run(now).changes,
    runs: db
      .prepare(`UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status IN ('running', 'queued')`)
      .run(now).changes,
  }))();
}

const open = new Map<string, Db>();

/** True when `pid` names a live process other than this one. */
function otherLiveProcess(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The data folder's database, opened once per process.
 *
 * [Note: database owner] The desktop app and a CLI command may run at the same time on the same data
 * folder. `<db>.owner` holds the pid of the engine that last opened the database; when that process
 * is still alive, its `running` jobs are really running, so this open neither marks them interrupted
 * nor takes over ownership; the next open after that owner has died does the marking.
 */
export function storeDb(dataDir: string): Db {
  const existing = open.get(dataDir);
  if (existing?.open) return existing;
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, DB_FILE);
  const ownerFile = `${file}.owner`;
  const owner = Number((existsSync(ownerFile) ? readFileSync(ownerFile, 'utf8') : '').trim());
  const shared = otherLiveProcess(owner);
  const db = openDatabase(file, MIGRATIONS, { markInterrupted: !shared });
  if (!shared) writeFileSync(ownerFile, String(process.pid));
  open.set(dataDir, db);
  return db;
}

/** Closes the data folder's database if this process opened it. */
export function closeStoreDb(dataDir: string): void {
  open.get(dataDir)?.close();
  open.delete(dataDir);
}
