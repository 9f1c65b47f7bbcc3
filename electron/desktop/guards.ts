/**
 * @file The guards every web contents and the app's session get: no new windows, no webviews, no navigation away
 * from the app's own pages, every permission denied, the CSP on every response (Electron main).
 *
 * Kept apart from main.ts so its tests can drive the handlers with stand-ins for Electron's objects.
 */
import type { Session, WebContents } from 'electron';
import { navigationAllowed } from './app-scheme';

/**
 * No window opens another window, embeds a webview, follows a redirect or leaves the app's pages: `will-navigate`
 * covers the main frame, `will-frame-navigate` every frame, including iframes (see [Note: app scheme]).
 */
export function guardWebContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-navigate', (e) => {
    if (!navigationAllowed(e.url, contents.getURL())) e.preventDefault();
  });
  contents.on('will-frame-navigate', (e) => {
    if (!navigationAllowed(e.url, e.frame?.url ?? contents.getURL())) e.preventDefault();
  });
}

/**
 * The session of every window: permission requests and permission checks are both denied (a check answers
 * `navigator.permissions.query` and synchronous checks such as device access that never issue a request), and every
 * response carries the desktop CSP.
 */
export function hardenSession(session: Session, csp: string): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
}
