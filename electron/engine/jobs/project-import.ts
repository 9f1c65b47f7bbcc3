/**
 * @file Project import from one `.coopproj` file: validate, stage, then commit rows and files together (engine,
 * plain Node).
 *
 * [Note: atomic project import] An import either creates the whole project or leaves nothing behind:
 * 1. the archive is opened by its central directory and `project.json` is validated in full
 *    ([Note: project file validation]); the entries it names are checked against the zip limits
 *    ([Note: hostile archives]) before any is expanded;
 * 2. images are streamed into a staging folder `<data>/projects/.import-<pid>-*` and kept only when the sha256 of
 *    their bytes equals the one the document declares; each is named `<sha256><image extension>`, never after an
 *    archive path. Context tensors are read and checked (shape, finite values), and every learning run's context
 *    file and curve are rendered into the staging folder too;
 * 3. one SQLite transaction inserts every row and, last, moves the staged files into `<data>/projects/<id>/`;
 *    if anything throws, the rows roll back and the moved files are removed. The staging folder always goes;
 *    one left by a killed process is removed by the next import once that process is gone.
 * An image the file carries no bytes for is recorded as missing with no path (not its `origin`, which is only a
 * label written on another machine) until `projectRelink` finds a file with its content.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ProjectSummary } from '../../../shared/contract/projects';
import { quoted } from '../../../shared/describe-input';
import { AppError } from '../../../shared/result';
import { blobToFloats, floatsToBlob } from '../store/blob';
import type { Db } from '../store/db';
import { createProject, getProject, insertImage, setProjectCopyDir } from '../store/projects-repo';
import { toEpochPoint } from '../store/runs-repo';
import { stmt } from '../store/statements';
import { decodeContextFile, encodeContextFile, type ContextMetadata } from '../formats/context-file';
import { curvePng } from '../reports/curve';
import { imageExtension, parseProjectFile, type ProjectFile } from './project-file';
import { ZipArchive, type ZipEntry } from '../formats/zip-archive';

const STAGING_PREFIX = '.import-';
/** Keys of a stored run result that name files of the exporting machine (rewritten or dropped on import). */
const RESULT_PATH_KEYS = ['contextPath', 'curvePath', 'outDir'] as const;

function invalid(file: string, why: string): AppError {
  return new AppError('invalid_data', `${basename(file)} is not a valid CoOp Studio project file: ${why}.`);
}

