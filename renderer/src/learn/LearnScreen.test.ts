import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../shared/result';
import type { LearnProgress } from '../../../shared/contract/train';
import { epochPoint, learnResult } from '../testing/fixtures';
import { defaultEpochs } from '../../../shared/contract/train';
import { FakeEngine, untilAborted } from '../testing/fake-engine';
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

/** A learn job that reports two epochs of 10 steps, then waits until it is cancelled. */
function learnUntilCancelled(engine: FakeEngine) {
  engine.on('learn', async (_args, { progress, signal }) => {
    const step = {
      kind: 'step',
      epoch: 2,
      epochs: 20,
      step: 1,
      stepsPerEpoch: 10,
      loss: 0.5,
      backend: 'wasm',
      etaS: 2,
    };
    progress({ kind: 'epoch', point: epochPoint(0, 0.5), epochs: 20, backend: 'wasm', etaS: 4 } as LearnProgress);
    progress({ kind: 'epoch', point: epochPoint(1, 0.6), epochs: 20, backend: 'wasm', etaS: 2 } as LearnProgress);
    progress(step as LearnProgress);
    await untilAborted(signal);
    return learnResult();
  });
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

  it('says Cancelled after Cancel: no full bar, no ETA, no See results', async () => {
    const { user, engine, studio } = await openLearn();
    learnUntilCancelled(engine);
    await user.click(screen.getByRole('button', { name: 'Learn prompt' }));
    await screen.findByText('ETA 2 s');
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    await vi.waitFor(() => expect(studio.learn.state).toBe('cancelled'));
    const progress = screen.getByRole('progressbar', { name: 'Training progress' }).parentElement as HTMLElement;
    expect(within(progress).getAllByText('Cancelled').length).toBeGreaterThan(0);
    expect(progress.textContent).not.toContain('Finished');
    expect(progress.textContent).not.toContain('ETA');
    const bar = within(progress).getByRole('progressbar') as HTMLProgressElement;
    expect(Number(bar.getAttribute('value'))).toBe(11);
    expect(Number(bar.getAttribute('max'))).toBe(200);
    expect(screen.queryByRole('button', { name: 'See results' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Learn prompt' })).toBeTruthy();
  });

  it("keeps a failed run's reason next to the Learn button, in plain words", async () => {
    const { user, engine } = await openLearn();
    engine.on('learn', async () => {
      throw new AppError('invalid_data', 'No image is left for testing in "circle": add images to it.');
    });
    await user.click(screen.getByRole('button', { name: 'Learn prompt' }));
    const alert = await screen.findByRole('alert', { name: 'Why learning stopped' });
    expect(alert.textContent).toBe('No image is left for testing in "circle": add images to it.');
    expect(screen.getByRole('progressbar', { name: 'Training progress' }).parentElement?.textContent).toContain(
      'Failed',
    );
    expect(errorToasts()).toEqual([]);
  });

  it('says which images each zero-shot number is measured on', async () => {
    const { studio } = await openLearn();
    studio.learn.result = learnResult();
    studio.learn.curve = learnResult().curve.map((p) => ({ ...p, valAccuracy: p.epoch === 0 ? 0.25 : null }));
    studio.learn.state = 'done';
    const zs = await screen.findByLabelText('Zero-shot accuracy');
    await vi.waitFor(() => expect(zs.textContent).toContain('50.0% of all 40 usable images of the project'));
    expect(zs.textContent).toContain('50.0% on the 4 training images (epoch 0 of the curve)');
    expect(zs.textContent).toContain('25.0% on the 2 validation images (epoch 0)');
    expect(zs.textContent).toContain('50.0% on the 4 test images (as on Results)');
  });

  it('says before the run when it will take fewer shots than asked', async () => {
    const { engine, studio } = await openLearn();
    engine.on('projectReadiness', async ({ projectId, shots }) => ({
      projectId,
      requestedShots: shots,
      shots: 8,
      seed: 1,
      epochs: 200,
      minImagesPerClass: 3,
      classes: [],
      unassigned: 0,
      canLearn: true,
      ready: true,
      notes: [
        {
          code: 'shots_capped',
          message: `8 shots per class instead of ${shots}: "cats" has 20 usable images.`,
          requested: shots,
          used: 8,
          smallestClass: 'cats',
          smallestImages: 20,
        },
      ],
      problems: [],
    }));
    studio.learn.options.shots = 15;
    const run = screen.getByRole('region', { name: /^Prompt learning on/ });
    await vi.waitFor(() =>
      expect(within(run).getByRole('note').textContent).toBe(
        '8 shots per class instead of 15: "cats" has 20 usable images.',
      ),
    );
  });
});
