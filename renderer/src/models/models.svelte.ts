/**
 * @file State of the model manager screen: installed models, the catalogue, downloads with progress and cancel
 * (renderer).
 */
import type { DownloadProgress, ModelVariant, ModelsListing } from '../../../shared/contract';
import { engine } from '../app/client';
import { toasts, valueOr } from '../app/errors.svelte';

class ModelsController {
  listing = $state<ModelsListing | null>(null);
  /** Running downloads by `repo:variant`. */
  downloads = $state<Record<string, DownloadProgress>>({});
  private aborts = new Map<string, AbortController>();

  async load(): Promise<void> {
    const v = valueOr(await engine.call('modelsList', {}));
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
        await engine.call(
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

  async importFolder(path: string): Promise<void> {
    const m = valueOr(await engine.call('modelsImport', { path }));
    if (m) toasts.push('info', 'Model imported', `${m.id} is ready to use.`, 5000);
    await this.load();
  }

  async remove(id: string): Promise<void> {
    valueOr(await engine.call('modelsRemove', { id }));
    await this.load();
  }

  async activate(id: string): Promise<void> {
    valueOr(await engine.call('modelsSetActive', { id }));
    await this.load();
  }
}

/** The shared model manager state. */
export const models = new ModelsController();
