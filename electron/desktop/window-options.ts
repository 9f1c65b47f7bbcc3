/**
 * @file Security-relevant window options and the CSP, kept apart so tests can check them without Electron.
 */

/** webPreferences every window of the app uses (see README, architecture decision on security). */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  sandbox: true,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const;

/** The renderer's Content-Security-Policy in the desktop app (no remote content at all). */
export const DESKTOP_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: coop:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Argument that tells the shared preload it runs in the hidden compute window (see desktop/compute-window.ts). */
export const COMPUTE_WINDOW_ARG = '--coop-compute-window';

/** webPreferences of the hidden compute window: as sandboxed as the main window, and never throttled while hidden. */
export const COMPUTE_WEB_PREFERENCES = {
  ...SECURE_WEB_PREFERENCES,
  backgroundThrottling: false as const,
  additionalArguments: [COMPUTE_WINDOW_ARG],
};

/** Saved window geometry. */
export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

/** The default geometry of the main window. */
export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 820, maximized: false };

/** Parses saved window state, falling back to the default for anything missing or absurd. */
export function parseWindowState(raw: unknown): WindowState {
  if (typeof raw !== 'object' || raw === null) return { ...DEFAULT_WINDOW_STATE };
  const r = raw as Record<string, unknown>;
  const num = (v: unknown, min: number, max: number) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? Math.round(v) : undefined;
  const width = num(r['width'], 640, 16384) ?? DEFAULT_WINDOW_STATE.width;
  const height = num(r['height'], 480, 16384) ?? DEFAULT_WINDOW_STATE.height;
  const x = num(r['x'], -32768, 32768);
  const y = num(r['y'], -32768, 32768);
  return { width, height, maximized: r['maximized'] === true, ...(x !== undefined && y !== undefined ? { x, y } : {}) };
}

/** A rectangle on the desktop (a display's work area). */
export interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Drops a saved position that is no longer on any display (a monitor was unplugged): the window then opens centred.
 * At least 100 x 50 px of the title bar area must be visible on one display.
 */
export function keepOnScreen(state: WindowState, displays: Area[]): WindowState {
  if (state.x === undefined || state.y === undefined) return state;
  const { x, y } = state;
  const visible = displays.some(
    (d) =>
      Math.min(x + state.width, d.x + d.width) - Math.max(x, d.x) >= 100 &&
      Math.min(y + 50, d.y + d.height) - Math.max(y, d.y) >= 50,
  );
  if (visible) return state;
  return { width: state.width, height: state.height, maximized: state.maximized };
}
