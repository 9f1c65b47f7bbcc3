import { beforeEach, describe, expect, it } from 'vitest';
import type { ExperimentProgress } from '../../../shared/contract/experiments';
import { experimentCsv, experimentReport } from '../../../shared/experiment-report';
import { Studio } from '../app/studio';
import { toasts } from '../app/errors.svelte';
import { baseToNewResult, sweepResult } from '../testing/experiment-fixtures';
import { FakeEngine, untilAborted } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { errorToasts, fakePlatform, resetToasts } from '../testing/harness';
import { progressText } from './experiment-kinds';
import { parseNumbers } from './experiments.svelte';

const MODELS = [
  { id: 'demo', dir: '/models/demo', active: true },
  { id: 'big', dir: '/models/big', active: false },
];

function setup(platform = fakePlatform()) {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 5 },
  ]);
  const other = new FakeProject('Birds', [{ folderName: 'tits', images: 3 }], 2);
  const engine = new FakeEngine(project.handlers());
  engine.on('projectShow', async ({ projectId }) => (projectId === 2 ? other.detail() : project.detail()));
  const studio = new Studio(engine, platform);
  studio.learn.models = MODELS.map((m) => ({ ...m, problem: null })) as never;
  studio.learn.options.model = '/models/demo';
  const saved: { name: string; blob: Blob }[] = [];
  studio.experiments.saver = {
    save: (name, blob) => saved.push({ name, blob }),
    png: async (svg) => new Blob([`png of ${svg.length} svg chars`], { type: 'image/png' }),
  };
  return { engine, studio, saved };
}

describe('experiment fields', () => {
  it('reads lists of numbers, and refuses anything else', () => {
    const whole = (n: number) => Number.isInteger(n) && n >= 1;
    expect(parseNumbers('1, 2,4;8  16', whole)).toEqual([1, 2, 4, 8, 16]);
    expect(parseNumbers('0, 12.5, 25', (n) => n >= 0 && n < 100)).toEqual([0, 12.5, 25]);
    expect(parseNumbers('100', (n) => n >= 0 && n < 100)).toBeNull();
    expect(parseNumbers('1.5', whole)).toBeNull();
    expect(parseNumbers('two', whole)).toBeNull();
    expect(parseNumbers(' , ', whole)).toBeNull();
  });

  it('says what a job is doing, with the methods by name', () => {
    const cases: [ExperimentProgress, string][] = [
      [{ kind: 'phase', message: 'Embedding' }, 'Embedding'],
      [{ kind: 'features', done: 3, total: 8 }, 'Embedding images: 3 of 8'],
      [{ kind: 'epoch', run: 'coop M=4', seed: 2, epoch: 3, epochs: 100 }, 'CoOp M=4, seed 2: epoch 3 of 100'],
      [
        { kind: 'run', done: 1, total: 6, run: 'zs hand-written prompt', seed: 1, accuracy: 0.625, seconds: 0 },
        '1 of 6 runs done (last: Zero-shot hand-written prompt, seed 1: 62.5%)',
      ],
    ];
    for (const [event, text] of cases) expect(progressText(event)).toBe(text);
  });
});

