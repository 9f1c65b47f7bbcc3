import { screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultEpochs } from '../../../shared/contract/train';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { errorToasts, renderWithStudio, resetToasts } from '../testing/harness';
import LearnScreen from './LearnScreen.svelte';

async function openLearn() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 20 },
    { folderName: 'dogs', images: 20 },
  ]);
  const engine = new FakeEngine({
    ...project.handlers(),
    modelsList: async () => ({ installed: [], activeId: null, partial: [], catalogue: [], endpoint: '' }) as never,
    zeroShot: async () => ({ accuracy: 0.5, total: 40 }) as never,
  });
  const rendered = await renderWithStudio(LearnScreen, { engine, setup: (s) => s.projects.open(project.id) });
  return { ...rendered, engine };
}

describe('the Learn screen', () => {
  beforeEach(resetToasts);

  it("shows CoOp's epoch count for the shots as the Epochs placeholder (5 shots -> 100 epochs)", async () => {
    const { user } = await openLearn();
    const shots = screen.getByLabelText('Shots');
    const epochs = screen.getByLabelText('Epochs');
    await user.clear(shots);
    await user.type(shots, '5');
    expect(epochs.getAttribute('placeholder')).toBe("100 (CoOp's count for 5 shots)");
    for (const n of [1, 4, 7, 8, 16]) {
      await user.clear(shots);
      await user.type(shots, String(n));
      expect(epochs.getAttribute('placeholder')).toBe(`${defaultEpochs(n)} (CoOp's count for ${n} shots)`);
    }
    expect(epochs.getAttribute('placeholder')).toMatch(/^200 /);
  });

  it('shows the epoch count of an empty Epochs field from the same rule', async () => {
    const { user } = await openLearn();
    await user.clear(screen.getByLabelText('Epochs'));
    await user.clear(screen.getByLabelText('Shots'));
    await user.type(screen.getByLabelText('Shots'), '6');
    expect(screen.getByText(/^Epoch 0 \/ /).textContent).toBe('Epoch 0 / 100');
  });

  it('says a value it cannot use next to its field, in words, moves focus there and sends nothing', async () => {
    const { engine, user } = await openLearn();
    const nCtx = screen.getByLabelText('Context length');
    await user.clear(nCtx);
    await user.type(nCtx, '0');
    const augViews = screen.getByLabelText('Augmented views');
    await user.clear(augViews);
    await user.type(augViews, '999');
    await user.click(screen.getByRole('button', { name: 'Learn prompt' }));
    const message = await screen.findByText('Context length must be at least 1.');
    expect(screen.getByText('Augmented views must be at most 256.')).toBeTruthy();
    expect(nCtx.getAttribute('aria-invalid')).toBe('true');
    expect(nCtx.getAttribute('aria-describedby')?.split(' ')).toContain(message.id);
    await vi.waitFor(() => expect(document.activeElement).toBe(nCtx));
    expect(engine.argsOf('learn')).toEqual([]);
    // No raw schema text anywhere, and no toast.
    expect(document.body.textContent).not.toMatch(/nCtx|Too small|expected number/);
    expect(errorToasts()).toEqual([]);
  });

  it('asks for a whole number when Shots is empty or has a fraction', async () => {
    const { engine, user } = await openLearn();
    const shots = screen.getByLabelText('Shots');
    await user.clear(shots);
    await user.click(screen.getByRole('button', { name: 'Learn prompt' }));
    expect(await screen.findByText('Shots needs a number.')).toBeTruthy();
    await user.type(shots, '2.5');
    await user.click(screen.getByRole('button', { name: 'Learn prompt' }));
    expect(await screen.findByText('Shots must be a whole number.')).toBeTruthy();
    expect(engine.argsOf('learn')).toEqual([]);
  });

  it('names its progress bar', async () => {
    await openLearn();
    expect(screen.getByRole('progressbar', { name: 'Training progress' })).toBeTruthy();
  });
});
