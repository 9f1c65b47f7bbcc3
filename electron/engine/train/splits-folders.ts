/**
 * @file Reading a class-per-folder dataset for a learning run (engine, plain Node).
 *
 * [Note: interim folder reader] The CLIP runtime's `readFolderDataset` (electron/engine/data/folder-dataset.ts) is
 * the app's one folder reader; this is a same-shaped stand-in used by `trainer-run.ts` until that module lands.
 * Class folders are sorted by name, the prompt is the folder name with `_` and `-` as spaces, hidden and non-image
 * files are skipped with a reason.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { AppError } from '../../../shared/result';

/** A folder dataset: one class per sub-folder. */
export interface FolderDataset {
  root: string;
  classes: { name: string; prompt: string; files: string[] }[];
  skipped: { path: string; reason: string }[];
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff', '.avif']);

/** Reads class folders and their image files (sorted). */
export async function readFolderDataset(dir: string): Promise<FolderDataset> {
  const root = resolve(dir);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not_found', `The dataset folder ${root} does not exist.`);
    throw new AppError('io_error', `Cannot read ${root}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const skipped: FolderDataset['skipped'] = [];
  const classes: FolderDataset['classes'] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(root, entry.name);
    if (entry.name.startsWith('.')) continue;
    if (!entry.isDirectory()) {
      skipped.push({ path, reason: 'not a class folder (files belong in one sub-folder per class)' });
      continue;
    }
    const files: string[] = [];
    for (const f of (await readdir(path)).sort()) {
      const fp = join(path, f);
      if (f.startsWith('.')) {
        skipped.push({ path: fp, reason: 'hidden file' });
      } else if (!IMAGE_EXTENSIONS.has(extname(f).toLowerCase())) {
        skipped.push({ path: fp, reason: 'not an image file' });
      } else if ((await stat(fp)).isFile()) {
        files.push(fp);
      }
    }
    if (files.length === 0) {
      skipped.push({ path, reason: 'class folder without images' });
      continue;
    }
    classes.push({ name: entry.name, prompt: entry.name.replace(/[_-]+/g, ' ').trim(), files });
  }
  return { root, classes, skipped };
}
