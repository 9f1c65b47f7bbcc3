/**
 * @file Tests of the store's database module: migrations checked by hash, pragmas, interrupted jobs, float blobs.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { blobToFloats, floatsToBlob } from '../../electron/engine/store/blob';
import { closeStoreDb, openDatabase, migrationHash, storeDb, type Db } from '../../electron/engine/store/db';
import { startJob } from '../../electron/engine/store/jobs-repo';
import { MIGRATIONS } from '../../electron/engine/store/migrations';
import { createProject } from '../../electron/engine/store/projects-repo';
import { createRun, getRun, startRun } from '../../electron/engine/store/runs-repo';
import { getEmbeddings, putEmbeddings } from '../../electron/engine/store/embeddings-repo';
import { tempDir } from '../helpers/engine';

const dirs: { cleanup: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
function dbFile(): string {
  const d = tempDir('coop-store-');
  dirs.push(d);
  return join(d.path, 'coop-studio.sqlite');
}

describe('float blobs', () => {
  it('round-trip float32 values exactly, little-endian', () => {
    const v = Float32Array.from([0, -0, 1.5, -3.25e-8, 3.4e38, Number.NaN, Infinity, Math.PI]);
    const blob = floatsToBlob(v);
    expect(blob.byteLength).toBe(v.length * 4);
    expect(blob.readFloatLE(8)).toBe(1.5);
    const back = blobToFloats(blob, v.length);
    expect(Array.from(back).map(String)).toEqual(Array.from(v).map(String));
    expect(Object.is(back[1], -0)).toBe(true);
  });
  it('refuses a blob whose length disagrees with the recorded dim', () => {
    expect(() => blobToFloats(floatsToBlob([1, 2, 3]), 4)).toThrow(/3 values where 4/);
    expect(() => blobToFloats(new Uint8Array(5))).toThrow(/multiple of 4/);
  });
  it('survive a trip through the embeddings table', () => {
    const db = openDatabase(dbFile());
    const vec = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i) * 1e-3);
    putEmbeddings(db, [{ sha256: 'a'.repeat(64), vec }], 'm1', 'center');
    const got = getEmbeddings(db, ['a'.repeat(64), 'b'.repeat(64)], 'm1', 'center');
    expect(got.size).toBe(1);
    expect(Array.from(got.get('a'.repeat(64)) ?? [])).toEqual(Array.from(vec));
    expect(getEmbeddings(db, ['a'.repeat(64)], 'm2', 'center').size).toBe(0);
    db.close();
  });
});

describe('openDatabase', () => {
  it('creates STRICT tables in WAL mode with foreign keys on, and records each migration hash', () => {
    const db = openDatabase(dbFile());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const rows = db.prepare('SELECT version, sha256 FROM schema_migrations').all() as {
      version: number;
      sha256: string;
    }[];
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, sha256: migrationHash(m.sql) })));
    const tables = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as {
      name: string;
      sql: string;
    }[];
    for (const name of [
      'projects',
      'classes',
      'images',
      'models',
      'embeddings',
      'text_features',
      'runs',
      'metrics',
      'contexts',
    ])
      expect(tables.find((t) => t.name === name)?.sql).toMatch(/STRICT/);
    expect(() =>
      db.prepare("INSERT INTO projects (name, created_at, updated_at) VALUES ('x', 'not a number', 1)").run(),
    ).toThrow();
    db.close();
  });

  it('refuses a database whose applied migration was changed afterwards', () => {
    const file = dbFile();
    openDatabase(file).close();
    const changed = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    expect(() => openDatabase(file, changed)).toThrow(/0001-init.*sha256 mismatch/);
    expect(() => openDatabase(file, [])).toThrow(/newer version/);
    openDatabase(file).close();
  });

  it('applies only new migrations on reopen', () => {
    const file = dbFile();
    openDatabase(file).close();
    const version = MIGRATIONS.length + 1;
    const next = [...MIGRATIONS, { version, name: `000${version}-test`, sql: 'CREATE TABLE t (x INTEGER) STRICT;' }];
    const db = openDatabase(file, next);
    expect((db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(version);
    db.close();
  });

  it('runs a data migration once, inside the migration transaction, and rolls it all back on error', () => {
    const file = dbFile();
    const db0 = openDatabase(file);
    const projectId = createProject(db0, 'Old name', '', null).id;
    db0.close();
    const version = MIGRATIONS.length + 1;
    const calls: boolean[] = [];
    const rename = {
      version,
      name: `000${version}-data`,
      sql: 'ALTER TABLE projects ADD COLUMN slug TEXT;',
      up: (db: Db) => {
        calls.push(db.inTransaction);
        db.prepare(`UPDATE projects SET slug = lower(replace(name, ' ', '-'))`).run();
      },
    };
    // A failing data migration leaves no trace: no column, no record, rows as they were.
    const failing = {
      ...rename,
      up: (db: Db) => {
        rename.up(db);
        throw new Error('bad row');
      },
    };
    expect(() => openDatabase(file, [...MIGRATIONS, failing])).toThrow('bad row');
    const after = openDatabase(file);
    expect(after.prepare('SELECT name FROM pragma_table_info(?) WHERE name = ?').get('projects', 'slug')).toBe(
      undefined,
    );
    expect((after.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(version - 1);
    after.close();
    calls.length = 0;
    const db1 = openDatabase(file, [...MIGRATIONS, rename]);
    expect(db1.prepare('SELECT slug FROM projects WHERE id = ?').get(projectId)).toEqual({ slug: 'old-name' });
    db1.prepare(`UPDATE projects SET slug = 'kept'`).run();
    db1.close();
    expect(calls).toEqual([true]);
    openDatabase(file, [...MIGRATIONS, rename]).close();
    const db2 = openDatabase(file, [...MIGRATIONS, rename]);
    expect(db2.prepare('SELECT slug FROM projects').get()).toEqual({ slug: 'kept' });
    db2.close();
    expect(calls).toEqual([true]);
  });

  it('marks jobs and runs left running by a dead process as interrupted', () => {
    const file = dbFile();
    let db = openDatabase(file);
    const p = createProject(db, 'p', '', null);
    const job = startJob(db, p.id, 'import');
    const run = createRun(db, {
      projectId: p.id,
      modelId: 'm',
      method: 'coop',
      options: {},
      seed: 1,
      shots: 1,
      backend: 'cpu',
    });
    startRun(db, run);
    db.close();
    db = openDatabase(file);
    expect((db.prepare('SELECT status FROM jobs WHERE id = ?').get(job) as { status: string }).status).toBe(
      'interrupted',
    );
    expect(getRun(db, run).status).toBe('interrupted');
    db.close();
  });

  it('leaves running jobs alone while their owner process lives, and marks them once it is gone', async () => {
    const dir = dirname(dbFile());
    const db = storeDb(dir);
    const project = createProject(db, 'p', '', null);
    const job = startJob(db, project.id, 'import');
    const legacy = startJob(db, project.id, 'embed');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      // One job of another live engine, one written before owners were recorded (the legacy owner file names it).
      db.prepare('UPDATE jobs SET owner = ? WHERE id = ?').run(`${other.pid}:feed`, job);
      db.prepare('UPDATE jobs SET owner = NULL WHERE id = ?').run(legacy);
      closeStoreDb(dir);
      writeFileSync(join(dir, 'coop-studio.sqlite.owner'), String(other.pid));
      const status = (id: number) =>
        (storeDb(dir).prepare('SELECT status FROM jobs WHERE id = ?').get(id) as { status: string }).status;
      expect([status(job), status(legacy)]).toEqual(['running', 'running']);
      closeStoreDb(dir);
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      expect([status(job), status(legacy)]).toEqual(['interrupted', 'interrupted']);
    } finally {
      other.kill('SIGKILL');
      closeStoreDb(dir);
    }
  });
});
