/**
 * @file The bundled sample datasets through the engine contract: listed by name with their classes and image counts,
 * imported into a project by name (copied), and no name that is not a listed sample reaches the import (Node).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { listSamples } from '../../electron/engine/handlers/samples';
import { resourcesDir } from '../../electron/engine/settings/paths';
import { inProcessEngine, tempDir } from '../helpers/engine';

const PATTERNS = join(resourcesDir(), 'samples', 'patterns');
const classesOf = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
const imagesOf = (dir: string) =>
  classesOf(dir).reduce((n, c) => n + readdirSync(join(dir, c)).filter((f) => f.endsWith('.png')).length, 0);

describe('sample datasets', () => {
  const e = inProcessEngine();
  afterAll(() => e.cleanup());

  it('lists the bundled samples with their classes and images', async () => {
    const { samples } = unwrap(await e.client.call('sampleList', {}));
    const patterns = samples.find((s) => s.name === 'patterns');
    expect(patterns).toEqual({ name: 'patterns', classes: classesOf(PATTERNS), images: imagesOf(PATTERNS) });
    expect(samples.map((s) => s.name)).toEqual([...samples.map((s) => s.name)].sort());
    // Names only: the page gets no path on the engine's disk.
    expect(JSON.stringify(samples)).not.toContain(resourcesDir());
  });

  it('leaves out folders that are not datasets (fewer than two classes, no images)', async () => {
    const root = tempDir('coop-samples-');
    try {
      mkdirSync(join(root.path, 'one-class', 'a'), { recursive: true });
      writeFileSync(join(root.path, 'one-class', 'a', 'x.png'), 'x');
      mkdirSync(join(root.path, 'empty', 'a'), { recursive: true });
      mkdirSync(join(root.path, 'empty', 'b'), { recursive: true });
      for (const c of ['a', 'b']) {
        mkdirSync(join(root.path, 'two', c), { recursive: true });
        writeFileSync(join(root.path, 'two', c, 'x.png'), 'x');
      }
      expect(await listSamples(root.path)).toEqual([{ name: 'two', classes: ['a', 'b'], images: 2 }]);
      expect(await listSamples(join(root.path, 'missing'))).toEqual([]);
    } finally {
      root.cleanup();
    }
  });

  it('imports a sample into a project by name, copying its images', async () => {
    const projectId = unwrap(await e.client.call('projectCreate', { name: 'patterns sample' })).id;
    const report = unwrap(await e.client.call('sampleImport', { projectId, sample: 'patterns' }));
    expect(report.imported).toBe(imagesOf(PATTERNS));
    expect(report.classesCreated.sort()).toEqual(classesOf(PATTERNS));
    const shown = unwrap(await e.client.call('projectShow', { projectId }));
    expect(shown.classList.map((c) => c.folderName).sort()).toEqual(classesOf(PATTERNS));
    const { images } = unwrap(await e.client.call('projectImages', { projectId, limit: 1 }));
    const first = images[0]?.path ?? '';
    expect(first.startsWith(e.dataDir), `${first} is a copy in the data folder`).toBe(true);
    expect(existsSync(first)).toBe(true);
  });

  it('refuses a name that is not a listed sample, paths included', async () => {
    const projectId = unwrap(await e.client.call('projectCreate', { name: 'nope' })).id;
    for (const sample of ['no-such-sample', '../samples/patterns', PATTERNS, '..']) {
      const r = await e.client.call('sampleImport', { projectId, sample });
      expect(r, sample).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
  });
});