/** Imports a project file as a new project; see [Note: atomic project import]. */
export async function importProjectFile(db: Db, dataDir: string, file: string, name?: string): Promise<ProjectSummary> {
  const archive = await ZipArchive.open(file).catch((e: unknown) => {
    if (e instanceof AppError && e.code === 'invalid_data')
      throw new AppError('invalid_data', `${basename(file)} is not a CoOp Studio project file (${e.message})`);
    throw e;
  });
  const byName = new Map<string, ZipEntry>();
  for (const e of archive.entries) {
    if (e.isDirectory) continue;
    if (byName.has(e.name)) throw invalid(file, `it holds two entries named ${quoted(e.name)}`);
    byName.set(e.name, e);
  }
  const json = byName.get('project.json');
  if (!json)
    throw new AppError('invalid_data', `${basename(file)} is not a CoOp Studio project file (no project.json).`);
  archive.checkLimits([json]);
  const doc = parseProjectFile(await archive.read(json), file, new Set(byName.keys()));
  const named = new Set([...doc.images.flatMap((i) => (i.file ? [i.file] : [])), ...doc.contexts.map((c) => c.file)]);
  archive.checkLimits([json, ...[...named].map((n) => byName.get(n) as ZipEntry)]);

  const projectsDir = join(dataDir, 'projects');
  await mkdir(projectsDir, { recursive: true });
  await removeStaleStaging(projectsDir);
  const staging = await mkdtemp(join(projectsDir, `${STAGING_PREFIX}${process.pid}-`));
  try {
    const images = await stageImages(archive, byName, doc, staging, file);
    const tensors = await readContexts(archive, byName, doc, file);
    const runFiles = await stageRunFiles(doc, tensors, staging, file);
    const id = commit(db, dataDir, doc, name, { staging, images, tensors, runFiles });
    return getProject(db, id);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Staging folders of processes that no longer run (killed mid-import). */
async function removeStaleStaging(projectsDir: string): Promise<void> {
  for (const n of await readdir(projectsDir).catch(() => [])) {
    const pid = Number(/^\.import-(\d+)-/.exec(n)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH')
        await rm(join(projectsDir, n), { recursive: true, force: true });
    }
  }
}

/** Streams each carried image into `<staging>/images/<sha256><ext>` and verifies its hash; returns sha -> name. */
async function stageImages(
  archive: ZipArchive,
  byName: ReadonlyMap<string, ZipEntry>,
  doc: ProjectFile,
  staging: string,
  file: string,
): Promise<Map<string, { name: string; bytes: number }>> {
  const dir = join(staging, 'images');
  await mkdir(dir);
  const staged = new Map<string, { name: string; bytes: number }>();
  for (const [i, img] of doc.images.entries()) {
    if (img.file === null || staged.has(img.sha256)) continue;
    const partial = join(dir, 'partial');
    const hash = createHash('sha256');
    let bytes = 0;
    const fh = await open(partial, 'w');
    try {
      for await (const chunk of archive.stream(byName.get(img.file) as ZipEntry)) {
        hash.update(chunk);
        bytes += chunk.length;
        await fh.write(chunk);
      }
    } finally {
      await fh.close();
    }
    if (hash.digest('hex') !== img.sha256)
      throw invalid(
        file,
        `the bytes of images[${i}] (${quoted(img.file)}) do not match its sha256, so the file was damaged or altered`,
      );
    const name = `${img.sha256}${imageExtension(img.file, img.format) ?? ''}`;
    await rename(partial, join(dir, name));
    staged.set(img.sha256, { name, bytes });
  }
  return staged;
}

/** Reads every context tensor and checks it against its shape; non-finite values are refused. */
async function readContexts(
  archive: ZipArchive,
  byName: ReadonlyMap<string, ZipEntry>,
  doc: ProjectFile,
  file: string,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const [i, c] of doc.contexts.entries()) {
    const data = await archive.read(byName.get(c.file) as ZipEntry);
    if (data.byteLength % 4 !== 0)
      throw invalid(
        file,
        `contexts[${i}] (${quoted(c.file)}) is not a list of float32 values (${data.byteLength} bytes)`,
      );
    const values = blobToFloats(data);
    const shape = JSON.parse(c.shape_json) as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== values.length)
      throw invalid(
        file,
        `contexts[${i}] has the shape [${shape.join(', ')}] (${n} values) but holds ${values.length}`,
      );
    if (!values.every(Number.isFinite)) throw invalid(file, `contexts[${i}] holds values that are not finite numbers`);
    out.push(values);
  }
  return out;
}

interface RunFiles {
  /** Staged folder holding context.safetensors and curve.png. */
  dir: string;
  meta: Record<string, unknown>;
}

