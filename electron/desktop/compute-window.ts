/**
 * @file The hidden compute window: created at start, re-created after a crash, joined to every engine (Electron main).
 *
 * The main process only makes the window and the ports (see [Note: compute port]); tensors and progress go
 * straight between the engine's utility process and the page. Kept small so it is right by inspection: Electron
 * cannot run on the machines that build this project, so none of this file runs in its tests.
 */
import { BrowserWindow, MessageChannelMain, type MessagePortMain } from 'electron';
import { COMPUTE_WEB_PREFERENCES } from './window-options';

/** Hands one end of a compute channel to the engine process. */
export type EnginePortSink = (port: MessagePortMain) => void;

/** Where the page and the preload are, and where diagnostics go. */
export interface ComputeWindowOptions {
  /** URL of the page (`app://compute/index.html`, see [Note: app scheme]). */
  page: string;
  preload: string;
  log(message: string): void;
}

/** A page crash is retried this many times per app session; after that training stays in the engine (wasm). */
const MAX_RESTARTS = 3;

/** Owns the hidden compute window. */
export class ComputeWindow {
  private win: BrowserWindow | null = null;
  private loaded = false;
  private engine: EnginePortSink | null = null;
  private closing = false;
  private restarts = 0;

  constructor(private readonly options: ComputeWindowOptions) {}

  /** Creates the window (call once, after `app.whenReady()`). */
  start(): void {
    this.create();
  }

  /** A (re)started engine, or null when it exited: joined to the page now, or as soon as the page has loaded. */
  setEngine(sink: EnginePortSink | null): void {
    this.engine = sink;
    this.connect();
  }

  /** Destroys the window for good (app quit). */
  close(): void {
    this.closing = true;
    const win = this.win;
    this.win = null;
    if (win && !win.isDestroyed()) win.destroy();
  }

  private connect(): void {
    const win = this.win;
    if (!win || !this.loaded || !this.engine || win.isDestroyed()) return;
    const { port1, port2 } = new MessageChannelMain();
    win.webContents.postMessage('compute:connect', null, [port1]);
    this.engine(port2);
  }

  private create(): void {
    const win = new BrowserWindow({
      show: false,
      width: 320,
      height: 240,
      skipTaskbar: true,
      focusable: false,
      title: 'CoOp Studio compute',
      webPreferences: { ...COMPUTE_WEB_PREFERENCES, preload: this.options.preload },
    });
    this.win = win;
    this.loaded = false;
    win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    win.webContents.on('will-navigate', (e) => e.preventDefault());
    // Every load (the first one, a reload) gets a fresh port: the engine drops its link to the old page.
    win.webContents.on('did-finish-load', () => {
      this.loaded = true;
      this.connect();
    });
    win.webContents.on('render-process-gone', (_e, details) => {
      this.options.log(`The GPU compute window stopped (${details.reason}).`);
      if (this.win === win) this.win = null;
      this.loaded = false;
      if (!win.isDestroyed()) win.destroy();
      if (this.closing || this.restarts >= MAX_RESTARTS) return;
      this.restarts++;
      setTimeout(() => {
        if (!this.closing) this.create();
      }, 1000);
    });
    void win.loadURL(this.options.page);
  }
}
