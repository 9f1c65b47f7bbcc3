import { beforeEach, describe, expect, it } from 'vitest';
import { CHEAP_METHODS, type CompareProgress } from '../../../shared/contract/methods';
import { Studio } from '../app/studio';
import { toasts } from '../app/errors.svelte';
import { FakeEngine, untilAborted } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { compareResult } from '../testing/fixtures';
import { errorToasts, fakePlatform, resetToasts } from '../testing/harness';
import { parseInts, progressText } from './compare.svelte';

function setup() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 5 },
  ]);
  const other = new FakeProject('Birds', [{ folderName: 'tits', images: 3 }], 2);
  const engine = new FakeEngine(project.handlers());
  engine.on('projectShow', async ({ projectId }) => (projectId === 2 ? other.detail() : project.detail()));
  engine.on('projectImages', async () => ({ images: [], total: 0 }));
  return { engine, studio: new Studio(engine, fakePlatform()) };
}

describe('compare fields', () => {
  it('reads lists of whole numbers, and refuses anything else', () => {
    expect(parseInts('1, 2,4;8  16', 1)).toEqual([1, 2, 4, 8, 16]);
    expect(parseInts('2, 2, 1', 1)).toEqual([2, 1]);
    expect(parseInts('0', 0)).toEqual([0]);
    expect(parseInts('0', 1)).toBeNull();
    expect(parseInts('1.5', 1)).toBeNull();
    expect(parseInts('two', 1)).toBeNull();
    expect(parseInts(' , ', 1)).toBeNull();
  });

  it('says what a job is doing', () => {
    const row = {
      method: 'linear',
      shots: 2,
      seed: 1,
      valAccuracy: 0.5,
      testAccuracy: 0.625,
      perClass: [],
      chosen: {},
      seconds: 1,
    };
    const cases: [CompareProgress, string][] = [
      [{ kind: 'phase', message: 'Embedding' }, 'Embedding'],
      [{ kind: 'features', done: 3, total: 8 }, 'Embedding images: 3 of 8'],
      [
        { kind: 'row', done: 1, total: 4, row } as CompareProgress,
        '1 of 4 runs done (last: Linear probe, 2 shots, seed 1: 62.5%)',
      ],
      [
        { kind: 'epoch', method: 'coop', shots: 4, seed: 2, epoch: 3, epochs: 100 },
        'CoOp, 4 shots, seed 2: epoch 3 of 100',
      ],
    ];
    for (const [event, text] of cases) expect(progressText(event)).toBe(text);
  });
});

describe('CompareController', () => {
  beforeEach(resetToasts);

  it('starts with the cheap methods chosen', () => {
    const { studio } = setup();
    expect(
      Object.entries(studio.compare.methods)
        .filter(([, on]) => on)
        .map(([m]) => m),
    ).toEqual([...CHEAP_METHODS]);
  });

  it('explains a bad field next to it instead of starting', async () => {
    const { studio, engine } = setup();
    await studio.projects.open(1);
    studio.compare.shots = '1, two';
    await studio.compare.start();
    expect(studio.compare.errors).toEqual({
      shots: 'Write the shot counts as whole numbers of 1 or more, separated by commas (for example 1, 2, 4).',
    });
    studio.compare.shots = '1';
    studio.compare.seeds = '-1';
    await studio.compare.start();
    expect(studio.compare.errors).toEqual({
      seeds: 'Write the seeds as whole numbers of 0 or more, separated by commas (for example 1, 2, 3).',
    });
    for (const m of Object.keys(studio.compare.methods)) studio.compare.methods[m as 'zs'] = false;
    studio.compare.seeds = '1';
    await studio.compare.start();
    expect(studio.compare.errors).toEqual({ methods: 'Choose at least one method to compare.' });
    expect(engine.argsOf('compare')).toEqual([]);
    expect(errorToasts()).toEqual([]);
  });

  it('says why it cannot run without a project, and does not call the engine', async () => {
    const { studio, engine } = setup();
    expect(studio.compare.unavailable).toMatch(/^Open a project with images first/);
    await studio.compare.start();
    expect(engine.argsOf('compare')).toEqual([]);
    expect(errorToasts()).toEqual([]);
    await studio.projects.open(1);
    expect(studio.compare.unavailable).toBeNull();
  });

  it("runs the chosen methods with the Learn screen's model and no backend, and shows the table for its project only", async () => {
    const { studio, engine } = setup();
    let progressSeen = '';
    engine.on('compare', async (args, { progress }) => {
      progress({ kind: 'features', done: 1, total: 2 });
      progressSeen = studio.compare.progress;
      return compareResult(args.methods);
    });
    studio.learn.options.model = '/models/demo';
    studio.compare.methods.tip = false;
    studio.compare.shots = '1, 2';
    studio.compare.seeds = '1';
    await studio.projects.open(1);
    await studio.compare.start();
    expect(engine.argsOf('compare')).toEqual([
      { project: 1, methods: ['zs', 'ensemble', 'linear'], shots: [1, 2], seeds: [1], model: '/models/demo' },
    ]);
    expect(progressSeen).toBe('Embedding images: 1 of 2');
    expect(studio.compare.running).toBe(false);
    expect(studio.compare.progress).toBe('');
    expect(studio.compare.cellOf('linear', 2)?.mean).toBeCloseTo(0.8);
    await studio.projects.open(2);
    expect(studio.compare.result).toBeNull();
    await studio.projects.open(1);
    expect(studio.compare.result?.settings.methods).toEqual(['zs', 'ensemble', 'linear']);
  });

  it('cancels the job', async () => {
    const { studio, engine } = setup();
    engine.on('compare', (_a, { signal }) => untilAborted(signal));
    await studio.projects.open(1);
    const job = studio.compare.start();
    expect(studio.compare.running).toBe(true);
    studio.compare.cancel();
    await job;
    expect(studio.compare.running).toBe(false);
    expect(studio.compare.result).toBeNull();
    expect(toasts.items.map((t) => t.title)).toEqual(['Cancelled']);
  });

  it('keeps its state per studio, not per module (a second window starts afresh)', async () => {
    const a = setup();
    const b = setup();
    a.engine.on('compare', async (args) => compareResult(args.methods));
    a.studio.compare.shots = '4';
    await a.studio.projects.open(1);
    await b.studio.projects.open(1);
    await a.studio.compare.start();
    expect(a.studio.compare.result).not.toBeNull();
    expect(b.studio.compare.result).toBeNull();
    expect(b.studio.compare.shots).toBe('1, 2, 4, 8, 16');
  });
});
