/**
 * @file The desktop main process, started with Electron mocked (issue 15, defect 14): pages load from the privileged
 * `app:` scheme, never `file:` (where the CSP's 'self' matches any local file); the session denies permission checks
 * as well as requests; every web contents gets a `will-frame-navigate` guard (Node test runner, no Electron binary).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => {
  type Handler = (...args: never[]) => unknown;
  const root = { path: '' };
  const windows: { options: Record<string, unknown>; loaded: string[]; loadedFiles: string[] }[] = [];
  const appListeners = new Map<string, Handler>();
  const schemes: { scheme: string; privileges: Record<string, boolean> }[] = [];
  const handlers = new Map<string, (request: { url: string }) => Promise<Response> | Response>();
  const session = {
    permissionCheck: null as Handler | null,
    permissionRequest: null as Handler | null,
    setPermissionCheckHandler: (h: Handler) => (session.permissionCheck = h),
    setPermissionRequestHandler: (h: Handler) => (session.permissionRequest = h),
    webRequest: { onHeadersReceived: () => {} },
  };
  const webContents = () => ({
    on: () => {},
    once: () => {},
    send: () => {},
    postMessage: () => {},
    setWindowOpenHandler: () => {},
    getURL: () => '',
  });
  class BrowserWindow {
    static getAllWindows = () => [];
    readonly record = { options: {} as Record<string, unknown>, loaded: [] as string[], loadedFiles: [] as string[] };
    readonly webContents = webContents();
    constructor(options: Record<string, unknown>) {
      this.record.options = options;
      windows.push(this.record);
    }
    loadURL(url: string) {
      this.record.loaded.push(url);
      return Promise.resolve();
    }
    loadFile(file: string) {
      this.record.loadedFiles.push(file);
      return Promise.resolve();
    }
    on() {}
    once() {}
    maximize() {}
    isDestroyed() {
      return false;
    }
  }
  const electron = {
    app: {
      enableSandbox: () => {},
      requestSingleInstanceLock: () => true,
      whenReady: () => Promise.resolve(),
      getPath: () => join(root.path, 'user-data'),
      on: (event: string, l: Handler) => appListeners.set(event, l),
      quit: () => {},
    },
    BrowserWindow,
    MessageChannelMain: class {},
    nativeTheme: { themeSource: 'system' },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    session: { defaultSession: session },
    utilityProcess: { fork: () => ({}) },
    protocol: {
      registerSchemesAsPrivileged: (list: typeof schemes) => schemes.push(...list),
      handle: (scheme: string, h: (request: { url: string }) => Promise<Response> | Response) =>
        handlers.set(scheme, h),
    },
    net: { fetch: () => new Response(null, { status: 500 }) },
    ipcMain: { on: () => {}, handle: () => {} },
    Menu: { buildFromTemplate: () => ({}), setApplicationMenu: () => {} },
    dialog: {},
    shell: {},
  };
  return { root, windows, appListeners, schemes, handlers, session, electron };
});

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }));
vi.mock('../../electron/hosts/engine-host/engine-host', () => ({
  EngineHost: class {
    client = { call: async () => ({ ok: true, value: {} }), close: async () => {} };
    start = async () => {};
    shutdown = async () => {};
  },
}));
vi.mock('../../electron/engine/settings/paths', async (importOriginal) => ({
  ...(await importOriginal<Record<string, unknown>>()),
  appRoot: () => fake.root.path,
}));

fake.root.path = mkdtempSync(join(tmpdir(), 'coop-sec-electron-'));
for (const bundle of ['renderer', 'compute']) {
  mkdirSync(join(fake.root.path, 'dist', bundle), { recursive: true });
  writeFileSync(join(fake.root.path, 'dist', bundle, 'index.html'), `<!doctype html><title>${bundle}</title>`);
}
writeFileSync(join(fake.root.path, 'secret.txt'), 'not for pages');
process.env['COOP_STUDIO_DATA_DIR'] = join(fake.root.path, 'data');
mkdirSync(process.env['COOP_STUDIO_DATA_DIR'], { recursive: true });
afterAll(() => rmSync(fake.root.path, { recursive: true, force: true }));

/** Starts the real main process module against the mocks and waits until both windows exist. */
async function startMain(): Promise<void> {
  await import('../../electron/desktop/main');
  const deadline = Date.now() + 10_000;
  while (fake.windows.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('desktop main process hardening', () => {
  it('loads every page from the app: scheme, never from file:', async () => {
    await startMain();
    expect(fake.windows.map((w) => w.loadedFiles)).toEqual([[], []]);
    expect(fake.windows.flatMap((w) => w.loaded).sort()).toEqual([
      'app://compute/index.html',
      'app://renderer/index.html',
    ]);
    const app = fake.schemes.find((s) => s.scheme === 'app');
    expect(app?.privileges).toMatchObject({ standard: true, secure: true });
  });

  it('serves only the bundles through the app: handler, with the CSP', async () => {
    await startMain();
    const handle = fake.handlers.get('app');
    expect(handle).toBeDefined();
    const page = await handle?.({ url: 'app://renderer/index.html' });
    expect(page?.status).toBe(200);
    expect(page?.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page?.text()).toContain('renderer');
    for (const url of ['app://renderer/..%2f..%2fsecret.txt', 'app://elsewhere/index.html', 'app://compute/nope.js'])
      expect((await handle?.({ url }))?.status, url).toBe(404);
  });

  it('denies permission checks as well as permission requests', async () => {
    await startMain();
    expect(fake.session.permissionCheck).toBeTypeOf('function');
    const check = fake.session.permissionCheck as unknown as (wc: null, p: string, origin: string) => boolean;
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'serial', 'usb'])
      expect(check(null, permission, 'app://renderer')).toBe(false);
    let granted: boolean | undefined;
    (fake.session.permissionRequest as unknown as (wc: null, p: string, cb: (g: boolean) => void) => void)(
      null,
      'media',
      (g) => (granted = g),
    );
    expect(granted).toBe(false);
  });

  it('guards every frame navigation of every web contents', async () => {
    await startMain();
    const created = fake.appListeners.get('web-contents-created') as unknown as (e: unknown, c: unknown) => void;
    expect(created).toBeTypeOf('function');
    const listeners = new Map<
      string,
      (e: { url: string; frame: { url: string }; preventDefault: () => void }) => void
    >();
    created(
      {},
      {
        on: (event: string, l: never) => listeners.set(event, l),
        setWindowOpenHandler: () => {},
        getURL: () => 'app://renderer/index.html',
      },
    );
    const frameNavigation = listeners.get('will-frame-navigate');
    expect(frameNavigation).toBeTypeOf('function');
    let prevented = false;
    frameNavigation?.({
      url: 'https://evil.example/',
      frame: { url: 'app://renderer/index.html' },
      preventDefault: () => (prevented = true),
    });
    expect(prevented).toBe(true);
  });
});
