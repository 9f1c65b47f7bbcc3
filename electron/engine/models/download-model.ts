/**
 * @file Downloads one variant of a Hugging Face CLIP repository and installs it (engine, plain Node).
 *
 * Phases: `resolve` (HEAD every file: size, sha256, which optional files exist), `download` (each
 * file resumable and verified, see [Note: resumable download]), `validate` (see
 * [Note: validate before install]), `install` (manifest + one rename, see [Note: atomic install]).
 * Work in progress lives in `downloads/<id>/`: `model/` (the files, with `.part` files while they
 * arrive), `files.json` (files already verified, so a rerun skips them) and `.lock` (one download of
 * an id at a time, across processes).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DownloadProgress, InstalledModel, ManifestFile, ModelVariant } from '../../../shared/contract/models';
import { AppError } from '../../../shared/result';
import { variantFiles } from './catalogue';
import { acquireLock } from './download-lock';
import { downloadFile, probeFile, type RemoteFile } from './http-download';
import {
  assertInstallable,
  commitInstall,
  downloadId,
  findInstalled,
  setActiveModel,
  stagingRoot,
  writeManifest,
} from './model-store';
import { resolveEndpoint } from '../settings/settings';
import { validateModelFolder } from './validate';

/** What to download. */
export interface DownloadRequest {
  repo: string;
  variant: ModelVariant;
  revision: string;
  endpoint?: string | undefined;
  force: boolean;
  activate: boolean;
}

/** Knobs for tests and callers with special needs. */
export interface DownloadTuning {
  retryDelayMs?: number;
  maxRetries?: number;
  /** Minimum time between two `download` progress events (default 100 ms). */
  progressIntervalMs?: number;
}

interface VerifiedRecord {
  bytes: number;
  sha256: string;
  etag: string | null;
}

