/**
 * @file State of the Projects screen and of the open project: the list with its run facts, recently opened projects,
 * create, open, rename, delete (renderer).
 */
import type { EngineClient } from '../../../shared/client';
import type { ClassInfo, ProjectDetail, ProjectSummary, SampleDataset } from '../../../shared/contract';
import { projectName, sameProjectName } from '../../../shared/contract/projects';
import { toasts, valueOr } from '../app/errors.svelte';
import { valueError } from '../app/field-errors';
import type { Platform } from '../app/platform';
import { prepareAndSave } from '../results/export.svelte';

const RECENT_KEY = 'coop-studio-recent-projects';
/** How many recently opened projects the sidebar offers. */
export const RECENT_COUNT = 5;

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

/** Called with the project each time one is opened or reloaded; `open` waits for a returned promise. */
export type OpenListener = (project: ProjectDetail) => void | Promise<void>;

/** The projects list and the open project (other screens read `current` and listen to `onOpen`). */
export class ProjectsController {
  list = $state<ProjectSummary[]>([]);
  loaded = $state(false);
  current = $state<ProjectDetail | null>(null);
  /** Ids of the projects opened last, most recent first (this browser profile). */
  openedIds = $state<number[]>(recentIds());
  /** The New project form, and what is wrong with its name (shown next to the field). */
  draftName = $state('');
  creating = $state(false);
  createError = $state<string | null>(null);
  /** The project the Rename dialog is open for, the name typed there and what is wrong with it. */
  toRename = $state<ProjectSummary | null>(null);
  newName = $state('');
  renameError = $state<string | null>(null);
  /** The sample datasets that ship with the app (the first screen offers them). */
  samples = $state<SampleDataset[]>([]);
  /** The project the Delete dialog asks about. */
  toDelete = $state<ProjectSummary | null>(null);
  /** The project being exported, and the last project export (its file's path, to copy). */
  exporting = $state<number | null>(null);
  exported = $state<{ projectId: number; fileName: string; path: string; saved: string | null } | null>(null);
  private readonly openListeners: OpenListener[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly platform: Platform,
  ) {}

  /** Exports a project with its images as one .coopproj file, handed to the user as a download (or save dialog). */
  async exportProject(p: ProjectSummary): Promise<void> {
    this.exporting = p.id;
    try {
      const r = await prepareAndSave(this.engine, this.platform, { kind: 'project', projectId: p.id }, () => undefined);
      const d = valueOr(r);
      if (!d) return;
      this.exported = { projectId: p.id, fileName: d.download.fileName, path: d.download.path, saved: d.saved };
      if (this.platform.transport !== 'electron' || d.saved)
        toasts.push(
          'info',
          'Project exported',
          `${d.download.fileName}: ${d.saved ?? "see your browser's downloads"}.`,
          6000,
        );
    } finally {
      this.exporting = null;
    }
  }

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

  /**
   * What is wrong with `name` for a new project (or for project `exceptId` renamed), in plain words; null when it is
   * fine. The rules: the contract's `projectName`, and no other project with the same name (`sameProjectName`).
   */
  nameProblem(name: string, exceptId?: number): string | null {
    const invalid = valueError(projectName, name, 'The project name');
    if (invalid) return invalid;
    const taken = this.list.find((p) => p.id !== exceptId && sameProjectName(p.name, name));
    return taken ? `A project called "${taken.name}" already exists: choose another name.` : null;
  }

