/**
 * @file A read-only data folder (issue 15, defect 11): reading commands work, writes fail with the clear `read_only`
 * code instead of `internal: attempt to write a readonly database`, and `doctor` says the folder cannot be written
 * (Node test runner).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { toAppError } from '../../shared/result';
import { openDatabase } from '../../electron/engine/store/db';
import { MIGRATIONS } from '../../electron/engine/store/migrations';
import { createProject, listProjects } from '../../electron/engine/store/projects-repo';
import { tempDir } from '../helpers/engine';
import { CLI } from './procs-serve';
import { cliOnReadOnly, NOT_ROOT, UNSHARE } from './procs-sandbox';

const run = promisify(execFile);
const dirs: { cleanup: () => void }[] = [];
afterAll(() => dirs.forEach((d) => d.cleanup()));
function folder(): string {
  const d = tempDir('coop-sec-ro-');
  dirs.push(d);
  return d.path;
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('read-only store (in process)', () => {
  it('opens a database read-only: reads work, writes fail with read_only, even when a migration is pending', () => {
    for (const older of [false, true]) {
      const file = join(folder(), 'coop-studio.sqlite');
      // A database of this version, and one of an older version that still needs the newest migration.
      const db = openDatabase(file, older ? MIGRATIONS.slice(0, -1) : MIGRATIONS);
      createProject(db, 'Kept', '', null);
      db.close();
      const ro = openDatabase(file, MIGRATIONS, { readOnly: true });
      expect(listProjects(ro).map((p) => p.name)).toEqual(['Kept']);
      expect(toAppError(thrownBy(() => createProject(ro, 'New', '', null)))).toMatchObject({ code: 'read_only' });
      ro.close();
      // Nothing was written to the file: the older one still lacks the migration.
      const check = new Database(file, { readonly: true });
      const applied = check.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number };
      check.close();
      expect(applied.n).toBe(older ? MIGRATIONS.length - 1 : MIGRATIONS.length);
    }
  });
});

const reason = 'needs a private mount namespace (unshare -rm) or a non-root user; neither is available here';
if (!UNSHARE && !NOT_ROOT) console.warn(`procs-readonly: skipping the CLI checks: ${reason}`);

describe.skipIf(!UNSHARE && !NOT_ROOT)('read-only data folder (CLI processes)', () => {
  it('project list and show work, project create says read_only, doctor says the folder is not writable', async () => {
    const dataDir = folder();
    const env = { ...process.env, COOP_STUDIO_DATA_DIR: dataDir };
    const created = JSON.parse(
      (await run(process.execPath, [CLI, 'project', 'create', 'Shown', '--json'], { env })).stdout,
    );
    const writable = JSON.parse((await run(process.execPath, [CLI, 'doctor', '--json'], { env })).stdout);
    expect(writable.dataDirStatus).toMatchObject({ writable: true });

    expect(cliOnReadOnly(dataDir, 'project', 'list')).toMatchObject({ projects: [{ id: created.id, name: 'Shown' }] });
    expect(cliOnReadOnly(dataDir, 'project', 'show', 'Shown')).toMatchObject({ id: created.id, name: 'Shown' });
    const refused = cliOnReadOnly(dataDir, 'project', 'create', 'Another');
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'read_only', message: expect.stringMatching(/read-only/) },
    });
    const doctor = cliOnReadOnly(dataDir, 'doctor');
    expect(doctor['dataDirStatus']).toMatchObject({
      writable: false,
      note: expect.stringMatching(/cannot be written/),
    });
  }, 120_000);
});
