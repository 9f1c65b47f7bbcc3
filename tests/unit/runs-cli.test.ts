/**
 * @file `coop-studio learn --project`, `eval --project` and `project run` run like a user would (spawned CLI and
 * engine worker, fixture CLIP model, tfjs cpu), plus the folder `learn --data` summary and the data-source errors.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../shared/contract/projects';
import type { EvaluateResult, LearnResult } from '../../shared/contract/train';
import { appRoot } from '../../electron/engine/paths';
import { writeImage } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const dataDir = tempDir('coop-cli-runs-');
const work = tempDir('coop-cli-runs-work-');
const model = fixtureModelDirs()[0] as string;
const RUN = ['--model', model, '--shots', '2', '--n-ctx', '4', '--epochs', '2', '--aug-views', '0', '--backend', 'cpu'];

beforeAll(async () => {
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
  return JSON.parse(r.stdout) as T;
}

describe('learn and eval on a project from the CLI', () => {
  it('learns on a project by name, records the run, shows it, and evaluates its context on the project', () => {
    json('project', 'create', 'Insects');
    json('project', 'import-data', '--project', 'Insects', 'ds');
    const r = json<LearnResult>('learn', '--project', 'Insects', ...RUN);
    expect(r.project).toMatchObject({ name: 'Insects' });
    expect(r.data.classes.map((c) => [c.name, c.prompt, c.train, c.val, c.test])).toEqual([
      ['ant', 'ant', 2, 2, 5],
      ['bee_hive', 'bee hive', 2, 2, 5],
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
