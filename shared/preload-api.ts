/**
 * @file The API the Electron preload exposes to the renderer as `window.coopStudio` (pure TypeScript).
 */

/** Menu commands the main process forwards to the renderer. */
export type MenuCommand = 'open-project' | 'import-dataset' | 'export' | 'settings';

/**
 * The `window.postMessage` data with which the preload hands the page a MessagePort to the engine (see
 * [Note: engine port] in electron/desktop/engine-ports.ts).
 */
export const ENGINE_PORT_MESSAGE = 'coop-engine-port';

/** `window.coopStudio` in the desktop app. */
export interface PreloadApi {
  transport: 'electron';
  /**
   * Asks the main process for a MessagePort to the engine. It arrives as a `window` message event with data
   * {@link ENGINE_PORT_MESSAGE}, and again (a new port) each time the engine process was restarted.
   */
  connectEngine(): void;
  /** Calls a desktop operation (shared/contract/desktop.ts); resolves to a `Result`. */
  desktop(op: string, args: unknown): Promise<unknown>;
  /** Menu commands and engine notices from the main process. */
  onMenu(listener: (command: MenuCommand) => void): void;
  onEngineNotice(listener: (notice: { kind: 'crashed'; message: string }) => void): void;
  /** Real path of a dropped file (Electron >= 32 no longer exposes File.path). */
  pathForFile(file: File): string;
}
