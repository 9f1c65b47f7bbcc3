/**
 * @file Tests of the training schedules (the contract's rule and the trainer's options), Adam, the ETA clock and the
 * deferred per-epoch evaluation (plain Node, tfjs cpu backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from '../../electron/engine/train/adam';
import { EtaClock } from '../../electron/engine/train/eta-clock';
import { trainerSchedule } from '../../electron/engine/train/schedule';
import { trainCoop, type TrainProgress } from '../../electron/engine/train/trainer';
import {
  defaultSchedule,
  FAST_DEFAULT_MAX_CLASSES,
  learnArgs,
  MAX_BATCH,
  PAPER_BATCH,
  defaultEpochs,
  resolveSchedule,
} from '../../shared/contract/train';
import { FakeLearner, syntheticData } from './train-fake-learner';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('resolveSchedule', () => {
  it('gives the paper recipe: batches of 32, the last incomplete one dropped, CoOp epochs', () => {
    const s = resolveSchedule({ classes: 10, schedule: 'paper', shots: 16, trainImages: 160 });
    expect(s).toMatchObject({
      schedule: 'paper',
      epochs: 200,
      batchSize: 32,
      stepsPerEpoch: 5,
      steps: 1000,
      lr: 0.002,
    });
    expect(s).toMatchObject({ optimizer: 'sgd', momentum: 0.9, weightDecay: 5e-4, warmupEpochs: 1, warmupLr: 1e-5 });
    expect(resolveSchedule({ classes: 10, schedule: 'paper', shots: 16, trainImages: 1600 }).steps).toBe(10_000);
    // Fewer images than a batch: one (short) step per epoch.
    expect(resolveSchedule({ classes: 10, schedule: 'paper', shots: 1, trainImages: 5 })).toMatchObject({ steps: 50 });
    expect([1, 2, 4, 8, 16].map(defaultEpochs)).toEqual([50, 100, 100, 200, 200]);
  });

  it('takes the whole training set as one batch with Adam in the fast schedule, capped at MAX_BATCH', () => {
    const s = resolveSchedule({ classes: 10, schedule: 'fast', shots: 16, trainImages: 1600 });
    expect(s).toMatchObject({ schedule: 'fast', optimizer: 'adam', lr: 0.002, epochs: 200 });
    expect(s.batchSize).toBe(1600);
    expect(s.stepsPerEpoch).toBe(1);
    expect(s.steps).toBe(s.epochs);
    const big = resolveSchedule({ classes: 10, schedule: 'fast', shots: 100, trainImages: 3 * MAX_BATCH + 5 });
    expect(big).toMatchObject({ batchSize: MAX_BATCH, stepsPerEpoch: 3 });
  });

  it("is the paper's recipe exactly where that takes one step per epoch anyway (fewer than two batches)", () => {
    for (const trainImages of [5, 32, 63]) {
      const fast = resolveSchedule({ classes: 10, schedule: 'fast', shots: 2, trainImages });
      const paper = resolveSchedule({ classes: 10, schedule: 'paper', shots: 2, trainImages });
      expect(fast).toEqual({ ...paper, schedule: 'fast' });
      expect(fast).toMatchObject({ optimizer: 'sgd', batchSize: PAPER_BATCH, stepsPerEpoch: 1 });
    }
    expect(resolveSchedule({ classes: 10, schedule: 'fast', shots: 2, trainImages: 64 })).toMatchObject({
      optimizer: 'adam',
      batchSize: 64,
      stepsPerEpoch: 1,
    });
  });

  it('lets epochs and batch size override either schedule', () => {
    const s = resolveSchedule({ classes: 10, schedule: 'fast', shots: 16, trainImages: 100, epochs: 7, batchSize: 10 });
    expect(s).toMatchObject({ epochs: 7, batchSize: 10, stepsPerEpoch: 10, steps: 70 });
  });

  it('defaults to fast up to FAST_DEFAULT_MAX_CLASSES classes and to paper above', () => {
    expect(defaultSchedule(2)).toBe('fast');
    expect(defaultSchedule(FAST_DEFAULT_MAX_CLASSES)).toBe('fast');
    expect(defaultSchedule(FAST_DEFAULT_MAX_CLASSES + 1)).toBe('paper');
    const at = (classes: number) => resolveSchedule({ classes, shots: 4, trainImages: classes * 4 }).schedule;
    expect([at(FAST_DEFAULT_MAX_CLASSES), at(FAST_DEFAULT_MAX_CLASSES + 1)]).toEqual(['fast', 'paper']);
    // A named schedule wins over the default.
    expect(resolveSchedule({ classes: 100, schedule: 'fast', shots: 4, trainImages: 400 }).schedule).toBe('fast');
  });

  it('is an option of learn (omitted: the default for the class count, resolved by the run)', () => {
    expect(learnArgs.parse({ data: 'x' }).schedule).toBeUndefined();
    expect(learnArgs.parse({ data: 'x', schedule: 'paper' }).schedule).toBe('paper');
    expect(learnArgs.safeParse({ data: 'x', schedule: 'slow' }).success).toBe(false);
    expect(learnArgs.parse({ data: 'x' }).batchSize).toBeUndefined();
  });

  it('turns into the trainer options', () => {
    const t = trainerSchedule(resolveSchedule({ classes: 10, schedule: 'paper', shots: 2, trainImages: 64 }));
    expect(t).toMatchObject({
      epochs: 100,
      batchSize: 32,
      schedule: { baseLr: 0.002, warmupEpochs: 1, warmupLr: 1e-5 },
      optimizer: 'sgd',
      sgd: { momentum: 0.9, weightDecay: 5e-4 },
    });
  });
});

describe('Adam', () => {
  it('follows torch.optim.Adam with L2 weight decay and bias correction', () => {
    const p = tf.variable(tf.tensor1d([1]));
    const adam = new Adam(p, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
    const g = tf.tensor1d([0.5]);
    const start = tf.memory().numTensors;
    // By hand: d1 = 0.6, m1 = 0.06, v1 = 0.00036; m^ = 0.6, v^ = 0.36 -> p1 = 1 - 0.1 * 0.6 / (0.6 + 1e-8) = 0.9.
    adam.step(g, 0.1);
    expect(p.dataSync()[0]).toBeCloseTo(0.9, 6);
    // d2 = 0.59, m2 = 0.9*0.06 + 0.059 = 0.113, v2 = 0.999*0.00036 + 0.001*0.3481 = 0.00070774;
    // m^ = 0.113 / 0.19 = 0.594737, v^ = 0.00070774 / 0.001999 = 0.354047 -> p2 = 0.9 - 0.1 * 0.594737 / 0.595018.
    adam.step(g, 0.1);
    expect(p.dataSync()[0]).toBeCloseTo(0.9 - (0.1 * 0.594737) / Math.sqrt(0.354047), 5);
    adam.dispose();
    expect(tf.memory().numTensors).toBe(start);
    g.dispose();
    p.dispose();
  });
});

describe('EtaClock', () => {
  it('leaves the slow first step and the evaluations out of the step time', () => {
    let t = 0;
    const clock = new EtaClock(10, 5, () => t);
    t = 1000; // first step: 1 s of warm-up
    clock.stepDone();
    expect(clock.etaS()).toBeCloseTo(9, 6); // only the first step known so far
    for (let i = 0; i < 3; i++) {
      t += 100;
      clock.stepDone();
    }
    t += 40;
    clock.evalDone(40);
    // 4 steps done, 6 left at 100 ms; 1 evaluation done, 4 left at 40 ms.
    expect(clock.msPerStep()).toBeCloseTo(100, 6);
    expect(clock.etaS()).toBeCloseTo(0.6 + 0.16, 6);
  });
});

describe('deferred evaluation', () => {
  const data = syntheticData({ classes: 4, dim: 16, trainPerClass: 16, views: 2, seed: 5 });

  class CountingLearner extends FakeLearner {
    forwards = 0;
    override features(): tf.Tensor2D {
      this.forwards++;
      return super.features();
    }
  }

  for (const batchSize of [32, 4096])
    it(`scores each epoch on the context at its end, with one extra forward pass in all (batch ${batchSize})`, async () => {
      const learner = new CountingLearner(data.zeroShotText, data.dim);
      const ends: Float32Array[] = [];
      const start = tf.memory().numTensors;
      try {
        const stepsPerEpoch = batchSize === 32 ? 2 : 1;
        const result = await trainCoop(data, learner, {
          epochs: 6,
          seed: 2,
          batchSize,
          backend: 'cpu',
          onProgress: (e: TrainProgress) => {
            if (e.kind === 'step' && e.step === stepsPerEpoch) ends.push(Float32Array.from(learner.ctx.dataSync()));
          },
        });
        expect(learner.forwards).toBe(1);
        expect(result.steps).toBe(6 * stepsPerEpoch);
        expect(tf.memory().numTensors).toBe(start);
        // The same accuracies from a fresh learner set to each epoch's end context.
        const probe = new FakeLearner(data.zeroShotText, data.dim);
        try {
          const n = data.test.labels.length;
          ends.forEach((ctx, e) => {
            probe.ctx.assign(tf.tensor2d(ctx, probe.ctx.shape as [number, number]));
            const acc = tf.tidy(() => {
              const f = probe.features();
              const img = tf.tensor2d(data.test.features, [n, data.dim]);
              const pred = tf.argMax(tf.matMul(img, tf.div(f, tf.norm(f, 2, 1, true)), false, true), 1).dataSync();
              return Array.from(pred).filter((p, i) => p === data.test.labels[i]).length / n;
            });
            expect(result.curve[e + 1]?.testAccuracy).toBeCloseTo(acc, 12);
          });
        } finally {
          probe.dispose();
        }
      } finally {
        learner.dispose();
      }
    });
});
