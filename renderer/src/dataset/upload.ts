/**
 * @file Turning dropped or chosen files into engine-side folders: real paths in the desktop app, streamed uploads in
 * web mode (renderer).
 *
 * See [Note: web uploads] in electron/hosts/server/file-routes.ts: each file is PUT to `/upload/<session>/<relative path>`
 * keeping its class folders, and the reply names the session folder on the engine's disk.
 */
import { isImportableFile } from '../../../shared/image-files';
import type { Result } from '../../../shared/result';
import { serverAuthHeaders } from '../app/client';

/** A file with its path relative to what the user dropped (class folders kept). */
export interface PickedFile {
  file: File;
  path: string;
}

/** Progress of an upload. */
export interface UploadProgress {
  done: number;
  total: number;
  bytes: number;
}

/** A new upload session id (the file route accepts 8-64 of [A-Za-z0-9_-]). */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: entry.fullPath.replace(/^\/+/, '') });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns batches (100 in Chromium) until it returns an empty one.
  for (;;) {
    const batch = await readEntries(reader);
    if (batch.length === 0) break;
    for (const e of batch) await walk(e, out);
  }
}

/** Whether a path names an image, an archive or a CSV outside hidden folders: what an upload sends. */
function wanted(f: PickedFile): boolean {
  return isImportableFile(f.path) && !f.path.split('/').some((p) => p.startsWith('.'));
}

/**
 * Every file of a drop, folders walked recursively (web mode). A drop whose items give no entries (some browsers and
 * drags from other pages or apps) falls back to its plain file list, as Try it reads it.
 */
export async function filesFromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(dt.items ?? [])
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  const out: PickedFile[] = [];
  if (entries.length === 0) for (const file of Array.from(dt.files ?? [])) out.push({ file, path: file.name });
  for (const e of entries) await walk(e, out);
  return out.filter(wanted);
}

/** Files of an `<input type=file>` (with `webkitdirectory` their relative paths keep the folders). */
export function filesFromInput(list: FileList): PickedFile[] {
  return Array.from(list, (file) => ({ file, path: file.webkitRelativePath || file.name })).filter(wanted);
}

/**
 * The folder to import inside an upload session: when everything sits under one top folder (a dropped dataset
 * folder), that folder, so its sub-folders become the classes.
 */
export function datasetRoot(sessionFolder: string, files: PickedFile[]): string {
  const firsts = new Set(files.map((f) => f.path.split('/')[0]));
  const deep = files.every((f) => f.path.split('/').length >= 3);
  const [only] = firsts;
  return firsts.size === 1 && deep && only ? `${sessionFolder}/${only}` : sessionFolder;
}

/** Streams files to the engine's data folder; resolves with the session folder on the engine's disk. */
export async function uploadFiles(
  files: PickedFile[],
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
  session = newSessionId(),
): Promise<Result<{ folder: string }>> {
  let folder = '';
  let bytes = 0;
  let done = 0;
  // Four requests in flight: enough to hide latency without flooding a 2-core engine.
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      signal?.throwIfAborted();
      const rel = next.path.split('/').map(encodeURIComponent).join('/');
      const res = await fetch(`/upload/${session}/${rel}`, {
        method: 'PUT',
        body: next.file,
        headers: serverAuthHeaders(),
        signal,
      });
      const body = (await res.json()) as Result<{ folder: string; bytes: number }>;
      if (!body.ok) throw Object.assign(new Error(body.error.message), body.error);
      folder = body.value.folder;
      bytes += body.value.bytes;
      done += 1;
      onProgress({ done, total: files.length, bytes });
    }
  };
  try {
    await Promise.all([worker(), worker(), worker(), worker()]);
  } catch (e) {
    const err = e as { code?: string; message?: string; name?: string };
    if (err.name === 'AbortError')
      return { ok: false, error: { code: 'cancelled', message: 'The upload was cancelled.' } };
    return {
      ok: false,
      error: {
        code: (err.code as 'io_error' | undefined) ?? 'io_error',
        message: `Uploading failed: ${err.message ?? String(e)}`,
      },
    };
  }
  return { ok: true, value: { folder } };
}
