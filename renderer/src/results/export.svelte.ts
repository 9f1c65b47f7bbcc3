/**
 * @file State of the Export dialog: the format, the folder (see [Note: export location] in ExportDialog.svelte), the
 * running export and the files it wrote (renderer).
 */
import type { EngineClient } from '../../../shared/client';
import type { EXPORT_FORMATS, ExportResult } from '../../../shared/contract/methods';
import type { LearnResult } from '../../../shared/contract/train';
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
    this.abort = new AbortController();
    try {
      const v = valueOr(
        await this.engine.call(
          'exportRun',
          { run: run.outDir, format: this.format, out: this.folder.trim(), model: run.model.dir },
          {
            onProgress: (p) => (this.phase = p.kind === 'phase' ? p.message : `${p.done} / ${p.total} images`),
            signal: this.abort.signal,
          },
        ),
      );
      if (v) this.done = v;
    } finally {
      this.busy = false;
      this.phase = '';
      this.abort = null;
    }
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
