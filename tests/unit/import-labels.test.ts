/**
 * @file What an import says: a zip or CSV dropped in web mode is imported as a dataset (through the real upload route),
 * files are named as the user dropped them with plain reasons (library text only in `detail`), and an import that
 * brings nothing in is a warning (plain Node, in-process engine behind the web server's file routes).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { imageBytes, writeAwkwardDataset } from '../../electron/engine/store/test-images';
import { fileRoutes } from '../../electron/hosts/server/file-routes';
import { startWebServer, type WebServer } from '../../electron/hosts/server/web-server';
import { inProcessEngine, tempDir } from '../helpers/engine';

const engine = inProcessEngine();
const tmp = tempDir('coop-import-labels-');
const statics = tempDir('coop-static-');
const TOKEN = 'tok-import-labels';
let server: WebServer;

beforeAll(async () => {
  writeFileSync(join(statics.path, 'index.html'), 'x');
  server = await startWebServer({
    client: engine.client,
    staticDir: statics.path,
    token: TOKEN,
    routes: fileRoutes(engine.dataDir),
  });
});
afterAll(async () => {
  await server.close();
  await engine.cleanup();
  tmp.cleanup();
  statics.cleanup();
});

/** Streams files into an upload session as the web page does; resolves with the session folder on the engine's disk. */
async function upload(session: string, files: [string, Uint8Array][]): Promise<string> {
  let folder = '';
  for (const [rel, body] of files) {
    const res = await fetch(`${server.origin}/upload/${session}/${rel.split('/').map(encodeURIComponent).join('/')}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: Buffer.from(body),
    });
    const r = (await res.json()) as { ok: boolean; value: { folder: string } };
    expect(r.ok).toBe(true);
    folder = r.value.folder;
  }
  return folder;
}

const project = async (name: string) => unwrap(await engine.client.call('projectCreate', { name })).id;

describe('imports in web mode', () => {
  it('imports a dropped .zip as a dataset, naming skipped and damaged entries as they are in the zip', async () => {
    const good = await imageBytes(1, { w: 32, h: 32 });
    const full = await imageBytes(2, { w: 64, h: 64, format: 'jpeg' });
    const flipped = await imageBytes(8, { w: 32, h: 32 });
    const zip = zipSync({
      'ds/circle/a.png': good,
      'ds/circle/b.png': await imageBytes(3, { w: 32, h: 32 }),
      'ds/square/c.png': await imageBytes(4, { w: 32, h: 32 }),
      'ds/square/notes.txt': new TextEncoder().encode('not an image'),
      'ds/square/broken.jpg': full.subarray(0, Math.floor(full.length / 3)),
      'ds/square/fake.png': new TextEncoder().encode('a text file named like an image'),
      'ds/square/flipped.png': [flipped, { level: 0 }],
    });
    // One byte of a stored entry changed after zipping: the archive's checksum no longer matches (a damaged file).
    const at = Buffer.from(zip).indexOf(Buffer.from(flipped.subarray(40, 72))) + 8;
    zip[at] = (zip[at] ?? 0) ^ 0xff;
    const folder = await upload('session-zip-0001', [['shapes.zip', zip]]);
    const projectId = await project('Zip');
    const r = unwrap(await engine.client.call('projectImportData', { projectId, sources: [folder] }));
    expect(r.imported).toBe(3);
    expect(r.classesCreated.sort()).toEqual(['circle', 'square']);
    expect(r.warning).toBeNull();
    expect(r.skippedFiles).toEqual([
      expect.objectContaining({
        name: 'shapes.zip:ds/square/notes.txt',
        problem: 'not_an_image',
        reason: 'not an image',
      }),
    ]);
    const failed = Object.fromEntries(r.failedFiles.map((f) => [f.name, f]));
    expect(Object.keys(failed).sort()).toEqual([
      'shapes.zip:ds/square/broken.jpg',
      'shapes.zip:ds/square/fake.png',
      'shapes.zip:ds/square/flipped.png',
    ]);
    const broken = failed['shapes.zip:ds/square/broken.jpg'];
    expect(broken).toMatchObject({ problem: 'truncated', reason: 'truncated file (cut off)' });
    expect(broken?.detail).toBeTruthy();
    expect(failed['shapes.zip:ds/square/fake.png']).toMatchObject({ problem: 'not_an_image', reason: 'not an image' });
    expect(failed['shapes.zip:ds/square/flipped.png']).toMatchObject({ problem: 'damaged', reason: 'damaged file' });
    expect(failed['shapes.zip:ds/square/flipped.png']?.detail).toMatch(/checksum/);
    for (const f of [...r.skippedFiles, ...r.failedFiles]) expect(f.name).not.toContain(engine.dataDir);
  });

  it('imports a dropped .csv (path,label) with the images dropped beside it', async () => {
    const list = 'path,label\npics/x.png,apple\npics/y.png,pear\npics/z.txt,pear\npics/gone.png,pear\n';
    const folder = await upload('session-csv-0001', [
      ['labels.csv', new TextEncoder().encode(list)],
      ['pics/x.png', await imageBytes(5, { w: 32, h: 32 })],
      ['pics/y.png', await imageBytes(6, { w: 32, h: 32 })],
    ]);
    const projectId = await project('Csv');
    const r = unwrap(await engine.client.call('projectImportData', { projectId, sources: [folder] }));
    expect(r.imported).toBe(2);
    expect(r.classesCreated.sort()).toEqual(['apple', 'pear']);
    expect(r.skippedFiles.map((f) => [f.name, f.reason])).toContainEqual(['pics/z.txt', 'not an image']);
    // A row naming a file that is not there: said as such, by the list's own name for it.
    const gone = [...r.skippedFiles, ...r.failedFiles].find((f) => f.name === 'pics/gone.png');
    expect(gone).toMatchObject({
      problem: 'missing',
      reason: 'not found (a list names it, but there is no such file)',
    });
  });

  it('says when nothing was imported, and why: no images, or every image already in the project', async () => {
    const folder = await upload('session-none-0001', [['readme.txt', new TextEncoder().encode('hello')]]);
    const projectId = await project('Nothing');
    const none = unwrap(await engine.client.call('projectImportData', { projectId, sources: [folder] }));
    expect(none.imported).toBe(0);
    expect(none.warning).toMatchObject({ code: 'nothing_imported', why: 'no_images' });
    const pics = await upload('session-pics-0001', [['one.png', await imageBytes(7, { w: 32, h: 32 })]]);
    unwrap(await engine.client.call('projectImportData', { projectId, sources: [pics] }));
    const again = unwrap(await engine.client.call('projectImportData', { projectId, sources: [pics] }));
    expect(again.warning).toMatchObject({ code: 'nothing_imported', why: 'all_duplicates' });
    expect(again.duplicateFiles[0]).toMatchObject({ name: 'one.png', sameAsName: 'one.png' });
  });
});

describe('imports from disk', () => {
  it("names files from the dropped folder down, with plain reasons (the decoder's words only in detail)", async () => {
    const ds = await writeAwkwardDataset(join(tmp.path, 'Pets'));
    const projectId = await project('Pets');
    const r = unwrap(await engine.client.call('projectImportData', { projectId, sources: [ds.root] }));
    const names = Object.fromEntries([...r.skippedFiles, ...r.failedFiles].map((f) => [f.name, f.reason]));
    expect(names).toEqual({
      'Pets/cat/notes.txt': 'not an image',
      'Pets/cat/.DS_Store': 'hidden or system file',
      'Pets/cat/corrupt.jpg': 'truncated file (cut off)',
      'Pets/dog/zero.jpg': 'empty file',
    });
    for (const f of r.failedFiles) expect(f.reason).not.toMatch(/Input|buffer|header|VipsJpeg/i);
    expect(r.duplicateFiles[0]?.name).toMatch(/^Pets\/(cat|dog)\//);
    const loose = join(tmp.path, 'loose.png');
    writeFileSync(loose, readFileSync(ds.corrupt));
    const one = unwrap(
      await engine.client.call('projectImportData', { projectId: await project('Loose'), sources: [loose] }),
    );
    expect(one.failedFiles[0]?.name).toBe(basename(loose));
    expect(one.warning).toMatchObject({ why: 'all_failed' });
    mkdirSync(join(tmp.path, 'empty'));
    const empty = unwrap(
      await engine.client.call('projectImportData', { projectId, sources: [join(tmp.path, 'empty')] }),
    );
    expect(empty.warning).toMatchObject({ why: 'no_images' });
  });
});
