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

/** A decoded image waiting for the next batch, with the files written for it (deleted if it is never recorded). */
interface PendingImage {
  className: string;
  image: Omit<NewImage, 'classId'>;
  written: string[];
}

/** What probing an image gives: its oriented size, its format and its thumbnail. */
interface Probed {
  width: number;
  height: number;
  format: string;
  thumbnail: string | null;
  written: string[];
}

/** One import job's state and steps: scan, then workers (read, probe, copy), batched writes, and the end. */
class ImportRun {
  readonly report: RawImportReport;
  /** The sources with each web upload session expanded item by item (see [Note: upload sessions]). */
  private readonly sources: string[];
  private readonly started = Date.now();
  private readonly projectId: number;
  private readonly copyAll: boolean;
  private readonly imagesDir: string;
  private readonly pending: PendingImage[] = [];
  private readonly seen = new Map<string, string>();
  /** Files written for images that will never be recorded (a batch that failed to commit). */
  private readonly unrecorded: string[] = [];
  private lastFlush = Date.now();
  private lastProgress = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: ImportOptions,
  ) {
    const project = projectRow(db, opts.projectId);
    this.projectId = project.id;
    this.copyAll = opts.copy ?? project.copyDir !== null;
    this.imagesDir = project.copyDir ?? join(opts.dataDir, 'projects', String(project.id), 'images');
    // A web upload session is imported item by item, as the desktop imports a drop (see [Note: upload sessions]).
    this.sources = expandUploadSessions(opts.sources, opts.dataDir);
    const jobId = startJob(db, project.id, 'import', { sources: opts.sources });
    this.report = {
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
  }

  private counters(): ImportProgress {
    const r = this.report;
    return {
      scanned: r.scanned,
      imported: r.imported,
      skipped: r.skipped,
      failed: r.failed,
      duplicates: r.duplicates,
      total: r.total,
    };
  }

  emit(force = false): void {
    const now = Date.now();
    if (!force && now - this.lastProgress < 100) return;
    this.lastProgress = now;
    this.opts.progress?.(this.counters());
  }

  /** Records the pending images in one transaction, with the job's counters. */
  flush(): void {
    if (this.pending.length === 0) return;
    const { db, report } = this;
    const batch = this.pending.splice(0, this.pending.length);
    try {
      const recorded = db.transaction(() => {
        const created: string[] = [];
        let imported = 0;
        for (const { className, image } of batch) {
          const cls = ensureClass(db, this.projectId, className);
          if (cls.created) created.push(className);
          if (insertImage(db, this.projectId, { ...image, classId: cls.id }) !== null) imported++;
        }
        touchProject(db, this.projectId);
        updateJob(db, report.jobId, {
          sources: this.opts.sources,
          ...this.counters(),
          imported: report.imported + imported,
        });
        return { created, imported };
      })();
      report.classesCreated.push(...recorded.created);
      report.imported += recorded.imported;
    } catch (e) {
      this.unrecorded.push(...batch.flatMap((b) => b.written));
      throw e;
    }
    this.lastFlush = Date.now();
  }

  private fail(c: Candidate, reason: string): void {
    this.report.failed++;
    this.report.failedFiles.push({ path: c.origin, reason });
  }

  /** The candidate's bytes, or null after recording why it cannot be imported (unreadable, empty, a duplicate). */
  private async read(c: Candidate): Promise<{ data: Uint8Array; sha256: string } | null> {
    let data: Uint8Array;
    try {
      data = await c.read();
    } catch (e) {
      // A zip entry's error already names the entry and says why (see [Note: hostile archives]).
      this.fail(c, e instanceof AppError ? e.message : `cannot read the file: ${reasonOf(e)}`);
      return null;
    }
    if (data.byteLength === 0) {
      this.fail(c, 'empty file (0 bytes)');
      return null;
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    const earlier = this.seen.get(sha256) ?? imageByHash(this.db, this.projectId, sha256)?.origin;
    if (earlier !== undefined) {
      this.report.duplicates++;
      this.report.duplicateFiles.push({ path: c.origin, sameAs: earlier });
      return null;
    }
    this.seen.set(sha256, c.origin);
    return { data, sha256 };
  }

  /** Probes the image and writes its thumbnail (the full-decode check); throws on an unreadable image. */
  private async probe(data: Uint8Array, sha256: string): Promise<Probed> {
    const meta = await sharp(data).metadata();
    if (!meta.width || !meta.height) throw new Error('no image dimensions');
    // EXIF orientations 5-8 swap width and height; the app shows and embeds the oriented image.
    const swap = (meta.orientation ?? 1) >= 5;
    const probed: Probed = {
      width: swap ? meta.height : meta.width,
      height: swap ? meta.width : meta.height,
      format: meta.format,
      thumbnail: null,
      written: [],
    };
    if (this.opts.thumbnails !== false) {
      const file = thumbnailPath(this.opts.dataDir, sha256);
      if (!existsSync(file)) {
        const webp = await sharp(data, { failOn: 'error' })
          .rotate()
          .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 70 })
          .toBuffer();
        await mkdir(join(this.opts.dataDir, 'thumbs', sha256.slice(0, 2)), { recursive: true });
        await writeAtomic(file, webp);
        probed.written.push(file);
      }
      probed.thumbnail = file;
    }
    return probed;
  }

  /** Copies the image into the project when asked (zip entries always): its path in the project. */
  private async copy(c: Candidate, data: Uint8Array, sha256: string, written: string[]): Promise<string | null> {
    if (!this.copyAll && c.path !== null) return null;
    const path = join(this.imagesDir, `${sha256}${c.ext}`);
    try {
      await mkdir(this.imagesDir, { recursive: true });
      if (!existsSync(path)) {
        await writeAtomic(path, data);
        written.push(path);
      }
    } catch (e) {
      this.seen.delete(sha256);
      await discard(written);
      throw e;
    }
    return path;
  }

  /** Reads, probes and (when asked) copies one candidate, and queues it for the next batch. */
  async processOne(c: Candidate): Promise<void> {
    const got = await this.read(c);
    if (!got) return;
    const { data, sha256 } = got;
    let probed: Probed;
    try {
      probed = await this.probe(data, sha256);
    } catch (e) {
      this.seen.delete(sha256);
      if (folderFailure(e)) throw e;
      // A decode failure is described from the file itself (see [Note: image problems]); a system error as it is.
      const why = (e as NodeJS.ErrnoException).code === undefined ? imageProblem(data, e) : reasonOf(e);
      this.fail(c, `unreadable image: ${why}`);
      return;
    }
    const { written, ...image } = probed;
    const copied = await this.copy(c, data, sha256, written);
    this.pending.push({
      className: c.className,
      image: {
        path: copied ?? c.path ?? '',
        origin: c.origin,
        sha256,
        bytes: data.byteLength,
        ...image,
        copied: copied !== null,
      },
      written,
    });
    if (this.pending.length >= 100 || Date.now() - this.lastFlush > 250) this.flush();
  }

  /** Scans the sources and runs the workers over every candidate; settles them all before it returns or throws. */
  async run(): Promise<void> {
    const { opts, report } = this;
    const scan = await scanSources(this.sources, opts.signal);
    report.skipped = scan.skipped.length;
    report.skippedFiles = scan.skipped;
    report.total = scan.candidates.length + scan.skipped.length;
    report.scanned = scan.skipped.length;
    this.emit(true);
    let next = 0;
    let stopped = false;
    const worker = async () => {
      try {
        for (;;) {
          opts.signal.throwIfAborted();
          const c = stopped ? undefined : scan.candidates[next++];
          if (!c) return;
          await this.processOne(c);
          report.scanned++;
          this.emit();
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
  }

  /** Records the last batch and ends the job as done. */
  finish(): ImportReport {
    this.flush();
    this.report.durationMs = Date.now() - this.started;
    finishJob(this.db, this.report.jobId, 'done', { sources: this.opts.sources, ...this.counters() });
    this.emit(true);
    return userReport(this.report, this.sources, this.opts.dataDir);
  }

  /** Ends the job after a cancel or an error, keeping what was decoded; returns the error to throw. */
  async abandon(e: unknown): Promise<unknown> {
    const { report } = this;
    // Whatever was decoded before a cancel or an error is valid: keep it, if there is room to record it.
    let error = e;
    try {
      this.flush();
    } catch (flushError) {
      if (!folderFailure(error)) error = flushError;
    }
    await discard(this.unrecorded);
    const cancelled = this.opts.signal.aborted;
    const folder = folderFailure(error) ? toAppError(error) : null;
    const reason = folder ? folder.message : reasonOf(error);
    try {
      finishJob(
        this.db,
        report.jobId,
        cancelled ? 'cancelled' : 'failed',
        { sources: this.opts.sources, ...this.counters() },
        cancelled ? undefined : reason,
      );
    } catch {
      // Not even room for that: the job stays `running` under this live engine, and once it exits the next engine
      // marks it interrupted (see [Note: job owners]).
    }
    if (cancelled) return new AppError('cancelled', 'The import was cancelled; the images imported so far were kept.');
    if (folder)
      return new AppError(
        folder.code,
        `${folder.message} The import stopped: ${report.imported} images were imported and kept.`,
        folder.detail,
      );
    return error;
  }
}

/** Imports images into a project; see [Note: import pipeline] and [Note: import layouts]. */
export async function importData(db: Db, opts: ImportOptions): Promise<ImportReport> {
  const run = new ImportRun(db, opts);
  try {
    await run.run();
    return run.finish();
  } catch (e) {
    throw await run.abandon(e);
  }
}
