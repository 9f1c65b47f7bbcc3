/**
 * @file The app's two schemes: `app:` serves the app's own pages (see [Note: app scheme] in app-scheme.ts) and
 * `coop:` thumbnails from the data folder, both to sandboxed renderers (Electron main).
 */
import { net, protocol } from 'electron';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DESKTOP_FILE_SCHEME, desktopThumbParts } from '../../shared/files';
import { APP_SCHEME, resolveAppUrl, type AppHost } from './app-scheme';

/** The schemes the app registers, with their privileges (tests check them). */
export const PRIVILEGED_SCHEMES = [
  // Standard and secure: an origin per host, `'self'` in the CSP, fetch and module scripts, a secure context.
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  // Secure so the CSP's img-src can name it.
  { scheme: DESKTOP_FILE_SCHEME, privileges: { secure: true, standard: true } },
];

/** Must run once, before `app.whenReady()`. */
export function registerAppSchemes(): void {
  protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);
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

/** The response to one `app:` request: the bundle's file with its type and the CSP, or 404. */
export async function appResponse(
  url: string,
  roots: Readonly<Record<AppHost, string>>,
  csp: string,
): Promise<Response> {
  const found = resolveAppUrl(url, roots);
  const body = found ? await readFile(found.file).catch(() => null) : null;
  if (!found || !body) return new Response(null, { status: 404 });
  return new Response(body, {
    headers: {
      'content-type': found.mime,
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    },
  });
}

/** Serves `app://<host>/<path>` from the bundle folders (`roots`), with the desktop CSP on every page. */
export function handleAppProtocol(roots: Readonly<Record<AppHost, string>>, csp: string): void {
  protocol.handle(APP_SCHEME, (request) => appResponse(request.url, roots, csp));
}