  /** `base`, or `base 2`, `base 3`, ... : the first name no project has. */
  freeName(base: string): string {
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base} ${n}`;
      if (!this.list.some((p) => sameProjectName(p.name, name))) return name;
    }
  }

  /** Loads the bundled sample datasets. */
  async loadSamples(): Promise<void> {
    const v = valueOr(await this.engine.call('sampleList', {}));
    if (v) this.samples = v.samples;
  }

  async load(): Promise<void> {
    const v = valueOr(await this.engine.call('projectList', {}));
    if (v) this.list = v.projects;
    this.loaded = true;
  }

  /**
   * Per project: its runs, the latest, and its best run's accuracy and model (the folder people know it by, e.g.
   * demo-clip), as the project summaries say them.
   */
  get runFacts(): Record<number, RunFacts> {
    return Object.fromEntries(
      this.list.map((p) => [
        p.id,
        {
          runs: p.runCount,
          lastRunAt: p.lastRunAt,
          model: p.bestRun ? (p.bestRun.modelDir?.split(/[\\/]/).filter(Boolean).pop() ?? p.bestRun.modelId) : null,
          best: p.bestRun?.testAccuracy ?? null,
        },
      ]),
    );
  }

  /** Creates a project named `name` and opens it; returns whether it worked. */
  async create(name: string): Promise<boolean> {
    const p = valueOr(await this.engine.call('projectCreate', { name }));
    if (!p) return false;
    await this.load();
    await this.open(p.id);
    return true;
  }

  /** The New project form: creates the project named in {@link draftName}; returns whether it worked. */
  async submitCreate(): Promise<boolean> {
    const name = this.draftName.trim();
    this.createError = this.nameProblem(name);
    if (this.createError) return false;
    this.creating = true;
    try {
      if (!(await this.create(name))) return false;
      this.draftName = '';
      return true;
    } finally {
      this.creating = false;
    }
  }

  async open(id: number): Promise<void> {
    const d = valueOr(await this.engine.call('projectShow', { projectId: id }));
    if (!d) return;
    this.current = d;
    this.openedIds = [id, ...this.openedIds.filter((x) => x !== id)].slice(0, 20);
    localStorage.setItem(RECENT_KEY, JSON.stringify(this.openedIds));
    await Promise.all(this.openListeners.map((listener) => listener(d)));
  }

  /** Calls `listener` with the project each time one is opened or reloaded. */
  onOpen(listener: OpenListener): void {
    this.openListeners.push(listener);
  }

  /** Reloads the open project (after an import or a class edit) and the list. */
  async refresh(): Promise<void> {
    if (this.current) await this.open(this.current.id);
    await this.load();
  }

  /** The open project's classes, and what Undo would undo, as the engine returned them after an edit. */
  setClasses(classes: ClassInfo[], undo: string | null): void {
    if (this.current) this.current = { ...this.current, classList: classes, undo };
  }

  /** Renames a project; returns whether it worked. */
  async rename(id: number, name: string): Promise<boolean> {
    const v = valueOr(await this.engine.call('projectRename', { projectId: id, name }));
    if (!v) return false;
    if (this.current?.id === id) this.current = { ...this.current, name: v.name, updatedAt: v.updatedAt };
    await this.load();
    return true;
  }

  /** Opens the Rename dialog for `p`. */
  startRename(p: ProjectSummary): void {
    this.newName = p.name;
    this.renameError = null;
    this.toRename = p;
  }

  /** The Rename dialog's Save: renames (unless the name is unchanged) and closes the dialog when that worked. */
  async submitRename(): Promise<void> {
    const p = this.toRename;
    const name = this.newName.trim();
    if (!p) return;
    this.renameError = this.nameProblem(name, p.id);
    if (this.renameError) return;
    if (name === p.name || (await this.rename(p.id, name))) this.toRename = null;
  }

  async remove(id: number): Promise<void> {
    const v = valueOr(await this.engine.call('projectDelete', { projectId: id }));
    if (!v) return;
    if (this.current?.id === id) this.current = null;
    this.openedIds = this.openedIds.filter((x) => x !== id);
    localStorage.setItem(RECENT_KEY, JSON.stringify(this.openedIds));
    await this.load();
  }

  /** The Delete dialog's confirmation: closes it and deletes the project it asked about. */
  async confirmDelete(): Promise<void> {
    const p = this.toDelete;
    this.toDelete = null;
    if (p) await this.remove(p.id);
  }
}
