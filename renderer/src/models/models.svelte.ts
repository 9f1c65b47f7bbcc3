/**
 * @file State of the Models screen: installed models, the catalogue, downloads with progress and cancel, importing a
 * model folder (renderer).
 */
import type { EngineClient } from '../../../shared/client';
import type { DownloadProgress, ModelVariant, ModelsListing } from '../../../shared/contract';
import { toasts, valueOr } from '../app/errors.svelte';
import type { Platform } from '../app/platform';

/** The model manager. */
export class ModelsController {
  listing = $state<ModelsListing | null>(null);
  /** Running downloads by `repo:variant`. */
  downloads = $state<Record<string, DownloadProgress>>({});
  /** The variant chosen per catalogue entry (by repo). */
  variants = $state<Record<string, ModelVariant>>({});
  /** Web mode: the model folder on the engine's disk to import. */
  importPath = $state('');
  // Bookkeeping only, never rendered, so it needs no reactivity.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly aborts = new Map<string, AbortController>();

  constructor(
    private readonly engine: EngineClient,
    private readonly platform: Platform,
  ) {}

  async load(): Promise<void> {
    const v = valueOr(await this.engine.call('modelsList', {}));
    if (v) this.listing = v;
  }

  async download(repo: string, variant: ModelVariant): Promise<void> {
    const key = `${repo}:${variant}`;
    const abort = new AbortController();
    this.aborts.set(key, abort);
    this.downloads[key] = {
      phase: 'resolve',
      file: null,
      fileIndex: 0,
      fileCount: 0,
      fileBytes: 0,
      fileTotal: 0,
      bytes: 0,
      total: 0,
      bytesPerSecond: 0,
      etaSeconds: null,
    };
    try {
      const m = valueOr(
        await this.engine.call(
          'modelsDownload',
          { repo, variant },
          { onProgress: (p) => (this.downloads[key] = p), signal: abort.signal },
        ),
      );
      if (m) toasts.push('info', 'Model installed', `${m.id} is ready to use.`, 5000);
    } finally {
      this.aborts.delete(key);
      delete this.downloads[key];
      await this.load();
    }
  }

  cancel(key: string): void {
    this.aborts.get(key)?.abort();
  }

  /** "Import folder": the native folder dialog in the desktop app, the typed path in web mode. */
  async chooseImport(): Promise<void> {
    if (this.platform.transport === 'electron') {
      const r = await this.platform.desktop<{ paths: string[] }>('openFolderDialog', {
        title: 'Choose a CLIP model folder',
      });
      const v = r && valueOr(r);
      if (v?.paths[0]) await this.importFolder(v.paths[0]);
    } else if (this.importPath.trim()) await this.importFolder(this.importPath.trim());
  }

  async importFolder(path: string): Promise<void> {
    const m = valueOr(await this.engine.call('modelsImport', { path }));
    if (m) toasts.push('info', 'Model imported', `${m.id} is ready to use.`, 5000);
    await this.load();
  }

  async remove(id: string): Promise<void> {
    valueOr(await this.engine.call('modelsRemove', { id }));
    await this.load();
  }

  async activate(id: string): Promise<void> {
    valueOr(await this.engine.call('modelsSetActive', { id }));
    await this.load();
  }
}
