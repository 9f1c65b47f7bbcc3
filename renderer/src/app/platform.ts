/**
 * @file What the page can do besides calling the engine: desktop-only operations, real paths of dropped files, menu
 * commands and engine notices (renderer).
 *
 * [Note: platform] Controllers never touch `window.coopStudio` themselves: they get a `Platform`, the desktop app's
 * (over the preload) or the web page's (none of the desktop operations). Component and controller tests pass a fake.
 */
import type { desktopOps } from '../../../shared/contract/desktop';
import type { PreparedDownload } from '../../../shared/contract/downloads';
import { thumbnailUrl } from '../../../shared/files';
import type { MenuCommand, PreloadApi } from '../../../shared/preload-api';
import type { Result } from '../../../shared/result';
import { withTokenQuery } from '../../../shared/web-auth';

/** Which transport the page uses. */
export type TransportKind = 'electron' | 'web';

/** A desktop operation (shared/contract/desktop.ts). */
export type DesktopOp = keyof typeof desktopOps;

/** A notice from the desktop app's main process about the engine. */
export interface EngineNotice {
  kind: 'crashed';
  message: string;
}

/** The page's platform (see [Note: platform]). */
export interface Platform {
  readonly transport: TransportKind;
  /** Calls a desktop operation; undefined in web mode (there are none). */
  desktop<T>(op: DesktopOp, args: unknown): Promise<Result<T> | undefined>;
  /** The `src` of a thumbnail by content hash (the `coop:` protocol on the desktop, the server's route in web mode). */
  thumbnailSrc(hash: string): string;
  /**
   * Hands a prepared download to the user: the browser's download in web mode (resolves at once with `saved: null`),
   * the native save dialog in the desktop app (`saved`: where it went, null when the user cancelled). See
   * [Note: desktop downloads] in electron/desktop/desktop-handlers.ts.
   */
  saveDownload(d: PreparedDownload): Promise<Result<{ saved: string | null }>>;
  /** The real path of a dropped or chosen file on the engine's disk (desktop app); null in web mode. */
  pathForFile(file: File): string | null;
  onMenu(listener: (command: MenuCommand) => void): void;
  onEngineNotice(listener: (notice: EngineNotice) => void): void;
}

/** The desktop app's platform, over the preload's API. */
export function desktopPlatform(api: PreloadApi): Platform {
  return {
    transport: 'electron',
    desktop: async <T>(op: DesktopOp, args: unknown) => (await api.desktop(op, args)) as Result<T>,
    thumbnailSrc: (hash) => thumbnailUrl(hash, 'electron'),
    saveDownload: async (d) => {
      const r = (await api.desktop('saveDownload', { url: d.url, title: `Save ${d.fileName}` })) as Result<{
        path: string | null;
      }>;
      return r.ok ? { ok: true, value: { saved: r.value.path } } : r;
    },
    pathForFile: (file) => api.pathForFile(file) || null,
    onMenu: (listener) => api.onMenu(listener),
    onEngineNotice: (listener) => api.onEngineNotice(listener),
  };
}

/**
 * The web page's platform: no desktop operations, no file paths, no menu; thumbnails carry the page's token (see
 * [Note: the page's token] in client.ts).
 */
export function webPlatform(token: string): Platform {
  return {
    transport: 'web',
    desktop: () => Promise.resolve(undefined),
    thumbnailSrc: (hash) => withTokenQuery(thumbnailUrl(hash, 'web'), token),
    saveDownload: async (d) => {
      // Same origin and an attachment: the browser saves it under `fileName` (the route checks the token).
      const a = document.createElement('a');
      a.href = withTokenQuery(d.url, token);
      a.download = d.fileName;
      a.rel = 'noopener';
      document.body.append(a);
      a.click();
      a.remove();
      return { ok: true, value: { saved: null } };
    },
    pathForFile: () => null,
    onMenu: () => {},
    onEngineNotice: () => {},
  };
}
