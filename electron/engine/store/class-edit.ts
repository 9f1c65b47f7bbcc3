/**
 * @file Class editing with one-step-or-more undo (engine, plain Node).
 *
 * [Note: undo by snapshot] Before each edit, the project's class rows and each image's class and
 * excluded flag are saved as JSON in `undo_log`, in the same transaction as the edit. Undo restores
 * that snapshot. One generic inverse covers every edit (merge, split, delete...) without per-edit
 * inverse code to get wrong; it costs ~30 bytes per image per entry, so only the last
 * {@link UNDO_DEPTH} entries per project are kept. Folder names never change on rename: the prompt
 * text is what the model reads, the folder name is where the data came from.
 */
import { count } from '../../../shared/words';
import type { ClassEdit } from '../../../shared/contract/projects';
import { AppError } from '../../../shared/result';
import type { Db } from './db';
import { ensureClass, touchProject } from './projects-repo';
import { stmt } from './statements';

/** How many edits per project can be undone. */
export const UNDO_DEPTH = 20;

interface Snapshot {
  classes: { id: number; folder_name: string; prompt: string; sort_order: number; colour: string }[];
  /** [image id, class id, excluded] */
  images: [number, number | null, number][];
}

function snapshot(db: Db, projectId: number): Snapshot {
  const classes = stmt(db, 'SELECT id, folder_name, prompt, sort_order, colour FROM classes WHERE project_id = ?').all(
    projectId,
  ) as Snapshot['classes'];
  const images = (
    stmt(db, 'SELECT id, class_id, excluded FROM images WHERE project_id = ?').all(projectId) as {
      id: number;
      class_id: number | null;
      excluded: number;
    }[]
  ).map((r): [number, number | null, number] => [r.id, r.class_id, r.excluded]);
  return { classes, images };
}

function classOf(db: Db, projectId: number, classId: number): { id: number; folder_name: string } {
  const r = stmt(db, 'SELECT id, folder_name FROM classes WHERE id = ? AND project_id = ?').get(classId, projectId) as
    { id: number; folder_name: string } | undefined;
  if (!r) throw new AppError('not_found', `Project ${projectId} has no class with id ${classId}.`);
  return r;
}

function checkImages(db: Db, projectId: number, imageIds: number[]): void {
  const owner = stmt(db, 'SELECT project_id FROM images WHERE id = ?');
  for (const id of imageIds) {
    const r = owner.get(id) as { project_id: number } | undefined;
    if (r?.project_id !== projectId)
      throw new AppError('not_found', `Project ${projectId} has no image with id ${id}.`);
  }
}

/** A class's name for people (its prompt text), quoted, for undo labels. */
function nameOf(db: Db, classId: number): string {
  const r = stmt(db, 'SELECT prompt FROM classes WHERE id = ?').get(classId) as { prompt: string } | undefined;
  return r ? `"${r.prompt}"` : `class ${classId}`;
}

const images = (n: number) => count(n, 'image');

/**
 * [Note: undo labels] The label of an edit says what Undo will undo in the user's words, naming the classes as they
 * were before the edit ("merge \"birds\" into \"dogs\""), so the Undo button can say it before it is pressed.
 */
function describe(db: Db, edit: ClassEdit): string {
  switch (edit.kind) {
    case 'rename':
      return `rename class ${nameOf(db, edit.classId)} to "${edit.prompt.trim()}"`;
    case 'merge':
      return `merge ${edit.from
        .filter((id) => id !== edit.into)
        .map((id) => nameOf(db, id))
        .join(', ')} into ${nameOf(db, edit.into)}`;
    case 'split':
      return `split ${images(edit.imageIds.length)} of ${nameOf(db, edit.classId)} into "${edit.prompt ?? edit.folderName}"`;
    case 'delete':
      return `delete class ${nameOf(db, edit.classId)}`;
    case 'reorder':
      return 'reorder classes';
    case 'move':
      return `move ${images(edit.imageIds.length)} to ${nameOf(db, edit.toClassId)}`;
    case 'exclude':
      return `${edit.excluded ? 'exclude' : 'include'} ${images(edit.imageIds.length)}`;
    case 'colour':
      return `change the colour of ${nameOf(db, edit.classId)}`;
    case 'create':
      return `add class "${edit.prompt ?? edit.folderName}"`;
  }
}

/** Refuses a class name (prompt text) another class of the project already has, whatever its case. */
function checkNameFree(db: Db, projectId: number, name: string, except: number | null): void {
  const clash = stmt(
    db,
    'SELECT id FROM classes WHERE project_id = ? AND lower(trim(prompt)) = lower(?) AND id IS NOT ?',
  ).get(projectId, name.trim(), except) as { id: number } | undefined;
  if (clash) throw new AppError('conflict', `Another class is already called "${name.trim()}".`);
}