/** Renders the context file and curve of every CoOp run (see [Note: context file]) into the staging folder. */
async function stageRunFiles(
  doc: ProjectFile,
  tensors: readonly Float32Array[],
  staging: string,
  file: string,
): Promise<Map<number, RunFiles>> {
  const out = new Map<number, RunFiles>();
  for (const [i, c] of doc.contexts.entries()) {
    const { path: _old, ...meta } = JSON.parse(c.meta_json) as Record<string, unknown>;
    if (c.name !== 'ctx' || meta['method'] !== 'coop' || typeof meta['formatVersion'] !== 'number') continue;
    let bytes: Uint8Array;
    try {
      bytes = encodeContextFile({
        ctx: tensors[i] ?? new Float32Array(0),
        shape: JSON.parse(c.shape_json) as number[],
        meta: meta as unknown as ContextMetadata,
      });
      decodeContextFile(bytes, `The context of run ${c.run_id}`);
    } catch (e) {
      throw invalid(file, `the learned context of run ${c.run_id} is not valid (${(e as Error).message})`);
    }
    const curve = doc.metrics
      .filter((m) => m.run_id === c.run_id)
      .sort((a, b) => a.step - b.step)
      .map((m) =>
        toEpochPoint({
          epoch: m.epoch,
          step: m.step,
          loss: m.loss,
          trainAcc: m.train_acc,
          valAcc: m.val_acc,
          testAcc: m.test_acc,
          lr: m.lr,
          seconds: m.seconds ?? null,
        }),
      );
    const dir = join(staging, 'runs', String(c.run_id));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'context.safetensors'), bytes);
    await writeFile(join(dir, 'curve.png'), await curvePng(curve, { title: `CoOp run ${c.run_id} (imported)` }));
    out.set(c.run_id, { dir, meta });
  }
  return out;
}

interface Staged {
  staging: string;
  images: Map<string, { name: string; bytes: number }>;
  tensors: readonly Float32Array[];
  runFiles: Map<number, RunFiles>;
}

/** One transaction: every row, then the staged files moved into place (see [Note: atomic project import]). */
function commit(db: Db, dataDir: string, doc: ProjectFile, name: string | undefined, s: Staged): number {
  const moved: string[] = [];
  let projectDir: string | null = null;
  try {
    return db.transaction(() => {
      const project = createProject(db, name ?? doc.project.name, doc.project.description, null);
      projectDir = join(dataDir, 'projects', String(project.id));
      const imagesDir = join(projectDir, 'images');
      setProjectCopyDir(db, project.id, imagesDir);
      const classIds = new Map<number, number>();
      const insClass = stmt(
        db,
        'INSERT INTO classes (project_id, folder_name, prompt, sort_order, colour) VALUES (?, ?, ?, ?, ?)',
      );
      for (const c of doc.classes)
        classIds.set(
          c.id,
          Number(insClass.run(project.id, c.folder_name, c.prompt, c.sort_order, c.colour).lastInsertRowid),
        );
      const imageIds = new Map<string, number>();
      for (const img of doc.images) {
        const staged = s.images.get(img.sha256);
        const id = insertImage(db, project.id, {
          classId: img.class_id === null ? null : (classIds.get(img.class_id) ?? null),
          path: staged ? join(imagesDir, staged.name) : '',
          origin: img.origin,
          sha256: img.sha256,
          bytes: staged?.bytes ?? img.bytes,
          width: img.width,
          height: img.height,
          format: img.format,
          thumbnail: null,
          copied: staged !== undefined,
          split: img.split,
          excluded: img.excluded === 1,
          missing: !staged,
        });
        if (id !== null) imageIds.set(img.sha256, id);
      }
      const runIds = insertRuns(db, project.id, doc, s.runFiles, projectDir);
      insertRunRows(db, doc, runIds, imageIds, (sha) => {
        const staged = sha === null ? undefined : s.images.get(sha);
        return staged ? join(imagesDir, staged.name) : undefined;
      });
      const insCtx = stmt(
        db,
        'INSERT INTO contexts (run_id, name, shape_json, tensor, meta_json, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const [i, c] of doc.contexts.entries()) {
        const runId = runIds.get(c.run_id) as number;
        const files = c.name === 'ctx' ? s.runFiles.get(c.run_id) : undefined;
        const { path: _old, ...meta } = JSON.parse(c.meta_json) as Record<string, unknown>;
        const path = files ? join(projectDir, 'runs', `run${runId}`, 'context.safetensors') : undefined;
        const tensor = floatsToBlob(s.tensors[i] ?? new Float32Array(0));
        insCtx.run(runId, c.name, c.shape_json, tensor, JSON.stringify(path ? { ...meta, path } : meta), Date.now());
      }
      // Files last: a failure above leaves none to remove.
      if (s.images.size > 0) mkdirSync(imagesDir, { recursive: true });
      for (const { name: n } of s.images.values()) {
        const dest = join(imagesDir, n);
        renameSync(join(s.staging, 'images', n), dest);
        moved.push(dest);
      }
      for (const [docRunId, files] of s.runFiles) {
        const dest = join(projectDir, 'runs', `run${runIds.get(docRunId) as number}`);
        // A folder left under this id belongs to a deleted project whose id was reused.
        rmSync(dest, { recursive: true, force: true });
        mkdirSync(join(projectDir, 'runs'), { recursive: true });
        renameSync(files.dir, dest);
        moved.push(dest);
      }
      return project.id;
    })();
  } catch (e) {
    for (const p of moved) rmSync(p, { recursive: true, force: true });
    if (projectDir !== null) removeEmptyDirs(projectDir);
    throw e;
  }
}

