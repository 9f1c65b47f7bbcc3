/**
 * @file Tests of class editing: every operation, its transaction, and undo back to the exact previous state.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassEdit } from '../../shared/contract/projects';
import { editClasses, nextUndo, undoClassEdit } from '../../electron/engine/store/class-edit';
import { openDatabase, type Db } from '../../electron/engine/store/db';
import {
  createProject,
  ensureClass,
  insertImage,
  listClasses,
  listImages,
  projectDataset,
} from '../../electron/engine/store/projects-repo';
import { tempDir } from '../helpers/engine';

const dirs: { cleanup: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

function setup(): { db: Db; projectId: number; cls: Record<string, number>; imgs: number[] } {
  const d = tempDir('coop-classes-');
  dirs.push(d);
  const db = openDatabase(join(d.path, 'coop-studio.sqlite'));
  const projectId = createProject(db, 'p', '', null).id;
  const cls: Record<string, number> = {};
  const imgs: number[] = [];
  for (const name of ['golden_retriever', 'tabby-cat', 'parrot']) {
    cls[name] = ensureClass(db, projectId, name).id;
    for (let i = 0; i < 3; i++) {
      const sha256 = `${name}-${i}`.padEnd(64, '0');
      const id = insertImage(db, projectId, {
        classId: cls[name] ?? null,
        path: `/x/${name}/${i}.png`,
        origin: `/x/${name}/${i}.png`,
        sha256,
        bytes: 10,
        width: 4,
        height: 4,
        format: 'png',
        thumbnail: null,
        copied: false,
      });
      if (id !== null) imgs.push(id);
    }
  }
  return { db, projectId, cls, imgs };
}

function state(db: Db, projectId: number): unknown {
  return { classes: listClasses(db, projectId), images: listImages(db, projectId).images };
}

describe('class editing', () => {
  it('prompts come from folder names with _ and - as spaces', () => {
    const { db, projectId } = setup();
    expect(listClasses(db, projectId).map((c) => c.prompt)).toEqual(['golden retriever', 'tabby cat', 'parrot']);
  });

  it('applies each edit and undoes it back to the exact previous state', () => {
    const { db, projectId, cls, imgs } = setup();
    const g = cls['golden_retriever'] ?? 0;
    const t = cls['tabby-cat'] ?? 0;
    const p = cls['parrot'] ?? 0;
    const edits: [ClassEdit, (db: Db) => void][] = [
      [
        { kind: 'rename', classId: t, prompt: 'cat' },
        (db) => {
          const c = listClasses(db, projectId).find((x) => x.id === t);
          expect(c).toMatchObject({ prompt: 'cat', folderName: 'tabby-cat' });
        },
      ],
      [
        { kind: 'merge', from: [t, p], into: g },
        (db) => {
          const list = listClasses(db, projectId);
          expect(list.map((c) => c.id)).toEqual([g]);
          expect(list[0]?.images).toBe(9);
        },
      ],
      [
        { kind: 'split', classId: g, imageIds: imgs.slice(0, 2), folderName: 'puppy' },
        (db) => {
          const c = listClasses(db, projectId).find((x) => x.folderName === 'puppy');
          expect(c?.images).toBe(2);
          expect(listClasses(db, projectId).find((x) => x.id === g)?.images).toBe(1);
        },
      ],
      [
        { kind: 'delete', classId: p },
        (db) => {
          expect(listClasses(db, projectId).some((c) => c.id === p)).toBe(false);
          expect(listImages(db, projectId).images.filter((i) => i.classId === null)).toHaveLength(3);
        },
      ],
      [
        { kind: 'reorder', classIds: [p, g] },
        (db) => {
          expect(listClasses(db, projectId).map((c) => c.id)).toEqual([p, g, t]);
        },
      ],
      [
        { kind: 'move', imageIds: imgs.slice(0, 1), toClassId: p },
        (db) => {
          expect(listImages(db, projectId).images.find((i) => i.id === imgs[0])?.classId).toBe(p);
        },
      ],
      [
        { kind: 'exclude', imageIds: imgs.slice(3, 5), excluded: true },
        (db) => {
          expect(listClasses(db, projectId).find((x) => x.id === t)?.excluded).toBe(2);
        },
      ],
      [
        { kind: 'create', folderName: 'hamster', prompt: 'golden hamster' },
        (db) => {
          const c = listClasses(db, projectId).find((x) => x.folderName === 'hamster');
          expect(c).toMatchObject({ prompt: 'golden hamster', images: 0, excluded: 0 });
        },
      ],
      [
        { kind: 'colour', classId: g, colour: '#123456' },
        (db) => {
          expect(listClasses(db, projectId).find((x) => x.id === g)?.colour).toBe('#123456');
        },
      ],
    ];
    for (const [edit, check] of edits) {
      const before = state(db, projectId);
      editClasses(db, projectId, edit);
      check(db);
      expect(state(db, projectId)).not.toEqual(before);
      expect(undoClassEdit(db, projectId)).toBeTypeOf('string');
      expect(state(db, projectId)).toEqual(before);
    }
    expect(undoClassEdit(db, projectId)).toBeNull();
  });

  it('undoes several steps in reverse order', () => {
    const { db, projectId, cls } = setup();
    const s0 = state(db, projectId);
    editClasses(db, projectId, { kind: 'rename', classId: cls['parrot'] ?? 0, prompt: 'bird' });
    const s1 = state(db, projectId);
    editClasses(db, projectId, { kind: 'merge', from: [cls['parrot'] ?? 0], into: cls['tabby-cat'] ?? 0 });
    undoClassEdit(db, projectId);
    expect(state(db, projectId)).toEqual(s1);
    undoClassEdit(db, projectId);
    expect(state(db, projectId)).toEqual(s0);
  });

  it('rolls back a failing edit completely and records no undo step', () => {
    const { db, projectId, cls, imgs } = setup();
    const before = state(db, projectId);
    // The second image id does not belong to the project: nothing of the move may stick.
    expect(() =>
      editClasses(db, projectId, { kind: 'move', imageIds: [imgs[0] ?? 0, 999_999], toClassId: cls['parrot'] ?? 0 }),
    ).toThrow(/no image with id 999999/);
    expect(() =>
      editClasses(db, projectId, {
        kind: 'split',
        classId: cls['parrot'] ?? 0,
        imageIds: [imgs[0] ?? 0],
        folderName: 'parrot',
      }),
    ).toThrow(/already exists/);
    expect(state(db, projectId)).toEqual(before);
    expect(undoClassEdit(db, projectId)).toBeNull();
  });

  it('projectDataset gives the trainer edited prompts and usable files only, in display order', () => {
    const { db, projectId, cls, imgs } = setup();
    editClasses(db, projectId, { kind: 'rename', classId: cls['parrot'] ?? 0, prompt: 'macaw' });
    editClasses(db, projectId, { kind: 'reorder', classIds: [cls['parrot'] ?? 0] });
    editClasses(db, projectId, { kind: 'exclude', imageIds: [imgs[0] ?? 0], excluded: true });
    const ds = projectDataset(db, projectId);
    expect(ds.classes.map((c) => [c.name, c.prompt, c.files.length])).toEqual([
      ['parrot', 'macaw', 3],
      ['golden_retriever', 'golden retriever', 2],
      ['tabby-cat', 'tabby cat', 3],
    ]);
    expect(ds.classes[1]?.hashes).toHaveLength(2);
    expect(ds.skipped).toEqual([{ path: '/x/golden_retriever/0.png', reason: 'excluded by the user' }]);
  });

  it('says what Undo will undo, naming the classes as they were before the edit', () => {
    const { db, projectId, cls, imgs } = setup();
    const t = cls['tabby-cat'] ?? 0;
    const p = cls['parrot'] ?? 0;
    expect(nextUndo(db, projectId)).toBeNull();
    const labels: [ClassEdit, string][] = [
      [{ kind: 'rename', classId: t, prompt: ' kitten ' }, 'rename class "tabby cat" to "kitten"'],
      [{ kind: 'create', folderName: 'hamster' }, 'add class "hamster"'],
      [{ kind: 'move', imageIds: imgs.slice(0, 2), toClassId: p }, 'move 2 images to "parrot"'],
      [{ kind: 'exclude', imageIds: imgs.slice(0, 1), excluded: true }, 'exclude 1 image'],
      [{ kind: 'merge', from: [p], into: t }, 'merge "parrot" into "kitten"'],
      [{ kind: 'delete', classId: t }, 'delete class "kitten"'],
    ];
    for (const [edit, label] of labels) {
      editClasses(db, projectId, edit);
      expect(nextUndo(db, projectId)).toBe(label);
    }
    for (const [, label] of [...labels].reverse()) expect(undoClassEdit(db, projectId)).toBe(label);
    expect(nextUndo(db, projectId)).toBeNull();
  });

  it('refuses empty names and names another class already has (any case), and existing folders', () => {
    const { db, projectId, cls } = setup();
    const before = state(db, projectId);
    const t = cls['tabby-cat'] ?? 0;
    expect(() => editClasses(db, projectId, { kind: 'rename', classId: t, prompt: '   ' })).toThrow(/cannot be empty/);
    expect(() => editClasses(db, projectId, { kind: 'rename', classId: t, prompt: ' Parrot ' })).toThrow(
      /already called "Parrot"/,
    );
    expect(() => editClasses(db, projectId, { kind: 'create', folderName: 'x', prompt: 'GOLDEN retriever' })).toThrow(
      /already called/,
    );
    expect(() => editClasses(db, projectId, { kind: 'create', folderName: 'parrot', prompt: 'macaw' })).toThrow(
      /folder name "parrot" already exists/,
    );
    // Renaming a class to its own name in another case is not a clash.
    editClasses(db, projectId, { kind: 'rename', classId: t, prompt: 'Tabby Cat' });
    undoClassEdit(db, projectId);
    expect(state(db, projectId)).toEqual(before);
    expect(nextUndo(db, projectId)).toBeNull();
  });
});
