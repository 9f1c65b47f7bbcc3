/**
 * @file The class editor of the Dataset screen: rename, add an empty class, move images between classes, exclude an
 * image from its preview, merge and delete after a confirmation, and an Undo that says what it undoes (renderer).
 *
 * [Note: class names] A class's name for people is its prompt text (see [Note: class display names] in
 * electron/engine/jobs/run-source.ts). Names are checked here before anything reaches the engine, so an empty name or
 * one another class already has (in any case) is refused next to its field in plain words; the engine refuses them
 * too. A new class gets a folder name made from its name, unique in the project.
 */
import type { EngineClient } from '../../../shared/client';
import type { ClassEdit, ClassInfo, ImageInfo } from '../../../shared/contract';
import { UPLOADS_FOLDER } from '../../../shared/files';
import { toasts, valueOr } from '../app/errors.svelte';
import type { ProjectsController } from '../projects/projects.svelte';

/** An edit that asks first (merge, delete), with the sentence the dialog asks. */
export interface PendingEdit {
  title: string;
  question: string;
  confirm: string;
  /** What the toast says once it is done. */
  done: string;
  edit: ClassEdit;
}

/**
 * An image's file name as the user knows it: the last part of where it came from (`origin`: the dropped file, or
 * `archive.zip:folder/a.png` for a zip entry), not of the copy the project keeps under its content hash.
 */
export function fileName(img: Pick<ImageInfo, 'path'> & Partial<Pick<ImageInfo, 'origin'>>): string {
  const from = img.origin || img.path;
  const last = from.split(/[\\/]/).pop() ?? from;
  const entry = /^[^:]*\.zip:(.+)$/i.exec(last);
  return entry?.[1] ?? last;
}

/**
 * Where an image came from, in the user's terms: its origin, less the engine's upload folder for a web upload
 * (`colours.zip:red_thing/0.png` rather than `<data folder>/uploads/<session>/colours.zip:red_thing/0.png`).
 */
export function originName(img: Pick<ImageInfo, 'path' | 'origin'>): string {
  const from = img.origin || img.path;
  const m = new RegExp(`[\\\\/]${UPLOADS_FOLDER}[\\\\/][\\w-]+[\\\\/](.+)$`).exec(from);
  return m?.[1] ?? from;
}

/** A folder name for a new class called `name`: letters, digits, `_` and `-`, not one of `taken`. */
export function folderNameFor(name: string, taken: string[]): string {
  const base =
    name
      .trim()
      .replace(/[^\p{L}\p{N}_-]+/gu, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 100) || 'class';
  const used = taken.map((t) => t.toLowerCase());
  let folder = base;
  for (let i = 2; used.includes(folder.toLowerCase()); i++) folder = `${base}-${i}`;
  return folder;
}

/** Why `name` cannot name a class (other than `except`) of `classes`, in plain words; null when it can. */
export function classNameProblem(name: string, classes: ClassInfo[], except: number | null): string | null {
  const n = name.trim();
  if (!n) return 'A class needs a name.';
  if (n.length > 300) return 'A class name can be 300 characters long at most.';
  const clash = classes.find((c) => c.id !== except && c.prompt.trim().toLowerCase() === n.toLowerCase());
  return clash ? `Another class is already called "${clash.prompt}".` : null;
}

/** Class edits of the open project (see [Note: class names]). */
export class ClassEditor {
  /** Per class: why the name typed in its box was refused. */
  nameErrors = $state<Record<number, string>>({});
  /** The Add class form. */
  newName = $state('');
  addError = $state<string | null>(null);
  /** Per class: the class chosen in its "Merge into" list (a class id as text, '' for none). */
  mergeInto = $state<Record<number, string>>({});
  /** The merge or delete waiting for the user's yes. */
  pending = $state<PendingEdit | null>(null);
  /** The image shown large, with its Exclude and Move controls. */
  preview = $state<ImageInfo | null>(null);
  /** The class chosen in the preview's "Move to" list (a class id as text). */
  moveTo = $state('');

  constructor(
    private readonly engine: EngineClient,
    private readonly projects: ProjectsController,
  ) {
    projects.onOpen(() => {
      this.nameErrors = {};
      this.pending = null;
    });
  }

  /** The open project's classes. */
  get classes(): ClassInfo[] {
    return this.projects.current?.classList ?? [];
  }

  /** What Undo would undo, in words; null when there is nothing to undo. */
  get undoLabel(): string | null {
    return this.projects.current?.undo ?? null;
  }

  /** A class's name by id ('' when it is gone). */
  nameOf(classId: number | null): string {
    return this.classes.find((c) => c.id === classId)?.prompt ?? '';
  }

