/**
 * @file Fuzz test of CSV dataset lists (`path,label`): seeded byte-level mutations and hostile lines (escaping and
 * absolute paths, quotes, formulas, control characters, huge labels) imported through the engine (see
 * [Note: fuzz oracle]); nothing may be written outside the temporary data folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { parseCsvLine } from '../../electron/engine/jobs/import-sources';
import { writeImage } from '../../electron/engine/store/test-images';
import { tempDir } from '../helpers/engine';
import { engineIn, expectClearError, expectClearResult, filesBelow, fuzz, mutateBytes } from './fuzz-kit';

const tmp = tempDir('coop-fuzz-csv-');
const engine = engineIn(tmp.path);
const inputs = join(tmp.path, 'in');
afterAll(async () => {
  await engine.client.close();
  tmp.cleanup();
});
beforeAll(async () => {
  for (let i = 0; i < 3; i++) await writeImage(join(inputs, 'ds', i % 2 ? 'ant' : 'bee', `${i}.png`), 40 + i);
});

const VALID = () =>
  ['path,label', 'ds/bee/0.png,bee', '"ds/ant/1.png",ant', `${join(inputs, 'ds', 'bee', '2.png')},"be,e"`, ''].join(
    '\n',
  );

const HOSTILE_LINES = [
  `${'../'.repeat(12)}etc/passwd.png,x`,
  '/dev/zero.png,zero',
  'ds/bee/0.png,=HYPERLINK("http://x")',
  '"unterminated,quote',
  '"a""b.png","c""d"',
  'ds/ant/1.png,\u0000\u0001\u0002',
  `ds/ant/1.png,${'L'.repeat(10_000)}`,
  '\uFEFFds/bee/0.png,bom',
  'ds/bee/0.png,a\rb',
  ',,,,,',
  'ds,folder-as-image',
  'ds/bee/0.png,' + '\u202e' + 'gnp.exe',
];

describe('fuzz: CSV lists', () => {
  it('the line splitter returns cells for any line and never throws', async () => {
    const ran = await fuzz({ seed: 6, count: 2000, budgetMs: 30_000 }, (rng, label) => {
      const line = mutateBytes(Buffer.from(rng.pick([...VALID().split('\n'), ...HOSTILE_LINES])), rng, 3).toString();
      let thrown: unknown;
      try {
        const cells = parseCsvLine(line);
        expect(cells.length, label).toBeGreaterThan(0);
      } catch (e) {
        thrown = e;
      }
      expectClearError(thrown, label);
      return Promise.resolve();
    });
    expect(ran).toBeGreaterThan(100);
  });

  it('mutated lists import cleanly or fail cleanly, and write nothing outside the data folder', async () => {
    const { client, dataDir } = engine;
    mkdirSync(inputs, { recursive: true });
    const file = join(inputs, 'list.csv');
    const projectId = unwrap(await client.call('projectCreate', { name: 'csv' })).id;
    const ran = await fuzz({ seed: 7, count: 80, budgetMs: 30_000 }, async (rng, label) => {
      const lines = VALID().split('\n');
      for (let k = rng.int(3); k > 0; k--) lines.splice(rng.int(lines.length + 1), 0, rng.pick(HOSTILE_LINES));
      let text: Uint8Array = Buffer.from(lines.join(rng.next() < 0.2 ? '\r\n' : '\n'));
      if (rng.next() < 0.5) text = mutateBytes(text, rng, 3);
      writeFileSync(file, text);
      expectClearResult(await client.call('projectImportData', { projectId, sources: [file] }), label);
    });
    expect(ran).toBeGreaterThan(10);
    expect(filesBelow(tmp.path, [dataDir])).toEqual([
      'in/ds/ant/1.png',
      'in/ds/bee/0.png',
      'in/ds/bee/2.png',
      'in/list.csv',
    ]);
  });
});
