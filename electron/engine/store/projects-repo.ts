/**
 * @file Repository of projects, classes and images (engine, plain Node).
 *
 * Typed functions over the store; every multi-row write runs in one transaction.
 */
import type { BestRun, ClassInfo, ImageInfo, ProjectSummary, Split } from '../../../shared/contract/projects';
import { AppError } from '../../../shared/result';
import type { Db } from './db';
import { stmt } from './statements';

/** Class colours, assigned in turn (Tableau 10). */
export const CLASS_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

/** A prompt from a folder name: `_` and `-` become spaces (see science notes). */
export function promptFromFolder(name: string): string {
  return name.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim() || name;
}

interface ProjectRow {
  id: number;
  name: string;
  description: string;
  copy_dir: string | null;
  created_at: number;
  updated_at: number;
  classes: number;
  images: number;
  runs: number;
  last_run_at: number | null;
  best_run_id: number | null;
}

const TEST_ACCURACY = `json_extract(r.result_json, '$.test.accuracy')`;
const PROJECT_SELECT = `SELECT p.*, (SELECT count(*) FROM classes c WHERE c.project_id = p.id) AS classes,
  (SELECT count(*) FROM images i WHERE i.project_id = p.id) AS images,
  (SELECT count(*) FROM runs r WHERE r.project_id = p.id) AS runs,
  (SELECT max(r.created_at) FROM runs r WHERE r.project_id = p.id) AS last_run_at,
  (SELECT r.id FROM runs r WHERE r.project_id = p.id AND r.status = 'done' AND ${TEST_ACCURACY} IS NOT NULL
    ORDER BY ${TEST_ACCURACY} DESC, r.id DESC LIMIT 1) AS best_run_id
  FROM projects p`;

/** The run behind a project's best accuracy (see {@link BestRun}). */
function bestRun(db: Db, runId: number | null): BestRun | null {
  if (runId === null) return null;
  const r = stmt(
    db,
    `SELECT r.id, r.method, r.shots, r.seed, r.created_at, r.model_id, ${TEST_ACCURACY} AS acc,
       json_extract(r.result_json, '$.model.dir') AS model_dir FROM runs r WHERE r.id = ?`,
  ).get(runId) as
    | {
        id: number;
        method: string;
        shots: number;
        seed: number;
        created_at: number;
        model_id: string;
        acc: number;
        model_dir: string | null;
      }
    | undefined;
  if (!r) return null;
  return {
    runId: r.id,
    testAccuracy: r.acc,
    method: r.method,
    shots: r.shots,
    seed: r.seed,
    createdAt: r.created_at,
    modelId: r.model_id,
    modelDir: typeof r.model_dir === 'string' ? r.model_dir : null,
  };
}

function toSummary(db: Db, r: ProjectRow): ProjectSummary {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    copyImages: r.copy_dir !== null,
    classes: r.classes,
    images: r.images,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    runCount: r.runs,
    lastRunAt: r.last_run_at,
    bestRun: bestRun(db, r.best_run_id),
  };
}

/** Creates a project; `copyDir` is where copied images go (null: reference in place). */
export function createProject(db: Db, name: string, description: string, copyDir: string | null): ProjectSummary {
  const now = Date.now();
  const id = Number(
    stmt(db, 'INSERT INTO projects (name, description, copy_dir, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(
      name,
      description,
      copyDir,
      now,
      now,
    ).lastInsertRowid,
  );
  return getProject(db, id);
}

/** Sets where a project copies its images. */
export function setProjectCopyDir(db: Db, id: number, copyDir: string | null): void {
  stmt(db, 'UPDATE projects SET copy_dir = ? WHERE id = ?').run(copyDir, id);
}

/** Raw project row (copy dir included); throws `not_found`. */
export function projectRow(db: Db, id: number): { id: number; name: string; copyDir: string | null } {
  const r = stmt(db, 'SELECT id, name, copy_dir FROM projects WHERE id = ?').get(id) as
    { id: number; name: string; copy_dir: string | null } | undefined;
  if (!r) throw new AppError('not_found', `There is no project with id ${id}.`);
  return { id: r.id, name: r.name, copyDir: r.copy_dir };
}

/** One project; throws `not_found`. */
export function getProject(db: Db, id: number): ProjectSummary {
  const r = stmt(db, `${PROJECT_SELECT} WHERE p.id = ?`).get(id) as ProjectRow | undefined;
  if (!r) throw new AppError('not_found', `There is no project with id ${id}.`);
  return toSummary(db, r);
}

