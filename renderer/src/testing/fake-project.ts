/**
 * @file An in-memory project behind the fake engine's project operations (show, list, images, class edits with undo,
 * runs), so screens can be tested the way a user drives them (renderer tests only).
 */
import { count as counted } from '../../../shared/words';
import type { ClassEdit, ClassInfo, Handlers, ImageInfo, ProjectDetail, RunSummary } from '../../../shared/contract';
import { AppError } from '../../../shared/result';

/** A class of the fake project: its folder, prompt text (the folder name when absent) and image count. */
export interface FakeClass {
  folderName: string;
  prompt?: string;
  images: number;
}

interface Snapshot {
  classes: ClassInfo[];
  images: ImageInfo[];
  what: string;
}

const COLOURS = ['#3a6ff7', '#e08a2b', '#2f9e6b', '#d64545', '#8e5bd6'];

/** One project held in memory; `handlers` answers the engine's project operations over it. */
export class FakeProject {
  readonly id: number;
  name: string;
  classes: ClassInfo[];
  images: ImageInfo[] = [];
  runs: RunSummary[] = [];
  private readonly undoStack: Snapshot[] = [];

  constructor(name: string, classes: FakeClass[], id = 1) {
    this.id = id;
    this.name = name;
    this.classes = classes.map((c, i) => ({
      id: i + 1,
      folderName: c.folderName,
      prompt: c.prompt ?? c.folderName,
      order: i,
      colour: COLOURS[i % COLOURS.length] ?? '#3a6ff7',
      images: c.images,
      excluded: 0,
    }));
    for (const c of this.classes)
      for (let k = 0; k < c.images; k++) this.images.push(fakeImage(this.images.length + 1, c.id, c.folderName));
  }

  /** The project as `projectShow` returns it. */
  detail(): ProjectDetail {
    const best = this.runs
      .filter((r) => r.status === 'done' && r.testAccuracy !== null)
      .reduce<RunSummary | null>((a, r) => (a && (a.testAccuracy ?? 0) >= (r.testAccuracy ?? 0) ? a : r), null);
    return {
      id: this.id,
      name: this.name,
      description: '',
      copyImages: false,
      classes: this.classes.length,
      images: this.images.length,
      createdAt: 0,
      updatedAt: 0,
      runCount: this.runs.length,
      lastRunAt: this.runs.length ? Math.max(...this.runs.map((r) => r.createdAt)) : null,
      bestRun: best && {
        runId: best.id,
        testAccuracy: best.testAccuracy ?? 0,
        method: best.method,
        shots: best.shots,
        seed: best.seed,
        createdAt: best.createdAt,
        modelId: best.modelId,
        modelDir: null,
      },
      classList: this.classes.map((c) => ({ ...c })),
      undo: this.nextUndo(),
      splits: { auto: this.images.length, train: 0, val: 0, test: 0 },
      missing: 0,
      runs: this.runs,
      jobs: [],
    };
  }

