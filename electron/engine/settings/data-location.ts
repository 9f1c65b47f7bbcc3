/**
 * @file Where the data folder is, and moving it (plain Node: CLI process or Electron main, never the worker).
 *
 * [Note: data folder location] The data folder defaults to the OS user-data location. A user can
 * move it (a bigger disk, a synced folder): the new location is recorded in a small pointer file,
 * `location.json`, that always stays in the default location. `COOP_STUDIO_DATA_DIR` overrides
 * both (tests, portable installs). A move copies everything, verifies the copy file by file,
 * switches the pointer, and only then removes the old folder, so a failure at any point leaves a
 * complete data folder in place. The engine must not hold the database open while this runs:
 * the CLI runs it without a worker, and the desktop app stops the engine first.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { AppError } from '../../../shared/result';

/** The pointer file's name in the default data folder. */
export const LOCATION_FILE = 'location.json';

/** Reads the moved-to location from the pointer file in `defaultDir`, if any. */
export function readLocationPointer(defaultDir: string): string | null {
  const file = join(defaultDir, LOCATION_FILE);
  if (!existsSync(file)) return null;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { dataDir?: unknown };
    return typeof v.dataDir === 'string' && v.dataDir.length > 0 ? v.dataDir : null;
  } catch {
    return null;
  }
}

function writePointer(defaultDir: string, target: string | null): void {
  mkdirSync(defaultDir, { recursive: true });
  const file = join(defaultDir, LOCATION_FILE);
  if (target === null) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ dataDir: target }, null, 2) + '\n');
  renameSync(tmp, file);
}

function listFiles(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.set(relative(root, full), statSync(full).size);
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/** Result of a move. */
export interface MoveReport {
  from: string;
  to: string;
  files: number;
  bytes: number;
}

/**
 * Moves the data folder from `from` to `to` and records `to` in the pointer file of `defaultDir`
 * (moving back to `defaultDir` removes the pointer).
 */
export function moveDataFolder(from: string, to: string, defaultDir: string): MoveReport {
  const src = resolve(from);
  const dst = resolve(to);
  if (src === dst) throw new AppError('bad_args', `The data folder is already at ${dst}.`);
  if (dst.startsWith(src + sep)) throw new AppError('bad_args', `Cannot move the data folder into itself (${dst}).`);
  if (existsSync(dst) && readdirSync(dst).some((entry) => entry !== LOCATION_FILE)) {
    throw new AppError('conflict', `${dst} is not empty; choose an empty or new folder.`);
  }
  const files = listFiles(src);
  // The pointer file belongs to the default folder, not to the data.
  files.delete(LOCATION_FILE);
  const dstExisted = existsSync(dst);
  mkdirSync(dst, { recursive: true });
  try {
    cpSync(src, dst, {
      recursive: true,
      force: false,
      errorOnExist: true,
      filter: (p) => resolve(p) !== join(src, LOCATION_FILE),
    });
    const copied = listFiles(dst);
    for (const [rel, size] of files) {
      if (copied.get(rel) !== size) throw new AppError('io_error', `Copy of ${rel} is incomplete; nothing was moved.`);
    }
  } catch (e) {
    // Undo only what the copy made: the target may be the default folder holding the pointer.
    if (!dstExisted) rmSync(dst, { recursive: true, force: true });
    else
      for (const entry of readdirSync(dst))
        if (entry !== LOCATION_FILE) rmSync(join(dst, entry), { recursive: true, force: true });
    if (e instanceof AppError) throw e;
    throw new AppError(
      'io_error',
      `Could not copy the data folder to ${dst}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  writePointer(resolve(defaultDir), dst === resolve(defaultDir) ? null : dst);
  for (const entry of readdirSync(src)) {
    if (src === resolve(defaultDir) && entry === LOCATION_FILE) continue;
    rmSync(join(src, entry), { recursive: true, force: true });
  }
  if (src !== resolve(defaultDir)) rmSync(src, { recursive: true, force: true });
  let bytes = 0;
  for (const size of files.values()) bytes += size;
  return { from: src, to: dst, files: files.size, bytes };
}
