import { describe, expect, it } from 'vitest';
import { datasetRoot, filesFromDrop } from './upload';

describe('files of a drop', () => {
  it('falls back to the plain file list when the drop has no entries (synthetic drops, other apps)', async () => {
    const zip = new File(['PK'], 'shapes.zip');
    const csv = new File(['a.png,cat'], 'labels.csv');
    const text = new File(['x'], 'notes.txt');
    const noEntry = { webkitGetAsEntry: () => null };
    const dt = { items: [noEntry, noEntry, noEntry], files: [zip, csv, text] } as unknown as DataTransfer;
    expect((await filesFromDrop(dt)).map((f) => [f.file, f.path])).toEqual([
      [zip, 'shapes.zip'],
      [csv, 'labels.csv'],
    ]);
    // Without items at all (older engines) too.
    expect(await filesFromDrop({ files: [zip] } as unknown as DataTransfer)).toEqual([
      { file: zip, path: 'shapes.zip' },
    ]);
  });

  it('walks the entries of a folder drop and keeps class folders in the paths', async () => {
    const a = new File(['x'], 'a.png');
    const file = (name: string, f: File) => ({
      isFile: true,
      fullPath: `/Shapes/${name}`,
      file: (ok: (f: File) => void) => ok(f),
    });
    const circle = {
      isFile: false,
      fullPath: '/Shapes/circle',
      createReader: () => {
        let done = false;
        return {
          readEntries: (ok: (e: unknown[]) => void) => ok(done ? [] : ((done = true), [file('circle/a.png', a)])),
        };
      },
    };
    const dt = { items: [{ webkitGetAsEntry: () => circle }], files: [] } as unknown as DataTransfer;
    const files = await filesFromDrop(dt);
    expect(files.map((f) => f.path)).toEqual(['Shapes/circle/a.png']);
    expect(datasetRoot('/up/s1', files)).toBe('/up/s1/Shapes');
    expect(datasetRoot('/up/s1', [{ file: a, path: 'shapes.zip' }])).toBe('/up/s1');
  });
});
