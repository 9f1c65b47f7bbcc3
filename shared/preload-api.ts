/**
 * @file The API the Electron preload exposes to the renderer as `window.coopStudio` (pure TypeScript).
 */

/** Menu commands the main process forwards to the renderer. */
export type MenuCommand = 'open-project' | 'import-dataset' | 'export' | 'settings';

/** `window.coopStudio` in the desktop app. */
export interface PreloadApi {
  transport: 'electron';
  /** Sends one engine protocol message (see shared/protocol.ts). */
  send(message: unknown): void;
  /** Receives engine protocol messages. */
  onMessage(listener: (m: unknown) => void): void;
  /** Calls a desktop operation (shared/contract/desktop.ts); resolves to a `Result`. */
  desktop(op: string, args: unknown): Promise<unknown>;
  /** Menu commands and engine notices from the main process. */
  onMenu(listener: (command: MenuCommand) => void): void;
  onEngineNotice(listener: (notice: { kind: 'crashed'; message: string }) => void): void;
  /** Real path of a dropped file (Electron >= 32 no longer exposes File.path). */
  pathForFile(file: File): string;
}
