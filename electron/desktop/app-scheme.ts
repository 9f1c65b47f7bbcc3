/**
 * @file The `app:` scheme the desktop app loads its pages from: URLs, the files they name, and which navigations
 * are allowed (Electron main; plain Node, so its tests run without Electron).
 *
 * [Note: app scheme] Pages were loaded with `loadFile` (`file://`). Under `file:` the CSP's `'self'` matches every
 * local file, and any file page could pass a sender check that looks at a path. The app now registers a privileged,
 * standard, secure scheme and serves each bundle from its own host: `app://renderer/` (the UI) and
 * `app://compute/` (the hidden compute window). Each host is an origin of its own, so `'self'` means exactly that
 * bundle; the handler serves only files inside the bundle's folder, by exact path (no directory listing, no
 * fallback, no `..`); and the IPC sender check and the navigation guard accept only these origins.
 */
import { extname, join, normalize, resolve, sep } from 'node:path';

/** The scheme of the app's own pages. */
export const APP_SCHEME = 'app';

/** The bundles served on the scheme, by host. */
export const APP_HOSTS = ['renderer', 'compute'] as const;

/** One of {@link APP_HOSTS}. */
export type AppHost = (typeof APP_HOSTS)[number];

/** The page each host opens with. */
export const APP_PAGE = '/index.html';

/** `app://<host>/index.html`: the URL a window loads. */
export function appPageUrl(host: AppHost): string {
  return `${APP_SCHEME}://${host}${APP_PAGE}`;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

/** The file an `app:` URL names inside its bundle's folder, with its MIME type; null for anything else. */
export function resolveAppUrl(
  href: string,
  roots: Readonly<Record<AppHost, string>>,
): { file: string; mime: string } | null {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || !(APP_HOSTS as readonly string[]).includes(url.host)) return null;
  const root = resolve(roots[url.host as AppHost]);
  let path: string;
  try {
    path = decodeURIComponent(url.pathname === '/' ? APP_PAGE : url.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\') || path.split('/').includes('..')) return null;
  const file = resolve(join(root, normalize(path)));
  if (!file.startsWith(root + sep)) return null;
  const mime = MIME[extname(file).toLowerCase()];
  return mime ? { file, mime } : null;
}

/** True for the URL of one of the app's own pages (any host of the scheme, the page path, any query or hash). */
export function isAppPageUrl(href: string, host?: AppHost): boolean {
  try {
    const url = new URL(href);
    return (
      url.protocol === `${APP_SCHEME}:` &&
      (host ? url.host === host : (APP_HOSTS as readonly string[]).includes(url.host)) &&
      url.pathname === APP_PAGE
    );
  } catch {
    return false;
  }
}

/**
 * Whether a frame may navigate to `target`: only to one of the app's own pages on the origin it is on already
 * (a reload, or an in-page route). Everything else, remote pages, `file:` and `data:` URLs, other app hosts, is
 * refused; links leave through `openExternal`.
 */
export function navigationAllowed(target: string, current: string): boolean {
  if (!isAppPageUrl(target)) return false;
  // URLs of a non-special scheme have an opaque `origin` ("null"): compare scheme and host.
  try {
    const [to, from] = [new URL(target), new URL(current)];
    return to.protocol === from.protocol && to.host === from.host;
  } catch {
    return false;
  }
}
