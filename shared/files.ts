/**
 * @file URLs of files the UI shows from the data folder (pure TypeScript).
 *
 * Web mode serves thumbnails over HTTP (`/thumbs/...`, electron/server/file-routes.ts); the desktop
 * app serves the same folder through the privileged `coop:` protocol registered by the main process
 * (electron/main/file-protocol.ts). The renderer never sees a `file:` URL.
 */

/** The scheme the desktop app registers for data-folder files. */
export const DESKTOP_FILE_SCHEME = 'coop';

/** URL of a thumbnail by content hash for the given transport. */
export function thumbnailUrl(
  hash: string,
  transport: 'electron' | 'web',
  ext: 'webp' | 'jpg' | 'png' = 'webp',
): string {
  return transport === 'electron' ? `${DESKTOP_FILE_SCHEME}://thumbs/${hash}.${ext}` : `/thumbs/${hash}.${ext}`;
}
