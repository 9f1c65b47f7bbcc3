import { beforeEach, describe, expect, it } from 'vitest';
import { toasts } from '../app/errors.svelte';
import { Studio } from '../app/studio';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { errorToasts, fakePlatform, resetToasts } from '../testing/harness';
import { classNameProblem, fileName, folderNameFor, originName } from './class-editor.svelte';

async function setup() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 20 },
    { folderName: 'dogs', images: 3 },
  ]);
  const engine = new FakeEngine(project.handlers());
  const studio = new Studio(engine, fakePlatform());
  await studio.projects.open(1);
  return { engine, project, studio, classes: studio.classes };
}

const edits = (engine: FakeEngine) => engine.argsOf('projectEditClasses').map((a) => a.edit);

describe('class names', () => {
  it('refuses empty names and names another class has, in any case, in plain words', () => {
    const list = new FakeProject('P', [
      { folderName: 'cats', images: 1 },
      { folderName: 'dogs', prompt: 'Dogs', images: 1 },
    ]).detail().classList;
    expect(classNameProblem('   ', list, null)).toBe('A class needs a name.');
    expect(classNameProblem(' dogs ', list, null)).toBe('Another class is already called "Dogs".');
    expect(classNameProblem('DOGS', list, 2)).toBeNull();
    expect(classNameProblem('birds', list, null)).toBeNull();
  });

  it('makes a folder name from a new class name that no class of the project uses', () => {
    expect(folderNameFor('Black checker!', [])).toBe('Black_checker');
    expect(folderNameFor('cats', ['Cats', 'cats-2'])).toBe('cats-3');
    expect(folderNameFor('???', [])).toBe('class');
    expect(folderNameFor('ümlaut café', [])).toBe('ümlaut_café');
  });
});

describe('ClassEditor', () => {
  beforeEach(resetToasts);

  it('renames, keeps the page for a rename, and refuses empty and taken names next to the box', async () => {
    const { engine, classes, studio } = await setup();
    const cats = studio.projects.current!.classList[0]!;
    expect(await classes.rename(cats, ' kittens ')).toBe(true);
    expect(studio.projects.current?.classList[0]?.prompt).toBe('kittens');
    expect(engine.argsOf('projectShow')).toHaveLength(1);
    expect(classes.undoLabel).toBe('rename class "cats" to "kittens"');

    const kittens = studio.projects.current!.classList[0]!;
    expect(await classes.rename(kittens, 'kittens')).toBe(true);
    expect(await classes.rename(kittens, '  ')).toBe(false);
    expect(classes.nameErrors[kittens.id]).toBe('A class needs a name.');
    expect(await classes.rename(kittens, 'DOGS')).toBe(false);
    expect(classes.nameErrors[kittens.id]).toBe('Another class is already called "dogs".');
    expect(edits(engine)).toHaveLength(1);
    expect(await classes.rename(kittens, 'tabby')).toBe(true);
    expect(classes.nameErrors[kittens.id]).toBeUndefined();
    expect(errorToasts()).toEqual([]);
  });

  it('adds an empty class with a folder made from its name, and refuses a taken name', async () => {
    const { engine, classes, studio } = await setup();
    classes.newName = 'Dogs';
    expect(await classes.add()).toBe(false);
    expect(classes.addError).toBe('Another class is already called "dogs".');
    classes.newName = ' golden hamster ';
    expect(await classes.add()).toBe(true);
    expect(edits(engine)).toEqual([{ kind: 'create', folderName: 'golden_hamster', prompt: 'golden hamster' }]);
    expect(studio.projects.current?.classList.at(-1)).toMatchObject({ prompt: 'golden hamster', images: 0 });
    expect(classes.newName).toBe('');
    expect(classes.addError).toBeNull();
    expect(classes.undoLabel).toBe('add class "golden hamster"');
  });

  it('merges and deletes only after the confirmation, and says how to get it back', async () => {
    const { engine, classes, studio } = await setup();
    const dogs = studio.projects.current!.classList[1]!;
    classes.askMerge(dogs);
    expect(classes.pending).toBeNull();
    classes.mergeInto[dogs.id] = '1';
    classes.askMerge(dogs);
    expect(classes.pending?.question).toBe(
      'Move all 3 images of "dogs" into "cats" and remove "dogs"? Undo brings it back.',
    );
    expect(edits(engine)).toEqual([]);
    await classes.confirm();
    expect(edits(engine)).toEqual([{ kind: 'merge', from: [2], into: 1 }]);
    expect(studio.projects.current?.classList.map((c) => [c.prompt, c.images])).toEqual([['cats', 23]]);
    expect(toasts.items.at(-1)?.message).toBe('Merged "dogs" into "cats". Undo brings it back.');
    expect(classes.undoLabel).toBe('merge "dogs" into "cats"');

    await classes.undo();
    expect(toasts.items.at(-1)?.message).toBe('Undid: merge "dogs" into "cats".');
    expect(classes.undoLabel).toBeNull();
    classes.askDelete(studio.projects.current!.classList[0]!);
    expect(classes.pending?.confirm).toBe('Delete cats');
    classes.pending = null;
    await classes.confirm();
    expect(edits(engine)).toHaveLength(1);
  });

  it('previews an image without changing it, then excludes or moves it only from the buttons', async () => {
    const { engine, classes, studio } = await setup();
    const img = studio.dataset.images[2]![0]!;
    classes.openPreview(img);
    expect(edits(engine)).toEqual([]);
    await classes.toggleExcluded(img);
    expect(classes.preview?.excluded).toBe(true);
    expect(edits(engine)).toEqual([{ kind: 'exclude', imageIds: [img.id], excluded: true }]);
    expect(classes.undoLabel).toBe('exclude 1 image');

    await classes.movePreviewed();
    expect(edits(engine)).toHaveLength(1);
    classes.moveTo = '1';
    await classes.movePreviewed();
    expect(edits(engine).at(-1)).toEqual({ kind: 'move', imageIds: [img.id], toClassId: 1 });
    expect(classes.preview?.classId).toBe(1);
    expect(studio.projects.current?.classList.map((c) => c.images)).toEqual([21, 2]);
    expect(classes.undoLabel).toBe('move 1 image to "cats"');
  });

  it('has nothing to undo on a fresh project', async () => {
    const { classes } = await setup();
    expect(classes.undoLabel).toBeNull();
  });
});

describe('image names', () => {
  const img = (path: string, origin: string) => ({ path, origin });
  it("names an image by where it came from, not by the project's copy", () => {
    const copy = '/data/projects/1/images/bfe048e9.png';
    expect(fileName(img(copy, '/data/uploads/ab12cd34/colours.zip:red_thing/0.png'))).toBe('0.png');
    expect(fileName(img(copy, '/photos/ds.zip:a.png'))).toBe('a.png');
    expect(fileName(img('C:\\photos\\cat 1.jpg', 'C:\\photos\\cat 1.jpg'))).toBe('cat 1.jpg');
    expect(fileName(img(copy, ''))).toBe('bfe048e9.png');
    expect(originName(img(copy, '/data/uploads/ab12cd34/colours.zip:red_thing/0.png'))).toBe(
      'colours.zip:red_thing/0.png',
    );
    expect(originName(img(copy, 'C:\\data\\uploads\\ab12cd34\\Shapes\\circle\\a.png'))).toBe('Shapes\\circle\\a.png');
    expect(originName(img(copy, '/photos/a.png'))).toBe('/photos/a.png');
  });
});
