/**
 * @file Tests of the folder-per-class dataset reader.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tests/helpers/engine';
import { classPrompt, readFolderDataset } from './folder-dataset';

const tmp = tempDir('coop-dataset-');
afterAll(() => tmp.cleanup());

function touch(...parts: string[]): string {
  const path = join(tmp.path, ...parts);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
  return path;
}

describe('readFolderDataset', () => {
  it('reads sorted class folders with prompts and lists every skipped entry with a reason', async () => {
    touch('ds', 'golden_retriever', 'b.jpg');
    touch('ds', 'golden_retriever', 'a.PNG');
    touch('ds', 'golden_retriever', 'more', 'c.webp');
    touch('ds', 'golden_retriever', '.DS_Store');
    touch('ds', 'golden_retriever', 'labels.txt');
    touch('ds', 'Tabby-cat', 'x.jpeg');
    touch('ds', 'Tabby-cat', 'y.HEIC');
    touch('ds', 'empty_class', 'readme.md');
    touch('ds', '.cache', 'y.jpg');
    touch('ds', 'loose.jpg');
    const ds = await readFolderDataset(join(tmp.path, 'ds'));
    const root = join(tmp.path, 'ds');
    expect(ds.root).toBe(root);
    expect(ds.classes).toEqual([
      {
        name: 'Tabby-cat',
        prompt: 'Tabby cat',
        files: [join(root, 'Tabby-cat', 'x.jpeg'), join(root, 'Tabby-cat', 'y.HEIC')],
      },
      {
        name: 'golden_retriever',
        prompt: 'golden retriever',
        files: [
          join(root, 'golden_retriever', 'a.PNG'),
          join(root, 'golden_retriever', 'b.jpg'),
          join(root, 'golden_retriever', 'more', 'c.webp'),
        ],
      },
    ]);
    expect(ds.skipped).toEqual(
      expect.arrayContaining([
        { path: join(root, '.cache'), reason: 'hidden file or folder' },
        { path: join(root, 'golden_retriever', '.DS_Store'), reason: 'hidden file or folder' },
        { path: join(root, 'golden_retriever', 'labels.txt'), reason: 'not an image file (.txt)' },
        { path: join(root, 'empty_class', 'readme.md'), reason: 'not an image file (.md)' },
        { path: join(root, 'empty_class'), reason: 'class folder without images' },
        { path: join(root, 'loose.jpg'), reason: 'not inside a class folder' },
      ]),
    );
    expect(ds.skipped).toHaveLength(6);
  });

  it('turns _ and - into single spaces', () => {
    expect(classPrompt('sea_lion')).toBe('sea lion');
    expect(classPrompt('t-shirt__or--top')).toBe('t shirt or top');
  });

  it('explains a missing folder, a file and a folder without classes', async () => {
    await expect(readFolderDataset(join(tmp.path, 'nope'))).rejects.toMatchObject({ code: 'not_found' });
    await expect(readFolderDataset(touch('file.jpg'))).rejects.toMatchObject({ code: 'invalid_data' });
    mkdirSync(join(tmp.path, 'flat'));
    touch('flat', 'a.jpg');
    await expect(readFolderDataset(join(tmp.path, 'flat'))).rejects.toThrow(/no class folders with images/);
  });

  it('follows symbolic links to class folders and images, skips broken ones, and does not loop', async () => {
    touch('elsewhere', 'cats', 'c1.png');
    touch('elsewhere', 'one-dog.png');
    const root = join(tmp.path, 'linked');
    mkdirSync(join(root, 'dogs'), { recursive: true });
    symlinkSync(join(tmp.path, 'elsewhere', 'cats'), join(root, 'cats'));
    symlinkSync(join(tmp.path, 'elsewhere', 'one-dog.png'), join(root, 'dogs', 'd1.png'));
    symlinkSync(join(tmp.path, 'nowhere.png'), join(root, 'dogs', 'gone.png'));
    symlinkSync(root, join(root, 'dogs', 'loop'));
    const data = await readFolderDataset(root);
    expect(data.classes.map((c) => [c.name, c.files.length])).toEqual([
      ['cats', 1],
      ['dogs', 1],
    ]);
    expect(data.skipped).toContainEqual({ path: join(root, 'dogs', 'gone.png'), reason: 'broken symbolic link' });
  });
});
