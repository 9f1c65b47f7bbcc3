import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProjectReadiness } from '../../../shared/contract';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { errorToasts, renderWithStudio, resetToasts } from '../testing/harness';
import DatasetScreen from './DatasetScreen.svelte';

/** The readiness the fake engine answers: every class ready, 8 of 16 shots (the smallest class has 5 images). */
function readiness(project: FakeProject, shots: number): ProjectReadiness {
  return {
    projectId: project.id,
    requestedShots: shots,
    shots: Math.min(shots, 2),
    seed: 1,
    epochs: 100,
    minImagesPerClass: 3,
    classes: project.classes.map((c) => ({
      classId: c.id,
      name: c.prompt,
      folderName: c.folderName,
      images: c.images,
      train: Math.min(2, c.images),
      val: c.images > 2 ? 1 : 0,
      test: Math.max(0, c.images - 3),
      ready: c.images > 3,
      problem: c.images > 3 ? null : 'no_test_images',
    })),
    unassigned: 0,
    canLearn: true,
    ready: project.classes.every((c) => c.images > 3),
    notes:
      shots > 2
        ? [
            {
              code: 'shots_capped',
              message: `Learn will take 2 shots per class instead of ${shots}: "birds" has only 3 usable images.`,
              requested: shots,
              used: 2,
              smallestClass: 'birds',
              smallestImages: 3,
            },
          ]
        : [],
    problems: [],
  };
}

/** The Dataset screen with the fake project (cats 5, dogs 4, birds 3 images) open. */
async function openDataset() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 4 },
    { folderName: 'birds', images: 3 },
  ]);
  const engine = new FakeEngine({
    ...project.handlers(),
    projectRun: async () => ({ result: null }) as never,
    projectReadiness: async ({ shots }) => readiness(project, shots),
  });
  const rendered = await renderWithStudio(DatasetScreen, { engine, setup: (s) => s.projects.open(project.id) });
  return { ...rendered, engine, project };
}

const classItems = () => within(screen.getByRole('list', { name: 'Classes' })).getAllByRole('listitem');
const classItem = (prompt: string) => {
  const li = classItems().find((x) => (within(x).getAllByRole('textbox')[0] as HTMLInputElement).value === prompt);
  if (!li) throw new Error(`no class ${prompt}`);
  return li;
};
const edits = (engine: FakeEngine) => engine.argsOf('projectEditClasses').map((a) => a.edit);

