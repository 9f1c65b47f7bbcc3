/**
 * @file The data import job: hash, probe, thumbnail and record every candidate image (engine, plain Node).
 *
 * [Note: import pipeline] Files are processed by a few concurrent workers (sharp decodes on libuv's
 * thread pool, so concurrency overlaps disk reads, hashing and decoding). Each image is read once:
 * the same bytes are hashed (sha256 of the content, the image's identity everywhere), probed with
 * sharp's metadata, and decoded into a 128 px WebP thumbnail at `<dataDir>/thumbs/<h2>/<hash>.webp`.
 * The thumbnail decode doubles as a full-decode check, so a truncated or corrupt image is reported
 * at import with sharp's reason instead of failing later in training. Rows are committed in batches
 * (one transaction per ~100 images or 250 ms), so a killed import keeps every batch committed
 * before the kill and a re-import of the same sources skips them as duplicates.
 *
 * [Note: import on a full disk] Running out of space (or finding the data folder read-only) is not a
 * problem of one image: it stops the whole import at once instead of reporting every later file as
 * "unreadable". Temp files are removed when a write fails, and files this import wrote for images it
 * could not record are deleted again, so the space goes back; then the job is marked failed with the
 * reason ("The disk is full ...") and the error carries the `disk_full` (or `read_only`) code. The
 * images recorded before stay, as after a kill.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ImportProgress, ImportReport } from '../../../shared/contract/projects';
import { AppError, isErrorCode, toAppError } from '../../../shared/result';
import { imageProblem } from '../clip/image-problem';
import type { Db } from '../store/db';
import { finishJob, startJob, updateJob } from '../store/jobs-repo';
import { ensureClass, imageByHash, insertImage, projectRow, touchProject, type NewImage } from '../store/projects-repo';
import { scanSources, type Candidate } from './import-sources';
import { expandUploadSessions, userReport, type RawImportReport } from './import-report';

/** Options of {@link importData}. */
export interface ImportOptions {
  projectId: number;
  sources: readonly string[];
  dataDir: string;
  /** Copy images into the project (zip entries are always copied). */
  copy?: boolean | undefined;
  thumbnails?: boolean;
  concurrency?: number;
  progress?: (p: ImportProgress) => void;
  signal: AbortSignal;
}

/** Thumbnail edge length in pixels. */
export const THUMBNAIL_SIZE = 128;

/** Where the thumbnail of an image with this content hash lives. */
export function thumbnailPath(dataDir: string, sha256: string): string {
  return join(dataDir, 'thumbs', sha256.slice(0, 2), `${sha256}.webp`);
}

/**
 * Writes `data` to `file` atomically (temp file + rename), so a kill never leaves a half-written file under the final
 * name; a failed write (a full disk) removes its temp file.
 */
async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** True for failures of the data folder itself, which stop the whole import (see [Note: import on a full disk]). */
function folderFailure(e: unknown): boolean {
  return isErrorCode(e, 'disk_full') || isErrorCode(e, 'read_only');
}

/** Deletes files this import wrote but could not record (best effort: it runs when the disk is full). */
async function discard(files: readonly string[]): Promise<void> {
  await Promise.all(files.map((f) => rm(f, { force: true }).catch(() => undefined)));
}

function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}

