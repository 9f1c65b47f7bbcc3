/**
 * @file An in-memory project behind the fake engine's project operations (show, list, images, class edits with undo,
 * runs), so screens can be tested the way a user drives them (renderer tests only).
 */
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
      splits: { auto: this.images.length, train: 0, val: 0, test: 0 },
      missing: 0,
      runs: this.runs,
      jobs: [],
    };
  }

  /** Applies one class edit as the engine's store does (counts kept in step), recording it for undo. */
  edit(edit: ClassEdit): void {
    const before: Snapshot = { classes: structuredClone(this.classes), images: structuredClone(this.images), what: '' };
    const cls = (id: number) => {
      const c = this.classes.find((x) => x.id === id);
      if (!c) throw new AppError('not_found', `Class ${id} does not exist.`);
      return c;
    };
    if (edit.kind === 'rename') {
      const c = cls(edit.classId);
      before.what = `rename ${c.prompt} to ${edit.prompt}`;
      c.prompt = edit.prompt;
    } else if (edit.kind === 'merge') {
      const into = cls(edit.into);
      before.what = `merge into ${into.prompt}`;
      for (const id of edit.from) {
        const from = cls(id);
        for (const img of this.images) if (img.classId === id) img.classId = into.id;
        into.images += from.images;
        into.excluded += from.excluded;
        this.classes = this.classes.filter((x) => x.id !== id);
      }
    } else if (edit.kind === 'delete') {
      const c = cls(edit.classId);
      before.what = `delete ${c.prompt}`;
      this.classes = this.classes.filter((x) => x.id !== c.id);
      this.images = this.images.filter((img) => img.classId !== c.id);
    } else if (edit.kind === 'exclude') {
      before.what = `exclude ${edit.imageIds.length} image(s)`;
      for (const img of this.images) if (edit.imageIds.includes(img.id)) img.excluded = edit.excluded;
      for (const c of this.classes)
        c.excluded = this.images.filter((img) => img.classId === c.id && img.excluded).length;
    } else throw new AppError('unsupported', `The fake project does not do "${edit.kind}" edits.`);
    this.undoStack.push(before);
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
        return { classes: this.classes.map((c) => ({ ...c })) };
      },
      projectUndo: async ({ projectId }) => {
        mine(projectId);
        return { undone: this.undo(), classes: this.classes.map((c) => ({ ...c })) };
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
