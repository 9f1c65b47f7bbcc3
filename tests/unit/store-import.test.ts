/**
 * @file Tests of data import through the engine contract: awkward files, layouts (class folders, loose, zip, CSV),
 * duplicates, copy mode, thumbnails and cancellation.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../shared/client';
import { unwrap } from '../../shared/result';
import { writeAwkwardDataset, writeImage } from '../../electron/engine/store/test-images';
import { inProcessEngine, tempDir } from '../helpers/engine';

let client: EngineClient;
let dataDir: string;
const cleanups: (() => unknown)[] = [];
beforeEach(() => {
  const e = inProcessEngine();
  client = e.client;
  dataDir = e.dataDir;
  cleanups.push(e.cleanup);
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function scratch(): string {
  const d = tempDir('coop-import-');
  cleanups.push(d.cleanup);
  return d.path;
}
async function newProject(copyImages = false): Promise<number> {
  return unwrap(await client.call('projectCreate', { name: 'Test', copyImages })).id;
}

describe('projectImportData', () => {
  it('imports a folder of class folders with every kind of bad file, reporting each with a reason', async () => {
    const ds = await writeAwkwardDataset(scratch());
    const projectId = await newProject();
    const events: number[] = [];
    const report = unwrap(
      await client.call(
        'projectImportData',
        { projectId, sources: [ds.root] },
        { onProgress: (p) => events.push(p.scanned) },
      ),
    );
    const good = Object.values(ds.goodPerClass).reduce((a, b) => a + b, 0);
    expect(report.imported).toBe(good);
    expect(report.classesCreated.sort()).toEqual(['cat', 'dog', 'sea_otter']);
    expect(report.failedFiles.map((f) => f.path).sort()).toEqual([ds.corrupt, ds.zeroByte].sort());
    // Plain reasons for people, the decoder's own words kept as detail (see [Note: import labels]).
    expect(report.failedFiles.find((f) => f.path === ds.zeroByte)).toMatchObject({
      problem: 'empty',
      reason: 'empty file',
    });
    const corrupt = report.failedFiles.find((f) => f.path === ds.corrupt);
    // Its JPEG stops a third of the way in: a truncated file, said in plain words.
    expect(corrupt).toMatchObject({ problem: 'truncated', reason: 'truncated file (cut off)' });
    expect(corrupt?.detail).toMatch(/\S+/);
    expect(report.skippedFiles.map((f) => f.path).sort()).toEqual([ds.hidden, ds.nonImage].sort());
    expect(report.duplicates).toBe(1);
    expect(report.duplicateFiles[0]?.path === ds.duplicate || report.duplicateFiles[0]?.sameAs === ds.duplicate).toBe(
      true,
    );
    expect(report.scanned).toBe(report.total);
    expect(events.at(-1)).toBe(report.total);

    const show = unwrap(await client.call('projectShow', { projectId }));
    expect(show.images).toBe(good);
    const byName = Object.fromEntries(show.classList.map((c) => [c.folderName, c]));
    for (const [name, n] of Object.entries(ds.goodPerClass)) expect(byName[name]?.images).toBe(n);
    expect(byName['sea_otter']?.prompt).toBe('sea otter');
    expect(show.jobs[0]).toMatchObject({ kind: 'import', status: 'done' });

    const { images } = unwrap(await client.call('projectImages', { projectId }));
    const deep = images.find((i) => i.path === ds.deep);
    expect(deep?.classId).toBe(byName['dog']?.id);
    expect(images.some((i) => i.path.endsWith('🐶 emoji.png'))).toBe(true);
    expect(images.some((i) => i.path.endsWith('ünïcödé 猫.png'))).toBe(true);
    for (const img of images) {
      expect(img.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(img.width).toBeGreaterThan(0);
      expect(img.thumbnail && existsSync(img.thumbnail)).toBe(true);
      expect(img.thumbnail?.startsWith(join(dataDir, 'thumbs'))).toBe(true);
    }
  });

  it('re-importing the same folder adds nothing and reports every image as a duplicate', async () => {
    const ds = await writeAwkwardDataset(scratch());
    const projectId = await newProject();
    const first = unwrap(await client.call('projectImportData', { projectId, sources: [ds.root] }));
    const again = unwrap(await client.call('projectImportData', { projectId, sources: [ds.root] }));
    expect(again.imported).toBe(0);
    expect(again.duplicates).toBe(first.imported + first.duplicates);
  });

  it('takes several class folders at once, loose images into Unassigned, and a CSV of path,label', async () => {
    const root = scratch();
    await writeImage(join(root, 'tulip', 'a.png'), 11);
    await writeImage(join(root, 'rose', 'b.png'), 12);
    await writeImage(join(root, 'rose', 'c.png'), 13);
    const loose = join(root, 'loose.png');
    await writeImage(loose, 14);
    await writeImage(join(root, 'csv', 'x.png'), 15);
    await writeImage(join(root, 'csv', 'y.png'), 16);
    const csv = join(root, 'labels.csv');
    writeFileSync(csv, 'path,label\ncsv/x.png,daisy\n"csv/y.png","sun flower"\ncsv/readme.md,daisy\n');
    const projectId = await newProject();
    const r = unwrap(
      await client.call('projectImportData', {
        projectId,
        sources: [join(root, 'tulip'), join(root, 'rose'), loose, csv],
      }),
    );
    expect(r.imported).toBe(6);
    expect(r.skipped).toBe(1);
    const show = unwrap(await client.call('projectShow', { projectId }));
    expect(Object.fromEntries(show.classList.map((c) => [c.folderName, c.images]))).toEqual({
      tulip: 1,
      rose: 2,
      Unassigned: 1,
      daisy: 1,
      'sun flower': 1,
    });
  });

  it('imports a zip (wrapped in a top folder, with __MACOSX noise), copying its images into the data folder', async () => {
    const root = scratch();
    const a = await writeImage(join(root, 'tmp', 'a.png'), 21);
    const b = await writeImage(join(root, 'tmp', 'b.png'), 22);
    const zip = join(root, 'data.zip');
    writeFileSync(
      zip,
      zipSync({
        'flowers/iris/a.png': new Uint8Array(a),
        'flowers/lily/nested/b.png': new Uint8Array(b),
        '__MACOSX/flowers/iris/._a.png': new Uint8Array([0, 1]),
        'flowers/README.txt': new TextEncoder().encode('hi'),
      }),
    );
    const projectId = await newProject();
    const r = unwrap(await client.call('projectImportData', { projectId, sources: [zip] }));
    expect(r.imported).toBe(2);
    expect(r.skipped).toBe(2);
    const { images } = unwrap(await client.call('projectImages', { projectId }));
    for (const img of images) {
      expect(img.path.startsWith(dataDir)).toBe(true);
      expect(img.origin.startsWith(`${zip}:flowers/`)).toBe(true);
    }
    expect(readFileSync(images.find((i) => i.origin.endsWith('a.png'))?.path ?? '')).toEqual(a);
    const show = unwrap(await client.call('projectShow', { projectId }));
    expect(show.classList.map((c) => c.folderName).sort()).toEqual(['iris', 'lily']);
  });

  it('copies images into the project when the project asks for it', async () => {
    const root = scratch();
    await writeImage(join(root, 'ds', 'k', 'a.png'), 31);
    await writeImage(join(root, 'ds', 'k', 'b.png'), 32);
    const projectId = await newProject(true);
    unwrap(await client.call('projectImportData', { projectId, sources: [join(root, 'ds')] }));
    const { images } = unwrap(await client.call('projectImages', { projectId }));
    expect(images.every((i) => i.path.startsWith(join(dataDir, 'projects', String(projectId))))).toBe(true);
  });

  it('can be cancelled, keeps what it committed, and records the job as cancelled', async () => {
    const root = scratch();
    for (let i = 0; i < 150; i++) await writeImage(join(root, 'ds', `c${i % 3}`, `${i}.png`), 100 + i);
    mkdirSync(join(root, 'ds', 'empty'), { recursive: true });
    const projectId = await newProject();
    const ctl = new AbortController();
    const res = await client.call(
      'projectImportData',
      { projectId, sources: [join(root, 'ds')] },
      { signal: ctl.signal, onProgress: (p) => p.scanned >= 20 && ctl.abort() },
    );
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toBe('cancelled');
    const show = unwrap(await client.call('projectShow', { projectId }));
    expect(show.jobs[0]?.status).toBe('cancelled');
    expect(show.images).toBeLessThan(150);
    const rest = unwrap(await client.call('projectImportData', { projectId, sources: [join(root, 'ds')] }));
    expect(rest.imported + rest.duplicates).toBe(150);
    expect(unwrap(await client.call('projectShow', { projectId })).images).toBe(150);
  });
});
