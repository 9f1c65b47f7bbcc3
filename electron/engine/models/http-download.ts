/**
 * @file Resumable, verified download of one file over HTTP(S) (engine, plain Node).
 *
 * [Note: resumable download] A file is streamed into `<dest>.part`, with `<dest>.part.json` holding
 * what the server said about it (size, ETag). After an interruption (connection dropped, app quit,
 * job cancelled) the next attempt asks only for the missing bytes with `Range: bytes=<have>-` and
 * `If-Range: <etag>`; a server that answers 200 instead of 206 (it ignores ranges, or the file
 * changed) restarts the file from zero. When the last byte is in, the file is checked (size against
 * what the server announced, sha256 against the LFS ETag where there is one) and only then renamed
 * to `<dest>`; a file that fails the check is deleted, never kept for a resume.
 *
 * [Note: Hugging Face headers] `/resolve/` answers LFS files (the ONNX weights) with a redirect to a
 * CDN; the redirect carries `X-Linked-Size` and `X-Linked-Etag` (the file's sha256). Redirects are
 * followed by hand so those headers are seen, and `Range` is sent again on every hop. Small git
 * files have a git-blob ETag (40 hex digits), which is not a sha256 and is not checked as one.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../../../shared/result';

/** What the server says about a file before it is downloaded. */
export interface RemoteFile {
  url: string;
  /** Announced size in bytes, when the server gave one. */
  size: number | null;
  /** sha256 (hex) when an ETag carried one. */
  sha256: string | null;
  /** Strong ETag of the final hop (the one that serves the bytes and judges `If-Range`), when there is one. */
  etag: string | null;
}

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions {
  remote: RemoteFile;
  dest: string;
  signal: AbortSignal;
  /** Called as bytes land on disk: bytes of this file on disk, and bytes added by this call. */
  onBytes(fileBytes: number, delta: number): void;
  /** Called when a transfer starts from an existing `.part` file. */
  onResume?(from: number): void;
  /** Attempts after a failure that made no progress (default 5). */
  maxRetries?: number;
  /** First delay between attempts, doubled each time (default 250 ms). */
  retryDelayMs?: number;
  /** An attempt that receives nothing for this long is dropped and resumed (default 30 s). */
  stallTimeoutMs?: number;
}

const MAX_REDIRECTS = 10;

function cancelled(): AppError {
  return new AppError('cancelled', 'The download was cancelled; run it again to resume.');
}

/** The sha256 an ETag carries, if it is 64 hex digits (LFS files); git-blob ETags are not. */
export function sha256FromEtag(etag: string | null | undefined): string | null {
  if (!etag) return null;
  const bare = etag.replace(/^W\//, '').replace(/^"|"$/g, '');
  return /^[0-9a-f]{64}$/i.test(bare) ? bare.toLowerCase() : null;
}

/** Fetches with redirects followed by hand, collecting the `X-Linked-*` headers of every hop. */
async function fetchFollowing(
  url: string,
  init: { method: 'GET' | 'HEAD'; headers: Record<string, string>; signal: AbortSignal },
): Promise<{ res: Response; linkedSize: number | null; linkedEtag: string | null; finalUrl: string }> {
  let current = url;
  let linkedSize: number | null = null;
  let linkedEtag: string | null = null;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let res: Response;
    try {
      res = await fetch(current, { ...init, redirect: 'manual' });
    } catch (e) {
      if (init.signal.aborted) throw cancelled();
      throw new AppError('network', `Cannot reach ${new URL(current).origin}: ${describeCause(e)}.`, String(e));
    }
    const size = res.headers.get('x-linked-size');
    if (size !== null && /^\d+$/.test(size)) linkedSize = Number(size);
    linkedEtag = res.headers.get('x-linked-etag') ?? linkedEtag;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current).toString();
      continue;
    }
    return { res, linkedSize, linkedEtag, finalUrl: current };
  }
  throw new AppError('network', `Too many redirects for ${url}.`);
}