describe('the class editor on the Dataset screen', () => {
  beforeEach(resetToasts);

  it('renames a class when its name is edited and Enter pressed', async () => {
    const { engine, user } = await openDataset();
    const input = screen.getByLabelText('Class name cats');
    await user.clear(input);
    await user.type(input, '  tabby cats {Enter}');
    await vi.waitFor(() => expect(edits(engine)).toEqual([{ kind: 'rename', classId: 1, prompt: 'tabby cats' }]));
    // The box announces the class's current name, and so do the class's buttons.
    await vi.waitFor(() =>
      expect((screen.getByLabelText('Class name tabby cats') as HTMLInputElement).value).toBe('tabby cats'),
    );
    expect(screen.queryByLabelText('Class name cats')).toBeNull();
    expect(screen.getByRole('button', { name: 'Delete class tabby cats' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Show images of tabby cats' })).toBeTruthy();
    expect(errorToasts()).toEqual([]);
  });

  it('names the class in every repeated button, so a list of buttons reads apart', async () => {
    await openDataset();
    for (const name of ['cats', 'dogs', 'birds']) {
      expect(screen.getByRole('button', { name: `Show images of ${name}` })).toBeTruthy();
      expect(screen.getByRole('button', { name: `Delete class ${name}` })).toBeTruthy();
      expect(screen.getByRole('button', { name: `Merge ${name} into the class chosen` })).toBeTruthy();
      expect(screen.getByRole('combobox', { name: `Merge ${name} into` })).toBeTruthy();
    }
  });

  it('refuses an empty or taken name next to its box, and sends nothing', async () => {
    const { engine, user } = await openDataset();
    const input = screen.getByLabelText('Class name dogs');
    await user.clear(input);
    await user.type(input, '   {Enter}');
    expect((await within(classItem('   ')).findByRole('alert')).textContent).toBe('A class needs a name.');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    await user.clear(input);
    await user.type(input, 'Cats{Enter}');
    expect((await within(classItem('Cats')).findByRole('alert')).textContent).toBe(
      'Another class is already called "cats".',
    );
    await user.type(screen.getByLabelText('Class name birds'), '{Enter}');
    expect(edits(engine)).toEqual([]);
  });

  it('merges a class into the one chosen only after confirming, then Undo says what it undoes', async () => {
    const { engine, user, project } = await openDataset();
    const undo = () => screen.getByRole('button', { name: /^Undo/ }) as HTMLButtonElement;
    expect(undo().disabled).toBe(true);
    expect(undo().textContent).toBe('Undo');
    expect(screen.getByRole('heading', { name: '3 classes · 12 images' })).toBeTruthy();
    const birds = classItem('birds');
    const merge = within(birds).getByRole('button', { name: /^Merge birds into/ }) as HTMLButtonElement;
    expect(merge.disabled).toBe(true);
    const into = within(birds).getByLabelText('Merge birds into') as HTMLSelectElement;
    await user.selectOptions(into, within(into).getByRole('option', { name: 'dogs' }));
    // The button says what it will do: which class goes into which.
    await vi.waitFor(() => expect(within(birds).getByRole('button', { name: 'Merge birds into dogs' })).toBe(merge));
    expect(merge.disabled).toBe(false);
    await user.click(merge);

    const dialog = await screen.findByRole('dialog', { name: 'Merge classes?' });
    expect(dialog.textContent).toContain('Move all 3 images of "birds" into "dogs"');
    expect(edits(engine)).toEqual([]);
    await user.click(within(dialog).getByRole('button', { name: 'Merge into dogs' }));
    await vi.waitFor(() => expect(classItems()).toHaveLength(2));
    expect(edits(engine)).toEqual([{ kind: 'merge', from: [3], into: 2 }]);
    expect(within(classItem('dogs')).getByText('7 images')).toBeTruthy();
    expect(project.classes.map((c) => c.prompt)).toEqual(['cats', 'dogs']);

    expect(undo().disabled).toBe(false);
    expect(undo().textContent).toBe('Undo merge "birds" into "dogs"');
    await user.click(undo());
    await vi.waitFor(() => expect(classItems()).toHaveLength(3));
    expect(within(classItem('dogs')).getByText('4 images')).toBeTruthy();
    expect(within(classItem('birds')).getByText('3 images')).toBeTruthy();
    expect(engine.argsOf('projectUndo')).toEqual([{ projectId: 1 }]);
    await vi.waitFor(() => expect(undo().disabled).toBe(true));
  });

  it('deletes a class only after confirming; Cancel keeps it', async () => {
    const { engine, user } = await openDataset();
    await user.click(screen.getByRole('button', { name: 'Delete class dogs' }));
    let dialog = await screen.findByRole('dialog', { name: 'Delete class?' });
    await user.click(within(dialog).getByRole('button', { name: /^(Close|Cancel)$/ }));
    expect(edits(engine)).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Delete class dogs' }));
    dialog = await screen.findByRole('dialog', { name: 'Delete class?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete dogs' }));
    await vi.waitFor(() => expect(classItems()).toHaveLength(2));
    expect(edits(engine)).toEqual([{ kind: 'delete', classId: 2 }]);
    expect(screen.getByRole('button', { name: 'Undo delete class "dogs"' })).toBeTruthy();
  });

  it('opens a thumbnail as a preview (nothing excluded), where Exclude and Move are explicit', async () => {
    const { engine, user } = await openDataset();
    const thumbs = within(classItem('birds')).getAllByRole('button', { name: /^Preview .* of birds$/ });
    expect(thumbs).toHaveLength(3);
    await user.click(thumbs[0]!);
    const dialog = await screen.findByRole('dialog', { name: '10.png' });
    expect(edits(engine)).toEqual([]);
    await user.click(within(dialog).getByRole('button', { name: 'Exclude from training and testing' }));
    await vi.waitFor(() => expect(edits(engine)).toEqual([{ kind: 'exclude', imageIds: [10], excluded: true }]));
    expect(within(dialog).getByRole('button', { name: 'Include again' }).getAttribute('aria-pressed')).toBe('true');
    await vi.waitFor(() => expect(within(classItem('birds')).getByText('2 images (1 excluded)')).toBeTruthy());

    await user.selectOptions(within(dialog).getByLabelText('Move to class'), 'cats');
    await user.click(within(dialog).getByRole('button', { name: 'Move image' }));
    await vi.waitFor(() => expect(edits(engine).at(-1)).toEqual({ kind: 'move', imageIds: [10], toClassId: 1 }));
    await vi.waitFor(() => expect(within(classItem('cats')).getByText('5 images (1 excluded)')).toBeTruthy());
    expect(within(dialog).getByText('cats')).toBeTruthy();
  });

  it('adds an empty class, refusing a taken name next to the field, and fills it by dragging a thumbnail onto it', async () => {
    const { engine, user } = await openDataset();
    const name = screen.getByLabelText('New class name');
    await user.type(name, 'Birds');
    await user.click(screen.getByRole('button', { name: 'Add class' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Another class is already called "birds".');
    await user.clear(name);
    await user.type(name, 'parrots{Enter}');
    await vi.waitFor(() => expect(classItems()).toHaveLength(4));
    expect(edits(engine)).toEqual([{ kind: 'create', folderName: 'parrots', prompt: 'parrots' }]);
    const parrots = classItem('parrots');
    expect(within(parrots).getByText('No images yet: drop image files here, or move images into it.')).toBeTruthy();

    // A thumbnail of birds dragged onto parrots (the drag data a browser carries between the two events).
    const thumb = within(classItem('birds')).getAllByRole('button', { name: /^Preview/ })[1]!;
    const data = new Map<string, string>();
    const dataTransfer = {
      setData: (t: string, v: string) => data.set(t, v),
      getData: (t: string) => data.get(t) ?? '',
      get types() {
        return [...data.keys()];
      },
      files: [],
      items: [],
      effectAllowed: 'all',
    };
    thumb.dispatchEvent(Object.assign(new Event('dragstart', { bubbles: true }), { dataTransfer }));
    parrots.dispatchEvent(Object.assign(new Event('dragover', { bubbles: true, cancelable: true }), { dataTransfer }));
    parrots.dispatchEvent(Object.assign(new Event('drop', { bubbles: true, cancelable: true }), { dataTransfer }));
    await vi.waitFor(() => expect(edits(engine).at(-1)).toEqual({ kind: 'move', imageIds: [11], toClassId: 4 }));
    await vi.waitFor(() => expect(within(classItem('parrots')).getByText('1 image')).toBeTruthy());
    expect(screen.getByRole('button', { name: 'Undo move 1 image to "parrots"' })).toBeTruthy();
  });

  it('shows per class what the next run takes, and the note when the shots are capped', async () => {
    const { studio } = await openDataset();
    const card = await screen.findByRole('region', { name: 'Ready to learn, with notes' });
    expect(card.textContent).toContain(
      'Learn will take 2 shots per class instead of 16: "birds" has only 3 usable images.',
    );
    const rows = within(within(card).getByRole('table', { name: 'Readiness per class' })).getAllByRole('row');
    expect(rows.slice(1).map((r) => Array.from(r.children, (c) => c.textContent))).toEqual([
      ['cats', '5', '2', '1', '2', 'ready'],
      ['dogs', '4', '2', '1', '1', 'ready'],
      ['birds', '3', '2', '1', '0', 'none left for testing'],
    ]);
    studio.learn.options.shots = 2;
    await vi.waitFor(() => expect(card.textContent).not.toContain('instead of'));
  });

  it('shows an import of nothing as a warning, with the skipped files by the names the user dropped', async () => {
    const { engine, studio } = await openDataset();
    const issue = (i: number) => ({
      path: `/srv/data/uploads/ab12cd34/shapes.zip:circle/${i}.txt`,
      name: `shapes.zip:circle/${i}.txt`,
      problem: 'not_an_image' as const,
      reason: 'not an image',
      detail: 'Input buffer has corrupt header',
    });
    engine.on('projectImportData', async () => ({
      jobId: 1,
      projectId: 1,
      scanned: 7,
      imported: 0,
      skipped: 7,
      failed: 0,
      duplicates: 0,
      total: 7,
      classesCreated: [],
      skippedFiles: Array.from({ length: 7 }, (_, i) => issue(i)),
      failedFiles: [],
      duplicateFiles: [],
      warning: { code: 'nothing_imported', why: 'no_images', message: 'No image was found in what you added.' },
      durationMs: 1,
    }));
    await studio.dataset.importSources(['/srv/data/uploads/ab12cd34']);
    const card = await screen.findByRole('region', { name: 'Nothing was imported' });
    expect(card.textContent).toContain('No image was found in what you added.');
    const first = within(card).getByRole('list', { name: 'Files not imported' });
    expect(
      within(first)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual([0, 1, 2, 3, 4].map((i) => `shapes.zip:circle/${i}.txt: not an image`));
    expect(card.textContent).toContain('Show all 7');
    // Never the engine's path or a library's message.
    expect(card.textContent).not.toMatch(/\/srv\/data|corrupt header/);
    expect(screen.queryByText(/Import finished/)).toBeNull();
  });
});
