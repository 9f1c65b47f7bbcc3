import { screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { defaultEpochs } from '../../../shared/contract/train';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { renderWithStudio } from '../testing/harness';
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
  return renderWithStudio(LearnScreen, { engine, setup: (s) => s.projects.open(project.id) });
}

describe('the Learn screen', () => {
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
});
