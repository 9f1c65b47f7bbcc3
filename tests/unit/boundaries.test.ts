/**
 * @file The folder-boundary lint rule (see [Note: folder boundaries]): the table is acyclic, a forbidden import and
 * a file outside every zone are reported, an allowed import is not (Node, ESLint API).
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { assertAcyclic, zoneOf, ZONES } from '../../scripts/lint/boundaries.mjs';
import { appRoot } from '../../electron/engine/settings/paths';

const root = appRoot();

async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'boundaries/zones').map((m) => m.message);
}

describe('folder boundaries', () => {
  it('has an acyclic table and refuses a cycle', () => {
    expect(() => assertAcyclic()).not.toThrow();
    expect(() => assertAcyclic({ ...ZONES, 'electron/engine/train': ['electron/engine/jobs'] })).toThrow(/cycle/);
  });

  it('finds the zone of a path by its longest folder', () => {
    expect(zoneOf('electron/engine/train/sgd.ts')).toBe('electron/engine/train');
    expect(zoneOf('electron/engine/engine.ts')).toBe('electron/engine');
    expect(zoneOf('electron/hosts/cli/main.ts')).toBe('electron/hosts/cli');
    expect(zoneOf('tests/unit/x.ts')).toBeNull();
  });

  it('reports an import the table forbids, and lets an allowed one pass', async () => {
    const bad = await lint('electron/engine/train/probe.ts', "export { runCompare } from '../jobs/compare';\n");
    expect(bad).toEqual([expect.stringContaining('electron/engine/train may not import electron/engine/jobs')]);
    const up = await lint('electron/engine/store/probe.ts', "export { x } from '../../hosts/cli/command';\n");
    expect(up).toHaveLength(1);
    const renderer = await lint('renderer/src/app/probe.ts', "export { x } from '../../../electron/engine/engine';\n");
    expect(renderer).toHaveLength(1);
    const ok = await lint('electron/engine/jobs/probe.ts', "export { Sgd } from '../train/sgd';\n");
    expect(ok).toEqual([]);
  });

  it('reports a file in a folder the table does not know', async () => {
    const msgs = await lint('electron/engine/new-folder/x.ts', 'export const x = 1;\n');
    expect(msgs).toEqual([expect.stringContaining('is in no folder of the boundary table')]);
  });
});
