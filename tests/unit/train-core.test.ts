/**
 * @file Tests of the trainer's building blocks and loop on synthetic features (plain Node, tfjs cpu backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationReport, meanStd } from '../../electron/engine/train/metrics';
import { COOP_SCHEDULE, learningRate } from '../../electron/engine/train/schedule';
import { Sgd } from '../../electron/engine/train/sgd';
import { fewShotSplit, Rng } from '../../electron/engine/train/splits';
import { trainCoop, type TrainProgress } from '../../electron/engine/train/trainer';
import { defaultEpochs } from '../../shared/contract/train';
import { FakeLearner, syntheticData } from './train-fake-learner';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Rng and splits', () => {
  it('is reproducible per seed and differs across seeds and forks', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Rng(1)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Rng(1)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.next()
      )(new Rng(2)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Rng(1).fork('x').next()).not.toBe(new Rng(1).fork('y').next());
    for (const v of a) expect(v >= 0 && v < 1).toBe(true);
  });

  const classes = [
    Array.from({ length: 30 }, (_, i) => `a/${i}.png`),
    Array.from({ length: 3 }, (_, i) => `b/${i}.png`),
    Array.from({ length: 18 }, (_, i) => `c/${i}.png`),
  ];

  it('takes K shots per class (all when fewer), min(K,4) validation, the rest as test, disjoint', () => {
    const s = fewShotSplit(classes, { shots: 16, seed: 1 });
    const count = (items: { label: number }[], k: number) => items.filter((x) => x.label === k).length;
    expect([0, 1, 2].map((k) => count(s.train, k))).toEqual([16, 3, 16]);
    expect([0, 1, 2].map((k) => count(s.val, k))).toEqual([4, 0, 2]);
    expect([0, 1, 2].map((k) => count(s.test, k))).toEqual([10, 0, 0]);
    const all = [...s.train, ...s.val, ...s.test].map((x) => x.path);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(51);
  });

  it('depends on the seed and not on the input order', () => {
    const s1 = fewShotSplit(classes, { shots: 4, seed: 1 });
    const again = fewShotSplit(
      classes.map((f) => [...f].reverse()),
      { shots: 4, seed: 1 },
    );
    const s2 = fewShotSplit(classes, { shots: 4, seed: 2 });
    expect(again).toEqual(s1);
    expect(s2.train).not.toEqual(s1.train);
  });

  it('uses a separate test folder when given', () => {
    const s = fewShotSplit(classes, { shots: 2, seed: 3, testFiles: [['t/a1.png'], [], ['t/c1.png', 't/c2.png']] });
    expect(s.test.map((x) => [x.path, x.label])).toEqual([
      ['t/a1.png', 0],
      ['t/c1.png', 2],
      ['t/c2.png', 2],
    ]);
    expect(s.train.length + s.val.length).toBe(2 + 2 + 2 + 2 + 2 + 1);
  });

  it('maps shots to the paper epochs', () => {
    expect([1, 2, 4, 8, 16].map(defaultEpochs)).toEqual([50, 100, 100, 200, 200]);
    expect([3, 5, 6, 7, 9, 15, 32].map(defaultEpochs)).toEqual([100, 100, 100, 100, 200, 200, 200]);
  });
});

describe('schedule and SGD', () => {
  it('runs epoch 0 at the warm-up lr, then cosine from the base lr shifted by one epoch', () => {
    const o = { ...COOP_SCHEDULE, epochs: 10 };
    expect(learningRate(0, o)).toBe(1e-5);
    expect(learningRate(1, o)).toBeCloseTo(0.002, 12);
    // Step t of CosineAnnealingLR(T_max=10) is 0.002 * (1 + cos(pi t / 10)) / 2; epoch 6 is step 5 = half the lr.
    expect(learningRate(6, o)).toBeCloseTo(0.001, 12);
    for (let e = 2; e < 10; e++) expect(learningRate(e, o)).toBeLessThan(learningRate(e - 1, o));
    expect(learningRate(9, o)).toBeGreaterThan(0);
  });

  it('follows torch.optim.SGD: weight decay before momentum, first buffer = gradient', () => {
    const p = tf.variable(tf.tensor1d([1]));
    const sgd = new Sgd(p, { momentum: 0.9, weightDecay: 0.1 });
    const g = tf.tensor1d([0.5]);
    const start = tf.memory().numTensors;
    // By hand: d1 = 0.5 + 0.1*1 = 0.6, p1 = 1 - 0.1*0.6 = 0.94;
    // d2 = 0.5 + 0.1*0.94 = 0.594, buf2 = 0.9*0.6 + 0.594 = 1.134, p2 = 0.94 - 0.1134 = 0.8266.
    sgd.step(g, 0.1);
    expect(p.dataSync()[0]).toBeCloseTo(0.94, 6);
    sgd.step(g, 0.1);
    expect(p.dataSync()[0]).toBeCloseTo(0.8266, 6);
    sgd.dispose();
    expect(tf.memory().numTensors).toBe(start);
    g.dispose();
    p.dispose();
  });
});

describe('metrics', () => {
  it('reports accuracy, per-class accuracy and the confusion matrix', () => {
    const r = classificationReport([0, 1, 1, 2], [0, 1, 2, 2], ['a', 'b', 'c', 'd']);
    expect(r.accuracy).toBe(0.75);
    expect(r.confusion).toEqual([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
    expect(r.perClass.map((c) => c.accuracy)).toEqual([1, 1, 0.5, null]);
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
  });
});

describe('trainCoop', () => {
  const data = syntheticData({ classes: 4, dim: 16, trainPerClass: 16, views: 3, seed: 7 });

  async function run(seed: number, onProgress?: (e: TrainProgress) => void, signal?: AbortSignal) {
    const learner = new FakeLearner(data.zeroShotText, data.dim);
    try {
      const result = await trainCoop(data, learner, {
        epochs: 12,
        seed,
        backend: 'cpu',
        ...(onProgress ? { onProgress } : {}),
        ...(signal ? { signal } : {}),
      });
      return { result, ctx: Array.from(learner.ctx.dataSync()) };
    } finally {
      learner.dispose();
    }
  }

  it('starts from zero-shot, learns well above it, leaks no tensors, reports progress', async () => {
    const start = tf.memory().numTensors;
    const events: TrainProgress[] = [];
    const { result } = await run(1, (e) => events.push(e));
    expect(tf.memory().numTensors).toBe(start);
    expect(result.curve).toHaveLength(13);
    expect(result.curve[0]?.testAccuracy).toBe(result.zeroShot.test.accuracy);
    expect(result.test.accuracy).toBeGreaterThan(result.zeroShot.test.accuracy + 0.15);
    const last = result.curve[12];
    expect(last?.trainLoss).toBeLessThan(result.curve[1]?.trainLoss ?? 0);
    expect(last?.testAccuracy).toBe(result.test.accuracy);
    // 64 images, batch 32 -> 2 steps per epoch.
    expect(result.steps).toBe(24);
    expect(events.filter((e) => e.kind === 'step')).toHaveLength(24);
    expect(events.filter((e) => e.kind === 'epoch')).toHaveLength(13);
    expect(result.test.confusion.flat().reduce((a, b) => a + b, 0)).toBe(data.test.labels.length);
  });

  it('gives identical results for the same seed and different ones for another seed', async () => {
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(b.ctx).toEqual(a.ctx);
    expect(b.result.curve.map((p) => p.trainLoss)).toEqual(a.result.curve.map((p) => p.trainLoss));
    expect(c.ctx).not.toEqual(a.ctx);
  });

  it('stops with a cancelled error and frees its tensors', async () => {
    const start = tf.memory().numTensors;
    const ac = new AbortController();
    await expect(
      run(
        1,
        (e) => {
          if (e.kind === 'step' && e.epoch === 2) ac.abort();
        },
        ac.signal,
      ),
    ).rejects.toMatchObject({ code: 'cancelled' });
    expect(tf.memory().numTensors).toBe(start);
  });
});
