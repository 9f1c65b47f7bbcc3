import { beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveSchedule, type LearnEstimate, type LearnProgress } from '../../../shared/contract/train';
import { Studio } from '../app/studio';
import { AppError } from '../../../shared/result';
import { toasts } from '../app/errors.svelte';
import { FakeEngine, untilAborted } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { learnResult } from '../testing/fixtures';
import { errorToasts, fakePlatform, resetToasts } from '../testing/harness';

function studioWith(
  project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 5 },
  ]),
) {
  const engine = new FakeEngine({
    ...project.handlers(),
    preferencesGet: async () => ({ trainBackend: 'wasm', theme: 'system' }),
    settingsGet: async () => ({}),
  });
  return { engine, project, studio: new Studio(engine, fakePlatform()) };
}

describe('LearnController', () => {
  beforeEach(resetToasts);

  it("sends the Learn screen's options and no backend: the engine reads its own setting", async () => {
    const { studio } = studioWith();
    await studio.settings.load();
    expect(studio.settings.prefs.trainBackend).toBe('wasm');
    Object.assign(studio.learn.options, { model: '/models/demo', shots: 4, ctxInit: ' a photo of a ', epochs: null });
    expect(studio.learn.args(1)).toEqual({
      project: 1,
      model: '/models/demo',
      shots: 4,
      seed: 1,
      nCtx: 16,
      csc: false,
      position: 'end',
      ctxInit: 'a photo of a',
      augViews: 0,
    });
  });

  it("shows CoOp's epoch count for the shots until epochs are typed or a run reports them", () => {
    const { studio } = studioWith();
    const learn = studio.learn;
    learn.options.epochs = null;
    for (const [shots, epochs] of [
      [1, 50],
      [4, 100],
      [5, 100],
      [7, 100],
      [8, 200],
      [16, 200],
    ] as const) {
      learn.options.shots = shots;
      expect([shots, learn.defaultEpochs, learn.epochsShown]).toEqual([shots, epochs, epochs]);
    }
    learn.options.epochs = 30;
    expect(learn.epochsShown).toBe(30);
    learn.epochs = 12;
    expect(learn.epochsShown).toBe(12);
  });

  it('runs on the open project: progress, the live curve, then Results with the run in the history', async () => {
    const { studio, engine } = studioWith();
    const result = learnResult();
    const seen: string[] = [];
    engine.on('learn', async (_args, { progress }) => {
      const events: LearnProgress[] = [
        { kind: 'phase', phase: 'features', message: 'Embedding' },
        { kind: 'features', done: 4, total: 8 },
        {
          kind: 'step',
          epoch: 1,
          epochs: 2,
          step: 1,
          stepsPerEpoch: 2,
          loss: 0.5,
          etaS: 3,
          backend: 'wasm',
        } as LearnProgress,
        { kind: 'epoch', point: result.curve[0]!, epochs: 2, etaS: 2, backend: 'wasm' },
        { kind: 'epoch', point: result.curve[1]!, epochs: 2, etaS: 1, backend: 'wasm' },
      ];
      for (const e of events) {
        progress(e);
        seen.push(
          `${studio.learn.phase}|${studio.learn.features?.done ?? '-'}|${studio.learn.curve.length}|${studio.learn.stepsDone}/${studio.learn.stepsTotal}`,
        );
      }
      return result;
    });
    await studio.projects.open(1);
    const running = studio.learn.start();
    expect(studio.learn.running).toBe(true);
    await running;
    expect(seen).toEqual([
      'Embedding|-|0|0/1',
      'Embedding|4|0|0/1',
      'Embedding|4|0|1/4',
      'Embedding|4|1|1/4',
      'Embedding|4|2|1/4',
    ]);
    expect(studio.learn.running).toBe(false);
    expect(studio.learn.result).toEqual(result);
    expect(studio.learn.curve).toHaveLength(3);
    expect(studio.learn.history.map((h) => h.label)).toEqual(['Run 3 (2 shots, M=4)']);
    expect(studio.nav.current).toBe('results');
    // Epochs and schedule left to the engine: the schedule's count, the default schedule for the class count.
    expect(engine.argsOf('learn')[0]).toMatchObject({ project: 1, shots: 16 });
    expect(engine.argsOf('learn')[0]).not.toHaveProperty('epochs');
    expect(engine.argsOf('learn')[0]).not.toHaveProperty('schedule');
  });

  it('refuses to start on a project without images, in words', async () => {
    const { studio, engine } = studioWith(new FakeProject('Empty', []));
    await studio.projects.open(1);
    await studio.learn.start();
    expect(engine.argsOf('learn')).toEqual([]);
    // Kept next to the Learn button (see [Note: errors stay on screen]), not only in a toast that goes.
    expect(studio.learn.state).toBe('failed');
    expect(studio.learn.error?.message).toBe('This project has no images yet: add a dataset on the Dataset screen.');
    expect(errorToasts()).toEqual([]);
  });

  it("keeps a failed run's error, in the engine's words, until the next run", async () => {
    const { studio, engine } = studioWith();
    engine.on('learn', async () => {
      throw new AppError('invalid_data', 'No image is left for testing in "circle".');
    });
    await studio.projects.open(1);
    await studio.learn.start();
    expect(studio.learn.state).toBe('failed');
    expect(studio.learn.error).toMatchObject({
      code: 'invalid_data',
      message: 'No image is left for testing in "circle".',
    });
    expect(studio.nav.current).toBe('projects');
    engine.on('learn', async () => learnResult());
    await studio.learn.start();
    expect(studio.learn.state).toBe('done');
    expect(studio.learn.error).toBeNull();
  });

  it('cancels a running job', async () => {
    const { studio, engine } = studioWith();
    engine.on('learn', (_args, { signal }) => untilAborted(signal));
    await studio.projects.open(1);
    const running = studio.learn.start();
    studio.learn.cancel();
    await running;
    expect(studio.learn.running).toBe(false);
    expect(studio.learn.result).toBeNull();
    expect(studio.learn.state).toBe('cancelled');
    expect(studio.learn.error).toBeNull();
    expect(toasts.items).toEqual([]);
    expect(studio.nav.current).toBe('projects');
  });

  it("shows an opened project's latest finished run and overlays the earlier ones", async () => {
    const project = new FakeProject('Pets', [
      { folderName: 'cats', images: 5 },
      { folderName: 'dogs', images: 5 },
    ]);
    const run = (id: number) => ({
      id,
      modelId: 'demo',
      method: 'coop',
      seed: 1,
      shots: 2,
      status: 'done' as const,
      backend: 'wasm',
      createdAt: id,
      durationMs: 1,
      error: null,
      testAccuracy: 0.75,
      zeroShotAccuracy: 0.5,
    });
    project.runs = [run(5), run(4)];
    const { studio, engine } = studioWith(project);
    engine.on(
      'projectRun',
      async ({ runId }) => ({ result: learnResult({ project: { id: 1, name: 'Pets', runId } }) }) as never,
    );
    await studio.projects.open(1);
    await vi.waitFor(() => expect(studio.learn.result?.project?.runId).toBe(5));
    expect(studio.learn.history.map((h) => h.label)).toEqual(['Run 4 (2 shots, M=4)', 'Run 5 (2 shots, M=4)']);
    expect(studio.learn.epochs).toBe(2);
  });

  it('measures the zero-shot estimate once per key', async () => {
    const { studio, engine } = studioWith();
    engine.on('zeroShot', async () => ({ accuracy: 0.6, total: 10 }) as never);
    await studio.projects.open(1);
    const key = studio.learn.estimateKey(studio.projects.current!);
    await studio.learn.estimateZeroShot(1, key);
    await studio.learn.estimateZeroShot(1, key);
    expect(engine.argsOf('zeroShot')).toEqual([{ project: 1 }]);
    expect(studio.learn.estimate).toEqual({ key, accuracy: 0.6, total: 10 });
    studio.learn.options.model = '/models/other';
    expect(studio.learn.estimateKey(studio.projects.current!)).not.toBe(key);
  });

  it('offers the default schedule for the class count, sends a chosen one, and counts its epochs', async () => {
    const { studio } = studioWith();
    await studio.projects.open(1);
    const learn = studio.learn;
    // Two classes: `fast` is the default (see defaultSchedule).
    expect([learn.defaultSchedule, learn.schedule]).toEqual(['fast', 'fast']);
    learn.options.schedule = 'paper';
    learn.options.shots = 4;
    expect([learn.schedule, learn.defaultEpochs]).toEqual(['paper', 100]);
    expect(learn.args(1)).toMatchObject({ schedule: 'paper', shots: 4 });
  });

  it("says the expected time before the click, and the other schedule's beside it", async () => {
    const { studio, engine } = studioWith();
    const estimate = (schedule: 'fast' | 'paper', seconds: number): LearnEstimate => ({
      classes: 2,
      trainImages: 64,
      evalImages: 10,
      toEmbed: 74,
      cached: 0,
      schedule: resolveSchedule({ schedule, classes: 2, shots: 16, trainImages: 64 }),
      threads: 1,
      msPerImage: 10,
      msPerStep: 250,
      seconds: { features: 0.74, train: seconds, total: seconds + 0.74 },
      basis: 'Timed training steps over the 2 classes on wasm.',
    });
    engine.on('estimateLearn', async (a) => estimate(a.schedule ?? 'fast', a.schedule === 'paper' ? 7200 : 50));
    await studio.projects.open(1);
    const learn = studio.learn;
    expect(learn.expectedTime.text).toBe('estimating…');
    const key = learn.timeKey(studio.projects.current!);
    await learn.estimateTime(1, key);
    expect(learn.expectedTime).toEqual({
      text: 'about 51 s',
      detail: '74 images to embed, 200 steps of about 250 ms (fast schedule)',
      other: 'paper schedule: about 2.0 h (400 steps)',
    });
    expect(engine.argsOf('estimateLearn').map((a) => a.schedule)).toEqual([undefined, 'paper']);
    // The same key asks nothing again; a failure is said in words next to the estimate.
    await learn.estimateTime(1, key);
    expect(engine.argsOf('estimateLearn')).toHaveLength(2);
    engine.on('estimateLearn', async () => {
      throw new Error('No image is left for testing.');
    });
    learn.options.shots = 40;
    await learn.estimateTime(1, learn.timeKey(studio.projects.current!));
    expect(learn.expectedTime).toMatchObject({ text: 'unknown', detail: 'No image is left for testing.', other: '' });
  });
});
