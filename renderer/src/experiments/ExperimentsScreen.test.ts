import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExperimentProgress } from '../../../shared/contract/experiments';
import { sweepResult } from '../testing/experiment-fixtures';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { renderWithStudio, resetToasts } from '../testing/harness';
import ExperimentsScreen from './ExperimentsScreen.svelte';

function engineFor() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 6 },
    { folderName: 'dogs', images: 6 },
  ]);
  return new FakeEngine({
    ...project.handlers(),
    modelsList: async () =>
      ({
        installed: [{ id: 'demo', dir: '/models/demo', active: true, problem: null }],
        activeId: 'demo',
        partial: [],
        catalogue: [],
        endpoint: '',
      }) as never,
  });
}

async function openScreen(engine = engineFor()) {
  const rendered = await renderWithStudio(ExperimentsScreen, { engine, setup: (s) => s.projects.open(1) });
  const saved: string[] = [];
  rendered.studio.experiments.saver = { save: (name) => saved.push(name), png: async () => new Blob([]) };
  return { ...rendered, engine, saved };
}

describe('the Experiments screen', () => {
  beforeEach(resetToasts);

  it('runs a small context-length sweep with progress and Cancel, then shows the table, the split and the downloads', async () => {
    const engine = engineFor();
    let release: () => void = () => {};
    engine.on('sweep', async (_a, { progress }) => {
      progress({
        kind: 'run',
        done: 2,
        total: 6,
        run: 'coop M=1',
        seed: 2,
        accuracy: 0.7,
        seconds: 1,
      } as ExperimentProgress);
      await new Promise<void>((r) => (release = r));
      return sweepResult();
    });
    const { user, engine: e, saved } = await openScreen(engine);
    await user.click(screen.getByRole('radio', { name: /^Context length M/ }));
    const lengths = screen.getByLabelText('Context lengths M');
    await user.clear(lengths);
    await user.type(lengths, '1, 2');
    await user.clear(screen.getByLabelText('Seeds'));
    await user.type(screen.getByLabelText('Seeds'), '1, 2');
    await user.clear(screen.getByLabelText('Shots per class'));
    await user.type(screen.getByLabelText('Shots per class'), '2');
    await user.type(screen.getByLabelText('Epochs'), '2');
    expect(screen.getByText(/^6 runs, 4 of them training a prompt \(2 epochs each\)/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Run experiment' }));
    const bar = await screen.findByRole('progressbar', { name: 'Experiment progress' });
    expect(bar.getAttribute('aria-valuetext')).toBe('2 of 6 runs');
    expect(screen.getByText('Context length M: 2 of 6 runs done (last: CoOp M=1, seed 2: 70.0%)')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();
    release();
    const table = await screen.findByRole('table', { name: 'Experiment table' });
    expect(e.argsOf('sweep')).toEqual([
      {
        kind: 'context-length',
        project: 1,
        shots: 2,
        seeds: [1, 2],
        epochs: 2,
        contextLengths: [1, 2],
        model: '/models/demo',
      },
    ]);
    const rows = within(table)
      .getAllByRole('row')
      .map((r) => Array.from(r.children, (c) => c.textContent?.trim()).join(' | '));
    expect(rows).toEqual([
      'setting | CoOp | Zero-shot',
      'M=1 | 60.0 ± 14.1 | –',
      'M=2 | 100.0 ± 0.0 | –',
      'hand-written prompt | – | 50.0 ± 0.0',
    ]);
    expect(screen.getByText(/mean ± standard deviation over seeds 1, 2/)).toBeTruthy();
    expect(
      screen.getByText(/Training \/ validation \/ test images: seed 1: 4 \/ 4 \/ 2; seed 2: 4 \/ 4 \/ 2\./),
    ).toBeTruthy();
    expect(screen.getByRole('img', { name: /^Chart: Context length M/ })).toBeTruthy();
    expect(
      within(screen.getByRole('list', { name: 'Chart key' }))
        .getAllByRole('listitem')
        .map((l) => l.textContent),
    ).toEqual(['CoOp: solid bars', 'Zero-shot: diagonal lines bars']);
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Download table (CSV)' }));
    await user.click(screen.getByRole('button', { name: 'Download report (HTML)' }));
    await vi.waitFor(() => expect(saved).toEqual(['sweep-context-length.csv', 'sweep-context-length.html']));
  });

  it('says a wrong field next to it, and marks the field invalid', async () => {
    const { user, engine } = await openScreen();
    const seeds = screen.getByLabelText('Seeds');
    await user.clear(seeds);
    await user.type(seeds, 'one, two');
    await user.click(screen.getByRole('button', { name: 'Run experiment' }));
    expect(seeds.getAttribute('aria-invalid')).toBe('true');
    const described = document.getElementById(seeds.getAttribute('aria-describedby') ?? '');
    expect(described?.textContent).toBe('Write the seeds as whole numbers separated by commas, for example 1, 2, 3.');
    expect(engine.argsOf('sweep')).toEqual([]);
  });

  it('asks domain shift for its second folder, typed or uploaded', async () => {
    const { user, engine } = await openScreen();
    engine.on('domainShift', async () => ({ ...sweepResult(), domains: [], losses: [] }) as never);
    await user.click(screen.getByRole('radio', { name: /^Domain shift/ }));
    expect(screen.getByRole('button', { name: 'Upload a folder…' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Run experiment' }));
    const folders = screen.getByLabelText(/^Shifted test folders/);
    expect(folders.getAttribute('aria-invalid')).toBe('true');
    await user.type(folders, '/data/sketch');
    await user.click(screen.getByRole('button', { name: 'Run experiment' }));
    await vi.waitFor(() => expect(engine.argsOf('domainShift').map((a) => a.targets)).toEqual([['/data/sketch']]));
  });
});