function describeCause(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

function httpError(status: number, url: string): AppError {
  if (status === 404) return new AppError('not_found', `The server has no file at ${url} (404).`);
  if (status === 401 || status === 403)
    return new AppError('unauthorized', `The server refused ${url} (${status}); the model may be gated or private.`);
  return new AppError('network', `The server answered ${status} for ${url}.`);
}

/** Asks the server about a file (HEAD); null when it does not exist (404). */
export async function probeFile(url: string, signal: AbortSignal): Promise<RemoteFile | null> {
  const { res, linkedSize, linkedEtag } = await fetchFollowing(url, { method: 'HEAD', headers: {}, signal });
  if (res.status === 404) return null;
  if (!res.ok) {
    // Some CDNs refuse HEAD on signed URLs; the hub's redirect already said what we need.
    if (linkedSize !== null && res.status !== 401) {
      await res.body?.cancel();
      return { url, size: linkedSize, sha256: sha256FromEtag(linkedEtag), etag: null };
    }
    throw httpError(res.status, url);
  }
  const length = res.headers.get('content-length');
  const etag = res.headers.get('etag');
  return {
    url,
    size: linkedSize ?? (length !== null && /^\d+$/.test(length) ? Number(length) : null),
    sha256: sha256FromEtag(linkedEtag) ?? sha256FromEtag(res.headers.get('etag')),
    etag: etag && !etag.startsWith('W/') ? etag : null,
  };
}

interface PartMeta {
  url: string;
  size: number | null;
  etag: string | null;
}

/** Bytes of a `.part` file that may be resumed: it must belong to the same URL, size and ETag. */
async function resumableBytes(part: string, meta: PartMeta): Promise<number> {
  try {
    const saved = JSON.parse(await readFile(`${part}.json`, 'utf8')) as PartMeta;
    const same = saved.url === meta.url && saved.size === meta.size && saved.etag === meta.etag;
    if (same) {
      const have = (await stat(part)).size;
      if (meta.size === null || have <= meta.size) return have;
    }
  } catch {
    // no usable .part file: start from zero
  }
  await rm(part, { force: true });
  await writeFile(`${part}.json`, JSON.stringify(meta));
  return 0;
}

/** The total size a 200/206 response announces (Content-Length or the `/N` of Content-Range). */
function announcedTotal(res: Response): number | null {
  if (res.status === 206) {
    const m = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
    return m ? Number(m[1]) : null;
  }
  const length = res.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? Number(length) : null;
}

/** sha256 of a file, hex. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One download in progress (see {@link downloadFile}): its settings and how far it got. */
interface Transfer {
  readonly opts: DownloadFileOptions;
  /** `<dest>.part`, where the bytes land. */
  readonly part: string;
  readonly maxRetries: number;
  readonly baseDelay: number;
  readonly stallMs: number;
  /** The file's size, once the caller or the server said it. */
  expected: number | null;
  /** Bytes of the file in `part`. */
  offset: number;
  /** Failed attempts in a row. */
  failures: number;
}

/** What came of one attempt that did not throw. */
type AttemptOutcome = 'complete' | 'retry' | 'streamed';

/** Counts a failed attempt (reset by progress); throws once there were too many in a row, else waits with backoff. */
async function failed(t: Transfer, before: number, error: AppError): Promise<void> {
  t.failures = t.offset === before ? t.failures + 1 : 1;
  if (t.failures > t.maxRetries) throw error;
  await delay(t.baseDelay * 2 ** (t.failures - 1), t.opts.signal);
}

/** The headers of a GET: no compression, and the missing range (under `If-Range`) when part of the file is in. */
function requestHeaders(offset: number, etag: string | null): Record<string, string> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (offset > 0) {
    headers['range'] = `bytes=${offset}-`;
    if (etag) headers['if-range'] = etag;
  }
  return headers;
}

/** A 416: our part is not a prefix of the server's file (or already complete with an unknown size). */
async function rangeNotSatisfiable(t: Transfer, res: Response): Promise<'complete' | 'retry'> {
  await res.body?.cancel();
  const total = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '')?.[1];
  if (t.expected === null && total !== undefined && Number(total) === t.offset) return 'complete';
  await rm(t.part, { force: true });
  t.offset = 0;
  await failed(t, t.offset, new AppError('network', `The server refused to resume ${t.opts.remote.url}.`));
  return 'retry';
}

/**
 * Before a 200/206 body is written: a 206 to our range resumes (the others start from zero); a total other than
 * the expected size discards the part and fails. Returns whether the body appends to the part.
 */
async function startBody(t: Transfer, res: Response): Promise<boolean> {
  const resumed = res.status === 206 && t.offset > 0;
  if (!resumed) t.offset = 0;
  else t.opts.onResume?.(t.offset);
  const total = announcedTotal(res);
  if (t.expected !== null && total !== null && total !== t.expected) {
    await res.body?.cancel();
    await rm(t.part, { force: true });
    throw new AppError(
      'invalid_data',
      `The server announced ${t.expected} bytes for ${t.opts.remote.url} but sends ${total}; the download was discarded.`,
    );
  }
  t.expected ??= total;
  return resumed;
}

/** One GET of the missing bytes into the part, under the attempt's watchdog. */
async function attemptOnce(t: Transfer, attempt: Watchdog, before: number): Promise<AttemptOutcome> {
  const { remote } = t.opts;
  const headers = requestHeaders(t.offset, remote.etag);
  const { res } = await fetchFollowing(remote.url, { method: 'GET', headers, signal: attempt.signal });
  if (res.status === 416) return rangeNotSatisfiable(t, res);
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status < 500 && res.status !== 429) throw httpError(res.status, remote.url);
    await failed(t, before, httpError(res.status, remote.url));
    return 'retry';
  }
  const resumed = await startBody(t, res);
  await streamBody(res, t.part, resumed, (n) => {
    attempt.kick();
    t.offset += n;
    t.opts.onBytes(t.offset, n);
    return t.expected === null || t.offset <= t.expected;
  });
  return 'streamed';
}

