import { describe, expect, it } from 'vitest';
import { DESKTOP_CSP } from './window-options';
import { guardWebContents, hardenSession } from './guards';

type Listener = (e: { url?: string; frame?: { url: string } | null; preventDefault: () => void }) => void;

/** A stand-in for Electron's WebContents that records the listeners the guard installs. */
function fakeContents(url: string) {
  const listeners = new Map<string, Listener>();
  let openHandler: (() => { action: string }) | null = null;
  const contents = {
    getURL: () => url,
    on: (event: string, l: Listener) => listeners.set(event, l),
    setWindowOpenHandler: (h: () => { action: string }) => (openHandler = h),
  };
  /** Emits `event` and says whether the guard prevented it. */
  const emit = (event: string, params: { url?: string; frame?: { url: string } | null } = {}) => {
    let prevented = false;
    listeners.get(event)?.({ ...params, preventDefault: () => (prevented = true) });
    return prevented;
  };
  return { contents, emit, listeners, open: () => openHandler?.() };
}

describe('web contents guards', () => {
  it('install window-open, webview, redirect and navigation guards, including will-frame-navigate', () => {
    const f = fakeContents('app://renderer/index.html');
    guardWebContents(f.contents as never);
    expect([...f.listeners.keys()].sort()).toEqual([
      'will-attach-webview',
      'will-frame-navigate',
      'will-navigate',
      'will-redirect',
    ]);
    expect(f.open()).toEqual({ action: 'deny' });
    expect(f.emit('will-attach-webview')).toBe(true);
    expect(f.emit('will-redirect', { url: 'https://evil.example/' })).toBe(true);
  });

  it('let a frame reload our own page and stop every other navigation, main frame or iframe', () => {
    const f = fakeContents('app://renderer/index.html');
    guardWebContents(f.contents as never);
    const ui = { url: 'app://renderer/index.html' };
    expect(f.emit('will-navigate', { url: 'app://renderer/index.html' })).toBe(false);
    expect(f.emit('will-navigate', { url: 'https://evil.example/' })).toBe(true);
    expect(f.emit('will-frame-navigate', { url: 'app://renderer/index.html#/results', frame: ui })).toBe(false);
    expect(f.emit('will-frame-navigate', { url: 'https://evil.example/', frame: ui })).toBe(true);
    expect(f.emit('will-frame-navigate', { url: 'file:///etc/passwd', frame: ui })).toBe(true);
    expect(f.emit('will-frame-navigate', { url: 'data:text/html,<script>1</script>', frame: ui })).toBe(true);
    // An iframe (about:blank) may not load our page either: it would get the renderer's origin.
    expect(f.emit('will-frame-navigate', { url: 'app://renderer/index.html', frame: { url: 'about:blank' } })).toBe(
      true,
    );
    expect(f.emit('will-frame-navigate', { url: 'app://compute/index.html', frame: ui })).toBe(true);
  });
});

describe('session hardening', () => {
  it('denies every permission request and every permission check, and sets the CSP on responses', () => {
    const got: {
      request?: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void;
      check?: (wc: unknown, permission: string, origin: string) => boolean;
      headers?: (details: unknown, cb: (r: unknown) => void) => void;
    } = {};
    const session = {
      setPermissionRequestHandler: (h: typeof got.request) => (got.request = h),
      setPermissionCheckHandler: (h: typeof got.check) => (got.check = h),
      webRequest: { onHeadersReceived: (h: typeof got.headers) => (got.headers = h) },
    };
    hardenSession(session as never, DESKTOP_CSP);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'usb', 'serial'])
      expect(got.check?.(null, permission, 'app://renderer')).toBe(false);
    let granted: boolean | undefined;
    got.request?.(null, 'media', (g) => (granted = g));
    expect(granted).toBe(false);
    let out: unknown;
    got.headers?.({ responseHeaders: { a: ['b'] } }, (r) => (out = r));
    expect(out).toEqual({ responseHeaders: { a: ['b'], 'Content-Security-Policy': [DESKTOP_CSP] } });
  });
});
