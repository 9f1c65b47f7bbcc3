/**
 * @file CLI tests of `compare`, `predict` and `export`, spawned like a user runs them, on the bundled demo model and
 * sample task (accuracies are not asserted: the demo model is retrained from time to time).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareResult, PredictResult } from '../../shared/contract/methods';
import { appRoot, resourcesDir } from '../../electron/engine/settings/paths';
import { tempDir } from '../helpers/engine';

const dataDir = tempDir('coop-compare-cli-');
afterAll(() => dataDir.cleanup());
const task = join(resourcesDir(), 'samples', 'backgrounds');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir.path },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: { code: number | null; stdout: string; stderr: string }): T {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout) as T;
}

describe('coop-studio compare, predict, export', () => {
  it('compare --json prints one object with the table and the raw rows; progress goes to stderr', () => {
    const r = json<CompareResult>(
      cli('compare', '--data', task, '--methods', 'zs,linear,tip', '--shots', '1,2', '--seeds', '1,2', '--json'),
    );
    expect(r.rows).toHaveLength(3 * 2 * 2);
    expect(r.table.map((c) => `${c.method}/${c.shots}`)).toEqual([
      'zs/1',
      'zs/2',
      'linear/1',
      'linear/2',
      'tip/1',
      'tip/2',
    ]);
    expect(r.data.classes).toEqual(readdirSync(task).sort());
  }, 120_000);

  it('compare prints the method x shots table for people', () => {
    const r = cli('compare', '--data', task, '--methods', 'zs,ensemble7', '--shots', '1,4', '--seeds', '1');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.some((l) => /method\s+1 shot\s+4 shots/.test(l))).toBe(true);
    expect(lines.some((l) => /^Ensemble \(7\)\s+\d+\.\d ± \d+\.\d\s+\d+\.\d ± \d+\.\d/.test(l))).toBe(true);
    expect(r.stderr).toContain('Embedding the images');
  }, 120_000);

  it('compare shows CLIP-Adapter, added through the methods registry, in the table, CSV, JSON and chart', () => {
    const out = join(dataDir.path, 'clip-adapter');
    const r = cli(
      'compare',
      '--data',
      task,
      '--methods',
      'zs,clip-adapter',
      '--shots',
      '1,2',
      '--seeds',
      '1',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').some((l) => /^CLIP-Adapter\s+\d+\.\d ± \d+\.\d\s+\d+\.\d ± \d+\.\d/.test(l))).toBe(
      true,
    );
    const csv = readFileSync(join(out, 'compare.csv'), 'utf8');
    expect(csv.split('\n').filter((l) => l.startsWith('clip-adapter,'))).toHaveLength(2 + 2);
    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareResult;
    const rows = json.rows.filter((x) => x.method === 'clip-adapter');
    expect(rows.map((x) => x.chosen['ratio'])).toEqual([0.2, 0.2]);
    expect(readFileSync(join(out, 'compare.svg'), 'utf8')).toContain('CLIP-Adapter');
    const help = cli('compare', '--help');
    expect(help.stdout).toMatch(/clip-adapter\s+CLIP-Adapter: trains a residual MLP/);
  }, 120_000);

  it('predict --json gives top-k zero-shot probabilities; bad arguments are clear errors', () => {
    const image = join(task, 'grid', readdirSync(join(task, 'grid')).sort()[0] ?? '');
    const r = json<PredictResult>(cli('predict', '--classes', 'plain,striped,grid', '--top', '2', '--json', image));
    expect(r.mode).toBe('zero-shot');
    expect(r.predictions[0]?.top).toHaveLength(2);
    const none = cli('predict', '--json', image);
    expect(none.code).not.toBe(0);
    expect((JSON.parse(none.stdout) as { error: { code: string } }).error.code).toBe('bad_args');
    const badFormat = cli('export', '--run', task, '--format', 'zip', '--out', dataDir.path, '--json');
    expect(badFormat.code).not.toBe(0);
    expect((JSON.parse(badFormat.stdout) as { error: { message: string } }).error.message).toContain('--format');
  }, 120_000);
});
