/**
 * @file Project export as one `.coopproj` file (engine, plain Node); `project-import.ts` reads it back.
 *
 * [Note: project file] A project file is a zip holding `project.json` (the project, its classes,
 * images, runs and curves as plain rows, ids local to the file), `images/<sha256><ext>` (the image
 * bytes, stored uncompressed since images are already compressed) and `contexts/<n>.f32` (learned
 * tensors as little-endian float32, see [Note: float blobs]). Importing always copies the images
 * into the data folder, so the imported project is self-contained on the new machine, and writes each learning
 * run's context file and curve again under `<data>/projects/<id>/runs/run<runId>/` (see
 * [Note: atomic project import]). An image is exported only when the file at its path still has its sha256: a
 * path is where the image was, not a promise of what is there now.
 * The whole file is built in memory (fflate's zipSync): fine for the few-shot datasets the app is
 * for (hundreds of MB at most), not for huge ones.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { zipSync, type Zippable } from 'fflate';
import { AppError } from '../../../shared/result';
import { blobToFloats, floatsToBlob } from '../store/blob';
import type { Db } from '../store/db';
import type { ImageRow } from '../store/projects-repo';
import { stmt } from '../store/statements';
import { imageExtension, PROJECT_FILE_FORMAT, type ProjectFile } from './project-file';

/** The bytes at `path` when it is a regular file whose content has this sha256, else null. */
async function verifiedBytes(path: string, sha256: string): Promise<Uint8Array | null> {
  if (path === '') return null;
  const s = await stat(path).catch(() => null);
  if (!s?.isFile()) return null;
  const data = await readFile(path).catch(() => null);
  if (!data || createHash('sha256').update(data).digest('hex') !== sha256) return null;
  return new Uint8Array(data);
}

/** Writes a project to one file; returns its size and how many images it carries. */
export async function exportProject(
  db: Db,
  projectId: number,
  file: string,
  includeImages: boolean,
): Promise<{ file: string; bytes: number; images: number }> {
  const p = stmt(db, 'SELECT name, description FROM projects WHERE id = ?').get(projectId) as
    { name: string; description: string } | undefined;
  if (!p) throw new AppError('not_found', `There is no project with id ${projectId}.`);
  const entries: Zippable = {};
  const images = stmt(
    db,
    `SELECT class_id, path, origin, sha256, bytes, width, height, format, split, excluded
     FROM images WHERE project_id = ? ORDER BY id`,
  ).all(projectId) as (Omit<ImageRow, 'id' | 'missing' | 'thumbnail' | 'excluded'> & { excluded: 0 | 1 })[];
  let carried = 0;
  const out: ProjectFile['images'] = [];
  for (const { path, ...img } of images) {
    let fileName: string | null = null;
    if (includeImages) {
      const data = await verifiedBytes(path, img.sha256);
      if (data) {
        fileName = `images/${img.sha256}${imageExtension(path, img.format) ?? ''}`;
        entries[fileName] = [data, { level: 0 }];
        carried++;
      }
    }
    out.push({ ...img, file: fileName });
  }
  const runs = stmt(db, 'SELECT * FROM runs WHERE project_id = ? ORDER BY id').all(projectId) as ProjectFile['runs'];
  const metrics = stmt(
    db,
    'SELECT m.* FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.project_id = ? ORDER BY m.run_id, m.step',
  ).all(projectId) as ProjectFile['metrics'];
  const runImages = stmt(
    db,
    `SELECT ri.run_id, ri.sha256, ri.path, ri.label, ri.split, ri.predicted, ri.confidence
     FROM run_images ri JOIN runs r ON r.id = ri.run_id WHERE r.project_id = ? ORDER BY ri.run_id, ri.rowid`,
  ).all(projectId) as NonNullable<ProjectFile['run_images']>;
  const ctxRows = stmt(
    db,
    'SELECT c.run_id, c.name, c.shape_json, c.meta_json, c.tensor FROM contexts c JOIN runs r ON r.id = c.run_id WHERE r.project_id = ? ORDER BY c.id',
  ).all(projectId) as { run_id: number; name: string; shape_json: string; meta_json: string; tensor: Buffer }[];
  const contexts = ctxRows.map((c, i) => {
    const name = `contexts/${i}.f32`;
    // Re-encoding through the helper pair keeps the file little-endian whatever wrote the row.
    entries[name] = new Uint8Array(floatsToBlob(blobToFloats(c.tensor)));
    return { run_id: c.run_id, name: c.name, shape_json: c.shape_json, meta_json: c.meta_json, file: name };
  });
  const doc: ProjectFile = {
    ...PROJECT_FILE_FORMAT,
    project: p,
    classes: stmt(db, 'SELECT id, folder_name, prompt, sort_order, colour FROM classes WHERE project_id = ?').all(
      projectId,
    ) as ProjectFile['classes'],
    images: out,
    runs,
    metrics,
    run_images: runImages,
    contexts,
  };
  entries['project.json'] = new TextEncoder().encode(JSON.stringify(doc));
  const zipped = zipSync(entries, { level: 6 });
  await writeFile(file, zipped);
  return { file, bytes: zipped.byteLength, images: carried };
}
