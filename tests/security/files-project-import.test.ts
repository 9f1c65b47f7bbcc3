/**
 * @file Hostile project files (issue 15, defects 1, 7 and 8): a zip-slip entry, a local file smuggled in through an
 * image without bytes, and malformed documents that must fail cleanly, leaving no project and no files behind.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { unwrap, type Result } from '../../shared/result';
import { imageBytes } from '../../electron/engine/store/test-images';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { craftZip, listFiles, projectDoc, sha256, writeProjectFile } from './files-craft';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
function setup() {
  const root = tempDir('coop-sec-proj-');
  const e = inProcessEngine();
  cleanups.push(e.cleanup, root.cleanup);
  return { root: root.path, ...e };
}
/** Files of the data folder other than the database itself. */
function dataFiles(dataDir: string): string[] {
  return listFiles(dataDir).filter((f) => !/^coop-studio\.db/.test(f) && !f.startsWith(`db${sep}`));
}
function expectClearError(r: Result<unknown>, code: RegExp = /invalid_data|unsupported/) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toMatch(code);
  expect(r.error.code).not.toBe('internal');
  expect(r.error.message.length).toBeGreaterThan(20);
}

describe('zip slip (defect 1)', () => {
  it('an image entry named images/../../<folder>/PWNED.png writes nothing outside the data folder', async () => {
    const { root, client, dataDir } = setup();
    const target = join(root, 'outside', 'PWNED.png');
    mkdirSync(dirname(target), { recursive: true });
    const png = await imageBytes(1);
    const name = `images/${'../'.repeat(24)}${target.replace(/^\/+/, '')}`;
    const file = join(root, 'slip.coopproj');
    writeProjectFile(file, projectDoc([{ file: name, sha256: sha256(png), bytes: png.length }]), [{ name, data: png }]);
    const r = await client.call('projectImportFile', { file });
    expect(existsSync(target)).toBe(false);
    expect(r.ok).toBe(true);
    const id = unwrap(r).id;
    const [img] = unwrap(await client.call('projectImages', { projectId: id })).images;
    // The image is stored by the sha256 of its verified bytes, inside the data folder.
    expect(img?.path).toBe(join(dataDir, 'projects', String(id), 'images', `${sha256(png)}.png`));
    expect(readFileSync(img?.path ?? '')).toEqual(png);
  });

  it('bytes that do not match the declared sha256, or an entry that is not an image by name or format, are refused', async () => {
    const { root, client, dataDir } = setup();
    const png = await imageBytes(2);
    const wrongHash = join(root, 'hash.coopproj');
    writeProjectFile(wrongHash, projectDoc([{ file: 'images/a.png', sha256: 'ab'.repeat(32), bytes: png.length }]), [
      { name: 'images/a.png', data: png },
    ]);
    expectClearError(await client.call('projectImportFile', { file: wrongHash }));
    // Neither the entry's name nor the declared format says image: refused (a name alone never decides the path).
    const script = join(root, 'ext.coopproj');
    const doc = projectDoc([{ file: 'images/run.sh', sha256: sha256(png), bytes: png.length }]);
    (doc['images'] as Record<string, unknown>[])[0]!['format'] = 'shell';
    writeProjectFile(script, doc, [{ name: 'images/run.sh', data: png }]);
    expectClearError(await client.call('projectImportFile', { file: script }));
    expect(unwrap(await client.call('projectList', {})).projects).toHaveLength(0);
    expect(dataFiles(dataDir).filter((f) => f.startsWith('projects'))).toEqual([]);
  });
});

describe('a local file smuggled into exports (defect 7)', () => {
  it('an image without bytes whose origin is a private file has no path, and export never ships that file', async () => {
    const { root, client } = setup();
    const secret = join(root, 'private', 'secret.png');
    mkdirSync(dirname(secret), { recursive: true });
    const bytes = await imageBytes(3);
    writeFileSync(secret, bytes);
    const file = join(root, 'smuggle.coopproj');
    writeProjectFile(file, projectDoc([{ file: null, sha256: sha256(bytes), bytes: bytes.length, origin: secret }]));
    const id = unwrap(await client.call('projectImportFile', { file })).id;
    const show = unwrap(await client.call('projectShow', { projectId: id, checkFiles: true }));
    expect(show.missing).toBe(1);
    const [img] = unwrap(await client.call('projectImages', { projectId: id })).images;
    expect(img?.path).not.toBe(secret);
    expect(img?.missing).toBe(true);
    const out = join(root, 'out.coopproj');
    expect(unwrap(await client.call('projectExport', { projectId: id, file: out })).images).toBe(0);
    const entries = unzipSync(new Uint8Array(readFileSync(out)));
    for (const data of Object.values(entries)) expect(Buffer.from(data).equals(bytes)).toBe(false);
    // Relinking finds it by content only (the hash is verified), which is the user's own choice of folder.
    expect(unwrap(await client.call('projectRelink', { projectId: id, folder: dirname(secret) }))).toEqual({
      relinked: 1,
      stillMissing: 0,
    });
  });

  it('export verifies each image against its sha256 and leaves out a file whose content changed', async () => {
    const { root, client } = setup();
    const a = await imageBytes(4);
    const b = await imageBytes(5);
    const file = join(root, 'two.coopproj');
    writeProjectFile(
      file,
      projectDoc([
        { file: 'images/a.png', sha256: sha256(a), bytes: a.length },
        { file: 'images/b.png', sha256: sha256(b), bytes: b.length },
      ]),
      [
        { name: 'images/a.png', data: a },
        { name: 'images/b.png', data: b },
      ],
    );
    const id = unwrap(await client.call('projectImportFile', { file })).id;
    const imgs = unwrap(await client.call('projectImages', { projectId: id })).images;
    const pathA = imgs.find((i) => i.sha256 === sha256(a))?.path ?? '';
    const other = Buffer.from(b.subarray(0, a.length));
    writeFileSync(
      pathA,
      other.length === a.length ? other : Buffer.concat([other, Buffer.alloc(a.length)]).subarray(0, a.length),
    );
    const out = join(root, 'out.coopproj');
    expect(unwrap(await client.call('projectExport', { projectId: id, file: out })).images).toBe(1);
    const entries = unzipSync(new Uint8Array(readFileSync(out)));
    const shipped = Object.entries(entries).filter(([n]) => n.startsWith('images/'));
    expect(shipped.map(([n]) => n)).toEqual([`images/${sha256(b)}.png`]);
    for (const [n, data] of shipped) expect(n).toContain(sha256(data));
  });
});