describe('ExperimentsController', () => {
  beforeEach(resetToasts);

  it('sends each sweep the arguments its fields say, with the Learn screen’s model', async () => {
    const { studio, engine } = setup();
    engine.on('sweep', async () => sweepResult());
    await studio.projects.open(1);
    const exp = studio.experiments;
    exp.shots = '2';
    exp.seeds = '1, 2';
    exp.epochs = '3';
    exp.lengths = '1, 2';
    await exp.start();
    exp.kind = 'init';
    exp.initWords = '  a drawing of a ';
    exp.epochs = '';
    await exp.start();
    exp.kind = 'label-noise';
    exp.noise = '0, 12.5, 50';
    await exp.start();
    exp.kind = 'layout';
    await exp.start();
    const common = { project: 1, shots: 2, seeds: [1, 2], model: '/models/demo' };
    expect(engine.argsOf('sweep')).toEqual([
      { kind: 'context-length', ...common, epochs: 3, contextLengths: [1, 2] },
      { kind: 'init', ...common, initWords: 'a drawing of a' },
      { kind: 'label-noise', ...common, noiseRates: [0, 0.125, 0.5] },
      { kind: 'layout', ...common },
    ]);
    expect(errorToasts()).toEqual([]);
  });

  it('runs the backbone sweep on the chosen models, or on every installed one', async () => {
    const { studio, engine } = setup();
    engine.on('sweep', async () => sweepResult());
    await studio.projects.open(1);
    const exp = studio.experiments;
    exp.kind = 'backbone';
    exp.seeds = '1';
    expect(exp.plan).toMatchObject({ runs: 4, trained: 2 });
    await exp.start();
    exp.models['/models/big'] = true;
    expect(exp.plan).toMatchObject({ runs: 2, trained: 1 });
    await exp.start();
    expect(engine.argsOf('sweep').map((a) => a.models)).toEqual([undefined, ['/models/big']]);
    expect(engine.argsOf('sweep').every((a) => a.model === undefined)).toBe(true);
  });

  it('sends base-to-new and domain shift their methods and folders', async () => {
    const { studio, engine } = setup();
    engine.on('baseToNew', async () => baseToNewResult());
    engine.on('domainShift', async () => ({ ...baseToNewResult(), domains: [], losses: [] }) as never);
    await studio.projects.open(1);
    const exp = studio.experiments;
    exp.kind = 'base-to-new';
    exp.seeds = '1';
    exp.b2nMethods.cocoop = false;
    await exp.start();
    exp.kind = 'domain-shift';
    exp.targets = '/data/sketch\n\n  /data/noisy  \n';
    await exp.start();
    expect(engine.argsOf('baseToNew')).toEqual([
      { project: 1, shots: 16, seeds: [1], methods: ['zs', 'coop', 'kgcoop'], model: '/models/demo' },
    ]);
    expect(engine.argsOf('domainShift')).toEqual([
      {
        project: 1,
        shots: 16,
        seeds: [1],
        methods: ['zs', 'coop'],
        targets: ['/data/sketch', '/data/noisy'],
        model: '/models/demo',
      },
    ]);
  });

  it('says what is wrong next to each field instead of starting', async () => {
    const { studio, engine } = setup();
    await studio.projects.open(1);
    const exp = studio.experiments;
    exp.shots = '2, 4';
    exp.seeds = 'one';
    exp.epochs = '-1';
    exp.lengths = '0, 2';
    await exp.start();
    expect(exp.errors).toEqual({
      shots: 'Write one whole number of images per class, for example 16.',
      seeds: 'Write the seeds as whole numbers separated by commas, for example 1, 2, 3.',
      epochs: 'Leave Epochs empty for CoOp’s count, or write one whole number.',
      lengths: 'Write the context lengths as whole numbers from 1 to 64, for example 1, 2, 4, 8, 16.',
    });
    expect(exp.plan).toBeNull();
    exp.kind = 'label-noise';
    exp.shots = '2';
    exp.seeds = '1';
    exp.epochs = '';
    exp.noise = '0, 100';
    await exp.start();
    expect(exp.errors).toEqual({
      noise: 'Write the shares of flipped labels in percent, from 0 up to (not including) 100.',
    });
    exp.kind = 'domain-shift';
    for (const m of ['zs', 'coop'] as const) exp.shiftMethods[m] = false;
    await exp.start();
    expect(exp.errors).toEqual({
      methods: 'Choose at least one method.',
      targets: 'Give the folder of the shifted images: one sub-folder per class.',
    });
    expect(engine.calls.filter((c) => ['sweep', 'baseToNew', 'domainShift'].includes(c.op))).toEqual([]);
    expect(errorToasts()).toEqual([]);
  });

  it('plans the runs of the form: cells x seeds, the trained ones apart', async () => {
    const { studio } = setup();
    await studio.projects.open(1);
    const exp = studio.experiments;
    exp.seeds = '1, 2, 3';
    exp.lengths = '1, 2, 4';
    expect(exp.plan).toEqual({ runs: 12, trained: 9, epochs: 200, cocoopEpochs: null });
    exp.shots = '4';
    expect(exp.plan?.epochs).toBe(100);
    exp.kind = 'label-noise';
    exp.noise = '0, 25';
    expect(exp.plan).toEqual({ runs: 18, trained: 6, epochs: 100, cocoopEpochs: null });
    exp.kind = 'base-to-new';
    expect(exp.plan).toEqual({ runs: 12, trained: 9, epochs: 100, cocoopEpochs: 10 });
  });

  it('moves the progress bar with the runs and the running one’s epochs, and keeps each result per project and experiment', async () => {
    const { studio, engine } = setup();
    const bars: (string | undefined)[] = [];
    engine.on('sweep', async (_a, { progress }) => {
      const events: ExperimentProgress[] = [
        { kind: 'features', done: 5, total: 10 },
        { kind: 'epoch', run: 'coop M=1', seed: 1, epoch: 1, epochs: 2 },
        { kind: 'run', done: 1, total: 6, run: 'coop M=1', seed: 1, accuracy: 0.5, seconds: 1 },
        { kind: 'epoch', run: 'coop M=2', seed: 1, epoch: 1, epochs: 4 },
      ];
      for (const e of events) {
        progress(e);
        bars.push(`${studio.experiments.bar?.value}/${studio.experiments.bar?.max}: ${studio.experiments.bar?.text}`);
      }
      return sweepResult();
    });
    await studio.projects.open(1);
    const exp = studio.experiments;
    exp.lengths = '1, 2';
    exp.seeds = '1, 2';
    await exp.start();
    expect(bars).toEqual([
      '5/10: 5 of 10 images embedded',
      '0.5/6: 0 of 6 runs',
      '1/6: 1 of 6 runs',
      '1.25/6: 1 of 6 runs',
    ]);
    expect(exp.running).toBe(false);
    expect(exp.bar).toBeNull();
    expect(exp.result?.table.title).toBe('Context length M: data, 2 shots');
    exp.kind = 'init';
    expect(exp.result).toBeNull();
    exp.kind = 'context-length';
    await studio.projects.open(2);
    expect(exp.result).toBeNull();
    await studio.projects.open(1);
    expect(exp.result).not.toBeNull();
  });

  it('cancels the job', async () => {
    const { studio, engine } = setup();
    engine.on('sweep', (_a, { signal }) => untilAborted(signal));
    await studio.projects.open(1);
    const job = studio.experiments.start();
    expect(studio.experiments.running).toBe(true);
    studio.experiments.cancel();
    await job;
    expect(studio.experiments.running).toBe(false);
    expect(studio.experiments.result).toBeNull();
    expect(toasts.items.map((t) => t.title)).toEqual(['Cancelled']);
  });

  it('hands the report files to the user: the engine’s CSV, the whole JSON, the chart and the HTML page', async () => {
    const { studio, engine, saved } = setup();
    engine.on('sweep', async () => sweepResult());
    await studio.projects.open(1);
    await studio.experiments.start();
    for (const f of ['csv', 'json', 'svg', 'png', 'html'] as const) await studio.experiments.download(f);
    expect(saved.map((s) => [s.name, s.blob.type])).toEqual([
      ['sweep-context-length.csv', 'text/csv;charset=utf-8'],
      ['sweep-context-length.json', 'application/json'],
      ['sweep-context-length.svg', 'image/svg+xml'],
      ['sweep-context-length.png', 'image/png'],
      ['sweep-context-length.html', 'text/html;charset=utf-8'],
    ]);
    const text = await Promise.all(saved.map((s) => s.blob.text()));
    const r = sweepResult();
    expect(text[0]).toBe(experimentCsv(r.table, experimentReport(r).runs));
    expect(JSON.parse(text[1] ?? '')).toEqual(r);
    expect(text[2]).toMatch(/^<svg [^>]*aria-label="Context length M: data, 2 shots"/);
    expect(text[4]).toContain('<pre>coop-studio sweep --kind context-length');
    expect(text[4]).not.toMatch(/<script|src=|href=|url\(/i);
    // The page shows the swept values of its own kind; the JSON keeps every setting.
    expect(text[4]).toContain('<th scope="row">contextLengths</th><td>1, 2</td>');
    expect(text[4]).not.toContain('noiseRates');
    expect(text[1]).toContain('"noiseRates"');
  });

  it('needs an open project with images', async () => {
    const { studio, engine } = setup();
    await studio.experiments.start();
    expect(errorToasts()).toEqual(['Open a project with images first: add a dataset on the Dataset screen.']);
    expect(engine.argsOf('sweep')).toEqual([]);
  });
});