function removeEmptyDirs(projectDir: string): void {
  for (const d of [join(projectDir, 'images'), join(projectDir, 'runs'), projectDir]) {
    try {
      if (readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // Not there, or not empty: leave it.
    }
  }
}

/** Inserts the runs (a run that was going on when exported is recorded as interrupted); returns doc id -> new id. */
function insertRuns(
  db: Db,
  projectId: number,
  doc: ProjectFile,
  runFiles: ReadonlyMap<number, RunFiles>,
  projectDir: string,
): Map<number, number> {
  const insRun = stmt(
    db,
    `INSERT INTO runs (project_id, model_id, method, options_json, seed, shots, status, backend, error, result_json,
       created_at, started_at, finished_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const setResult = stmt(db, 'UPDATE runs SET result_json = ? WHERE id = ?');
  const runIds = new Map<number, number>();
  for (const r of doc.runs) {
    const status = r.status === 'running' || r.status === 'queued' ? 'interrupted' : r.status;
    const id = Number(
      insRun.run(
        projectId,
        r.model_id,
        r.method,
        r.options_json,
        r.seed,
        r.shots,
        status,
        r.backend,
        r.error,
        null,
        r.created_at,
        r.started_at,
        r.finished_at,
        r.duration_ms,
      ).lastInsertRowid,
    );
    runIds.set(r.id, id);
    if (r.result_json === null) continue;
    const result = JSON.parse(r.result_json) as Record<string, unknown>;
    for (const k of RESULT_PATH_KEYS) delete result[k];
    if (runFiles.has(r.id)) {
      const outDir = join(projectDir, 'runs', `run${id}`);
      Object.assign(result, {
        contextPath: join(outDir, 'context.safetensors'),
        curvePath: join(outDir, 'curve.png'),
        outDir,
      });
    }
    setResult.run(JSON.stringify(result), id);
  }
  return runIds;
}

/** Curve points and run splits; a split entry whose image was not carried keeps its old path as a label only. */
function insertRunRows(
  db: Db,
  doc: ProjectFile,
  runIds: ReadonlyMap<number, number>,
  imageIds: ReadonlyMap<string, number>,
  pathOf: (sha: string | null) => string | undefined,
): void {
  const insMetric = stmt(
    db,
    'INSERT INTO metrics (run_id, epoch, step, loss, train_acc, val_acc, test_acc, lr, seconds, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const m of doc.metrics)
    insMetric.run(
      runIds.get(m.run_id),
      m.epoch,
      m.step,
      m.loss,
      m.train_acc,
      m.val_acc,
      m.test_acc,
      m.lr,
      m.seconds ?? null,
      m.at,
    );
  const insRunImage = stmt(
    db,
    `INSERT OR IGNORE INTO run_images (run_id, image_id, path, sha256, label, split, predicted, confidence)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const ri of doc.run_images ?? [])
    insRunImage.run(
      runIds.get(ri.run_id),
      ri.sha256 === null ? null : (imageIds.get(ri.sha256) ?? null),
      pathOf(ri.sha256) ?? `not-imported:${ri.path}`,
      ri.sha256,
      ri.label,
      ri.split,
      ri.predicted,
      ri.confidence,
    );
}
