/**
 * @file Tests of the studio preferences and of renaming a project through the engine (engine, Vitest).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Result } from '../../../shared/result';
import { inProcessEngine } from '../../../tests/helpers/engine';
import { preferencesOf } from './settings';

function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('studio preferences and project rename', () => {
  const engine = inProcessEngine();
  afterAll(() => engine.cleanup());

  it('renames a project, keeps its classes and refuses an unknown or empty name', async () => {
    const { client } = engine;
    const p = unwrap(await client.call('projectCreate', { name: 'Flowers' }));
    const other = unwrap(await client.call('projectCreate', { name: 'Birds' }));
    const renamed = unwrap(await client.call('projectRename', { projectId: p.id, name: '  Garden flowers ' }));
    expect(renamed).toMatchObject({ id: p.id, name: 'Garden flowers', classes: p.classes, images: p.images });
    expect(renamed.updatedAt).toBeGreaterThanOrEqual(p.updatedAt);
    const listed = unwrap(await client.call('projectList', {})).projects;
    expect(listed.map((x) => [x.id, x.name]).sort()).toEqual(
      [
        [p.id, 'Garden flowers'],
        [other.id, 'Birds'],
      ].sort(),
    );
    const missing = await client.call('projectRename', { projectId: 999_999, name: 'X' });
    expect(missing.ok ? null : missing.error.code).toBe('not_found');
    const empty = await client.call('projectRename', { projectId: p.id, name: '   ' });
    expect(empty.ok ? null : empty.error.code).toBe('bad_args');
  });

  it('stores preferences in settings.json next to the endpoint, with defaults', async () => {
    const { client, dataDir } = engine;
    expect(unwrap(await client.call('preferencesGet', {}))).toEqual({ trainBackend: 'auto', theme: 'system' });
    unwrap(await client.call('settingsSet', { hfEndpoint: 'https://mirror.example.org' }));
    expect(unwrap(await client.call('preferencesSet', { theme: 'dark' }))).toEqual({
      trainBackend: 'auto',
      theme: 'dark',
    });
    expect(unwrap(await client.call('preferencesSet', { trainBackend: 'wasm' }))).toEqual({
      trainBackend: 'wasm',
      theme: 'dark',
    });
    const file = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({ hfEndpoint: 'https://mirror.example.org', theme: 'dark', trainBackend: 'wasm' });
    const bad = await client.call('preferencesSet', { theme: 'neon' as 'dark' });
    expect(bad.ok ? null : bad.error.code).toBe('bad_args');
  });

  it('reads unknown stored values as the defaults', () => {
    expect(preferencesOf({ theme: 'neon', trainBackend: 42 })).toEqual({ trainBackend: 'auto', theme: 'system' });
  });
});
