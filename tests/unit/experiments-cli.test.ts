/**
 * @file The experiment commands spawned like a user runs them: `--help` everywhere, exactly one JSON object on stdout
 * with `--json`, clear errors for bad arguments (plain Node, the built CLI, the demo model).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SweepResult } from '../../shared/contract/experiments';
import type { SimilarityMapResult } from '../../shared/contract/similarity-map';
import { appRoot, resourcesDir } from '../../electron/engine/settings/paths';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const dataDir = tempDir('coop-experiments-cli-');
afterAll(() => dataDir.cleanup());
const task = join(resourcesDir(), 'samples', 'backgrounds');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir.path },
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneJson<T>(r: { code: number | null; stdout: string; stderr: string }): T {
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout) as T;
}

describe('coop-studio sweep, base-to-new, domain-shift, similarity-map', () => {
  it.each(['sweep', 'base-to-new', 'domain-shift', 'similarity-map'])('%s --help describes the command', (cmd) => {
    const r = cli(cmd, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: coop-studio ${cmd}`);
    expect(r.stdout).toContain('--json');
  });

  it('sweep --json runs a small init sweep: one object with the table, the cells and the reproducing command', () => {
    const out = join(dataDir.path, 'init');
    const r = cli(
      'sweep',
      '--kind',
      'init',
      '--data',
      task,
      '--shots',
      '1',
      '--epochs',
      '1',
      '--seeds',
      '1',
      '--backend',
      'cpu',
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const s = oneJson<SweepResult>(r);
    expect(s.cells.map((c) => c.setting)).toEqual(['random init', '"a photo of a"', 'hand-written prompt']);
    expect(s.cells.slice(0, 2).map((c) => c.learn.nCtx)).toEqual([4, 4]);
    expect(s.table.cells.every((c) => c.mean >= 0 && c.mean <= 1)).toBe(true);
    expect(s.command).toContain('coop-studio sweep --kind init');
    expect(readdirSync(out).sort()).toEqual(
      ['sweep-init.csv', 'sweep-init.html', 'sweep-init.json', 'sweep-init.png', 'sweep-init.svg'].sort(),
    );
    expect(r.stderr).toContain('Embedding the images');
  }, 240_000);

  it('bad arguments are one JSON error object and a non-zero exit', () => {
    const cases = [
      ['sweep', '--data', task, '--json'],
      ['sweep', '--kind', 'depth', '--data', task, '--json'],
      ['sweep', '--kind', 'init', '--data', task, '--noise', '0.5', '--json'],
      ['sweep', '--kind', 'label-noise', '--data', task, '--noise', '0,1.5', '--json'],
      ['domain-shift', '--data', task, '--json'],
      ['base-to-new', '--data', task, '--methods', 'coop,clip', '--json'],
      ['similarity-map', '--json'],
    ];
    for (const args of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      const e = oneJson<{ ok: false; error: { code: string; message: string } }>(r);
      expect(e.ok).toBe(false);
      expect(e.error.code).toBe('bad_args');
    }
  }, 120_000);

  it('similarity-map --json gives the maps as numbers and the overlays; --out writes the PNGs', () => {
    const model = fixtureModelDirs()[0] as string;
    const images = join(model, 'images');
    const image = join(images, readdirSync(images).sort()[0] ?? '');
    const out = join(dataDir.path, 'maps');
    const r = cli('similarity-map', '--model', model, '--classes', 'cat,dog', '--out', out, '--json', image);
    expect(r.code, r.stderr).toBe(0);
    const m = oneJson<SimilarityMapResult>(r);
    expect(m.prompts.map((p) => p.prompt)).toEqual(['hand-written']);
    expect(m.prompts[0]?.maps).toHaveLength(2);
    expect(m.prompts[0]?.maps[0]).toHaveLength(m.grid.rows * m.grid.cols);
    expect(m.overlays.length).toBe(2);
    for (const f of m.files) expect(existsSync(f)).toBe(true);
  }, 120_000);
});
