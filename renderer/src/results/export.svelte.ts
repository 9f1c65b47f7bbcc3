/**
 * @file State of the Export dialog: the format, the download (a browser download in web mode, the save dialog in the
 * desktop app), the folder (see [Note: export location] in ExportDialog.svelte), the running export and the files it
 * wrote (renderer).
 */
import type { EngineClient } from '../../../shared/client';
import type { OpArgs } from '../../../shared/contract';
import type { PreparedDownload } from '../../../shared/contract/downloads';
import type { EXPORT_FORMATS, ExportResult } from '../../../shared/contract/methods';
import type { LearnResult } from '../../../shared/contract/train';
import type { AppErrorData, Result } from '../../../shared/result';
import { valueOr } from '../app/errors.svelte';
import type { Platform } from '../app/platform';

/** An export format. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The default export folder of a run: `export-<format>` next to the run. */
export function defaultExportFolder(outDir: string, format: ExportFormat): string {
  const sep = outDir.includes('\\') && !outDir.includes('/') ? '\\' : '/';
  return `${outDir}${sep}export-${format}`;
}

/** One Export dialog's state. */
export class ExportController {
  format = $state<ExportFormat>('context');
  folder = $state('');
  /** Whether the user typed or chose a folder (then the format no longer moves it). */
  edited = $state(false);
  phase = $state('');
  busy = $state(false);
  done = $state<ExportResult | null>(null);
  /** The last download prepared, and where the desktop app saved it (null in web mode or when cancelled). */
  prepared = $state<{ download: PreparedDownload; saved: string | null } | null>(null);
  /** Whether "Copy path" copied it. */
  copied = $state(false);
  /** Why the last export failed, in the engine's words: kept in the dialog (see [Note: errors stay on screen]). */
  error = $state<string | null>(null);
  private abort: AbortController | null = null;

  constructor(
    private readonly engine: EngineClient,
    private readonly platform: Platform,
  ) {}

  /** Follows the run and the format with the default folder until the user picks one. */
  suggestFolder(run: LearnResult): void {
    if (!this.edited) this.folder = defaultExportFolder(run.outDir, this.format);
  }

  /** The folder was typed. */
  typed(): void {
    this.edited = true;
  }

  /** The native folder dialog (desktop app). */
  async chooseFolder(): Promise<void> {
    const r = await this.platform.desktop<{ paths: string[] }>('openFolderDialog', { title: 'Export to folder' });
    const picked = r && valueOr(r)?.paths[0];
    if (picked) {
      this.folder = picked;
      this.edited = true;
    }
  }

  /** Writes the export of `run` in the chosen format into the chosen folder. */
  async run(run: LearnResult): Promise<void> {
    this.busy = true;
    this.done = null;
    this.prepared = null;
    this.error = null;
    this.abort = new AbortController();
    try {
      const r = await this.engine.call(
        'exportRun',
        { run: run.outDir, format: this.format, out: this.folder.trim(), model: run.model.dir },
        {
          onProgress: (p) => (this.phase = p.kind === 'phase' ? p.message : `${p.done} / ${p.total} images`),
          signal: this.abort.signal,
        },
      );
      if (r.ok) this.done = r.value;
      else this.failed(r.error);
    } finally {
      this.busy = false;
      this.phase = '';
      this.abort = null;
    }
  }

  /**
   * Exports `run` in the chosen format as one file and hands it to the user (see `Platform.saveDownload`): several
   * files come as one zip named after the project and the run.
   */
  async download(run: LearnResult): Promise<void> {
    this.busy = true;
    this.done = null;
    this.prepared = null;
    this.error = null;
    this.copied = false;
    this.abort = new AbortController();
    try {
      const r = await prepareAndSave(
        this.engine,
        this.platform,
        { kind: 'run', run: run.outDir, format: this.format, model: run.model.dir },
        (text) => (this.phase = text),
        this.abort.signal,
      );
      if (r.ok) this.prepared = r.value;
      else this.failed(r.error);
    } finally {
      this.busy = false;
      this.phase = '';
      this.abort = null;
    }
  }

  /** Keeps a failure in the dialog; a cancel (the dialog was closed) says nothing. */
  private failed(error: AppErrorData): void {
    this.error = error.code === 'cancelled' ? null : error.message;
  }

  /** Copies the prepared file's path on the engine's disk ("copy path"). */
  async copyPath(): Promise<void> {
    const path = this.prepared?.download.path;
    if (!path) return;
    this.copied = await copyText(path);
  }

  /** Reveals the first written file in the OS file manager (desktop app). */
  async showInFolder(): Promise<void> {
    const first = this.done?.files[0];
    if (first) await this.platform.desktop('showItemInFolder', { path: first });
  }

  /** Cancels a running export (the dialog was closed). */
  cancel(): void {
    this.abort?.abort();
  }
}

/** Puts `text` on the clipboard; false where the page may not (the path stays on screen to select). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Prepares a download (`prepareDownload`) and hands it to the user; resolves with it and where the desktop app saved
 * it, or with the error (the caller shows it where the user asked: see [Note: errors stay on screen]).
 */
export async function prepareAndSave(
  engine: EngineClient,
  platform: Platform,
  args: OpArgs<'prepareDownload'>,
  onPhase: (text: string) => void,
  signal?: AbortSignal,
): Promise<Result<{ download: PreparedDownload; saved: string | null }>> {
  const d = await engine.call('prepareDownload', args, {
    onProgress: (p) => onPhase(p.kind === 'phase' ? p.message : `${p.done} / ${p.total} images`),
    ...(signal ? { signal } : {}),
  });
  if (!d.ok) return d;
  const saved = await platform.saveDownload(d.value);
  return saved.ok ? { ok: true, value: { download: d.value, saved: saved.value.saved } } : saved;
}
