/**
 * @file Which files are images: the one list of image file extensions that the import job, folder datasets and the
 * web upload share (pure TypeScript).
 *
 * [Note: image extensions] A file is an image candidate by its extension alone; the decoder (sharp, in the engine)
 * decides whether it really is one, and a file it cannot decode is reported with the reason, never dropped silently.
 * HEIC/HEIF are candidates: sharp decodes HEIF with AV1 (AVIF-style) content, and an HEVC-coded iPhone photo is
 * reported as not decodable rather than left out before the engine sees it.
 */

/** Extensions (lower case, with the dot) treated as images. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.bmp',
  '.heic',
  '.heif',
]);

/** Files the import job reads as a whole dataset: a zip of class folders, or a CSV of paths and labels. */
export const DATASET_FILE_EXTENSIONS: ReadonlySet<string> = new Set(['.zip', '.csv']);

/** The extension of a file name or path, lower case with the dot ('' when it has none). */
export function extensionOf(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** Whether a file name or path has an image extension (see [Note: image extensions]). */
export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extensionOf(name));
}

/** Whether the import job takes a file: an image, a zip or a CSV. */
export function isImportableFile(name: string): boolean {
  return isImageFile(name) || DATASET_FILE_EXTENSIONS.has(extensionOf(name));
}
