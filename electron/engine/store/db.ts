/**
 * @file The one module that opens the project database (engine, plain Node).
 *
 * [Note: one database] `<dataDir>/coop-studio.sqlite` holds projects, classes, images, embeddings,
 * runs, curves and learned contexts. Only engine processes open it (better-sqlite3 is synchronous, so
 * it must never run on a UI thread). WAL keeps readers and a crash-interrupted writer apart;
 * `synchronous = NORMAL` under WAL loses at most the last transactions on power loss, never
 * consistency, and a SIGKILL of the process loses nothing committed.
 *
 * [Note: interrupted jobs] A process killed mid-job cannot mark its own job. At open, every job and
 * run still `running` (or `queued`) whose owner is gone is marked `interrupted`; the work of owners
 * that are alive, in this process or another, is left alone (see [Note: job owners] in owners.ts).
 *
 * [Note: several writers] The desktop app and CLI commands may write to one data folder at once.
 * Every transaction is `BEGIN IMMEDIATE`: it takes the write lock before it reads, so a writer that
 * meets another one waits for it (SQLite's busy handler retries until `BUSY_TIMEOUT_MS`). A deferred
 * transaction would read first and then fail at once with "database is locked" when it tries to
 * write while another process holds the lock, because SQLite cannot wait there without risking a
 * deadlock. Writers commit in small batches (imports every ~100 images, embeddings per batch, runs
 * per epoch), so waits are short; one that still times out fails with the `busy` error code.
 *
 * [Note: read-only data folder] When the data folder cannot be written (a read-only mount, a folder
 * of another user), the database is opened read-only so that every reading command works, and a
 * write fails with the `read_only` error code. SQLite opens a WAL database read-only in place when
 * its `-shm` file exists; otherwise (a cleanly closed database, or one that needs a migration) it is
 * read into memory (with its `-wal` applied in a scratch copy), its header switched to the rollback
 * journal, pending migrations applied to the copy, and the connection set `query_only`: nothing can
 * be written, not even to the copy.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AppError, isErrorCode } from '../../../shared/result';
import { MIGRATIONS, type Migration } from './migrations';
import { legacyOwnerPid, markInterrupted, registerOwner } from './owners';

/** The database handle type. */
export type Db = Database.Database;

/** File name of the database inside the data folder. */
export const DB_FILE = 'coop-studio.sqlite';

/** sha256 hex of a migration's SQL. */
export function migrationHash(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Migrations of `migrations` not yet applied to `db`; throws when the applied ones differ from ours or are newer. */
function pendingMigrations(db: Db, migrations: readonly Migration[]): Migration[] {
  const hasTable = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get();
  if (!hasTable) return [...migrations];
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
  return migrations.filter((m) => !done.has(m.version));
}

/**
 * Applies pending migrations; refuses a database whose applied migrations differ from ours or are newer. Checked
 * again inside the write transaction, so two engines opening a new data folder at once apply each migration once.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  if (pendingMigrations(db, migrations).length === 0) return 0;
  return db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
    const record = db.prepare('INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)');
    const todo = pendingMigrations(db, migrations);
    for (const m of todo) {
      db.exec(m.sql);
      // The data step commits with the SQL and the record, or not at all (see [Note: data migrations]).
      m.up?.(db);
      record.run(m.version, m.name, migrationHash(m.sql), Date.now());
    }
    return todo.length;
  })();
}

/** How long a writer waits for another process's write transaction before failing with `busy` (milliseconds). */
export const BUSY_TIMEOUT_MS = 20_000;

/** Makes every `db.transaction(...)` of this handle `BEGIN IMMEDIATE` (see [Note: several writers]). */
function immediateTransactions(db: Db): void {
  const make = db.transaction.bind(db);
  db.transaction = ((fn: (...args: never[]) => unknown) => {
    const tx = make(fn);
    return Object.assign((...args: never[]) => tx.immediate(...args), {
      default: tx.immediate,
      deferred: tx.deferred,
      immediate: tx.immediate,
      exclusive: tx.exclusive,
    });
  }) as Db['transaction'];
}

/** Options of {@link openDatabase}. */
export interface OpenOptions {
  /** Mark the jobs and runs of dead owners interrupted (default true). */
  markInterrupted?: boolean;
  /** Open without writing anything (see [Note: read-only data folder]). */
  readOnly?: boolean;
  /** Override of {@link BUSY_TIMEOUT_MS} (tests). */
  busyTimeoutMs?: number;
}

/** Opens `file` read-only in place when SQLite can (its `-shm` exists) and it needs no migration; else null. */
function openReadOnlyInPlace(file: string, migrations: readonly Migration[]): Db | null {
  let db: Db | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    if (pendingMigrations(db, migrations).length === 0) return db;
  } catch {
    // Cannot open in place: the caller reads a copy.
  }
  db?.close();
  return null;
}

