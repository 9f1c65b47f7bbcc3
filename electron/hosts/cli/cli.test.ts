import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tests/helpers/engine';
import { appRoot } from '../../engine/settings/paths';
import { COMMANDS } from './commands';

const dataDir = tempDir('coop-cli-');
afterAll(() => dataDir.cleanup());

/** Runs the built CLI like a user would. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir.path },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('coop-studio CLI', () => {
  it('doctor --json prints exactly one JSON object naming tfjs backends and ORT providers', () => {
    const r = cli('doctor', '--json');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const d = JSON.parse(r.stdout) as {
      tfjs: { backends: { name: string }[] };
      onnxRuntime: { providers: { name: string }[] };
      dataDir: string;
    };
    expect(d.tfjs.backends.map((b) => b.name)).toEqual(expect.arrayContaining(['wasm', 'cpu', 'tensorflow']));
    expect(d.onnxRuntime.providers.map((p) => p.name)).toContain('cpu');
    expect(d.dataDir).toBe(dataDir.path);
  });

  it('answers --help for every command without starting the engine', () => {
    for (const c of COMMANDS) {
      const r = cli(...c.name.split(' '), '--help');
      expect(r.code, c.name).toBe(0);
      expect(r.stdout, c.name).toContain(`Usage: coop-studio ${c.name}`);
      expect(r.stdout, c.name).toContain('--json');
    }
    const top = cli('--help');
    for (const c of COMMANDS) expect(top.stdout).toContain(c.name);
    // One process per command (about 40): seconds each on a loaded 2-core machine.
  }, 240_000);

  it('reports unknown commands and options as one JSON error with exit code 2', () => {
    const unknown = cli('frobnicate', '--json');
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    const badFlag = cli('doctor', '--no-such-flag', '--json');
    expect(badFlag.code).toBe(2);
    expect(JSON.parse(badFlag.stdout).error.message).toContain('--no-such-flag');
  });

  it('learn takes --method kgcoop and --kg-lambda (compare too), and refuses --kg-lambda with --method coop', () => {
    const help = cli('learn', '--help').stdout;
    expect(help).toMatch(/--method M .*coop or kgcoop/);
    expect(help).toMatch(/--kg-lambda X .*\(default: 8\)/);
    expect(cli('compare', '--help').stdout).toMatch(/--kg-lambda X .*\(default: 8\)/);
    const r = cli('learn', '--data', dataDir.path, '--method', 'coop', '--kg-lambda', '4', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    expect(JSON.parse(r.stdout).error.message).toContain('--kg-lambda goes with --method kgcoop');
    const neg = cli('learn', '--data', dataDir.path, '--kg-lambda=-1', '--json');
    expect(JSON.parse(neg.stdout).error.message).toContain('--kg-lambda must be a number >= 0');
  });

  it('keeps stdout clean for humans too: errors go to stderr', () => {
    const r = cli('frobnicate');
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Unknown command');
  });
});
