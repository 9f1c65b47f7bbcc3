/**
 * @file Tests of `coop-studio project ...` run like a user would: create, import a folder full of bad files, show,
 * list, export and import, with --json and with human output; and `learn --project`, `eval --project` and
 * `project run` (spawned CLI and engine worker, fixture CLIP model, tfjs cpu) with the data-source errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport, ProjectDetail, ProjectSummary, RunDetail } from '../../shared/contract/projects';
import type { EvaluateResult, LearnResult } from '../../shared/contract/train';
import { appRoot } from '../../electron/engine/settings/paths';
import { writeAwkwardDataset, writeImage, type AwkwardDataset } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const dataDir = tempDir('coop-cli-proj-');
const work = tempDir('coop-cli-work-');
const model = fixtureModelDirs()[0] as string;
const RUN = ['--model', model, '--shots', '2', '--n-ctx', '4', '--epochs', '2', '--aug-views', '0', '--backend', 'cpu'];
let ds: AwkwardDataset;
beforeAll(async () => {
  ds = await writeAwkwardDataset(join(work.path, 'my data'));
  for (let i = 0; i < 18; i++) await writeImage(join(work.path, 'ds', i % 2 ? 'ant' : 'bee_hive', `${i}.png`), 300 + i);
});
afterAll(() => {
  dataDir.cleanup();
  work.cleanup();
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir.path },
    cwd: work.path,
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function json<T>(...args: string[]): T {
  const r = cli(...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout) as T;
}

describe('coop-studio project', () => {
  it('creates a project, imports a folder with bad files, shows, exports and re-imports it', () => {
    const p = json<ProjectSummary>('project', 'create', 'Pets');
    expect(p).toMatchObject({ name: 'Pets', images: 0 });

    const r = json<ImportReport>('project', 'import-data', '--project', 'Pets', 'my data');
    expect(r.imported).toBe(7);
    expect(r.failedFiles.map((f) => f.path).sort()).toEqual([ds.corrupt, ds.zeroByte].sort());
    expect(r.skipped).toBe(2);
    expect(r.duplicates).toBe(1);

    const human = cli('project', 'show', String(p.id));
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/sea_otter\s+"sea otter" 1 images/);

    const d = json<ProjectDetail>('project', 'show', '--project', 'Pets');
    expect(d.classList.map((c) => [c.folderName, c.images])).toEqual([
      ['cat', 3],
      ['dog', 3],
      ['sea_otter', 1],
    ]);

    const exp = json<{ file: string; images: number }>('project', 'export', '-p', String(p.id), '-o', 'pets.coopproj');
    expect(exp.file).toBe(join(work.path, 'pets.coopproj'));
    expect(existsSync(exp.file)).toBe(true);
    expect(exp.images).toBe(7);
    const imp = json<ProjectSummary>('project', 'import', 'pets.coopproj', '--name', 'Pets copy');
    expect(imp).toMatchObject({ name: 'Pets copy', images: 7, classes: 3 });
    const list = json<{ projects: ProjectSummary[] }>('project', 'list');
    expect(list.projects.map((x) => x.name).sort()).toEqual(['Pets', 'Pets copy']);
  }, 240_000);

  it('reports an unknown project and a missing source as errors with a non-zero exit', () => {
    const a = cli('project', 'show', '--project', 'Nope', '--json');
    expect(a.code).toBe(1);
    expect(JSON.parse(a.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    json<ProjectSummary>('project', 'create', 'Empty');
    const b = cli('project', 'import-data', '-p', 'Empty', 'does-not-exist', '--json');
    expect(b.code).toBe(1);
    expect(JSON.parse(b.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  }, 240_000);
});

describe('learn and eval on a project from the CLI', () => {
  it('learns on a project by name, records the run, shows it, and evaluates its context on the project', () => {
    json('project', 'create', 'Insects');
    json('project', 'import-data', '--project', 'Insects', 'ds');
    const r = json<LearnResult>('learn', '--project', 'Insects', ...RUN);
    expect(r.project).toMatchObject({ name: 'Insects' });
    // `name` is the class name people see (the prompt's words), `folder` the folder it came from.
    expect(r.data.classes.map((c) => [c.name, c.folder, c.prompt, c.train, c.val, c.test])).toEqual([
      ['ant', 'ant', 'ant', 2, 2, 5],
      ['bee hive', 'bee_hive', 'bee hive', 2, 2, 5],
    ]);
    const runId = String(r.project?.runId);
    const human = cli('project', 'run', runId);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/: done\n/);
    expect(human.stdout).toMatch(/split: 4 train, 4 validation, 10 test images/);
    const run = json<RunDetail>('project', 'run', runId);
    expect(run.result?.test).toEqual(r.test);

    const ev = json<EvaluateResult>(
      'eval',
      '--project',
      String(r.project?.id),
      '--context',
      r.contextPath,
      '--model',
      model,
      '--backend',
      'cpu',
    );
    expect(ev.test.count).toBe(18);
  }, 240_000);

  it('refuses both or neither data source before starting the engine', () => {
    const both = cli('learn', '--data', 'ds', '--project', 'Insects');
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/--data DIR or --project ID\|NAME, not both/);
    const neither = cli('eval', '--context', 'x.safetensors');
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toMatch(/--data DIR or --project ID\|NAME is required/);
    const unknown = cli('learn', '--project', 'Nope', ...RUN);
    expect(unknown.stderr).toMatch(/There is no project "Nope"/);
  }, 120_000);
});
