/**
 * @file Missing files: find images whose file moved or vanished, and relink them by content hash
 * (engine, plain Node).
 *
 * [Note: relink by hash] A project stores each image's content sha256, so a moved dataset is found
 * again wherever it went: relinking walks a folder, hashes only files whose size equals a missing
 * image's size, and points matching rows at their new path. The project stays usable meanwhile;
 * missing images are flagged and left out of embedding and training.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../store/db';
import { stmt } from '../store/statements';

/** Re-checks which images of a project exist on disk; returns how many are missing. */
export async function checkFiles(db: Db, projectId: number): Promise<number> {
  const rows = stmt(db, 'SELECT id, path, bytes FROM images WHERE project_id = ?').all(projectId) as {
    id: number;
    path: string;
    bytes: number;
  }[];
  const flags: [number, number][] = [];
  for (const r of rows) {
    const s = await stat(r.path).catch(() => null);
    flags.push([r.id, s?.isFile() && s.size === r.bytes ? 0 : 1]);
  }
  const set = stmt(db, 'UPDATE images SET missing = ? WHERE id = ?');
  db.transaction(() => {
    for (const [id, missing] of flags) set.run(missing, id);
  })();
  return flags.filter(([, m]) => m === 1).length;
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile()) yield full;
  }
}

/** Points missing images at files found under `folder` with the same content; returns counts. */
export async function relinkFolder(
  db: Db,
  projectId: number,
  folder: string,
): Promise<{ relinked: number; stillMissing: number }> {
  await checkFiles(db, projectId);
  const missing = stmt(db, 'SELECT id, sha256, bytes FROM images WHERE project_id = ? AND missing = 1').all(
    projectId,
  ) as {
    id: number;
    sha256: string;
    bytes: number;
  }[];
  const sizes = new Set(missing.map((m) => m.bytes));
  const byHash = new Map<string, number[]>();
  for (const m of missing) byHash.set(m.sha256, [...(byHash.get(m.sha256) ?? []), m.id]);
  const found: [string, number][] = [];
  for await (const file of walk(folder)) {
    if (byHash.size === 0) break;
    const s = await stat(file).catch(() => null);
    if (!s || !sizes.has(s.size)) continue;
    const h = await hashFile(file).catch(() => null);
    const ids = h ? byHash.get(h) : undefined;
    if (!h || !ids) continue;
    for (const id of ids) found.push([file, id]);
    byHash.delete(h);
  }
  const set = stmt(db, 'UPDATE images SET path = ?, missing = 0 WHERE id = ?');
  db.transaction(() => {
    for (const [file, id] of found) set.run(file, id);
  })();
  return { relinked: found.length, stillMissing: missing.length - found.length };
}
