/**
 * @file Two writers, one data folder (issue 15, defect 5): CLI processes importing into the same project at the same
 * time all finish, or a writer that cannot get in fails with the clear `busy` code, never `internal: database is
 * locked` (Node test runner).
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAppError } from '../../shared/result';
import { openDatabase } from '../../electron/engine/store/db';
import { createProject } from '../../electron/engine/store/projects-repo';
import { writeImage } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';
import { CLI } from './procs-serve';

const run = promisify(execFile);
const PER_SOURCE = 60;
const data = tempDir('coop-sec-writers-data-');
const src = tempDir('coop-sec-writers-src-');

/** Runs the CLI with `--json` on the shared data folder; resolves with its one JSON object (exit code aside). */
async function cli(...args: string[]): Promise<Record<string, unknown>> {
  const out = await run(process.execPath, [CLI, ...args, '--json'], {
    env: { ...process.env, COOP_STUDIO_DATA_DIR: data.path },
    maxBuffer: 64 * 1024 * 1024,
  }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
  try {
    return JSON.parse(out.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`not one JSON object on stdout: ${out.stdout}\n${out.stderr}`);
  }
}

beforeAll(async () => {
  // A source of distinct images, two classes.
  for (let s = 0; s < 1; s++)
    for (let i = 0; i < PER_SOURCE; i++)
      await writeImage(join(src.path, `s${s}`, `class${i % 2}`, `${i}.png`), 20_000 + s * 1000 + i, { w: 24, h: 20 });
}, 120_000);
afterAll(() => {
  data.cleanup();
  src.cleanup();
});

/**
 * Another process that writes to the database in bursts, holding the write lock most of the time (as a long import or
 * a project file import does) until stopped; resolves once it holds the lock for the first time.
 */
async function lockHolder(): Promise<{ stop: () => Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('busy_timeout = 60000');
    const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    let first = true;
    let stop = false;
    process.on('message', () => (stop = true));
    for (;;) {
      db.exec('BEGIN IMMEDIATE');
      db.prepare("UPDATE projects SET updated_at = updated_at WHERE id = -1").run();
      if (first) { process.stdout.write('locked\\n'); first = false; }
      sleep(400);
      db.exec('COMMIT');
      // Let the message loop run, so that a stop request is seen.
      await new Promise((r) => setTimeout(r, 15));
      if (stop) break;
    }
    db.close();
    process.disconnect();`;
  const child = spawn(process.execPath, ['-e', `(async () => {${script}})()`, join(data.path, 'coop-studio.sqlite')], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${String(code)}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.send('stop');
      await exited;
    },
  };
}

describe('two writers on one data folder', () => {
  it('a writer that waits longer than the busy timeout fails with the clear busy code', () => {
    const file = join(data.path, 'busy.sqlite');
    const holder = openDatabase(file);
    const waiter = openDatabase(file, undefined, { busyTimeoutMs: 50 });
    holder.exec('BEGIN IMMEDIATE');
    try {
      let thrown: unknown;
      try {
        createProject(waiter, 'late', '', null);
      } catch (e) {
        thrown = e;
      }
      expect(toAppError(thrown)).toMatchObject({ code: 'busy', message: expect.stringMatching(/another CoOp Studio/) });
      expect(() => waiter.transaction(() => createProject(waiter, 'late', '', null))()).toThrow(/locked|busy/);
    } finally {
      holder.exec('COMMIT');
      holder.close();
      waiter.close();
    }
  });

  it('a writer that meets another process inside a write transaction waits for it instead of failing', async () => {
    const id = String((await cli('project', 'create', 'Waits'))['id']);
    // Before [Note: several writers], the import read, then failed at once with `internal: database is locked`.
    const holder = await lockHolder();
    const [imported, created] = await Promise.all([
      cli('project', 'import-data', '--project', id, join(src.path, 's0')),
      cli('project', 'create', 'While locked'),
    ]);
    await holder.stop();
    expect(imported['ok'], JSON.stringify(imported['error'])).not.toBe(false);
    expect(imported['imported']).toBe(PER_SOURCE);
    expect(created['ok'], JSON.stringify(created['error'])).not.toBe(false);
  }, 120_000);
});
