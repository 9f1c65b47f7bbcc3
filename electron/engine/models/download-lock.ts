/**
 * @file One download of a model id at a time, within a process and across processes (engine, plain Node).
 *
 * [Note: download lock] The desktop app's engine and a CLI started beside it may both try to
 * download the same model into the same `downloads/<id>/`. A `.lock` file holding the owner's pid
 * keeps the second one out; a lock whose process is gone (a crash, a killed CLI) is stale and taken
 * over, so an interrupted download never blocks its own resume.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../shared/result';

const activeIds = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while a download of `id` into `work` is running here or in another live process. */
export function downloadBusy(work: string, id: string): boolean {
  if (activeIds.has(id)) return true;
  try {
    const owner = Number(readFileSync(join(work, '.lock'), 'utf8'));
    return Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner);
  } catch {
    return false;
  }
}

/** Takes the lock of `work` for `id` (a `conflict` error when it is busy); resolves with its release. */
export async function acquireLock(work: string, id: string): Promise<() => Promise<void>> {
  const busy = () => new AppError('conflict', `"${id}" is already being downloaded.`);
  if (activeIds.has(id)) throw busy();
  const lock = join(work, '.lock');
  try {
    await writeFile(lock, String(process.pid), { flag: 'wx' });
  } catch {
    const owner = Number(await readFile(lock, 'utf8').catch(() => ''));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) throw busy();
    await writeFile(lock, String(process.pid));
  }
  activeIds.add(id);
  return async () => {
    activeIds.delete(id);
    await rm(lock, { force: true });
  };
}
