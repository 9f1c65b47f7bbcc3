/**
 * @file The Compare panel lists the methods registry: one checkbox per method of the contract with its cost hint,
 * CLIP-Adapter among them, and a checked method reaches the engine's `compare` and the table (renderer tests).
 */
import { screen, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { COMPARE_METHODS, METHOD_INFOS, METHOD_LABELS, type CompareMethod } from '../../../shared/contract/methods';
import { SERIES_COUNT } from '../ui/chart-theme';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { compareResult, learnResult } from '../testing/fixtures';
import { renderWithStudio } from '../testing/harness';
import ComparePanel from './ComparePanel.svelte';

async function openPanel() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 5 },
  ]);
  const engine = new FakeEngine(project.handlers());
  engine.on('compare', async (args) => compareResult(args.methods));
  const rendered = await renderWithStudio(ComparePanel, { engine, setup: (s) => s.projects.open(project.id) });
  return { engine, ...rendered };
}

describe('the Compare panel', () => {
  it('offers every method of the registry, in its order, each with its cost hint', async () => {
    await openPanel();
    const items = within(screen.getByRole('group', { name: 'Methods' })).getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('label')?.textContent?.trim())).toEqual(METHOD_INFOS.map((m) => m.label));
    METHOD_INFOS.forEach((m, i) => expect(items[i]?.querySelector('.cost')?.textContent).toBe(m.cost));
    expect((screen.getByLabelText('CLIP-Adapter') as HTMLInputElement).checked).toBe(false);
  });

  it('runs CLIP-Adapter when it is checked and shows it in the table', async () => {
    const { engine, user } = await openPanel();
    await user.click(screen.getByLabelText('CLIP-Adapter'));
    await user.click(screen.getByRole('button', { name: 'Compare methods' }));
    await vi.waitFor(() => expect(engine.argsOf('compare')).toHaveLength(1));
    expect(engine.argsOf('compare')[0]?.methods).toContain('clip-adapter');
    const table = await screen.findByRole('table', { name: 'Comparison table' });
    expect(within(table).getByRole('rowheader', { name: 'CLIP-Adapter' })).toBeTruthy();
  });
});

describe('the Compare methods card', () => {
  it("says where its numbers come from, and why CoOp's can differ from the run on Results", async () => {
    const project = new FakeProject('Pets', [
      { folderName: 'cats', images: 5 },
      { folderName: 'dogs', images: 5 },
    ]);
    const engine = new FakeEngine({
      ...project.handlers(),
      compare: async () => ({
        ...compareResult(['zs', 'coop']),
        settings: { ...compareResult(['zs', 'coop']).settings, seeds: [2, 3] },
      }),
    });
    const { user, studio } = await renderWithStudio(ComparePanel, {
      engine,
      setup: async (s) => {
        await s.projects.open(1);
        s.learn.result = learnResult();
      },
    });
    await user.click(screen.getByRole('button', { name: 'Compare methods' }));
    const where = await screen.findByLabelText('Where the numbers come from');
    expect(where.textContent).toContain('Each shot count and seed is its own split of the data (seed 1).');
    expect(where.textContent?.replace(/\s+/g, ' ')).toContain(
      "The run on Results (run 3) learned with 2 shots, seed 1 and 2 epochs; here CoOp's 2-shot number is the mean over seeds 2, 3 with CoOp's epochs for the shots, none of them the seed of that run.",
    );
    const splits = within(where).getByRole('table', { name: 'Splits' });
    expect(
      within(splits)
        .getAllByRole('row')
        .slice(1)
        .map((r) => r.textContent),
    ).toEqual(['11224', '21424']);
    expect(studio.compare.result?.splits).toHaveLength(2);
  });

  it('draws every method of the registry in its own colour, marker and dash, the same in every comparison', async () => {
    const project = new FakeProject('Pets', [
      { folderName: 'cats', images: 5 },
      { folderName: 'dogs', images: 5 },
    ]);
    let methods: CompareMethod[] = [...COMPARE_METHODS];
    const engine = new FakeEngine({ ...project.handlers(), compare: async () => compareResult(methods) });
    const { user } = await renderWithStudio(ComparePanel, { engine, setup: (s) => s.projects.open(1) });
    expect(SERIES_COUNT).toBeGreaterThanOrEqual(COMPARE_METHODS.length);
    const styles = async () => {
      await user.click(screen.getByRole('button', { name: 'Compare methods' }));
      const chart = await screen.findByRole('img', { name: 'Accuracy vs shots' });
      await vi.waitFor(() => expect(chart.querySelectorAll('path.line')).toHaveLength(methods.length));
      const legend = within(screen.getByRole('list', { name: 'Chart legend' })).getAllByRole('listitem');
      return new Map(
        legend.map((li) => {
          const key = li.querySelector('svg.key') as SVGElement;
          const line = key.querySelector('path.line')?.getAttribute('stroke-dasharray') ?? 'solid';
          const shape =
            key
              .querySelector('path.marker')
              ?.getAttribute('d')
              ?.replace(/[\d.]+/g, '#') ?? '';
          return [li.textContent?.trim() ?? '', `${key.style.color}|${line}|${shape}`];
        }),
      );
    };
    const all = await styles();
    expect(all.size).toBe(COMPARE_METHODS.length);
    expect(new Set(all.values()).size).toBe(COMPARE_METHODS.length);
    expect(new Set([...all.values()].map((v) => v.split('|')[0])).size).toBe(COMPARE_METHODS.length);
    // A comparison of fewer methods keeps each method's style.
    methods = ['cocoop', 'zs'];
    const some = await styles();
    expect(some.get(METHOD_LABELS.cocoop)).toBe(all.get(METHOD_LABELS.cocoop));
    expect(some.get(METHOD_LABELS.zs)).toBe(all.get(METHOD_LABELS.zs));
  });
});
