import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { errorToasts, renderWithStudio, resetToasts } from '../testing/harness';
import DatasetScreen from './DatasetScreen.svelte';

/** The Dataset screen with the fake project (cats 5, dogs 4, birds 3 images) open. */
async function openDataset() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 4 },
    { folderName: 'birds', images: 3 },
  ]);
  const engine = new FakeEngine({ ...project.handlers(), projectRun: async () => ({ result: null }) as never });
  const rendered = await renderWithStudio(DatasetScreen, { engine, setup: (s) => s.projects.open(project.id) });
  return { ...rendered, engine, project };
}

const classItems = () => within(screen.getByRole('list', { name: 'Classes' })).getAllByRole('listitem');
const classItem = (prompt: string) =>
  classItems().find((li) => (within(li).getAllByRole('textbox')[0] as HTMLInputElement).value === prompt);

describe('the class editor on the Dataset screen', () => {
  beforeEach(resetToasts);

  it('renames a class when its name is edited and Enter pressed', async () => {
    const { engine, user } = await openDataset();
    const input = screen.getByLabelText('Class name cats');
    await user.clear(input);
    await user.type(input, '  tabby cats {Enter}');
    await vi.waitFor(() =>
      expect(engine.argsOf('projectEditClasses')).toEqual([
        { projectId: 1, edit: { kind: 'rename', classId: 1, prompt: 'tabby cats' } },
      ]),
    );
    // The box announces the class's current name, and so do the class's buttons.
    await vi.waitFor(() =>
      expect((screen.getByLabelText('Class name tabby cats') as HTMLInputElement).value).toBe('tabby cats'),
    );
    expect(screen.queryByLabelText('Class name cats')).toBeNull();
    expect(screen.getByRole('button', { name: 'Delete class tabby cats' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Show images of tabby cats' })).toBeTruthy();
    expect(errorToasts()).toEqual([]);
  });

  it('does not send a rename for a blank or unchanged name', async () => {
    const { engine, user } = await openDataset();
    const input = screen.getByLabelText('Class name dogs');
    await user.clear(input);
    await user.type(input, '   {Enter}');
    await user.type(screen.getByLabelText('Class name birds'), '{Enter}');
    expect(engine.argsOf('projectEditClasses')).toEqual([]);
  });

  it('merges a class into the one chosen, then undoes it', async () => {
    const { engine, user, project } = await openDataset();
    expect(screen.getByRole('heading', { name: '3 classes · 12 images' })).toBeTruthy();
    const birds = classItem('birds');
    if (!birds) throw new Error('no birds class');
    const merge = within(birds).getByRole('button', { name: /^Merge birds into/ }) as HTMLButtonElement;
    expect(merge.disabled).toBe(true);
    const into = within(birds).getByLabelText('Merge birds into') as HTMLSelectElement;
    await user.selectOptions(into, within(into).getByRole('option', { name: 'dogs' }));
    // The button says what it will do: which class goes into which.
    await vi.waitFor(() => expect(within(birds).getByRole('button', { name: 'Merge birds into dogs' })).toBe(merge));
    expect(merge.disabled).toBe(false);
    await user.click(merge);

    await vi.waitFor(() => expect(classItems()).toHaveLength(2));
    expect(engine.argsOf('projectEditClasses')).toEqual([
      { projectId: 1, edit: { kind: 'merge', from: [3], into: 2 } },
    ]);
    expect(within(classItem('dogs') as HTMLElement).getByText('7 images')).toBeTruthy();
    expect(project.classes.map((c) => c.prompt)).toEqual(['cats', 'dogs']);

    await user.click(screen.getByRole('button', { name: 'Undo' }));
    await vi.waitFor(() => expect(classItems()).toHaveLength(3));
    expect(within(classItem('dogs') as HTMLElement).getByText('4 images')).toBeTruthy();
    expect(within(classItem('birds') as HTMLElement).getByText('3 images')).toBeTruthy();
    expect(engine.argsOf('projectUndo')).toEqual([{ projectId: 1 }]);
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

  it('warns about classes with fewer images than the shots chosen on Learn', async () => {
    const { studio } = await openDataset();
    studio.learn.options.shots = 4;
    const warning = await screen.findByRole('region', { name: 'Class warnings' });
    expect(warning.textContent?.replace(/\s+/g, ' ')).toContain('birds has fewer images than the 4 shots');
  });
});
