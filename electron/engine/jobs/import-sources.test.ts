/**
 * @file Unit test of the drop scanner (plain Node): a list and the images it names, dropped together, give one
 * candidate per file, labelled by the list, whatever order the workers later take them in.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanSources } from './import-sources';

const root = mkdtempSync(join(tmpdir(), 'coop-scan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('scanSources', () => {
  it('keeps the first candidate of each file, so a list dropped with its images labels them', async () => {
    mkdirSync(join(root, 'pics'));
    writeFileSync(join(root, 'pics', 'x.png'), 'x');
    writeFileSync(join(root, 'pics', 'y.png'), 'y');
    writeFileSync(join(root, 'labels.csv'), 'path,label\npics/x.png,apple\npics/y.png,pear\n');
    const scan = await scanSources([join(root, 'labels.csv'), join(root, 'pics')], new AbortController().signal);
    expect(scan.candidates.map((c) => [c.path, c.className])).toEqual([
      [join(root, 'pics', 'x.png'), 'apple'],
      [join(root, 'pics', 'y.png'), 'pear'],
    ]);
  });
});
