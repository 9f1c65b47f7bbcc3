import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunSummary } from '../../../shared/contract';
import type { LearnResult } from '../../../shared/contract/train';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { epochPoint, learnResult } from '../testing/fixtures';
import { fakePlatform, renderWithStudio, resetToasts } from '../testing/harness';
import ResultsScreen from './ResultsScreen.svelte';

/** A run whose classes the user renamed: folders black_checker and dots, names checkerboard and spots. */
function renamedRun(runId: number, over: Partial<LearnResult> = {}): LearnResult {
  const base = learnResult({ project: { id: 1, name: 'Patterns', runId }, ...over });
  const names = ['checkerboard', 'spots'];
  const folders = ['black_checker', 'dots'];
  const report = (r: LearnResult['test']) => ({
    ...r,
    perClass: r.perClass.map((c, i) => ({ ...c, name: names[i] ?? c.name })),
  });
  return {
    ...base,
    data: {
      ...base.data,
      classes: base.data.classes.map((c, i) => ({ ...c, name: names[i]!, folder: folders[i]!, prompt: names[i]! })),
    },
    test: report(base.test),
    zeroShot: { ...base.zeroShot, test: report(base.zeroShot.test) },
    ...over,
  };
}

function summary(id: number, testAccuracy: number, over: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    modelId: 'demo',
    method: 'coop',
    seed: id,
    shots: 8,
    status: 'done',
    backend: 'wasm',
    createdAt: Date.UTC(2025, 2, id, 14, 2),
    durationMs: 1000,
    error: null,
    testAccuracy,
    zeroShotAccuracy: 0.5,
    curve: [epochPoint(0, 0.5), epochPoint(1, testAccuracy)],
    ...over,
  };
}

async function openResults(runs: RunSummary[] = [summary(5, 0.75), summary(4, 0.6)]) {
  const file = new File(['x'], 'mystery.png', { type: 'image/png' });
  const project = new FakeProject('Patterns', [
    { folderName: 'black_checker', prompt: 'checkerboard', images: 5 },
    { folderName: 'dots', prompt: 'spots', images: 5 },
  ]);
  project.runs = runs;
  const engine = new FakeEngine({
    ...project.handlers(),
    projectRuns: async () => ({ runs }),
    projectRun: async ({ runId }) => ({ id: runId, status: 'done', result: renamedRun(runId) }) as never,
    predict: async (args) => ({
      model: { id: 'demo', dir: args.model ?? '' },
      mode: args.context ? 'context' : 'zero-shot',
      context: args.context ?? null,
      classNames: ['checkerboard', 'spots'],
      predictions: [
        {
          path: args.images[0] ?? '',
          top: [
            { label: 1, name: 'spots', probability: 0.7, logit: 0 },
            { label: 0, name: 'checkerboard', probability: 0.3, logit: 0 },
          ],
        },
      ],
    }),
  });
  const platform = fakePlatform({ transport: 'electron', paths: new Map([[file, '/photos/mystery.png']]) });
  const rendered = await renderWithStudio(ResultsScreen, {
    engine,
    platform,
    setup: async (s) => {
      await s.projects.open(1);
      await vi.waitFor(() => expect(s.learn.result?.project?.runId).toBe(5));
    },
  });
  return { ...rendered, engine, file };
}

describe('the Results screen', () => {
  beforeEach(resetToasts);

  it('names the classes as the user renamed them everywhere: per class, the matrix, the mistakes, Try it', async () => {
    const { user, file } = await openResults();
    const main = document.body;
    expect(within(screen.getByRole('list', { name: 'Per-class accuracy' })).getByText('checkerboard')).toBeTruthy();
    const matrix = screen.getByRole('grid', { name: 'Confusion matrix' });
    expect(within(matrix).getAllByText('spots').length).toBeGreaterThan(0);
    expect(within(matrix).getByRole('button', { name: '1 spots images predicted as checkerboard' })).toBeTruthy();
    const mistakes = screen.getByRole('list', { name: 'Misclassified images' });
    expect(mistakes.textContent).toContain('true class spots, predicted checkerboard');

    await user.click(within(matrix).getByRole('button', { name: '1 spots images predicted as checkerboard' }));
    const cell = await screen.findByRole('dialog', { name: '1 × spots predicted as checkerboard' });
    await user.click(within(cell).getByRole('button', { name: 'Close' }));

    await user.upload(screen.getByLabelText('Image to try'), file);
    const tried = await screen.findByRole('table', { name: 'Class probabilities' });
    expect(within(tried).getByRole('rowheader', { name: 'spots' })).toBeTruthy();
    expect(screen.getByLabelText('Try it result').textContent).toContain('spots');
    expect(main.textContent).not.toMatch(/black_checker|\bdots\b/);
  });

  it('lists every run with method, shots, seed, date and accuracy; opens an earlier one; overlays curves on demand', async () => {
    const { user, studio, engine } = await openResults();
    const table = screen.getByRole('table', { name: 'Runs' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(
      rows.map((r) =>
        within(r)
          .getAllByRole('cell')
          .slice(0, 3)
          .map((c) => c.textContent),
      ),
    ).toEqual([
      ['CoOp', '8', '5'],
      ['CoOp', '8', '4'],
    ]);
    expect(rows[0]!.getAttribute('aria-current')).toBe('true');
    expect(screen.getByLabelText('Run shown').textContent).toMatch(/Latest run: run 5 · CoOp · 2 shots · seed 1/);

    const open = within(table).getByRole('button', { name: /^Open Run 4 · CoOp · 8 shots · seed 4 · .* · 60\.0%$/ });
    await user.click(open);
    await vi.waitFor(() => expect(screen.getByLabelText('Run shown').textContent).toContain('Earlier run: run 4'));
    expect(engine.argsOf('projectRun')).toContainEqual({ runId: 4 });
    expect(studio.runs.shownRunId).toBe(4);
    expect(screen.getByText(/^Showing an earlier run: run 4\./).getAttribute('role')).toBe('status');

    await user.click(within(table).getByRole('checkbox', { name: 'Overlay the curve of run 5 on the learning curve' }));
    expect(studio.runs.overlay.map((o) => o.label)).toEqual(['Run 5 (CoOp · 8 shots · seed 5)']);
    await user.click(screen.getByRole('button', { name: 'Show the latest run' }));
    await vi.waitFor(() => expect(screen.getByLabelText('Run shown').textContent).toContain('Latest run: run 5'));
    // The shown run is never overlaid on itself.
    expect(studio.runs.overlay).toEqual([]);
  });

  it('says when the hand-written prompt did better, and recommends it', async () => {
    const { studio } = await openResults();
    expect(screen.queryByRole('region', { name: 'Advice' })).toBeNull();
    const worse = renamedRun(5);
    studio.learn.result = { ...worse, test: { ...worse.test, accuracy: 0.25 } };
    const advice = await screen.findByRole('region', { name: 'Advice' });
    expect(advice.textContent).toContain("The hand-written prompt did better on this run's test images");
    expect(advice.textContent).toContain('use the hand-written prompt “a photo of a {class}.”');
  });

  it("shows the run's notes (fewer shots than asked)", async () => {
    const { studio } = await openResults();
    studio.learn.result = renamedRun(5, {
      notes: [
        {
          code: 'shots_capped',
          message: '8 shots per class instead of 16: "spots" has 20 usable images.',
          requested: 16,
          used: 8,
          smallestClass: 'spots',
          smallestImages: 20,
        },
      ],
    });
    expect((await screen.findByRole('note')).textContent).toBe(
      '8 shots per class instead of 16: "spots" has 20 usable images.',
    );
  });
});