function apply(db: Db, projectId: number, edit: ClassEdit): void {
  const moveImage = stmt(db, 'UPDATE images SET class_id = ? WHERE id = ? AND project_id = ?');
  switch (edit.kind) {
    case 'rename':
      classOf(db, projectId, edit.classId);
      if (!edit.prompt.trim()) throw new AppError('bad_args', 'A class name cannot be empty.');
      checkNameFree(db, projectId, edit.prompt, edit.classId);
      stmt(db, 'UPDATE classes SET prompt = ? WHERE id = ?').run(edit.prompt.trim(), edit.classId);
      return;
    case 'create': {
      const prompt = edit.prompt ?? edit.folderName;
      checkNameFree(db, projectId, prompt, null);
      const { created } = ensureClass(db, projectId, edit.folderName, prompt);
      if (!created) throw new AppError('conflict', `A class with folder name "${edit.folderName}" already exists.`);
      return;
    }
    case 'colour':
      classOf(db, projectId, edit.classId);
      stmt(db, 'UPDATE classes SET colour = ? WHERE id = ?').run(edit.colour, edit.classId);
      return;
    case 'merge': {
      classOf(db, projectId, edit.into);
      for (const from of edit.from) {
        if (from === edit.into) continue;
        classOf(db, projectId, from);
        stmt(db, 'UPDATE images SET class_id = ? WHERE class_id = ?').run(edit.into, from);
        stmt(db, 'DELETE FROM classes WHERE id = ?').run(from);
      }
      return;
    }
    case 'split': {
      classOf(db, projectId, edit.classId);
      checkImages(db, projectId, edit.imageIds);
      const { id, created } = ensureClass(db, projectId, edit.folderName, edit.prompt);
      if (!created) throw new AppError('conflict', `A class with folder name "${edit.folderName}" already exists.`);
      for (const imageId of edit.imageIds) moveImage.run(id, imageId, projectId);
      return;
    }
    case 'delete':
      // Images of a deleted class stay in the project without a class (ON DELETE SET NULL), so
      // deleting a class never deletes data; undo puts them back.
      classOf(db, projectId, edit.classId);
      stmt(db, 'DELETE FROM classes WHERE id = ?').run(edit.classId);
      return;
    case 'reorder': {
      const ids = new Set(edit.classIds);
      const all = stmt(db, 'SELECT id FROM classes WHERE project_id = ? ORDER BY sort_order, id').all(projectId) as {
        id: number;
      }[];
      for (const id of edit.classIds) classOf(db, projectId, id);
      const order = [...edit.classIds, ...all.map((r) => r.id).filter((id) => !ids.has(id))];
      const set = stmt(db, 'UPDATE classes SET sort_order = ? WHERE id = ?');
      order.forEach((id, i) => set.run(i, id));
      return;
    }
    case 'move':
      classOf(db, projectId, edit.toClassId);
      checkImages(db, projectId, edit.imageIds);
      for (const imageId of edit.imageIds) moveImage.run(edit.toClassId, imageId, projectId);
      return;
    case 'exclude': {
      checkImages(db, projectId, edit.imageIds);
      const set = stmt(db, 'UPDATE images SET excluded = ? WHERE id = ?');
      for (const imageId of edit.imageIds) set.run(edit.excluded ? 1 : 0, imageId);
      return;
    }
  }
}

/** Applies one class edit in a transaction and records its undo snapshot. */
export function editClasses(db: Db, projectId: number, edit: ClassEdit): void {
  db.transaction(() => {
    const before = snapshot(db, projectId);
    const label = describe(db, edit);
    apply(db, projectId, edit);
    stmt(db, 'INSERT INTO undo_log (project_id, label, inverse_json, at) VALUES (?, ?, ?, ?)').run(
      projectId,
      label,
      JSON.stringify(before),
      Date.now(),
    );
    stmt(
      db,
      `DELETE FROM undo_log WHERE project_id = ? AND id NOT IN
        (SELECT id FROM undo_log WHERE project_id = ? ORDER BY id DESC LIMIT ${UNDO_DEPTH})`,
    ).run(projectId, projectId);
    touchProject(db, projectId);
  })();
}

/** What Undo would undo next (see [Note: undo labels]); null when there is nothing to undo. */
export function nextUndo(db: Db, projectId: number): string | null {
  const last = stmt(db, 'SELECT label FROM undo_log WHERE project_id = ? ORDER BY id DESC LIMIT 1').get(projectId) as
    { label: string } | undefined;
  return last?.label ?? null;
}

/** Undoes the last class edit of a project; returns its label, or null when there is nothing to undo. */
export function undoClassEdit(db: Db, projectId: number): string | null {
  return db.transaction(() => {
    const last = stmt(
      db,
      'SELECT id, label, inverse_json FROM undo_log WHERE project_id = ? ORDER BY id DESC LIMIT 1',
    ).get(projectId) as { id: number; label: string; inverse_json: string } | undefined;
    if (!last) return null;
    const snap = JSON.parse(last.inverse_json) as Snapshot;
    const keep = new Set(snap.classes.map((c) => c.id));
    const upsert = stmt(
      db,
      `INSERT INTO classes (id, project_id, folder_name, prompt, sort_order, colour) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET folder_name = excluded.folder_name, prompt = excluded.prompt,
         sort_order = excluded.sort_order, colour = excluded.colour`,
    );
    // Classes created by the edit go first, so that re-inserting a deleted folder name cannot clash.
    const current = stmt(db, 'SELECT id FROM classes WHERE project_id = ?').all(projectId) as { id: number }[];
    const del = stmt(db, 'DELETE FROM classes WHERE id = ?');
    for (const c of current) if (!keep.has(c.id)) del.run(c.id);
    for (const c of snap.classes) upsert.run(c.id, projectId, c.folder_name, c.prompt, c.sort_order, c.colour);
    const img = stmt(db, 'UPDATE images SET class_id = ?, excluded = ? WHERE id = ? AND project_id = ?');
    for (const [id, classId, excluded] of snap.images) img.run(classId, excluded, id, projectId);
    stmt(db, 'DELETE FROM undo_log WHERE id = ?').run(last.id);
    touchProject(db, projectId);
    return last.label;
  })();
}
