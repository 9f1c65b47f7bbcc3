/**
 * @file State of the projects list and of the open project: classes, images, imports, class edits (renderer).
 */
import type {
  ClassEdit,
  ClassInfo,
  ImageInfo,
  ImportProgress,
  ImportReport,
  ProjectDetail,
  ProjectSummary,
} from '../../../shared/contract';
import { engine } from '../app/client';
import { showError, toasts, valueOr } from '../app/errors.svelte';
import { datasetRoot, filesFromDrop, uploadFiles, type PickedFile, type UploadProgress } from '../dataset/upload';

const RECENT_KEY = 'coop-studio-recent-projects';
/** How many recently opened projects the sidebar offers. */
export const RECENT_COUNT = 5;
/** Images per class shown in a collapsed class's strip. */
const STRIP_IMAGES = 12;

function recentIds(): number[] {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
  } catch {
    return [];
  }
}

/** What the projects list shows about a project's runs. */
export interface RunFacts {
  runs: number;
  lastRunAt: number | null;
  model: string | null;
  /** Best test accuracy over the finished runs. */
  best: number | null;
}

class ProjectsController {
  list = $state<ProjectSummary[]>([]);
  loaded = $state(false);
  current = $state<ProjectDetail | null>(null);
  images = $state<Record<number, ImageInfo[]>>({});
  upload = $state<UploadProgress | null>(null);
  importing = $state<ImportProgress | null>(null);
  lastImport = $state<ImportReport | null>(null);
  /** Ids of the projects opened last, most recent first (this browser profile). */
  openedIds = $state<number[]>(recentIds());
  /** Per project: its latest run and the best test accuracy of its finished runs (filled in after `load`). */
  runFacts = $state<Record<number, RunFacts>>({});
  /** Bumped whenever the open project's images change, so galleries drop cached pages. */
  imagesVersion = $state(0);
  private abort: AbortController | null = null;
  private openListeners: ((d: ProjectDetail) => void)[] = [];

