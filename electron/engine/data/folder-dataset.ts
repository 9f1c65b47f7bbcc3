/**
 * @file Reads an image-classification dataset laid out as one folder per class (engine, plain Node).
 *
 * [Note: folder dataset] `DIR/<class>/<image>` is the layout users already have (ImageNet-style,
 * and what the research code's issue trackers keep asking for). Classes are the sub-folders in
 * sorted (code-point) order so class indices are stable across machines; the prompt text is the
 * folder name with `_` and `-` turned into spaces. Files are taken recursively below each class
 * folder. Anything that cannot be a training image (hidden files, non-image extensions, loose
 * files at the top level, empty class folders) is listed in `skipped` with a reason, never silently
 * dropped. Files are only classified by extension here; decoding errors surface when embedding.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { isImageFile } from '../../../shared/image-files';
import { AppError } from '../../../shared/result';

/** A dataset of class folders. */
export interface FolderDataset {
  root: string;
  classes: { name: string; prompt: string; files: string[] }[];
  skipped: { path: string; reason: string }[];
}

/** The prompt text of a class folder name: `_` and `-` become spaces, runs of spaces collapse. */
export function classPrompt(folderName: string): string {
  return folderName.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim();
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What an entry is, following symbolic links (a link to a class folder is a class folder). */
async function kindOf(e: Dirent, path: string): Promise<'dir' | 'file' | 'other' | 'broken'> {
  if (!e.isSymbolicLink()) return e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
  const target = await stat(path).catch(() => null);
  return !target ? 'broken' : target.isDirectory() ? 'dir' : target.isFile() ? 'file' : 'other';
}

async function collect(
  dir: string,
  files: string[],
  skipped: FolderDataset['skipped'],
  seen: Set<string>,
): Promise<void> {
  // Folders already walked (by their real path, the data folder included) are skipped, so a link back up cannot
  // loop and a folder linked from two classes counts once.
  const real = await realpath(dir);
  if (seen.has(real)) return;
  seen.add(real);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => byCodePoint(a.name, b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    const kind = await kindOf(e, path);
    if (e.name.startsWith('.')) skipped.push({ path, reason: 'hidden file or folder' });
    else if (kind === 'dir') await collect(path, files, skipped, seen);
    else if (kind === 'broken') skipped.push({ path, reason: 'broken symbolic link' });
    else if (kind !== 'file') skipped.push({ path, reason: 'not a regular file' });
    else if (!isImageFile(e.name))
      skipped.push({ path, reason: `not an image file (${extname(e.name) || 'no extension'})` });
    else files.push(path);
  }
}

/** Reads a folder-per-class dataset (see [Note: folder dataset]); throws `not_found` / `invalid_data`. */
export async function readFolderDataset(dir: string): Promise<FolderDataset> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info) throw new AppError('not_found', `The data folder ${root} does not exist.`);
  if (!info.isDirectory())
    throw new AppError('invalid_data', `${root} is a file; expected a folder with one sub-folder per class.`);
  const classes: FolderDataset['classes'] = [];
  const skipped: FolderDataset['skipped'] = [];
  const entries = (await readdir(root, { withFileTypes: true })).sort((a, b) => byCodePoint(a.name, b.name));
  const seen = new Set([await realpath(root)]);
  for (const e of entries) {
    const path = join(root, e.name);
    if (e.name.startsWith('.')) {
      skipped.push({ path, reason: 'hidden file or folder' });
      continue;
    }
    if ((await kindOf(e, path)) !== 'dir') {
      skipped.push({ path, reason: 'not inside a class folder' });
      continue;
    }
    const files: string[] = [];
    await collect(path, files, skipped, seen);
    if (files.length === 0) skipped.push({ path, reason: 'class folder without images' });
    else classes.push({ name: e.name, prompt: classPrompt(e.name), files });
  }
  if (classes.length === 0)
    throw new AppError(
      'invalid_data',
      `${root} has no class folders with images; expected ${root}/<class name>/<image files>.`,
    );
  return { root, classes, skipped };
}
