/**
 * @file State of the Dataset screen: imports (desktop paths or web uploads) with progress, the class editor (rename,
 * merge, delete, exclude images, undo), and each class's images (renderer).
 */
import type { EngineClient } from '../../../shared/client';
import type {
  ClassEdit,
  ClassInfo,
  ImageInfo,
  ImportProgress,
  ImportReport,
  ProjectDetail,
} from '../../../shared/contract';
import type { Result } from '../../../shared/result';
import { showError, toasts, valueOr } from '../app/errors.svelte';
import type { Platform } from '../app/platform';
import type { ProjectsController } from '../projects/projects.svelte';
import { datasetRoot, filesFromDrop, uploadFiles, type PickedFile, type UploadProgress } from './upload';

/** Images per class shown in a collapsed class's strip. */
const STRIP_IMAGES = 12;

/** The open project's dataset: imports and class edits go through here. */
export class DatasetController {
  /** The first images of each class (the collapsed strips). */
  images = $state<Record<number, ImageInfo[]>>({});
  /** Bumped whenever the open project's images change, so galleries drop cached pages. */
  imagesVersion = $state(0);
  upload = $state<UploadProgress | null>(null);
  importing = $state<ImportProgress | null>(null);
  lastImport = $state<ImportReport | null>(null);
  /** The class whose images are shown in the gallery (one at a time). */
  expanded = $state<number | null>(null);
  /** Per class: the class chosen in its "Merge into" list (a class id as text, '' for none). */
  mergeInto = $state<Record<number, string>>({});
  private abort: AbortController | null = null;

  constructor(
    private readonly engine: EngineClient,
    private readonly platform: Platform,
    private readonly projects: ProjectsController,
  ) {
    projects.onOpen((p) => this.reload(p));
  }

  get busy(): boolean {
    return this.upload !== null || this.importing !== null;
  }

  /** Classes with fewer usable images than `shots`: all their images would train, none would test. */
  smallClasses(shots: number): ClassInfo[] {
    return (this.projects.current?.classList ?? []).filter((c) => c.images - c.excluded < shots);
  }

  private async reload(p: ProjectDetail): Promise<void> {
    this.images = {};
    this.imagesVersion++;
    await Promise.all(p.classList.map((c) => this.loadStrip(c.id)));
  }

  private async loadStrip(classId: number): Promise<void> {
    const p = this.projects.current;
    if (!p) return;
    const v = valueOr(await this.engine.call('projectImages', { projectId: p.id, classId, limit: STRIP_IMAGES }));
    if (v) this.images[classId] = v.images;
  }

  /** One page of a class's images (the virtualised gallery's loader). */
  async pageImages(classId: number, offset: number, limit: number): Promise<ImageInfo[]> {
    const p = this.projects.current;
    if (!p) return [];
    const v = valueOr(await this.engine.call('projectImages', { projectId: p.id, classId, limit, offset }));
    return v?.images ?? [];
  }

  /**
   * "Choose folder": the native folder dialog in the desktop app (then imports it); false in web mode, where the
   * screen opens its folder input instead.
   */
  async chooseFolder(): Promise<boolean> {
    if (this.platform.transport !== 'electron') return false;
    const r = await this.platform.desktop<{ paths: string[] }>('openFolderDialog', {
      title: 'Choose a dataset folder',
    });
    const v = r && valueOr(r);
    if (v) await this.importSources(v.paths);
    return true;
  }

  /** Imports folders/files that already are on the engine's disk (desktop paths or an upload session). */
  async importSources(sources: string[]): Promise<void> {
    if (sources.length === 0) return;
    await this.runImport((projectId, options) =>
      this.engine.call('projectImportData', { projectId, sources }, options),
    );
  }

  /** Imports a sample dataset that ships with the app, by its name (see [Note: samples by name]). */
  async importSample(sample: string): Promise<void> {
    await this.runImport((projectId, options) => this.engine.call('sampleImport', { projectId, sample }, options));
  }