  /** Applies one class edit; returns whether it worked. */
  async edit(edit: ClassEdit): Promise<boolean> {
    const p = this.projects.current;
    if (!p) return false;
    const v = valueOr(await this.engine.call('projectEditClasses', { projectId: p.id, edit }));
    if (!v) return false;
    this.projects.setClasses(v.classes, v.undo);
    if (edit.kind !== 'rename' && edit.kind !== 'colour') await this.projects.refresh();
    return true;
  }

  /**
   * Renames a class to `value`; an unchanged name changes nothing, an empty or taken one is refused next to the box
   * (see [Note: class names]). Returns whether the name now is `value`.
   */
  async rename(c: ClassInfo, value: string): Promise<boolean> {
    const prompt = value.trim();
    if (prompt === c.prompt) {
      delete this.nameErrors[c.id];
      return true;
    }
    const problem = classNameProblem(prompt, this.classes, c.id);
    if (problem) {
      this.nameErrors[c.id] = problem;
      return false;
    }
    delete this.nameErrors[c.id];
    return this.edit({ kind: 'rename', classId: c.id, prompt });
  }

  /** Adds an empty class named as typed in the Add class form. */
  async add(): Promise<boolean> {
    const name = this.newName.trim();
    this.addError = classNameProblem(name, this.classes, null);
    if (this.addError) return false;
    const folderName = folderNameFor(
      name,
      this.classes.map((c) => c.folderName),
    );
    if (!(await this.edit({ kind: 'create', folderName, prompt: name }))) return false;
    this.newName = '';
    return true;
  }

  /** Asks whether to merge `c` into the class chosen in its "Merge into" list. */
  askMerge(c: ClassInfo): void {
    const into = this.classes.find((x) => x.id === Number(this.mergeInto[c.id]));
    if (!into) return;
    this.pending = {
      title: 'Merge classes?',
      question: `Move all ${c.images} images of "${c.prompt}" into "${into.prompt}" and remove "${c.prompt}"? Undo brings it back.`,
      confirm: `Merge into ${into.prompt}`,
      done: `Merged "${c.prompt}" into "${into.prompt}".`,
      edit: { kind: 'merge', from: [c.id], into: into.id },
    };
  }

  /** Asks whether to delete class `c`. */
  askDelete(c: ClassInfo): void {
    this.pending = {
      title: 'Delete class?',
      question: `Delete the class "${c.prompt}"? Its ${c.images} images stay in the project without a class and are left out of learning; Undo brings the class back.`,
      confirm: `Delete ${c.prompt}`,
      done: `Deleted the class "${c.prompt}".`,
      edit: { kind: 'delete', classId: c.id },
    };
  }

  /** The confirmation's yes: applies the pending edit. */
  async confirm(): Promise<void> {
    // A plain copy: the edit travels to the engine, and a state proxy cannot be cloned into a message.
    const p = $state.snapshot(this.pending);
    this.pending = null;
    if (!p) return;
    if (await this.edit(p.edit)) {
      if (p.edit.kind === 'merge') this.mergeInto = {};
      toasts.push('info', 'Done', `${p.done} Undo brings it back.`, 6000);
    }
  }

  /** Moves images into class `toClassId`. */
  async move(imageIds: number[], toClassId: number): Promise<boolean> {
    if (imageIds.length === 0 || !this.classes.some((c) => c.id === toClassId)) return false;
    return this.edit({ kind: 'move', imageIds, toClassId });
  }

  /** Opens the preview of an image. */
  openPreview(img: ImageInfo): void {
    this.preview = img;
    this.moveTo = '';
  }

  closePreview(): void {
    this.preview = null;
  }

  /** Excludes the previewed image from training and testing, or includes it again. */
  async toggleExcluded(img: ImageInfo): Promise<void> {
    if (await this.edit({ kind: 'exclude', imageIds: [img.id], excluded: !img.excluded })) {
      if (this.preview?.id === img.id) this.preview = { ...img, excluded: !img.excluded };
    }
  }

  /** Moves the previewed image into the class chosen in its "Move to" list. */
  async movePreviewed(): Promise<void> {
    const img = this.preview;
    const to = Number(this.moveTo);
    if (!img || !to || to === img.classId) return;
    if (await this.move([img.id], to)) {
      if (this.preview?.id === img.id) this.preview = { ...img, classId: to };
      this.moveTo = '';
    }
  }

  /** Undoes the last class edit and says what it undid. */
  async undo(): Promise<void> {
    const p = this.projects.current;
    if (!p) return;
    const v = valueOr(await this.engine.call('projectUndo', { projectId: p.id }));
    if (!v) return;
    toasts.push('info', 'Undone', v.undone ? `Undid: ${v.undone}.` : 'Nothing to undo.', 4000);
    this.nameErrors = {};
    await this.projects.refresh();
  }
}
