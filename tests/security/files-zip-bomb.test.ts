/**
 * @file Zip bombs (issue 15, defect 4): dataset zips and project files that expand a thousand-fold are refused with
 * a clear error, and the process's peak memory stays bounded (measured as the growth of the peak resident set size
 * across the import, which a whole-archive `unzipSync` pushes past the expanded size).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unwrap, type Result } from '../../shared/result';
import { imageBytes } from '../../electron/engine/store/test-images';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { craftZip, projectDoc, sha256, writeProjectFile, zeroBomb, type CraftEntry } from './files-craft';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function setup() {
  const root = tempDir('coop-sec-bomb-');
  const e = inProcessEngine();
  cleanups.push(e.cleanup, root.cleanup);
  return { root: root.path, ...e };
}

/** Peak resident set size of this process so far, in MiB. */
const peakMiB = () => process.resourceUsage().maxRSS / 1024;
/** Growth of the peak allowed while refusing a bomb: far below any expanded size used here (1 GiB and more). */
const BOUND_MIB = 256;

async function peakGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; grewMiB: number }> {
  const before = peakMiB();
  const value = await fn();
  return { value, grewMiB: peakMiB() - before };
}
function expectRefused(r: Result<unknown>, why: RegExp) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe('invalid_data');
  expect(r.error.message).toMatch(why);
}

describe('zip bombs in dataset imports', () => {
  it('a 1 MB zip with one 1 GiB entry is refused before anything is expanded', async () => {
    const { root, client } = setup();
    const bomb = zeroBomb(1024);
    const file = join(root, 'bomb.zip');
    writeFileSync(file, craftZip([{ name: 'cats/cat.png', ...bomb }]));
    const projectId = unwrap(await client.call('projectCreate', { name: 'p' })).id;
    const { value, grewMiB } = await peakGrowth(() => client.call('projectImportData', { projectId, sources: [file] }));
    expectRefused(value, /zip bomb|expand/i);
    expect(grewMiB).toBeLessThan(BOUND_MIB);
  });

  it('a 3 MB zip with 12 entries of 256 MiB each is refused', async () => {
    const { root, client } = setup();
    const bomb = zeroBomb(256);
    const file = join(root, 'bombs.zip');
    writeFileSync(file, craftZip(Array.from({ length: 12 }, (_, i) => ({ name: `c/${i}.png`, ...bomb }))));
    const projectId = unwrap(await client.call('projectCreate', { name: 'p' })).id;
    const { value, grewMiB } = await peakGrowth(() => client.call('projectImportData', { projectId, sources: [file] }));
    expectRefused(value, /zip bomb|expand/i);
    expect(grewMiB).toBeLessThan(BOUND_MIB);
  });

  it('an entry whose headers claim 4 kB but whose data expands to 1 GiB stops at 4 kB and fails that file', async () => {
    const { root, client } = setup();
    const png = await imageBytes(11);
    const file = join(root, 'liar.zip');
    writeFileSync(
      file,
      craftZip([
        { name: 'cats/good.png', data: png },
        { name: 'cats/liar.png', ...zeroBomb(1024), declaredSize: 4096 },
      ]),
    );
    const projectId = unwrap(await client.call('projectCreate', { name: 'p' })).id;
    const { value, grewMiB } = await peakGrowth(() => client.call('projectImportData', { projectId, sources: [file] }));
    expect(grewMiB).toBeLessThan(BOUND_MIB);
    if (value.ok) {
      expect(value.value.imported).toBe(1);
      // The archive's own sentence is the detail; the reason is the plain label (see [Note: import labels]).
      expect(value.value.failedFiles).toEqual([
        {
          path: `${file}:cats/liar.png`,
          name: 'liar.zip:cats/liar.png',
          problem: 'damaged',
          reason: 'damaged file',
          detail: expect.stringMatching(/larger than|corrupt/) as unknown,
        },
      ]);
    } else expectRefused(value, /larger than|corrupt/);
  });
});

describe('zip bombs in project files', () => {
  it('a project file whose image entry expands to 1 GiB is refused and leaves no project', async () => {
    const { root, client } = setup();
    const bomb = zeroBomb(1024);
    const file = join(root, 'bomb.coopproj');
    const entry: CraftEntry = { name: 'images/x.png', ...bomb };
    writeProjectFile(file, projectDoc([{ file: 'images/x.png', sha256: sha256(Buffer.alloc(0)), bytes: 1 << 30 }]), [
      entry,
    ]);
    const { value, grewMiB } = await peakGrowth(() => client.call('projectImportFile', { file }));
    expectRefused(value, /zip bomb|expand/i);
    expect(grewMiB).toBeLessThan(BOUND_MIB);
    expect(unwrap(await client.call('projectList', {})).projects).toHaveLength(0);
  });
});
