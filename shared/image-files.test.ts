import { describe, expect, it } from 'vitest';
import { extensionOf, IMAGE_EXTENSIONS, isImageFile, isImportableFile } from './image-files';

describe('image extensions, one list for the engine and the web upload', () => {
  it('takes every image extension in any case, HEIC/HEIF included, and zip/csv datasets for import', () => {
    for (const ext of IMAGE_EXTENSIONS) {
      expect(isImageFile(`cat/a${ext}`)).toBe(true);
      expect(isImageFile(`cat/A${ext.toUpperCase()}`)).toBe(true);
    }
    expect(isImportableFile('photos/IMG_0001.HEIC')).toBe(true);
    expect(isImportableFile('shot.heif')).toBe(true);
    expect(isImportableFile('dataset.zip')).toBe(true);
    expect(isImportableFile('labels.CSV')).toBe(true);
    expect(isImageFile('dataset.zip')).toBe(false);
  });

  it('refuses other files, names without an extension, and reads the extension of the last path part only', () => {
    for (const name of ['notes.txt', 'README', '.png', 'dir.jpg/readme', 'x.jpg.part', 'a\\b.jpg\\c'])
      expect(isImportableFile(name), name).toBe(false);
    expect(extensionOf('a/b.c/D.JPEG')).toBe('.jpeg');
    expect(extensionOf('C:\\photos\\cat.Png')).toBe('.png');
  });
});