describe('atomic, validated project import (defect 8)', () => {
  const run = {
    id: 1,
    model_id: 'm',
    method: 'coop',
    options_json: '{}',
    seed: 1,
    shots: 1,
    status: 'done',
    backend: 'wasm',
    error: null,
    result_json: null,
    created_at: 0,
    started_at: 0,
    finished_at: 0,
    duration_ms: 1,
  };
  const cases: [string, (png: Buffer) => { doc: unknown; entries: { name: string; data: Uint8Array }[] }][] = [
    ['no images key', () => ({ doc: { ...projectDoc([]), images: undefined }, entries: [] })],
    ['images is not a list', () => ({ doc: { ...projectDoc([]), images: 'many' }, entries: [] })],
    ['a class without a name', () => ({ doc: { ...projectDoc([]), classes: [{ id: 1 }] }, entries: [] })],
    ['project.json is not JSON', () => ({ doc: '{"format": "coop-studio-project", ', entries: [] })],
    [
      'an image names a class that does not exist',
      (png) => {
        const doc = projectDoc([{ file: 'images/a.png', sha256: sha256(png), bytes: png.length }]);
        (doc['images'] as Record<string, unknown>[])[0]!['class_id'] = 99;
        return { doc, entries: [{ name: 'images/a.png', data: png }] };
      },
    ],
    [
      'an image entry the archive does not hold',
      (png) => ({
        doc: projectDoc([{ file: 'images/gone.png', sha256: sha256(png), bytes: png.length }]),
        entries: [],
      }),
    ],
    [
      'a context whose shape does not match its tensor',
      (png) => ({
        doc: projectDoc([{ file: 'images/a.png', sha256: sha256(png), bytes: png.length }], {
          runs: [run],
          contexts: [
            {
              run_id: 1,
              name: 'ctx',
              shape_json: '[3, 3]',
              meta_json: JSON.stringify({ method: 'coop', formatVersion: 1 }),
              file: 'contexts/0.f32',
            },
          ],
        }),
        entries: [
          { name: 'images/a.png', data: png },
          { name: 'contexts/0.f32', data: new Uint8Array(32) },
        ],
      }),
    ],
    [
      'a context with a negative shape',
      (png) => ({
        doc: projectDoc([{ file: 'images/a.png', sha256: sha256(png), bytes: png.length }], {
          runs: [run],
          contexts: [{ run_id: 1, name: 'ctx', shape_json: '[-2, -4]', meta_json: '{}', file: 'contexts/0.f32' }],
        }),
        entries: [
          { name: 'images/a.png', data: png },
          { name: 'contexts/0.f32', data: new Uint8Array(32) },
        ],
      }),
    ],
    [
      'a run without a model',
      (png) => ({
        doc: projectDoc([{ file: 'images/a.png', sha256: sha256(png), bytes: png.length }], {
          runs: [{ ...run, model_id: null }],
        }),
        entries: [{ name: 'images/a.png', data: png }],
      }),
    ],
  ];
  it.each(cases)('%s: a clear error, no project and no files left behind', async (_label, make) => {
    const { root, client, dataDir } = setup();
    const png = await imageBytes(6);
    const { doc, entries } = make(png);
    const file = join(root, 'bad.coopproj');
    if (typeof doc === 'string') writeFileSync(file, craftZip([{ name: 'project.json', data: Buffer.from(doc) }]));
    else writeProjectFile(file, doc, entries);
    expectClearError(await client.call('projectImportFile', { file }));
    expect(unwrap(await client.call('projectList', {})).projects).toHaveLength(0);
    expect(dataFiles(dataDir).filter((f) => f.startsWith('projects'))).toEqual([]);
  });
});
