import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SIMILARITY_MAP_NOTE } from '../../../shared/contract/similarity-map';
import { similarityMapResult } from '../testing/experiment-fixtures';
import { FakeEngine, untilAborted } from '../testing/fake-engine';
import { learnResult } from '../testing/fixtures';
import { errorToasts, fakePlatform, renderWithStudio, resetToasts } from '../testing/harness';
import ResultsScreen from '../results/ResultsScreen.svelte';
import WhereItLooksCard from './WhereItLooksCard.svelte';

function engineWithMaps() {
  return new FakeEngine({
    similarityMap: async (args) => similarityMapResult(args.image, args.classIndices),
  });
}

async function openCard(engine = engineWithMaps()) {
  const run = learnResult();
  const rendered = await renderWithStudio(WhereItLooksCard, {
    engine,
    props: { run },
    setup: (s) => {
      s.learn.result = run;
    },
  });
  return { ...rendered, engine, run };
}

describe('Where the model looks', () => {
  beforeEach(resetToasts);

  it("lists the run's test images, mistakes first, and opens the maps of both prompts side by side", async () => {
    const { user, engine, run } = await openCard();
    const picker = screen.getByLabelText('Test image') as HTMLSelectElement;
    expect(Array.from(picker.options, (o) => o.textContent)).toEqual([
      '6.png: dogs, taken for cats',
      '1.png: cats',
      '2.png: cats',
      '7.png: dogs',
    ]);
    expect(picker.value).toBe('/data/dogs/6.png');
    await user.selectOptions(picker, '/data/cats/2.png');
    await user.click(screen.getByRole('button', { name: 'Show where the model looks' }));
    const dialog = await screen.findByRole('dialog', { name: 'Where the model looks: 2.png' });
    expect(engine.argsOf('similarityMap')).toEqual([
      { model: run.model.dir, image: '/data/cats/2.png', context: run.contextPath, template: 'a photo of a {}.' },
    ]);
    // The learned prompt's top class first (dogs), the hand-written prompt's map on the left.
    const maps = await within(dialog).findAllByRole('img');
    expect(maps.map((m) => m.getAttribute('alt'))).toEqual([
      'Similarity map of the hand-written prompt for dogs over 2.png',
      'Similarity map of the learned prompt for dogs over 2.png',
    ]);
    expect(within(dialog).getByText('“a photo of a dogs.”')).toBeTruthy();
    expect(within(dialog).getByText('“X X X X dogs.”')).toBeTruthy();
    expect(within(dialog).getByText(/^Colour: cosine between each image patch/)).toBeTruthy();
    expect(within(dialog).getByText(SIMILARITY_MAP_NOTE)).toBeTruthy();
    expect(
      within(dialog).getByText(/cosine 0.000 \(blue\) to 0.350 \(red\), one scale for both prompts · 2 × 2 patches/),
    ).toBeTruthy();
    const classes = within(dialog).getByLabelText('Class') as HTMLSelectElement;
    expect(Array.from(classes.options, (o) => o.textContent)).toEqual([
      'cats (true class): learned 20.0%, hand-written 60.0%',
      'dogs: learned 80.0%, hand-written 40.0%',
    ]);
    // A class already drawn needs no new job.
    await user.selectOptions(classes, '0');
    expect(engine.argsOf('similarityMap')).toHaveLength(1);
    expect(within(dialog).getAllByRole('img')[1]?.getAttribute('alt')).toBe(
      'Similarity map of the learned prompt for cats over 2.png',
    );
  });

  it('asks for the overlays of a class not drawn yet, and only for that class', async () => {
    const engine = new FakeEngine({
      similarityMap: async (args) => similarityMapResult(args.image, args.classIndices ?? [1]),
    });
    const { user } = await openCard(engine);
    await user.click(screen.getByRole('button', { name: 'Show where the model looks' }));
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findAllByRole('img');
    await user.selectOptions(within(dialog).getByLabelText('Class'), '0');
    await vi.waitFor(() =>
      expect(within(dialog).getAllByRole('img')[0]?.getAttribute('alt')).toBe(
        'Similarity map of the hand-written prompt for cats over 6.png',
      ),
    );
    expect(engine.argsOf('similarityMap').map((a) => a.classIndices)).toEqual([undefined, [0]]);
  });

  it('closing while the maps are drawn cancels the job without an error', async () => {
    const engine = new FakeEngine({
      similarityMap: (_a, { signal }) => untilAborted(signal),
    });
    const { user, studio } = await openCard(engine);
    await user.click(screen.getByRole('button', { name: 'Show where the model looks' }));
    const dialog = await screen.findByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Close' }));
    await vi.waitFor(() => expect(studio.similarity.busy).toBe(false));
    expect(studio.similarity.target).toBeNull();
    expect(errorToasts()).toEqual([]);
  });

  it("shows the engine's sentence when the image cannot be read", async () => {
    const engine = new FakeEngine({
      similarityMap: async () => {
        throw Object.assign(new Error('6.png is truncated'), { code: 'invalid_image' });
      },
    });
    const { user } = await openCard(engine);
    await user.click(screen.getByRole('button', { name: 'Show where the model looks' }));
    await vi.waitFor(() => expect(errorToasts()).toEqual(['6.png is truncated']));
  });
});

describe('Where the model looks from Try it', () => {
  beforeEach(resetToasts);

  it('opens the maps of the tried image, at its path on the engine’s disk', async () => {
    const file = new File([new Uint8Array([1, 2, 3])], 'mystery.png', { type: 'image/png' });
    const platform = fakePlatform({ transport: 'electron', paths: new Map([[file, '/home/me/mystery.png']]) });
    const engine = new FakeEngine({
      predict: async (args) =>
        ({
          model: { id: 'demo', dir: '/models/demo-clip' },
          mode: args.context ? 'context' : 'zero-shot',
          context: args.context ?? null,
          classNames: ['cats', 'dogs'],
          predictions: [{ path: args.images[0] ?? '', top: [{ label: 1, name: 'dogs', probability: 0.8 }] }],
        }) as never,
      similarityMap: async (args) => similarityMapResult(args.image, args.classIndices),
    });
    const run = learnResult();
    const { user } = await renderWithStudio(ResultsScreen, {
      engine,
      platform,
      setup: (s) => void (s.learn.result = run),
    });
    await user.upload(screen.getByLabelText('Image to try'), file);
    await user.click(await screen.findByRole('button', { name: 'Where the model looks' }));
    const dialog = await screen.findByRole('dialog', { name: 'Where the model looks: mystery.png' });
    await within(dialog).findAllByRole('img');
    expect(engine.argsOf('similarityMap')).toEqual([
      { model: run.model.dir, image: '/home/me/mystery.png', context: run.contextPath, template: 'a photo of a {}.' },
    ]);
    // No true class for an image from outside the dataset.
    expect(
      Array.from((within(dialog).getByLabelText('Class') as HTMLSelectElement).options, (o) => o.textContent),
    ).toEqual(['cats: learned 20.0%, hand-written 60.0%', 'dogs: learned 80.0%, hand-written 40.0%']);
  });
});
