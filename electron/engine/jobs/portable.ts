/**
 * @file Project export and import as one `.coopproj` file (engine, plain Node).
 *
 * [Note: project file] A project file is a zip holding `project.json` (the project, its classes,
 * images, runs and curves as plain rows, ids local to the file), `images/<sha256><ext>` (the image
 * bytes, stored uncompressed since images are already compressed) and `contexts/<n>.f32` (learned
 * tensors as little-endian float32, see [Note: float blobs]). Importing always copies the images
 * into the data folder, so the imported project is self-contained on the new machine, and writes each learning
 * run's context file and curve again under `<data>/projects/<id>/runs/run<runId>/`.
 * The whole file is built in memory (fflate's zipSync): fine for the few-shot datasets the app is
 * for (hundreds of MB at most), not for huge ones.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { ProjectSummary } from '../../../shared/contract/projects';
import { AppError } from '../../../shared/result';
import { blobToFloats, floatsToBlob } from '../store/blob';
import type { Db } from '../store/db';
import { createProject, getProject, insertImage, setProjectCopyDir, type ImageRow } from '../store/projects-repo';
import { getRunDetail } from '../store/runs-repo';
import { stmt } from '../store/statements';
import { writeContextFile, type ContextMetadata } from '../formats/context-file';
import { curvePng } from '../reports/curve';

/** Format tag and version of project files. */
export const PROJECT_FILE_FORMAT = { format: 'coop-studio-project', version: 1 } as const;

