/**
 * @file Which engine owns each running job and run, and marking the work of dead owners interrupted (engine, plain
 * Node).
 *
 * [Note: job owners] The desktop app and CLI commands may run at the same time on one data folder, so "running" in
 * the database says nothing about whether the process doing the work is alive. Every job and run row records its
 * owner, `<pid>:<connection id>`, where the connection id is random per opened database handle. An engine that opens
 * the database marks `interrupted` exactly the `queued`/`running` rows whose owner is gone: another pid that no longer
 * exists, or a handle of this very process that has since been closed (a test that closes and reopens, an engine that
 * crashed in-process). A live owner's rows are left alone, whichever process opened the database first or last. Rows
 * from before migration 0003 have no owner; they belong to the pid in the legacy `<db>.owner` file when that process
 * is still alive, else to nobody. A pid reused by an unrelated process keeps its rows `running` until that process
 * exits too: the safe side, since marking a live run interrupted loses it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Db } from './db';

const ownerOfDb = new WeakMap<Db, string>();
/** Owner ids of the handles this process has open (see [Note: job owners]). */
const liveHere = new Map<string, Db>();

/** Registers `db` as a new owner; returns its owner id. */
export function registerOwner(db: Db): string {
  const id = `${process.pid}:${randomBytes(6).toString('hex')}`;
  ownerOfDb.set(db, id);
  liveHere.set(id, db);
  return id;
}

/** The owner id that jobs and runs started through `db` record. */
export function ownerOf(db: Db): string {
  return ownerOfDb.get(db) ?? registerOwner(db);
}

/** True when `pid` names a live process (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a legacy `<db>.owner` file (written by versions before migration 0003), or 0. */
export function legacyOwnerPid(dbFile: string): number {
  const file = `${dbFile}.owner`;
  try {
    return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || 0 : 0;
  } catch {
    return 0;
  }
}

/** True when the owner of a row is still at work. */
export function ownerAlive(owner: string | null, legacyPid = 0): boolean {
  if (owner === null) return legacyPid !== process.pid && processAlive(legacyPid);
  const pid = Number(owner.split(':')[0]);
  if (pid === process.pid) return liveHere.get(owner)?.open === true;
  return processAlive(pid);
}

/** Marks `queued`/`running` jobs and runs of dead owners `interrupted`; returns how many. */
export function markInterrupted(db: Db, legacyPid = 0): { jobs: number; runs: number } {
  // A database opened with an older list of migrations (tests) has no owners yet: every row is the legacy owner's.
  const hasOwners = (db.pragma('table_info(jobs)') as { name: string }[]).some((c) => c.name === 'owner');
  const owned = hasOwners ? 'owner' : 'NULL';
  const owners = db
    .prepare(
      `SELECT DISTINCT ${owned} FROM jobs WHERE status IN ('running', 'queued')
       UNION SELECT DISTINCT ${owned} FROM runs WHERE status IN ('running', 'queued')`,
    )
    .pluck()
    .all() as (string | null)[];
  const dead = owners.filter((o) => !ownerAlive(o, legacyPid));
  if (dead.length === 0) return { jobs: 0, runs: 0 };
  const now = Date.now();
  const jobs = db.prepare(
    `UPDATE jobs SET status = 'interrupted', finished_at = ? WHERE status IN ('running', 'queued') AND ${owned} IS ?`,
  );
  const runs = db.prepare(
    `UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status IN ('running', 'queued') AND ${owned} IS ?`,
  );
  return db.transaction(() => {
    const count = { jobs: 0, runs: 0 };
    for (const owner of dead) {
      count.jobs += jobs.run(now, owner).changes;
      count.runs += runs.run(now, owner).changes;
    }
    return count;
  })();
}
