/**
 * @file Web-mode file routes: streamed uploads into the data folder, and thumbnails out of it (Node, web server).
 *
 * [Note: web uploads] A browser cannot hand the engine real paths, so in web mode a dropped folder
 * is streamed file by file (`PUT /upload/<session>/<relative path>`) into
 * `<dataDir>/uploads/<session>/`, keeping its class-folder layout; the UI then imports that folder
 * like any other. Thumbnails are served from `<dataDir>/thumbs/<h2>/<hash>.webp` (see [Note: thumbnail layout] in
 * shared/files.ts). Both routes sit behind the web server's token check, and every path is confined to its folder.
 *
 * [Note: download route] `GET /download/<id>/<name>` sends a file `prepareDownload` left in
 * `<dataDir>/ready-downloads/<id>/` (see [Note: downloads] in electron/engine/jobs/downloads.ts) as an attachment, so
 * the browser saves it under its name. Like every mounted route it needs the token (a link cannot send a header, so
 * the page puts it in the query, as for thumbnails); the id must be 32 hex digits and the name one plain segment, so
 * nothing outside that folder can be named.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  DOWNLOADS_FOLDER,
  parseDownloadPath,
  parseThumbPath,
  thumbMimeType,
  UPLOADS_FOLDER,
} from '../../../shared/files';

/** Largest single uploaded file (bytes). */
export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
const SESSION_RE = /^[A-Za-z0-9_-]{8,64}$/;

/** Resolves `rel` inside `root`, or null when it would escape it or names something odd. */
export function confinedPath(root: string, rel: string): string | null {
  const parts = rel.split('/').filter((p) => p.length > 0);
  if (parts.length === 0 || parts.some((p) => p === '..' || p === '.' || p.includes('\\') || p.includes('\0')))
    return null;
  const full = resolve(root, ...parts);
  return full.startsWith(resolve(root) + sep) ? full : null;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Builds the route handler for the web server's `routes` option. */
export function fileRoutes(dataDir: string) {
  const uploads = join(dataDir, UPLOADS_FOLDER);
  const thumbs = join(dataDir, 'thumbs');
  const downloads = join(dataDir, DOWNLOADS_FOLDER);
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    if (path.startsWith('/upload/') && req.method === 'PUT') {
      const [, , session, ...rest] = path.split('/');
      const rel = rest.map((p) => decodeURIComponent(p)).join('/');
      if (!session || !SESSION_RE.test(session)) {
        send(res, 400, { ok: false, error: { code: 'bad_args', message: 'Invalid upload session id.' } });
        return true;
      }
      const target = confinedPath(join(uploads, session), rel);
      if (!target) {
        send(res, 400, { ok: false, error: { code: 'bad_args', message: `Invalid upload path "${rel}".` } });
        return true;
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_UPLOAD_BYTES) {
        send(res, 413, { ok: false, error: { code: 'bad_args', message: `"${rel}" is larger than 512 MB.` } });
        return true;
      }
      mkdirSync(dirname(target), { recursive: true });
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_UPLOAD_BYTES) req.destroy(new Error('upload too large'));
      });
      await pipeline(req, createWriteStream(target));
      send(res, 200, { ok: true, value: { folder: join(uploads, session), path: target, bytes: received } });
      return true;
    }
    if (path.startsWith('/download/') && (req.method === 'GET' || req.method === 'HEAD')) {
      let rel: string;
      try {
        rel = decodeURIComponent(path.slice('/download/'.length));
      } catch {
        rel = '';
      }
      const d = parseDownloadPath(rel);
      const file = d ? join(downloads, d.id, d.fileName) : null;
      const st = file ? statSync(file, { throwIfNoEntry: false }) : undefined;
      if (!d || !file || !st?.isFile()) {
        send(res, 404, { ok: false, error: { code: 'not_found', message: 'No such download (it may have expired).' } });
        return true;
      }
      res.writeHead(200, {
        'content-type': d.fileName.endsWith('.zip') ? 'application/zip' : 'application/octet-stream',
        'content-length': String(st.size),
        'content-disposition': `attachment; filename="${d.fileName}"; filename*=UTF-8''${encodeURIComponent(d.fileName)}`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
      return true;
    }
    if (path.startsWith('/thumbs/') && (req.method === 'GET' || req.method === 'HEAD')) {
      let rel: string;
      try {
        rel = decodeURIComponent(path.slice('/thumbs/'.length));
      } catch {
        rel = '';
      }
      const thumb = parseThumbPath(rel);
      const file = thumb ? join(thumbs, ...thumb.parts) : null;
      if (!thumb || !file || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return true;
      }
      res.writeHead(200, { 'content-type': thumbMimeType(thumb.ext), 'cache-control': 'private, max-age=86400' });
      createReadStream(file).pipe(res);
      return true;
    }
    return false;
  };
}