interface ProjectFile {
  format: string;
  version: number;
  project: { name: string; description: string };
  classes: { id: number; folder_name: string; prompt: string; sort_order: number; colour: string }[];
  images: (Omit<ImageRow, 'id' | 'path' | 'missing' | 'thumbnail'> & { file: string | null })[];
  runs: (Record<string, unknown> & { id: number })[];
  metrics: (Record<string, unknown> & { run_id: number })[];
  /** Each run's split and predictions (see [Note: run images]); absent in files written before it existed. */
  run_images?: {
    run_id: number;
    sha256: string | null;
    path: string;
    label: number;
    split: string;
    predicted: number | null;
    confidence: number | null;
  }[];
  contexts: { run_id: number; name: string; shape_json: string; meta_json: string; file: string }[];
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
  ).all(projectId) as Omit<ImageRow, 'id' | 'missing' | 'thumbnail'>[];
  let carried = 0;
  const out: ProjectFile['images'] = [];
  for (const { path, ...img } of images) {
    let fileName: string | null = null;
    if (includeImages) {
      const data = await readFile(path).catch(() => null);
      if (data) {
        fileName = `images/${img.sha256}${extname(path).toLowerCase()}`;
        entries[fileName] = [new Uint8Array(data), { level: 0 }];
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

/** Imports a project file as a new project (images copied into the data folder). */
export async function importProjectFile(db: Db, dataDir: string, file: string, name?: string): Promise<ProjectSummary> {
  let files: Record<string, Uint8Array>;
  let doc: ProjectFile;
  try {
    files = unzipSync(new Uint8Array(await readFile(file)));
    const json = files['project.json'];
    if (!json) throw new Error('it has no project.json');
    doc = JSON.parse(new TextDecoder().decode(json)) as ProjectFile;
  } catch (e) {
    throw new AppError(
      'invalid_data',
      `${file} is not a CoOp Studio project file (${e instanceof Error ? e.message : String(e)}).`,
    );
  }
  if (doc.format !== PROJECT_FILE_FORMAT.format || doc.version > PROJECT_FILE_FORMAT.version)
    throw new AppError(
      'unsupported',
      `${file} is a project file of an unknown format or a newer version (${doc.format} v${doc.version}).`,
    );
  const project = createProject(db, name ?? doc.project.name, doc.project.description, null);
  const imagesDir = join(dataDir, 'projects', String(project.id), 'images');
  await mkdir(imagesDir, { recursive: true });
  const paths = new Map<string, string>();
  const imageIds = new Map<string, number>();
  for (const img of doc.images) {
    const data = img.file ? files[img.file] : undefined;
    if (!data || !img.file) continue;
    const path = join(imagesDir, img.file.slice('images/'.length));
    await writeFile(path, data);
    paths.set(img.sha256, path);
  }
  db.transaction(() => {
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
    for (const img of doc.images) {
      const path = paths.get(img.sha256);
      const id = insertImage(db, project.id, {
        classId: img.class_id === null ? null : (classIds.get(img.class_id) ?? null),
        path: path ?? img.origin,
        origin: img.origin,
        sha256: img.sha256,
        bytes: img.bytes,
        width: img.width,
        height: img.height,
        format: img.format,
        thumbnail: null,
        copied: true,
        split: img.split,
        excluded: img.excluded === 1,
        missing: !path,
      });
      if (id !== null) imageIds.set(img.sha256, id);
    }
    const runIds = new Map<number, number>();
    const insRun = stmt(
      db,
      `INSERT INTO runs (project_id, model_id, method, options_json, seed, shots, status, backend, error, result_json,
         created_at, started_at, finished_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const r of doc.runs) {
      const v = (k: string) => (r[k] ?? null) as string | number | null;
      runIds.set(
        r.id,
        Number(
          insRun.run(
            project.id,
            v('model_id'),
            v('method'),
            v('options_json'),
            v('seed'),
            v('shots'),
            v('status'),
            v('backend'),
            v('error'),
            v('result_json'),
            v('created_at'),
            v('started_at'),
            v('finished_at'),
            v('duration_ms'),
          ).lastInsertRowid,
        ),
      );
    }
    const insMetric = stmt(
      db,
      'INSERT INTO metrics (run_id, epoch, step, loss, train_acc, val_acc, test_acc, lr, seconds, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const m of doc.metrics) {
      const v = (k: string) => (m[k] ?? null) as number | null;
      const runId = runIds.get(m.run_id);
      if (runId !== undefined)
        insMetric.run(
          runId,
          v('epoch'),
          v('step'),
          v('loss'),
          v('train_acc'),
          v('val_acc'),
          v('test_acc'),
          v('lr'),
          v('seconds'),
          v('at'),
        );
    }
    const insRunImage = stmt(
      db,
      `INSERT INTO run_images (run_id, image_id, path, sha256, label, split, predicted, confidence)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const ri of doc.run_images ?? []) {
      const runId = runIds.get(ri.run_id);
      if (runId === undefined) continue;
      const sha = ri.sha256;
      insRunImage.run(
        runId,
        sha === null ? null : (imageIds.get(sha) ?? null),
        (sha === null ? undefined : paths.get(sha)) ?? ri.path,
        sha,
        ri.label,
        ri.split,
        ri.predicted,
        ri.confidence,
      );
    }
    const insCtx = stmt(
      db,
      'INSERT INTO contexts (run_id, name, shape_json, tensor, meta_json, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const c of doc.contexts) {
      const runId = runIds.get(c.run_id);
      const data = files[c.file];
      if (runId === undefined || !data) continue;
      insCtx.run(runId, c.name, c.shape_json, floatsToBlob(blobToFloats(data)), c.meta_json, Date.now());
    }
  })();
  await restoreRunFiles(db, project.id, join(dataDir, 'projects', String(project.id), 'runs'));
  return getProject(db, project.id);
}

/**
 * Writes the context file and the curve of every imported learning run into the data folder, and points the run's
 * records at them: the file carries the tensors in its rows only, while exports and `evaluate` read context files.
 */
async function restoreRunFiles(db: Db, projectId: number, runsDir: string): Promise<void> {
  const rows = stmt(
    db,
    `SELECT c.run_id, c.name, c.shape_json, c.tensor, c.meta_json FROM contexts c JOIN runs r ON r.id = c.run_id
     WHERE r.project_id = ? AND c.name = 'ctx' ORDER BY c.id`,
  ).all(projectId) as { run_id: number; name: string; shape_json: string; tensor: Buffer; meta_json: string }[];
  for (const row of rows) {
    const { path: _old, ...meta } = JSON.parse(row.meta_json) as Record<string, unknown>;
    if (meta['method'] !== 'coop' || typeof meta['formatVersion'] !== 'number') continue;
    const outDir = join(runsDir, `run${row.run_id}`);
    await mkdir(outDir, { recursive: true });
    const contextPath = join(outDir, 'context.safetensors');
    const curvePath = join(outDir, 'curve.png');
    await writeContextFile(contextPath, {
      ctx: blobToFloats(row.tensor),
      shape: JSON.parse(row.shape_json) as number[],
      meta: meta as unknown as ContextMetadata,
    });
    const detail = getRunDetail(db, row.run_id);
    await writeFile(curvePath, await curvePng(detail.curve, { title: `CoOp run ${row.run_id} (imported)` }));
    db.transaction(() => {
      stmt(db, 'UPDATE contexts SET meta_json = ? WHERE run_id = ? AND name = ?').run(
        JSON.stringify({ ...meta, path: contextPath }),
        row.run_id,
        row.name,
      );
      if (detail.result) {
        const { curve: _c, predictions: _p, ...stored } = detail.result;
        stmt(db, 'UPDATE runs SET result_json = ? WHERE id = ?').run(
          JSON.stringify({ ...stored, contextPath, curvePath, outDir }),
          row.run_id,
        );
      }
    })();
  }
}