  /** Projects, most recently changed first. */
  get recent(): ProjectSummary[] {
    return [...this.list].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** The projects opened last that still exist, most recent first. */
  get recentlyOpened(): ProjectSummary[] {
    return this.openedIds
      .map((id) => this.list.find((p) => p.id === id))
      .filter((p): p is ProjectSummary => p !== undefined)
      .slice(0, RECENT_COUNT);
  }

  get busy(): boolean {
    return this.upload !== null || this.importing !== null;
  }

  async load(): Promise<void> {
    const v = valueOr(await engine.call('projectList', {}));
    if (v) this.list = v.projects;
    this.loaded = true;
    void this.loadRunFacts();
  }

  /** Fills {@link runFacts} from the stored runs; failures leave a project's facts out (the list still works). */
  private async loadRunFacts(): Promise<void> {
    const facts = await Promise.all(
      this.list.map(async (p): Promise<[number, RunFacts] | null> => {
        const r = await engine.call('projectRuns', { projectId: p.id });
        if (!r.ok) return null;
        const runs = r.value.runs;
        const accs = runs.flatMap((x) => (x.testAccuracy !== null ? [x.testAccuracy] : []));
        // Runs record the model by content id; its folder name is what people know it by (demo-clip, ...).
        const latest = runs.find((x) => x.status === 'done');
        const detail = latest ? await engine.call('projectRun', { runId: latest.id }) : null;
        const folder = detail?.ok ? detail.value.result?.model.dir.split(/[\\/]/).filter(Boolean).pop() : undefined;
        return [
          p.id,
          {
            runs: runs.length,
            lastRunAt: runs[0]?.createdAt ?? null,
            model: folder ?? runs[0]?.modelId ?? null,
            best: accs.length ? Math.max(...accs) : null,
          },
        ];
      }),
    );
    this.runFacts = Object.fromEntries(facts.filter((f) => f !== null));
  }

  async create(name: string): Promise<boolean> {
    const p = valueOr(await engine.call('projectCreate', { name }));
    if (!p) return false;
    await this.load();
    await this.open(p.id);
    return true;
  }

  async open(id: number): Promise<void> {
    const d = valueOr(await engine.call('projectShow', { projectId: id }));
    if (!d) return;
    this.current = d;
    this.images = {};
    this.imagesVersion++;
    for (const listener of this.openListeners) listener(d);
    this.openedIds = [id, ...this.openedIds.filter((x) => x !== id)].slice(0, 20);
    localStorage.setItem(RECENT_KEY, JSON.stringify(this.openedIds));
    await Promise.all(d.classList.map((c) => this.loadImages(c.id)));
  }

  /** Calls `listener` with the project each time one is opened or reloaded. */
  onOpen(listener: (d: ProjectDetail) => void): void {
    this.openListeners.push(listener);
  }

  /** Renames a project; returns whether it worked. */
  async rename(id: number, name: string): Promise<boolean> {
    const v = valueOr(await engine.call('projectRename', { projectId: id, name }));
    if (!v) return false;
    if (this.current?.id === id) this.current = { ...this.current, name: v.name, updatedAt: v.updatedAt };
    await this.load();
    return true;
  }

  /** Every image of the open project by id and by path (for showing a run's predictions with thumbnails). */
  async imageIndex(): Promise<{ byId: Map<number, ImageInfo>; byPath: Map<string, ImageInfo> }> {
    // Built once and replaced whole, never mutated while shown: plain Maps need no reactivity.
    /* eslint-disable svelte/prefer-svelte-reactivity */
    const byId = new Map<number, ImageInfo>();
    const byPath = new Map<string, ImageInfo>();
    /* eslint-enable svelte/prefer-svelte-reactivity */
    if (this.current) {
      const v = valueOr(await engine.call('projectImages', { projectId: this.current.id, limit: 100_000 }));
      for (const img of v?.images ?? []) {
        byId.set(img.id, img);
        byPath.set(img.path, img);
      }
    }
    return { byId, byPath };
  }

  /** One page of a class's images (the virtualised gallery's loader). */
  async pageImages(classId: number, offset: number, limit: number): Promise<ImageInfo[]> {
    if (!this.current) return [];
    const v = valueOr(await engine.call('projectImages', { projectId: this.current.id, classId, limit, offset }));
    return v?.images ?? [];
  }

  async refresh(): Promise<void> {
    if (this.current) await this.open(this.current.id);
    await this.load();
  }

  async remove(id: number): Promise<void> {
    const v = valueOr(await engine.call('projectDelete', { projectId: id }));
    if (!v) return;
    if (this.current?.id === id) this.current = null;
    this.openedIds = this.openedIds.filter((x) => x !== id);
    localStorage.setItem(RECENT_KEY, JSON.stringify(this.openedIds));
    await this.load();
  }

  async loadImages(classId: number, limit = STRIP_IMAGES): Promise<void> {
    if (!this.current) return;
    const v = valueOr(await engine.call('projectImages', { projectId: this.current.id, classId, limit }));
    if (v) this.images[classId] = v.images;
  }

  /** Imports folders/files that already are on the engine's disk (desktop paths or an upload session). */
  async importSources(sources: string[]): Promise<void> {
    const p = this.current;
    if (!p || sources.length === 0) return;
    this.abort = new AbortController();
    this.importing = { scanned: 0, imported: 0, skipped: 0, failed: 0, duplicates: 0, total: 0 };
    try {
      const r = await engine.call(
        'projectImportData',
        { projectId: p.id, sources },
        { onProgress: (e) => (this.importing = e), signal: this.abort.signal },
      );
      const report = valueOr(r);
      if (!report) return;
      this.lastImport = report;
      toasts.push(
        'info',
        'Import finished',
        `${report.imported} images imported${report.classesCreated.length ? ` into ${report.classesCreated.length} classes` : ''}.`,
        5000,
      );
      await this.refresh();
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

  /** Handles a drop in either mode. */
  async drop(dt: DataTransfer): Promise<void> {
    const api = window.coopStudio;
    if (api) {
      await this.importSources(Array.from(dt.files, (f) => api.pathForFile(f)).filter((p) => p.length > 0));
      return;
    }
    await this.uploadAndImport(await filesFromDrop(dt));
  }

  cancel(): void {
    this.abort?.abort();
  }

  private applyClasses(classes: ClassInfo[]): void {
    if (this.current) this.current = { ...this.current, classList: classes };
  }

  async edit(edit: ClassEdit): Promise<boolean> {
    if (!this.current) return false;
    const v = valueOr(await engine.call('projectEditClasses', { projectId: this.current.id, edit }));
    if (!v) return false;
    this.applyClasses(v.classes);
    if (edit.kind !== 'rename' && edit.kind !== 'colour') await this.refresh();
    return true;
  }

  async undo(): Promise<void> {
    if (!this.current) return;
    const v = valueOr(await engine.call('projectUndo', { projectId: this.current.id }));
    if (!v) return;
    toasts.push('info', 'Undone', v.undone ? `Undid: ${v.undone}.` : 'Nothing to undo.', 4000);
    await this.refresh();
  }
}

/** The shared projects state. */
export const projects = new ProjectsController();
