/**
 * @file The `coop:` protocol: serves thumbnails from the data folder to the sandboxed renderer (Electron main).
 */
import { net, protocol } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DESKTOP_FILE_SCHEME, desktopThumbParts } from '../../shared/files';

/** Must run before `app.whenReady()`: declares the scheme secure so the CSP's img-src can name it. */
export function registerFileScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: DESKTOP_FILE_SCHEME, privileges: { secure: true, standard: true } }]);
}

/** Serves `coop://thumbs/<h2>/<hash>.<ext>` from `<dataDir>/thumbs`; anything else is 404. */
export function handleFileProtocol(dataDir: string): void {
  protocol.handle(DESKTOP_FILE_SCHEME, (request) => {
    const parts = desktopThumbParts(request.url);
    const file = parts ? join(dataDir, 'thumbs', ...parts) : null;
    if (!file || !existsSync(file)) return new Response(null, { status: 404 });
    return net.fetch(pathToFileURL(file).toString());
  });
}