  /** Runs one import job on the open project with progress and Cancel, then reloads the project. */
  private async runImport(
    call: (
      projectId: number,
      options: { onProgress: (e: ImportProgress) => void; signal: AbortSignal },
    ) => Promise<Result<ImportReport>>,
  ): Promise<void> {
    const p = this.projects.current;
    if (!p) return;
    this.abort = new AbortController();
    this.importing = { scanned: 0, imported: 0, skipped: 0, failed: 0, duplicates: 0, total: 0 };
    try {
      const r = await call(p.id, { onProgress: (e) => (this.importing = e), signal: this.abort.signal });
      const report = valueOr(r);
      if (!report) return;
      this.lastImport = report;
      toasts.push(
        'info',
        'Import finished',
        `${report.imported} images imported${report.classesCreated.length ? ` into ${report.classesCreated.length} classes` : ''}.`,
        5000,
      );
      await this.projects.refresh();
    } finally {
      this.importing = null;
      this.abort = null;
    }
  }

  /** Web mode: streams the files to the engine, then imports the uploaded folder. */
  async uploadAndImport(files: PickedFile[]): Promise<void> {
    if (files.length === 0) {
      showError({ code: 'invalid_data', message: 'No images were found in what you dropped.' });
      return;
    }
    this.abort = new AbortController();
    this.upload = { done: 0, total: files.length, bytes: 0 };
    let folder: string | undefined;
    try {
      const r = await uploadFiles(files, (u) => (this.upload = u), this.abort.signal);
      folder = valueOr(r)?.folder;
    } finally {
      this.upload = null;
      this.abort = null;
    }
    if (folder) await this.importSources([datasetRoot(folder, files)]);
  }

  /** Handles a drop: real paths in the desktop app, an upload in web mode. */
  async drop(dt: DataTransfer): Promise<void> {
    if (this.platform.transport === 'electron') {
      const paths = Array.from(dt.files, (f) => this.platform.pathForFile(f) ?? '');
      await this.importSources(paths.filter((p) => p.length > 0));
      return;
    }
    await this.uploadAndImport(await filesFromDrop(dt));
  }

  /** Cancels the running upload or import. */
  cancel(): void {
    this.abort?.abort();
  }

  /** Applies one class edit; returns whether it worked. */
  async edit(edit: ClassEdit): Promise<boolean> {
    const p = this.projects.current;
    if (!p) return false;
    const v = valueOr(await this.engine.call('projectEditClasses', { projectId: p.id, edit }));
    if (!v) return false;
    this.projects.setClasses(v.classes);
    if (edit.kind !== 'rename' && edit.kind !== 'colour') await this.projects.refresh();
    return true;
  }

  /** Renames a class's prompt text; blank or unchanged text changes nothing. */
  async renameClass(c: ClassInfo, value: string): Promise<void> {
    const prompt = value.trim();
    if (prompt && prompt !== c.prompt) await this.edit({ kind: 'rename', classId: c.id, prompt });
  }

  /** Merges a class into the one chosen in its "Merge into" list. */
  async merge(c: ClassInfo): Promise<void> {
    const into = Number(this.mergeInto[c.id]);
    if (into) await this.edit({ kind: 'merge', from: [c.id], into });
  }

  /** Excludes an image from training and testing, or includes it again. */
  async toggleExcluded(img: ImageInfo): Promise<void> {
    await this.edit({ kind: 'exclude', imageIds: [img.id], excluded: !img.excluded });
  }

  /** Shows a class's images in the gallery, or hides them. */
  toggleExpanded(classId: number): void {
    this.expanded = this.expanded === classId ? null : classId;
  }

  /** Undoes the last class edit. */
  async undo(): Promise<void> {
    const p = this.projects.current;
    if (!p) return;
    const v = valueOr(await this.engine.call('projectUndo', { projectId: p.id }));
    if (!v) return;
    toasts.push('info', 'Undone', v.undone ? `Undid: ${v.undone}.` : 'Nothing to undo.', 4000);
    await this.projects.refresh();
  }
}
