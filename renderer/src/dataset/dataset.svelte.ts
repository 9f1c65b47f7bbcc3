/**
 * @file State of the Dataset screen: imports (desktop paths or web uploads) with progress and their report, drops on
 * a class, and each class's images (renderer). Class edits are the class editor's (class-editor.svelte.ts).
 */
import type { EngineClient } from '../../../shared/client';
import type { ClassInfo, ImageInfo, ImportProgress, ImportReport, ProjectDetail } from '../../../shared/contract';
import type { AppErrorData, Result } from '../../../shared/result';
import { showError, toasts, valueOr } from '../app/errors.svelte';
import type { Platform } from '../app/platform';
import type { ProjectsController } from '../projects/projects.svelte';
import type { ClassEditor } from './class-editor.svelte';
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
  /**
   * Why the last upload or import failed, in plain words, shown in the drop card until the next one (see [Note: errors
   * stay on screen] in learn/learn.svelte.ts).
   */
  importError = $state<string | null>(null);
  /** The class whose images are shown in the gallery (one at a time). */
  expanded = $state<number | null>(null);
  private abort: AbortController | null = null;

  constructor(
    private readonly engine: EngineClient,
    private readonly platform: Platform,
    private readonly projects: ProjectsController,
    private readonly classes: ClassEditor,
  ) {
    projects.onOpen((p) => this.reload(p));
  }

  get busy(): boolean {
    return this.upload !== null || this.importing !== null;
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

  /**
   * Imports folders/files that already are on the engine's disk (desktop paths or an upload session); returns the
   * report. An import that brought nothing in is a warning, not a success (its report's `warning` says why).
   */
  async importSources(sources: string[]): Promise<ImportReport | undefined> {
    if (sources.length === 0) return undefined;
    return this.runImport((projectId, options) =>
      this.engine.call('projectImportData', { projectId, sources }, options),
    );
  }

  /** Imports a sample dataset that ships with the app, by its name (see [Note: samples by name]). */
  async importSample(sample: string): Promise<void> {
    await this.runImport((projectId, options) => this.engine.call('sampleImport', { projectId, sample }, options));
  }

  /** Runs one import job on the open project with progress and Cancel, then reloads the project; its report. */
  private async runImport(
    call: (
      projectId: number,
      options: { onProgress: (e: ImportProgress) => void; signal: AbortSignal },
    ) => Promise<Result<ImportReport>>,
  ): Promise<ImportReport | undefined> {
    const p = this.projects.current;
    if (!p) return undefined;
    this.abort = new AbortController();
    this.importError = null;
    this.importing = { scanned: 0, imported: 0, skipped: 0, failed: 0, duplicates: 0, total: 0 };
    try {
      const r = await call(p.id, { onProgress: (e) => (this.importing = e), signal: this.abort.signal });
      if (!r.ok) {
        this.failed(r.error);
        return undefined;
      }
      const report = r.value;
      this.lastImport = report;
      if (report.warning) toasts.push('warning', 'Nothing was imported', report.warning.message, 10_000);
      else
        toasts.push(
          'info',
          'Import finished',
          `${report.imported} images imported${report.classesCreated.length ? ` into ${report.classesCreated.length} classes` : ''}.`,
          5000,
        );
      await this.projects.refresh();
      return report;
    } finally {
      this.importing = null;
      this.abort = null;
    }
  }

  /** Web mode: streams the files to the engine, then imports the uploaded folder. */
  async uploadAndImport(files: PickedFile[]): Promise<ImportReport | undefined> {
    if (files.length === 0) {
      this.importError =
        'No images were found in what you dropped: drop image files, folders of them, a .zip or a .csv.';
      return undefined;
    }
    this.abort = new AbortController();
    this.importError = null;
    this.upload = { done: 0, total: files.length, bytes: 0 };
    let folder: string | undefined;
    try {
      const r = await uploadFiles(files, (u) => (this.upload = u), this.abort.signal);
      if (r.ok) folder = r.value.folder;
      else this.failed(r.error);
    } finally {
      this.upload = null;
      this.abort = null;
    }
    return folder ? this.importSources([datasetRoot(folder, files)]) : undefined;
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

  /**
   * Files dropped on class `c` go into that class. In web mode they are uploaded into a folder named after the
   * class's folder, which the import files under that class; on the desktop the files are imported where they are,
   * then the images that came from them are moved into the class.
   */
  async dropOnClass(c: ClassInfo, dt: DataTransfer): Promise<void> {
    if (this.platform.transport === 'electron') {
      const paths = Array.from(dt.files, (f) => this.platform.pathForFile(f) ?? '').filter((p) => p.length > 0);
      if (!(await this.importSources(paths))) return;
      const p = this.projects.current;
      if (!p) return;
      const v = valueOr(await this.engine.call('projectImages', { projectId: p.id, limit: 100_000 }));
      const fromDrop = (v?.images ?? []).filter(
        (img) => img.classId !== c.id && paths.some((path) => img.origin === path || img.origin.startsWith(`${path}/`)),
      );
      await this.classes.move(
        fromDrop.map((img) => img.id),
        c.id,
      );
      return;
    }
    const files = await filesFromDrop(dt);
    const name = (path: string) => path.split('/').pop() ?? path;
    await this.uploadAndImport(files.map((f) => ({ file: f.file, path: `${c.folderName}/${name(f.path)}` })));
  }

  /** Keeps a failed upload or import on screen; a cancel is said once, as news. */
  private failed(error: AppErrorData): void {
    if (error.code === 'cancelled') {
      this.importError = null;
      showError(error);
    } else this.importError = error.message;
  }

  /** Cancels the running upload or import. */
  cancel(): void {
    this.abort?.abort();
  }

  /** Shows a class's images in the gallery, or hides them. */
  toggleExpanded(classId: number): void {
    this.expanded = this.expanded === classId ? null : classId;
  }
}