/** An attempt threw: cancellation and hard errors end the download; anything else is counted as a failure. */
async function attemptFailed(t: Transfer, attempt: Watchdog, before: number, e: unknown): Promise<void> {
  if (t.opts.signal.aborted) throw cancelled();
  // A dropped or stalled connection: keep what arrived and resume (see [Note: resumable download]).
  const transient = !(e instanceof AppError) || e.code === 'network' || e.code === 'cancelled';
  if (!transient) throw e;
  const reason = attempt.stalled() ? `no data for ${t.stallMs / 1000} s` : describeCause(e);
  await failed(
    t,
    before,
    new AppError('network', `Downloading ${t.opts.remote.url} kept failing (${reason}).`, String(e)),
  );
}

/**
 * Downloads one file to `dest` (see [Note: resumable download]); resolves with its size and sha256.
 * Cancellation keeps the `.part` file; a verification failure deletes it.
 */
export async function downloadFile(opts: DownloadFileOptions): Promise<{ bytes: number; sha256: string }> {
  const { remote, dest, signal } = opts;
  const part = `${dest}.part`;
  await mkdir(dirname(dest), { recursive: true });
  const t: Transfer = {
    opts,
    part,
    maxRetries: opts.maxRetries ?? 5,
    baseDelay: opts.retryDelayMs ?? 250,
    stallMs: opts.stallTimeoutMs ?? 30_000,
    expected: remote.size,
    offset: await resumableBytes(part, { url: remote.url, size: remote.size, etag: remote.etag }),
    failures: 0,
  };
  for (;;) {
    if (signal.aborted) throw cancelled();
    if (t.expected !== null && t.offset === t.expected) break;
    const before = t.offset;
    const attempt = watchdog(signal, t.stallMs);
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptOnce(t, attempt, before);
    } catch (e) {
      await attemptFailed(t, attempt, before, e);
      continue;
    } finally {
      attempt.done();
    }
    if (outcome === 'complete') break;
    if (outcome === 'retry') continue;
    if (t.expected === null || t.offset >= t.expected) break;
    // The body ended early without an error (a proxy closed it): resume from where it stopped.
    await failed(t, before, new AppError('network', `The server keeps ending ${remote.url} early.`));
  }
  return await verifyAndCommit(part, dest, remote, t.expected, signal);
}

/** Appends (or writes) a response body to `part`; `onChunk` returns false to stop early. */
async function streamBody(res: Response, part: string, append: boolean, onChunk: (n: number) => boolean) {
  const file = await open(part, append ? 'a' : 'w');
  try {
    if (!res.body) return;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      await file.write(value);
      if (!onChunk(value.byteLength)) {
        await reader.cancel();
        return;
      }
    }
  } finally {
    await file.close();
  }
}

/**
 * An abort signal for one attempt: aborted with the job, or when no byte arrived for `stallMs`
 * (a connection that hangs without closing would otherwise wait forever).
 */
function watchdog(job: AbortSignal, stallMs: number) {
  const controller = new AbortController();
  let stalled = false;
  const onJob = () => controller.abort();
  job.addEventListener('abort', onJob, { once: true });
  const arm = () =>
    setTimeout(() => {
      stalled = true;
      controller.abort();
    }, stallMs);
  let timer = arm();
  return {
    signal: controller.signal,
    kick() {
      clearTimeout(timer);
      timer = arm();
    },
    stalled: () => stalled,
    done() {
      clearTimeout(timer);
      job.removeEventListener('abort', onJob);
    },
  };
}

type Watchdog = ReturnType<typeof watchdog>;

async function verifyAndCommit(
  part: string,
  dest: string,
  remote: RemoteFile,
  expected: number | null,
  signal: AbortSignal,
): Promise<{ bytes: number; sha256: string }> {
  const bytes = (await stat(part)).size;
  if (expected !== null && bytes !== expected) {
    await rm(part, { force: true });
    throw new AppError(
      'invalid_data',
      `${remote.url} arrived with ${bytes} bytes instead of the ${expected} announced; the download was discarded.`,
    );
  }
  let sha256: string;
  try {
    sha256 = await sha256File(part, signal);
  } catch (e) {
    if (signal.aborted) throw cancelled();
    throw new AppError('io_error', `Cannot read the downloaded file ${part}.`, String(e));
  }
  if (remote.sha256 !== null && sha256 !== remote.sha256) {
    await rm(part, { force: true });
    throw new AppError(
      'invalid_data',
      `${remote.url} failed its checksum (sha256 ${sha256}, expected ${remote.sha256}); the download was discarded.`,
    );
  }
  await rename(part, dest);
  await rm(`${part}.json`, { force: true });
  return { bytes, sha256 };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
