/**
 * @file The one place that touches `ipcMain` (Electron main process).
 *
 * [Note: IPC] Two channels, both behind one sender check (`isTrustedFrameUrl`: our own renderer
 * page only, never a navigated-away or embedded frame):
 * - `engine:connect`: the page asks for a MessagePort to the engine; main hands the engine one end and the page the
 *   other and steps out (see [Note: engine port] in engine-ports.ts). Messages on that port are shape-checked and
 *   their arguments parsed by the contract's zod schemas in the engine process.
 * - `desktop:invoke`: the desktop-only operations of `shared/contract/desktop.ts` (dialogs,
 *   external links), parsed here with the same zod schemas and answered as a `Result`.
 */
import { ipcMain, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import { desktopOps, type DesktopHandlers } from '../../shared/contract/desktop';
import { toAppError, type Result } from '../../shared/result';
import { isAppPageUrl, type AppHost } from './app-scheme';

/** Where our renderer is loaded from: the app scheme's renderer page, or a dev server origin. */
export interface TrustedOrigin {
  /** The host of the `app:` scheme that serves the renderer (see [Note: app scheme]). */
  rendererHost: AppHost;
  devServerOrigin: string | null;
}

/**
 * True for frames that show our own renderer: `app://renderer/index.html` (any query or hash), or the dev server we
 * started. Never a `file:` URL: any local file would share that origin.
 */
export function isTrustedFrameUrl(url: string, trust: TrustedOrigin): boolean {
  if (isAppPageUrl(url, trust.rendererHost)) return true;
  try {
    return trust.devServerOrigin !== null && new URL(url).origin === trust.devServerOrigin;
  } catch {
    return false;
  }
}

interface SenderFrame {
  url: string;
}

function senderUrl(event: { senderFrame: SenderFrame | null }): string {
  return event.senderFrame?.url ?? '';
}

/** Whoever hands out engine ports ({@link EnginePorts} of engine-ports.ts). */
export interface EnginePortGiver<Target> {
  connect(target: Target): void;
}

/** Handler of `engine:connect` (exported for tests): a trusted page gets an engine port, any other frame nothing. */
export function engineConnectHandler<Target>(ports: EnginePortGiver<Target>, trust: TrustedOrigin) {
  return (event: { sender: Target; senderFrame: SenderFrame | null }): boolean => {
    if (!isTrustedFrameUrl(senderUrl(event), trust)) return false;
    ports.connect(event.sender);
    return true;
  };
}

/** Handler of `desktop:invoke` (exported for tests): sender check, zod parse, `Result` reply. */
export function desktopInvokeHandler(handlers: DesktopHandlers, trust: TrustedOrigin) {
  return async (event: { senderFrame: SenderFrame | null }, op: unknown, args: unknown): Promise<Result<unknown>> => {
    if (!isTrustedFrameUrl(senderUrl(event), trust)) {
      return { ok: false, error: { code: 'unauthorized', message: 'This frame may not call the desktop API.' } };
    }
    if (typeof op !== 'string' || !Object.prototype.hasOwnProperty.call(desktopOps, op)) {
      return { ok: false, error: { code: 'unknown_op', message: `Unknown desktop operation "${String(op)}".` } };
    }
    const name = op as keyof typeof desktopOps;
    const parsed = desktopOps[name].args.safeParse(args ?? {});
    if (!parsed.success) {
      return {
        ok: false,
        error: { code: 'bad_args', message: `Invalid arguments for ${name}: ${parsed.error.message}` },
      };
    }
    try {
      const handler = handlers[name] as (
        a: unknown,
        c: { progress: () => void; signal: AbortSignal },
      ) => Promise<unknown>;
      return {
        ok: true,
        value: await handler(parsed.data, { progress: () => {}, signal: new AbortController().signal }),
      };
    } catch (e) {
      return { ok: false, error: toAppError(e) };
    }
  };
}

/** Registers both channels on the real `ipcMain`; returns a function that removes them. */
export function registerIpc(
  ports: EnginePortGiver<IpcMainEvent['sender']>,
  desktop: DesktopHandlers,
  trust: TrustedOrigin,
): () => void {
  const onConnect = engineConnectHandler(ports, trust);
  const connectListener = (event: IpcMainEvent) => {
    onConnect(event);
  };
  const invoke = desktopInvokeHandler(desktop, trust);
  ipcMain.on('engine:connect', connectListener);
  ipcMain.handle('desktop:invoke', (event: IpcMainInvokeEvent, op: unknown, args: unknown) => invoke(event, op, args));
  return () => {
    ipcMain.removeListener('engine:connect', connectListener);
    ipcMain.removeHandler('desktop:invoke');
  };
}
