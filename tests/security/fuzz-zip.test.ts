/**
 * @file Fuzz test of the zip reader and of dataset imports from zips: seeded byte-level mutations of a valid archive
 * (see [Note: fuzz oracle]); nothing may be written outside the temporary data folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { ZipArchive } from '../../electron/engine/formats/zip-archive';
import { imageBytes } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';
import { engineIn, expectClearError, expectClearResult, filesBelow, fuzz, mutateBytes } from './fuzz-kit';

const tmp = tempDir('coop-fuzz-zip-');
const engine = engineIn(tmp.path);
afterAll(async () => {
  await engine.client.close();
  tmp.cleanup();
});

async function validZip(): Promise<Uint8Array> {
  return zipSync({
    'set/cats/a.png': [await imageBytes(1), { level: 0 }],
    'set/cats/b.jpg': await imageBytes(2, { format: 'jpeg' }),
    'set/dogs/c.webp': await imageBytes(3, { format: 'webp' }),
    'set/dogs/notes.txt': new TextEncoder().encode('not an image'),
    'set/.hidden/d.png': await imageBytes(4),
  });
}

describe('fuzz: zip archives', () => {
  it('byte-level mutations: opening, checking and reading every entry give a clear error or success', async () => {
    const valid = await validZip();
    const file = join(tmp.path, 'case.zip');
    const ran = await fuzz({ seed: 3, count: 400, budgetMs: 30_000 }, async (rng, label) => {
      // The central directory and the end record are at the end: aim half of the mutations there.
      const tail = { from: Math.max(0, valid.length - 400), to: valid.length };
      writeFileSync(file, mutateBytes(valid, rng, 3, rng.next() < 0.5 ? tail : undefined));
      let thrown: unknown;
      try {
        const zip = await ZipArchive.open(file);
        zip.checkLimits();
        for (const e of zip.entries) {
          try {
            await zip.read(e);
          } catch (err) {
            expectClearError(err, `${label} entry ${e.name}`);
          }
        }
      } catch (err) {
        thrown = err;
      }
      expectClearError(thrown, label);
    });
    expect(ran).toBeGreaterThan(50);
  });

  it('dataset imports of mutated zips: a clear error or a report, nothing written outside the data folder', async () => {
    const valid = await validZip();
    const inputs = join(tmp.path, 'in');
    mkdirSync(inputs);
    const file = join(inputs, 'set.zip');
    const projectId = unwrap(await engine.client.call('projectCreate', { name: 'fuzz' })).id;
    const ran = await fuzz({ seed: 4, count: 100, budgetMs: 30_000 }, async (rng, label) => {
      writeFileSync(file, mutateBytes(valid, rng, 2));
      expectClearResult(await engine.client.call('projectImportData', { projectId, sources: [file] }), label);
    });
    expect(ran).toBeGreaterThan(10);
    expect(filesBelow(tmp.path, [engine.dataDir])).toEqual(['case.zip', 'in/set.zip']);
  });
});