/** Renames a project; throws `not_found` when there is none with `id`. */
export function renameProject(db: Db, id: number, name: string): ProjectSummary {
  const changed = stmt(db, 'UPDATE projects SET name = ?, updated_at = ? WHERE id = ?').run(
    name,
    Date.now(),
    id,
  ).changes;
  if (changed === 0) throw new AppError('not_found', `There is no project with id ${id}.`);
  return getProject(db, id);
}

/** Every project, newest first. */
export function listProjects(db: Db): ProjectSummary[] {
  return (stmt(db, `${PROJECT_SELECT} ORDER BY p.updated_at DESC, p.id DESC`).all() as ProjectRow[]).map((r) =>
    toSummary(db, r),
  );
}

/** Deletes a project (classes, images, runs, metrics, contexts cascade; the embedding cache stays). */
export function deleteProject(db: Db, id: number): boolean {
  return stmt(db, 'DELETE FROM projects WHERE id = ?').run(id).changes > 0;
}

/** Bumps a project's `updated_at`. */
export function touchProject(db: Db, id: number): void {
  stmt(db, 'UPDATE projects SET updated_at = ? WHERE id = ?').run(Date.now(), id);
}

interface ClassRow {
  id: number;
  folder_name: string;
  prompt: string;
  sort_order: number;
  colour: string;
  images: number;
  excluded: number;
}

/** The classes of a project in display order, with image counts. */
export function listClasses(db: Db, projectId: number): ClassInfo[] {
  const rows = stmt(
    db,
    `SELECT c.*, (SELECT count(*) FROM images i WHERE i.class_id = c.id) AS images,
      (SELECT count(*) FROM images i WHERE i.class_id = c.id AND i.excluded = 1) AS excluded
     FROM classes c WHERE c.project_id = ? ORDER BY c.sort_order, c.id`,
  ).all(projectId) as ClassRow[];
  return rows.map((r) => ({
    id: r.id,
    folderName: r.folder_name,
    prompt: r.prompt,
    order: r.sort_order,
    colour: r.colour,
    images: r.images,
    excluded: r.excluded,
  }));
}

/** The id of the class with this folder name, creating it at the end if needed. */
export function ensureClass(
  db: Db,
  projectId: number,
  folderName: string,
  prompt?: string,
): { id: number; created: boolean } {
  const found = stmt(db, 'SELECT id FROM classes WHERE project_id = ? AND folder_name = ?').get(
    projectId,
    folderName,
  ) as { id: number } | undefined;
  if (found) return { id: found.id, created: false };
  const { n, maxOrder } = stmt(
    db,
    'SELECT count(*) AS n, coalesce(max(sort_order), -1) AS maxOrder FROM classes WHERE project_id = ?',
  ).get(projectId) as { n: number; maxOrder: number };
  const id = Number(
    stmt(db, 'INSERT INTO classes (project_id, folder_name, prompt, sort_order, colour) VALUES (?, ?, ?, ?, ?)').run(
      projectId,
      folderName,
      prompt ?? promptFromFolder(folderName),
      maxOrder + 1,
      CLASS_COLOURS[n % CLASS_COLOURS.length] ?? '#888888',
    ).lastInsertRowid,
  );
  return { id, created: true };
}

/** What a project knows of an image file whatever the row shape: where it came from, content hash, size, format. */
interface ImageFacts {
  origin: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  format: string;
}

/** What the importer writes for one image. */
export interface NewImage extends ImageFacts {
  classId: number | null;
  path: string;
  thumbnail: string | null;
  copied: boolean;
  split?: Split;
  excluded?: boolean;
  missing?: boolean;
}

/** Inserts one image; returns null when the project already has this content (a duplicate). */
export function insertImage(db: Db, projectId: number, img: NewImage): number | null {
  const r = stmt(
    db,
    `INSERT INTO images (project_id, class_id, path, origin, sha256, bytes, width, height, format, thumbnail, copied, split,
       excluded, missing, added_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, sha256) DO NOTHING`,
  ).run(
    projectId,
    img.classId,
    img.path,
    img.origin,
    img.sha256,
    img.bytes,
    img.width,
    img.height,
    img.format,
    img.thumbnail,
    img.copied ? 1 : 0,
    img.split ?? 'auto',
    img.excluded ? 1 : 0,
    img.missing ? 1 : 0,
    Date.now(),
  );
  return r.changes > 0 ? Number(r.lastInsertRowid) : null;
}

/** The origin of the image with this content in the project, if any. */
export function imageByHash(db: Db, projectId: number, sha256: string): { id: number; origin: string } | undefined {
  return stmt(db, 'SELECT id, origin FROM images WHERE project_id = ? AND sha256 = ?').get(projectId, sha256) as
    { id: number; origin: string } | undefined;
}