  /** Applies one class edit as the engine's store does (counts kept in step, labels in its words), recording it for undo. */
  edit(edit: ClassEdit): void {
    const before: Snapshot = { classes: structuredClone(this.classes), images: structuredClone(this.images), what: '' };
    const cls = (id: number) => {
      const c = this.classes.find((x) => x.id === id);
      if (!c) throw new AppError('not_found', `Class ${id} does not exist.`);
      return c;
    };
    const free = (name: string, except: number | null) => {
      const n = name.trim().toLowerCase();
      if (this.classes.some((c) => c.id !== except && c.prompt.trim().toLowerCase() === n))
        throw new AppError('conflict', `Another class is already called "${name.trim()}".`);
    };
    const count = () => {
      for (const c of this.classes) {
        c.images = this.images.filter((img) => img.classId === c.id).length;
        c.excluded = this.images.filter((img) => img.classId === c.id && img.excluded).length;
      }
    };
    const n = (k: number) => counted(k, 'image');
    if (edit.kind === 'rename') {
      const c = cls(edit.classId);
      free(edit.prompt, c.id);
      before.what = `rename class "${c.prompt}" to "${edit.prompt.trim()}"`;
      c.prompt = edit.prompt.trim();
    } else if (edit.kind === 'create') {
      const prompt = edit.prompt ?? edit.folderName;
      free(prompt, null);
      if (this.classes.some((c) => c.folderName === edit.folderName))
        throw new AppError('conflict', `A class with folder name "${edit.folderName}" already exists.`);
      before.what = `add class "${prompt}"`;
      const id = Math.max(0, ...this.classes.map((c) => c.id)) + 1;
      this.classes.push({
        id,
        folderName: edit.folderName,
        prompt,
        order: this.classes.length,
        colour: COLOURS[this.classes.length % COLOURS.length] ?? '#3a6ff7',
        images: 0,
        excluded: 0,
      });
    } else if (edit.kind === 'move') {
      const to = cls(edit.toClassId);
      before.what = `move ${n(edit.imageIds.length)} to "${to.prompt}"`;
      for (const img of this.images) if (edit.imageIds.includes(img.id)) img.classId = to.id;
      count();
    } else if (edit.kind === 'merge') {
      const into = cls(edit.into);
      before.what = `merge ${edit.from.map((id) => `"${cls(id).prompt}"`).join(', ')} into "${into.prompt}"`;
      for (const id of edit.from) {
        for (const img of this.images) if (img.classId === id) img.classId = into.id;
        this.classes = this.classes.filter((x) => x.id !== id);
      }
      count();
    } else if (edit.kind === 'delete') {
      const c = cls(edit.classId);
      before.what = `delete class "${c.prompt}"`;
      this.classes = this.classes.filter((x) => x.id !== c.id);
      for (const img of this.images) if (img.classId === c.id) img.classId = null;
    } else if (edit.kind === 'exclude') {
      before.what = `${edit.excluded ? 'exclude' : 'include'} ${n(edit.imageIds.length)}`;
      for (const img of this.images) if (edit.imageIds.includes(img.id)) img.excluded = edit.excluded;
      count();
    } else throw new AppError('unsupported', `The fake project does not do "${edit.kind}" edits.`);
    this.undoStack.push(before);
  }

  /** What Undo would undo (the engine's `undo`). */
  nextUndo(): string | null {
    return this.undoStack.at(-1)?.what ?? null;
  }

  /** Undoes the last edit; returns what it undid (null when there was none). */
  undo(): string | null {
    const last = this.undoStack.pop();
    if (!last) return null;
    this.classes = last.classes;
    this.images = last.images;
    return last.what;
  }

  /** The engine's project operations over this project. */
  handlers(): Partial<Handlers> {
    const mine = (projectId: number) => {
      if (projectId !== this.id) throw new AppError('not_found', `Project ${projectId} does not exist.`);
    };
    return {
      projectList: async () => ({ projects: [this.detail()] }),
      projectShow: async ({ projectId }) => (mine(projectId), this.detail()),
      projectRuns: async ({ projectId }) => (mine(projectId), { runs: this.runs }),
      projectImages: async ({ projectId, classId, limit, offset }) => {
        mine(projectId);
        const all = this.images.filter((img) => classId === undefined || img.classId === classId);
        return { images: all.slice(offset, offset + limit), total: all.length };
      },
      projectEditClasses: async ({ projectId, edit }) => {
        mine(projectId);
        this.edit(edit);
        return { classes: this.classes.map((c) => ({ ...c })), undo: this.nextUndo() };
      },
      projectUndo: async ({ projectId }) => {
        mine(projectId);
        const undone = this.undo();
        return { undone, classes: this.classes.map((c) => ({ ...c })), undo: this.nextUndo() };
      },
    };
  }
}

function fakeImage(id: number, classId: number, folder: string): ImageInfo {
  const sha256 = id.toString(16).padStart(64, '0');
  return {
    id,
    classId,
    path: `/data/${folder}/${id}.png`,
    origin: `/data/${folder}/${id}.png`,
    sha256,
    bytes: 1000,
    width: 64,
    height: 64,
    format: 'png',
    split: 'auto',
    excluded: false,
    missing: false,
    thumbnail: null,
  };
}
