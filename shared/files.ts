/**
 * @file URLs of files the UI shows from the data folder, and the one parser of thumbnail paths (pure TypeScript).
 *
 * Web mode serves thumbnails over HTTP (`/thumbs/...`, electron/hosts/server/file-routes.ts); the desktop
 * app serves the same folder through the privileged `coop:` protocol registered by the main process
 * (electron/desktop/file-protocol.ts). The renderer never sees a `file:` URL.
 *
 * [Note: thumbnail layout] The import job writes each thumbnail to `<dataDir>/thumbs/<h2>/<hash>.webp`, where `<h2>`
 * is the first two hex digits of the image's SHA-256 (electron/engine/jobs/import-data.ts `thumbnailPath`), so no
 * folder holds more than a few thousand files. URLs mirror that layout (`thumbs/<h2>/<hash>.webp`), and both readers
 * accept only what `parseThumbPath` accepts: a lower-case hex hash filed under its own prefix.
 */

/**
 * The folder under the data folder where web mode streams dropped files, one sub-folder per upload session (see
 * [Note: web uploads] in electron/hosts/server/file-routes.ts).
 */
export const UPLOADS_FOLDER = 'uploads';

/**
 * The folder under the data folder where `prepareDownload` leaves files for the browser, one sub-folder per download
 * (`<id>/<file name>`, see [Note: downloads] in electron/engine/jobs/downloads.ts).
 */
export const DOWNLOADS_FOLDER = 'ready-downloads';

const DOWNLOAD_ID_RE = /^[a-f0-9]{32}$/;
/** Characters a download's file name keeps (anything else becomes `_`, so the name is safe in a header and a path). */
const DOWNLOAD_NAME_RE = /^[\w][\w.() -]{0,180}$/;

/** A file name safe for a download (letters, digits, spaces, `.`, `-`, `_`, parentheses). */
export function safeDownloadName(name: string): string {
  const cleaned = name
    .replace(/[^\w.() -]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^\w]+/, '')
    .slice(0, 180);
  return cleaned || 'download';
}

/** The URL path of a prepared download (web mode adds the page's token, as for thumbnails). */
export function downloadUrl(id: string, fileName: string): string {
  return `/download/${id}/${encodeURIComponent(fileName)}`;
}

/** Parses `<id>/<file name>` of a download URL path; null for anything else (traversal, odd names). */
export function parseDownloadPath(rel: string): { id: string; fileName: string } | null {
  const [id = '', fileName = '', ...rest] = rel.split('/');
  if (rest.length > 0 || !DOWNLOAD_ID_RE.test(id) || !DOWNLOAD_NAME_RE.test(fileName) || fileName.includes('..'))
    return null;
  return { id, fileName };
}

/** The scheme the desktop app registers for data-folder files. */
export const DESKTOP_FILE_SCHEME = 'coop';

/** Image formats a thumbnail may have. */
export type ThumbExt = 'webp' | 'jpg' | 'png';

const THUMB_PATH_RE = /^([a-f0-9]{2})\/([a-f0-9]{16,128})\.(webp|jpg|png)$/;

/** Path of a thumbnail relative to `<dataDir>/thumbs` (see [Note: thumbnail layout]). */
export function thumbRelPath(hash: string, ext: ThumbExt = 'webp'): string {
  return `${hash.slice(0, 2)}/${hash}.${ext}`;
}

/** Parses a thumbnail path relative to `thumbs/`; null for anything else (traversal, wrong prefix, odd names). */
export function parseThumbPath(rel: string): { parts: [string, string]; ext: ThumbExt } | null {
  const m = THUMB_PATH_RE.exec(rel);
  if (!m?.[1] || !m[2] || !m[3] || !m[2].startsWith(m[1])) return null;
  return { parts: [m[1], `${m[2]}.${m[3]}`], ext: m[3] as ThumbExt };
}

/** MIME type of a thumbnail by extension. */
export function thumbMimeType(ext: ThumbExt): string {
  return ext === 'webp' ? 'image/webp' : ext === 'png' ? 'image/png' : 'image/jpeg';
}

/** URL of a thumbnail by content hash for the given transport. */
export function thumbnailUrl(hash: string, transport: 'electron' | 'web', ext: ThumbExt = 'webp'): string {
  const rel = thumbRelPath(hash, ext);
  return transport === 'electron' ? `${DESKTOP_FILE_SCHEME}://thumbs/${rel}` : `/thumbs/${rel}`;
}

/** Path parts under `<dataDir>/thumbs` that a `coop://thumbs/...` URL names, or null for any other URL. */
export function desktopThumbParts(href: string): [string, string] | null {
  try {
    const url = new URL(href);
    if (url.protocol !== `${DESKTOP_FILE_SCHEME}:` || url.host !== 'thumbs') return null;
    return parseThumbPath(decodeURIComponent(url.pathname.replace(/^\//, '')))?.parts ?? null;
  } catch {
    return null;
  }
}