/** The URL of a file: `{endpoint}/{repo}/resolve/{revision}/{path}`. */
export function resolveUrl(endpoint: string, repo: string, revision: string, path: string): string {
  const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${enc(repo)}/resolve/${encodeURIComponent(revision)}/${enc(path)}`;
}

/** One download in progress: the request, where it works, and how it reports. */
interface DownloadJob {
  dataDir: string;
  req: DownloadRequest;
  id: string;
  endpoint: string;
  work: string;
  modelDir: string;
  ctx: { progress(e: DownloadProgress): void; signal: AbortSignal };
  tuning: DownloadTuning;
}

/** A remote file of the variant. */
interface Remote {
  path: string;
  remote: RemoteFile;
}

const NO_FILE_PROGRESS = { fileBytes: 0, fileTotal: 0, bytesPerSecond: 0, etaSeconds: null };

/** Phase `resolve`: HEAD every file of the variant; a required file that is missing stops the download. */
async function resolveRemotes(job: DownloadJob): Promise<Remote[]> {
  const { req, endpoint, ctx } = job;
  const wanted = variantFiles(req.variant);
  const remotes: Remote[] = [];
  for (const [i, f] of wanted.entries()) {
    ctx.progress({
      phase: 'resolve',
      file: f.path,
      fileIndex: i,
      fileCount: wanted.length,
      bytes: 0,
      total: 0,
      ...NO_FILE_PROGRESS,
    });
    const url = resolveUrl(endpoint, req.repo, req.revision, f.path);
    const remote = await probeFile(url, ctx.signal);
    if (remote) remotes.push({ path: f.path, remote });
    else if (f.required)
      throw new AppError(
        'not_found',
        `${req.repo}@${req.revision} has no ${f.path} at ${endpoint} (the ${req.variant} variant may not exist).`,
      );
  }
  return remotes;
}

/** Downloads one file (or takes it as verified by an earlier run), resumable; see [Note: resumable download]. */
async function downloadOne(
  job: DownloadJob,
  remotes: readonly Remote[],
  i: number,
  state: { meter: Meter; verified: Record<string, VerifiedRecord> },
): Promise<ManifestFile> {
  const { ctx, tuning } = job;
  const { path, remote } = remotes[i] as Remote;
  const { meter, verified } = state;
  const dest = join(job.modelDir, path);
  const fileTotal = remote.size ?? 0;
  const done = verified[path];
  const event = (fileBytes: number, extra: Partial<DownloadProgress> = {}): DownloadProgress => ({
    phase: 'download',
    file: path,
    fileIndex: i,
    fileCount: remotes.length,
    fileBytes,
    fileTotal,
    ...meter.snapshot(),
    ...extra,
  });
  if (done && existsSync(dest) && done.etag === remote.etag && done.bytes === (remote.size ?? done.bytes)) {
    meter.addResumed(done.bytes);
    ctx.progress(event(done.bytes, { resumedFrom: done.bytes }));
    return { path, bytes: done.bytes, sha256: done.sha256 };
  }
  let fileBytes = 0;
  ctx.progress(event(0));
  const result = await downloadFile({
    remote,
    dest,
    signal: ctx.signal,
    ...(tuning.maxRetries !== undefined ? { maxRetries: tuning.maxRetries } : {}),
    ...(tuning.retryDelayMs !== undefined ? { retryDelayMs: tuning.retryDelayMs } : {}),
    onResume(from) {
      meter.rewindFile(fileBytes, from);
      fileBytes = from;
      ctx.progress(event(from, { resumedFrom: from }));
    },
    onBytes(now, delta) {
      if (now < fileBytes + delta) meter.rewindFile(fileBytes, now - delta);
      fileBytes = now;
      if (meter.transferred(delta)) ctx.progress(event(now));
    },
  });
  meter.rewindFile(fileBytes, result.bytes);
  verified[path] = { bytes: result.bytes, sha256: result.sha256, etag: remote.etag };
  await writeFile(join(job.work, 'files.json'), JSON.stringify(verified));
  ctx.progress(event(result.bytes));
  return { path, ...result };
}

/** Phase `download`: every file in turn, after checking the disk can hold what is left. */
async function downloadAll(job: DownloadJob, remotes: readonly Remote[], total: number): Promise<ManifestFile[]> {
  const verified = await readVerified(job.work);
  await assertFreeSpace(job.work, total - Object.values(verified).reduce((sum, v) => sum + v.bytes, 0));
  const state = { meter: new Meter(total, job.tuning.progressIntervalMs ?? 100), verified };
  const files: ManifestFile[] = [];
  for (let i = 0; i < remotes.length; i++) files.push(await downloadOne(job, remotes, i, state));
  return files;
}

/** Phases `validate` and `install`: the files must make a model (see [Note: validate before install]), then one rename. */
async function validateAndInstall(job: DownloadJob, files: ManifestFile[], total: number): Promise<void> {
  const { req, ctx } = job;
  const last = { file: null, fileIndex: files.length, fileCount: files.length, ...NO_FILE_PROGRESS };
  ctx.progress({ phase: 'validate', ...last, bytes: total, total });
  try {
    await validateModelFolder(job.modelDir, req.variant);
  } catch (e) {
    // The files passed their checks but do not make a model: nothing worth resuming.
    await rm(job.work, { recursive: true, force: true });
    throw e;
  }
  ctx.signal.throwIfAborted();
  ctx.progress({ phase: 'install', ...last, bytes: total, total });
  await writeManifest(job.modelDir, {
    schema: 1,
    id: job.id,
    source: 'download',
    repo: req.repo,
    revision: req.revision,
    variant: req.variant,
    origin: job.endpoint,
    path: null,
    files,
    installedAt: new Date().toISOString(),
  });
  await commitInstall(job.dataDir, job.modelDir, job.id, req.force);
  await rm(job.work, { recursive: true, force: true });
}

/** Downloads and installs a model variant; resolves with the installed model. */
export async function downloadModel(
  dataDir: string,
  req: DownloadRequest,
  ctx: { progress(e: DownloadProgress): void; signal: AbortSignal },
  tuning: DownloadTuning = {},
): Promise<InstalledModel> {
  const id = downloadId(req.repo, req.revision, req.variant);
  assertInstallable(dataDir, id, req.force);
  const { endpoint } = resolveEndpoint(dataDir, req.endpoint);
  const work = join(stagingRoot(dataDir), id);
  const job: DownloadJob = { req, id, endpoint, work, modelDir: join(work, 'model'), ctx, tuning, dataDir };
  await mkdir(job.modelDir, { recursive: true });
  const release = await acquireLock(work, id);
  try {
    const remotes = await resolveRemotes(job);
    const total = remotes.reduce((sum, r) => sum + (r.remote.size ?? 0), 0);
    const files = await downloadAll(job, remotes, total);
    await validateAndInstall(job, files, total);
  } finally {
    await release();
  }
  return req.activate ? setActiveModel(dataDir, id) : findInstalled(dataDir, id);
}

/** Refuses to start when the disk cannot hold what is left to download (with 1% to spare). */
async function assertFreeSpace(dir: string, needed: number): Promise<void> {
  const fs = await statfs(dir).catch(() => null);
  if (!fs) return;
  const free = fs.bavail * fs.bsize;
  if (free < needed * 1.01)
    throw new AppError(
      'io_error',
      `Not enough disk space in ${dir}: the download needs about ${Math.ceil(needed / 1e6)} MB, ${Math.floor(free / 1e6)} MB are free.`,
    );
}

async function readVerified(work: string): Promise<Record<string, VerifiedRecord>> {
  try {
    return JSON.parse(await readFile(join(work, 'files.json'), 'utf8')) as Record<string, VerifiedRecord>;
  } catch {
    return {};
  }
}

/** Bytes on disk, transfer speed over a sliding window, ETA, and the pacing of progress events. */
class Meter {
  private bytes = 0;
  private readonly samples: { t: number; moved: number }[] = [];
  private moved = 0;
  private lastEmit = 0;

  constructor(
    private readonly total: number,
    private readonly intervalMs: number,
  ) {}

  /** Counts bytes that were already on disk (resumed). */
  addResumed(n: number): void {
    this.bytes += n;
  }

  /** A file restarted or resumed at `to` while this meter had counted `from` of it. */
  rewindFile(from: number, to: number): void {
    this.bytes += to - from;
  }

  /** Counts transferred bytes; true when a progress event is due. */
  transferred(n: number): boolean {
    this.bytes += n;
    this.moved += n;
    const t = performance.now();
    this.samples.push({ t, moved: this.moved });
    while (this.samples.length > 2 && t - (this.samples[0]?.t ?? t) > 5000) this.samples.shift();
    if (t - this.lastEmit < this.intervalMs) return false;
    this.lastEmit = t;
    return true;
  }

  snapshot(): Pick<DownloadProgress, 'bytes' | 'total' | 'bytesPerSecond' | 'etaSeconds'> {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const dt = first && last ? (last.t - first.t) / 1000 : 0;
    const bytesPerSecond = first && last && dt > 0.25 ? Math.round((last.moved - first.moved) / dt) : 0;
    const left = Math.max(0, this.total - this.bytes);
    return {
      bytes: this.bytes,
      total: this.total,
      bytesPerSecond,
      etaSeconds: bytesPerSecond > 0 ? Math.round((left / bytesPerSecond) * 10) / 10 : null,
    };
  }
}
