/**
 * @file The data folder check of `doctor`: can the engine write there, and how much room is left (engine, plain
 * Node).
 *
 * Permission bits do not answer "can I write here" (root passes them on a read-only mount; ACLs and read-only file
 * systems override them), so the check creates and removes a small file, the way the engine itself will write.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataDirStatus } from '../../../shared/contract/system';

/** The nearest folder of `dir` (itself or a parent) that exists: where a missing data folder would be created. */
function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/** Checks that the engine can write to `dataDir` (or create it); never throws. */
export function checkDataFolder(dataDir: string): DataDirStatus {
  const where = nearestExisting(dataDir);
  const free = freeBytes(where);
  const probe = join(where, `.coop-studio-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(probe, 'ok');
    unlinkSync(probe);
  } catch (e) {
    // Node's messages read "EROFS: read-only file system, open '<path>'": the part before the path says why.
    const why = (e instanceof Error ? e.message : String(e)).split(', ')[0];
    return {
      writable: false,
      freeBytes: free,
      note:
        `${where === dataDir ? 'The data folder' : `The data folder does not exist and its parent ${where}`} ` +
        `cannot be written (${why}). Reading projects still works; to change them, make it writable or set ` +
        'COOP_STUDIO_DATA_DIR to a writable folder.',
    };
  }
  return {
    writable: true,
    freeBytes: free,
    note: where === dataDir ? 'writable' : `will be created (its parent ${where} is writable)`,
  };
}