/** The bytes of `file` with its WAL applied, read without writing next to it. */
function databaseBytes(file: string): Buffer {
  if (!existsSync(`${file}-wal`)) return readFileSync(file);
  // The WAL holds committed transactions not yet copied into the file: apply them in a scratch copy.
  const scratch = mkdtempSync(join(tmpdir(), 'coop-studio-readonly-'));
  try {
    const copy = join(scratch, DB_FILE);
    copyFileSync(file, copy);
    copyFileSync(`${file}-wal`, `${copy}-wal`);
    const db = new Database(copy);
    try {
      return db.serialize();
    } finally {
      db.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Opens a database from a folder SQLite cannot write to (see [Note: read-only data folder]). */
function openReadOnly(file: string, migrations: readonly Migration[]): Db {
  const inPlace = openReadOnlyInPlace(file, migrations);
  if (inPlace) return inPlace;
  const bytes = databaseBytes(file);
  // Bytes 18-19 of the header are the file format's write/read versions: 2 is WAL, 1 the rollback journal.
  if (bytes.length >= 20 && bytes[18] === 2) bytes.fill(1, 18, 20);
  const db = new Database(bytes);
  migrate(db, migrations);
  db.pragma('query_only = ON');
  return db;
}

/** Opens (creating if needed) the database at `file`, migrates it and marks the work of dead owners interrupted. */
export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS, opts: OpenOptions = {}): Db {
  if (opts.readOnly) {
    if (!existsSync(file))
      throw new AppError('read_only', `The data folder is read-only and holds no database yet (${file}).`);
    const db = openReadOnly(file, migrations);
    registerOwner(db);
    return db;
  }
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS}`);
    immediateTransactions(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations);
    registerOwner(db);
    if (opts.markInterrupted !== false) markInterruptedIfPossible(db, legacyOwnerPid(file));
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Marks dead owners' work interrupted, unless the disk is full or another writer holds the database: reading must
 * still work then (`project show` on a full disk), and the next open marks them.
 */
function markInterruptedIfPossible(db: Db, legacyPid: number): void {
  try {
    markInterrupted(db, legacyPid);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code !== 'SQLITE_FULL' && code !== 'SQLITE_BUSY' && code !== 'SQLITE_READONLY') throw e;
  }
}

const open = new Map<string, Db>();

/** True when this process can create files in `dir`. */
export function folderWritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The data folder's database, opened once per process: read-write, or read-only when the folder cannot be written
 * (see [Note: read-only data folder]).
 */
export function storeDb(dataDir: string): Db {
  const existing = open.get(dataDir);
  if (existing?.open) return existing;
  const file = join(dataDir, DB_FILE);
  if (!existsSync(dataDir) || folderWritable(dataDir)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      const db = openDatabase(file, MIGRATIONS);
      open.set(dataDir, db);
      return db;
    } catch (e) {
      // A read-only mount passes access() for root; SQLite then cannot create its -wal/-shm files.
      const code = (e as { code?: unknown }).code;
      if (code !== 'SQLITE_CANTOPEN' && code !== 'SQLITE_READONLY' && !isErrorCode(e, 'read_only')) throw e;
    }
  }
  const db = openDatabase(file, MIGRATIONS, { readOnly: true });
  open.set(dataDir, db);
  return db;
}

/** Closes the data folder's database if this process opened it. */
export function closeStoreDb(dataDir: string): void {
  open.get(dataDir)?.close();
  open.delete(dataDir);
}