/** Imports images into a project; see [Note: import pipeline] and [Note: import layouts]. */
export async function importData(db: Db, opts: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const project = projectRow(db, opts.projectId);
  const copyDir = project.copyDir;
  const copyAll = opts.copy ?? copyDir !== null;
  const imagesDir = copyDir ?? join(opts.dataDir, 'projects', String(project.id), 'images');
  // A web upload session is imported item by item, as the desktop imports a drop (see [Note: upload sessions]).
  const sources = expandUploadSessions(opts.sources, opts.dataDir);
  const jobId = startJob(db, project.id, 'import', { sources: opts.sources });
  const report: RawImportReport = {
    jobId,
    projectId: project.id,
    scanned: 0,
    imported: 0,
    skipped: 0,
    failed: 0,
    duplicates: 0,
    total: 0,
    classesCreated: [],
    skippedFiles: [],
    failedFiles: [],
    duplicateFiles: [],
    durationMs: 0,
  };
  const counters = (): ImportProgress => ({
    scanned: report.scanned,
    imported: report.imported,
    skipped: report.skipped,
    failed: report.failed,
    duplicates: report.duplicates,
    total: report.total,
  });
  let lastProgress = 0;
  const emit = (force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < 100) return;
    lastProgress = now;
    opts.progress?.(counters());
  };

  /** Decoded images waiting for the next batch, with the files written for them (deleted if they are never recorded). */
  const pending: { className: string; image: Omit<NewImage, 'classId'>; written: string[] }[] = [];
  const seen = new Map<string, string>();
  /** Files written for images that will never be recorded (a batch that failed to commit). */
  const unrecorded: string[] = [];
  let lastFlush = Date.now();
  const flush = () => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    try {
      const recorded = db.transaction(() => {
        const created: string[] = [];
        let imported = 0;
        for (const { className, image } of batch) {
          const cls = ensureClass(db, project.id, className);
          if (cls.created) created.push(className);
          if (insertImage(db, project.id, { ...image, classId: cls.id }) !== null) imported++;
        }
        touchProject(db, project.id);
        updateJob(db, jobId, { sources: opts.sources, ...counters(), imported: report.imported + imported });
        return { created, imported };
      })();
      report.classesCreated.push(...recorded.created);
      report.imported += recorded.imported;
    } catch (e) {
      unrecorded.push(...batch.flatMap((b) => b.written));
      throw e;
    }
    lastFlush = Date.now();
  };

  const processOne = async (c: Candidate) => {
    let data: Uint8Array;
    try {
      data = await c.read();
    } catch (e) {
      report.failed++;
      // A zip entry's error already names the entry and says why (see [Note: hostile archives]).
      const reason = e instanceof AppError ? e.message : `cannot read the file: ${reasonOf(e)}`;
      report.failedFiles.push({ path: c.origin, reason });
      return;
    }
    if (data.byteLength === 0) {
      report.failed++;
      report.failedFiles.push({ path: c.origin, reason: 'empty file (0 bytes)' });
      return;
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    const earlier = seen.get(sha256) ?? imageByHash(db, project.id, sha256)?.origin;
    if (earlier !== undefined) {
      report.duplicates++;
      report.duplicateFiles.push({ path: c.origin, sameAs: earlier });
      return;
    }
    seen.set(sha256, c.origin);
    let width: number;
    let height: number;
    let format: string;
    let thumbnail: string | null = null;
    const written: string[] = [];
    try {
      const meta = await sharp(data).metadata();
      if (!meta.width || !meta.height) throw new Error('no image dimensions');
      // EXIF orientations 5-8 swap width and height; the app shows and embeds the oriented image.
      const swap = (meta.orientation ?? 1) >= 5;
      width = swap ? meta.height : meta.width;
      height = swap ? meta.width : meta.height;
      format = meta.format;
      if (opts.thumbnails !== false) {
        const file = thumbnailPath(opts.dataDir, sha256);
        if (!existsSync(file)) {
          const webp = await sharp(data, { failOn: 'error' })
            .rotate()
            .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
            .webp({ quality: 70 })
            .toBuffer();
          await mkdir(join(opts.dataDir, 'thumbs', sha256.slice(0, 2)), { recursive: true });
          await writeAtomic(file, webp);
          written.push(file);
        }
        thumbnail = file;
      }
    } catch (e) {
      seen.delete(sha256);
      if (folderFailure(e)) throw e;
      report.failed++;
      // A decode failure is described from the file itself (see [Note: image problems]); a system error as it is.
      const why = (e as NodeJS.ErrnoException).code === undefined ? imageProblem(data, e) : reasonOf(e);
      report.failedFiles.push({ path: c.origin, reason: `unreadable image: ${why}` });
      return;
    }
    let path = c.path;
    let copied = false;
    if (copyAll || path === null) {
      path = join(imagesDir, `${sha256}${c.ext}`);
      try {
        await mkdir(imagesDir, { recursive: true });
        if (!existsSync(path)) {
          await writeAtomic(path, data);
          written.push(path);
        }
      } catch (e) {
        seen.delete(sha256);
        await discard(written);
        throw e;
      }
      copied = true;
    }
    pending.push({
      className: c.className,
      image: { path, origin: c.origin, sha256, bytes: data.byteLength, width, height, format, thumbnail, copied },
      written,
    });
    if (pending.length >= 100 || Date.now() - lastFlush > 250) flush();
  };

  try {
    const scan = await scanSources(sources, opts.signal);
    report.skipped = scan.skipped.length;
    report.skippedFiles = scan.skipped;
    report.total = scan.candidates.length + scan.skipped.length;
    report.scanned = scan.skipped.length;
    emit(true);
    let next = 0;
    let stopped = false;
    const worker = async () => {
      try {
        for (;;) {
          opts.signal.throwIfAborted();
          const c = stopped ? undefined : scan.candidates[next++];
          if (!c) return;
          await processOne(c);
          report.scanned++;
          emit();
        }
      } catch (e) {
        // One worker's failure (a full disk) stops the others at their next file.
        stopped = true;
        throw e;
      }
    };
    // Every worker settles before the final flush, so no row can be written after the job has ended.
    const settled = await Promise.allSettled(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
    const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    flush();
    report.durationMs = Date.now() - started;
    finishJob(db, jobId, 'done', { sources: opts.sources, ...counters() });
    emit(true);
    return userReport(report, sources, opts.dataDir);
  } catch (e) {
    // Whatever was decoded before a cancel or an error is valid: keep it, if there is room to record it.
    let error = e;
    try {
      flush();
    } catch (flushError) {
      if (!folderFailure(error)) error = flushError;
    }
    await discard(unrecorded);
    const cancelled = opts.signal.aborted;
    const folder = folderFailure(error) ? toAppError(error) : null;
    const reason = folder ? folder.message : reasonOf(error);
    try {
      finishJob(
        db,
        jobId,
        cancelled ? 'cancelled' : 'failed',
        { sources: opts.sources, ...counters() },
        cancelled ? undefined : reason,
      );
    } catch {
      // Not even room for that: the job stays `running` under this live engine, and once it exits the next engine
      // marks it interrupted (see [Note: job owners]).
    }
    if (cancelled) throw new AppError('cancelled', 'The import was cancelled; the images imported so far were kept.');
    if (folder)
      throw new AppError(
        folder.code,
        `${folder.message} The import stopped: ${report.imported} images were imported and kept.`,
        folder.detail,
      );
    throw error;
  }
}