/** An `images` row as SQLite returns it. */
export interface ImageRow extends ImageFacts {
  id: number;
  class_id: number | null;
  path: string;
  split: Split;
  excluded: number;
  missing: number;
  thumbnail: string | null;
}

function toImage(r: ImageRow): ImageInfo {
  return {
    id: r.id,
    classId: r.class_id,
    path: r.path,
    origin: r.origin,
    sha256: r.sha256,
    bytes: r.bytes,
    width: r.width,
    height: r.height,
    format: r.format,
    split: r.split,
    excluded: r.excluded === 1,
    missing: r.missing === 1,
    thumbnail: r.thumbnail,
  };
}

/** Images of a project, optionally of one class or only the missing ones. */
export function listImages(
  db: Db,
  projectId: number,
  opts: { classId?: number | undefined; missingOnly?: boolean; limit?: number; offset?: number } = {},
): { images: ImageInfo[]; total: number } {
  const where = `project_id = ?${opts.classId !== undefined ? ' AND class_id = ?' : ''}${opts.missingOnly ? ' AND missing = 1' : ''}`;
  const params: number[] = opts.classId !== undefined ? [projectId, opts.classId] : [projectId];
  const total = (stmt(db, `SELECT count(*) AS n FROM images WHERE ${where}`).get(...params) as { n: number }).n;
  const rows = stmt(db, `SELECT * FROM images WHERE ${where} ORDER BY id LIMIT ? OFFSET ?`).all(
    ...params,
    opts.limit ?? -1,
    opts.offset ?? 0,
  ) as ImageRow[];
  return { images: rows.map(toImage), total };
}

/** Counts of a project's images per split (excluded images not counted). */
export function splitCounts(db: Db, projectId: number): Record<Split, number> {
  const out: Record<Split, number> = { auto: 0, train: 0, val: 0, test: 0 };
  const rows = stmt(
    db,
    'SELECT split, count(*) AS n FROM images WHERE project_id = ? AND excluded = 0 GROUP BY split',
  ).all(projectId) as { split: Split; n: number }[];
  for (const r of rows) out[r.split] = r.n;
  return out;
}

/** Sets the split of images (the trainer's fixed splits). */
export function setSplits(db: Db, assignments: { imageId: number; split: Split }[]): void {
  const upd = stmt(db, 'UPDATE images SET split = ? WHERE id = ?');
  db.transaction(() => {
    for (const a of assignments) upd.run(a.split, a.imageId);
  })();
}

/** Sets an image's thumbnail path. */
export function setThumbnail(db: Db, imageId: number, thumbnail: string): void {
  stmt(db, 'UPDATE images SET thumbnail = ? WHERE id = ?').run(thumbnail, imageId);
}

/** A project's usable images per class, in the shape of the CLIP runtime's `FolderDataset` (for `learn --project`). */
export interface ProjectDataset {
  root: string;
  classes: {
    /** The class's id in the store. */
    id: number;
    name: string;
    prompt: string;
    files: string[];
    hashes: string[];
    ids: number[];
    splits: Split[];
  }[];
  skipped: { path: string; reason: string }[];
}

/**
 * The classes (display order, prompt text as edited) with their usable images: excluded and missing
 * images are listed in `skipped` with the reason; images without a class are left out. `hashes`
 * (content sha256, the embedding cache key), `ids` (image ids) and `splits` run parallel to `files`.
 */
export function projectDataset(db: Db, projectId: number): ProjectDataset {
  const project = projectRow(db, projectId);
  const classes = listClasses(db, projectId);
  const rows = stmt(
    db,
    'SELECT id, class_id, path, sha256, split, excluded, missing FROM images WHERE project_id = ? ORDER BY id',
  ).all(projectId) as {
    id: number;
    class_id: number | null;
    path: string;
    sha256: string;
    split: Split;
    excluded: number;
    missing: number;
  }[];
  const byClass = new Map(
    classes.map((c) => [
      c.id,
      {
        id: c.id,
        name: c.folderName,
        prompt: c.prompt,
        files: [] as string[],
        hashes: [] as string[],
        ids: [] as number[],
        splits: [] as Split[],
      },
    ]),
  );
  const skipped: ProjectDataset['skipped'] = [];
  for (const r of rows) {
    const cls = r.class_id === null ? undefined : byClass.get(r.class_id);
    if (!cls) continue;
    if (r.excluded) skipped.push({ path: r.path, reason: 'excluded by the user' });
    else if (r.missing) skipped.push({ path: r.path, reason: 'file missing (relink the project)' });
    else {
      cls.files.push(r.path);
      cls.hashes.push(r.sha256);
      cls.ids.push(r.id);
      cls.splits.push(r.split);
    }
  }
  return { root: project.copyDir ?? project.name, classes: [...byClass.values()], skipped };
}
