/**
 * @file Special files in datasets (found while writing the CSV fuzz test, issue 15 "Also"): a CSV line, a loose
 * source or a class folder naming a FIFO or a device behind an image name must fail that one file with a reason,
 * not hang the import on a read that never ends, nor read an endless device into memory.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { writeImage } from '../../electron/engine/store/test-images';
import { inProcessEngine, tempDir } from '../helpers/engine';

const tmp = tempDir('coop-sec-special-');
const engine = inProcessEngine();
afterAll(async () => {
  await engine.cleanup();
  tmp.cleanup();
});

describe.skipIf(process.platform === 'win32')('FIFOs and devices named like images', () => {
  it('a CSV line and a loose source naming a FIFO or /dev/zero fail those files and import the rest', async () => {
    const dir = join(tmp.path, 'ds');
    mkdirSync(dir);
    await writeImage(join(dir, 'good.png'), 1);
    execFileSync('mkfifo', [join(dir, 'pipe.png')]);
    // A second FIFO for the loose source: a file named twice is one candidate (the first naming wins).
    execFileSync('mkfifo', [join(dir, 'loose-pipe.png')]);
    symlinkSync('/dev/zero', join(dir, 'zero.png'));
    const csv = join(tmp.path, 'list.csv');
    writeFileSync(csv, 'path,label\nds/good.png,cats\nds/pipe.png,cats\nds/zero.png,cats\n');
    const projectId = unwrap(await engine.client.call('projectCreate', { name: 'p' })).id;
    const report = unwrap(
      await engine.client.call('projectImportData', { projectId, sources: [csv, join(dir, 'loose-pipe.png')] }),
    );
    expect(report.imported).toBe(1);
    expect(report.failedFiles.map((f) => f.path).sort()).toEqual(
      [join(dir, 'pipe.png'), join(dir, 'loose-pipe.png'), join(dir, 'zero.png')].sort(),
    );
    for (const f of report.failedFiles) expect(f.reason).toMatch(/not a regular file/);
  }, 20_000);
});
