import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Studio } from '../app/studio';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { learnResult } from '../testing/fixtures';
import { errorToasts, fakePlatform, resetToasts } from '../testing/harness';

function setup(platform = fakePlatform()) {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 5 },
  ]);
  const engine = new FakeEngine(project.handlers());
  const studio = new Studio(engine, platform);
  studio.learn.result = learnResult();
  return { engine, studio, results: studio.results };
}

describe('ResultsController', () => {
  beforeEach(resetToasts);

  it('derives the headline numbers and the confusion cells from the run', () => {
    const { results } = setup();
    expect(results.gain).toBeCloseTo(25);
    expect(results.maxCell).toBe(2);
    expect(results.className(1)).toBe('dogs');
    expect(results.className(7)).toBe('7');
    results.openCell({ t: 1, p: 0 });
    expect(results.cellItems.map((x) => x.path)).toEqual(['/data/dogs/6.png']);
    expect(results.cellTitle).toBe('1 × dogs predicted as cats');
    results.closeCell();
    expect(results.cellItems).toEqual([]);
    expect(results.cellTitle).toBe('');
  });

  it('lists the mistakes, most confident first, a page at a time', async () => {
    const { results, studio } = setup();
    studio.learn.result = learnResult({
      predictions: [
        { imageId: 1, path: '/a.png', label: 0, predicted: 1, confidence: 0.55 },
        { imageId: 2, path: '/b.png', label: 0, predicted: 0, confidence: 0.99 },
        { imageId: 3, path: '/c.png', label: 1, predicted: 0, confidence: 0.95 },
      ],
    });
    expect(results.mistakes.map((m) => m.path)).toEqual(['/c.png', '/a.png']);
    results.showMoreMistakes();
    expect(results.misShown).toBe(120);
    await studio.projects.open(1);
    await results.resultShown();
    expect(results.misShown).toBe(60);
  });

  it("finds the thumbnails of the run's test images by id, else by path", async () => {
    const { results, studio, engine } = setup();
    await studio.projects.open(1);
    await results.resultShown();
    expect(engine.argsOf('projectImages').at(-1)).toEqual({ projectId: 1, limit: 100_000 });
    expect(results.imageOf({ imageId: 6, path: '/elsewhere.png', label: 1, predicted: 0, confidence: 1 })?.id).toBe(6);
    expect(
      results.imageOf({ imageId: null, path: '/data/cats/2.png', label: 0, predicted: 0, confidence: 1 })?.id,
    ).toBe(2);
    expect(
      results.imageOf({ imageId: null, path: '/nowhere.png', label: 0, predicted: 0, confidence: 1 }),
    ).toBeUndefined();
  });

  it('tries an image with the learned prompt and with zero-shot, every class sorted by the learned probability', async () => {
    const file = new File(['x'], 'mystery.png');
    const { results, engine, studio } = setup(
      fakePlatform({ transport: 'electron', paths: new Map([[file, '/photos/mystery.png']]) }),
    );
    engine.on('predict', async (args) => {
      const learned = args.context !== undefined;
      const p = learned ? [0.2, 0.8] : [0.6, 0.4];
      return {
        model: { id: 'demo', dir: args.model ?? '' },
        mode: learned ? 'context' : 'zero-shot',
        context: args.context ?? null,
        classNames: ['cats', 'dogs'],
        predictions: [
          {
            path: args.images[0] ?? '',
            top: [0, 1]
              .map((label) => ({ label, name: '', probability: p[label]!, logit: 0 }))
              .sort((a, b) => b.probability - a.probability),
          },
        ],
      };
    });
    await results.tryImage(file);
    const [learned, zeroShot] = engine.argsOf('predict');
    expect(learned).toEqual({
      model: '/models/demo-clip',
      images: ['/photos/mystery.png'],
      top: 2,
      context: '/runs/3/context.safetensors',
    });
    expect(zeroShot).toEqual({
      model: '/models/demo-clip',
      images: ['/photos/mystery.png'],
      top: 2,
      classes: ['cats', 'dogs'],
      template: 'a photo of a {}.',
    });
    expect(results.tried).toMatchObject({
      name: 'mystery.png',
      learned: 'dogs',
      zeroShot: 'cats',
      classes: [
        { name: 'dogs', learned: 0.8, zeroShot: 0.4 },
        { name: 'cats', learned: 0.2, zeroShot: 0.6 },
      ],
    });
    expect(results.trying).toBe(false);
    studio.learn.result = learnResult();
    expect(results.tried).toBeNull();
  });

  it('says that Try it needs a learned prompt', async () => {
    const { results, studio, engine } = setup();
    studio.learn.result = null;
    await results.tryImage(new File(['x'], 'a.png'));
    expect(errorToasts()).toEqual(['Learn a prompt first: Try it uses the learned context.']);
    expect(engine.argsOf('predict')).toEqual([]);
  });

  it('shows an image the engine could not read as an error, not as an answer', async () => {
    const file = new File(['x'], 'broken.png');
    const { results, engine } = setup(
      fakePlatform({ transport: 'electron', paths: new Map([[file, '/p/broken.png']]) }),
    );
    engine.on('predict', async (args) => ({
      model: { id: 'demo', dir: '' },
      mode: 'context',
      context: null,
      classNames: [],
      predictions: [{ path: args.images[0] ?? '', top: [], error: 'not an image' }],
    }));
    await results.tryImage(file);
    await vi.waitFor(() => expect(errorToasts()).toEqual(['broken.png: not an image']));
    expect(results.tried).toBeNull();
  });
});
