/**
 * @file The methods registry: the contract's metadata and the engine's runners name the same methods (Node).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  CHEAP_METHODS,
  COMPARE_METHODS,
  compareArgs,
  METHOD_INFOS,
  METHOD_LABELS,
  METHODS,
  type CompareMethod,
} from '../../../shared/contract/methods';
import { fewShotWorld } from '../../../tests/helpers/few-shot-world';
import { METHOD_RUNNERS, type CompareSetup, type MethodRun } from './registry';

describe('methods registry', () => {
  it('has an engine entry for every method of the contract, and no other', () => {
    expect(Object.keys(METHOD_RUNNERS).sort()).toEqual([...COMPARE_METHODS].sort());
    for (const id of COMPARE_METHODS) expect(typeof METHOD_RUNNERS[id].run, id).toBe('function');
    expectTypeOf<keyof typeof METHOD_RUNNERS>().toEqualTypeOf<CompareMethod>();
  });

  it('declares each method once, with a label, a cost hint and ids the CLI can take', () => {
    expect(new Set(COMPARE_METHODS).size).toBe(METHOD_INFOS.length);
    for (const m of METHOD_INFOS) {
      expect(METHODS[m.id]).toBe(m);
      expect(METHOD_LABELS[m.id]).toBe(m.label);
      expect(m.cost.length, m.id).toBeGreaterThan(10);
      expect(m.id).toMatch(/^[a-z][a-z0-9-]*$/);
    }
  });

  it('reads the defaults of compare from the registry', () => {
    const args = compareArgs.parse({ data: '/d' });
    expect(args.methods).toEqual([...CHEAP_METHODS]);
    expect(CHEAP_METHODS).toEqual(METHOD_INFOS.filter((m) => m.byDefault).map((m) => m.id));
    expect(compareArgs.safeParse({ data: '/d', methods: ['clip-adapter'] }).success).toBe(true);
    expect(compareArgs.safeParse({ data: '/d', methods: ['nope'] }).success).toBe(false);
  });

  it('gives a time estimate only where a method trains for minutes, and methods that need tfjs say so', () => {
    const slow = COMPARE_METHODS.filter((m) => METHOD_RUNNERS[m].steps);
    expect(slow.every((m) => METHODS[m].needsTfjs)).toBe(true);
    const settings = {
      schedule: 'paper' as const,
      epochs: undefined,
      nCtx: 16,
      kgLambda: 8,
      tipfEpochs: 20,
      cocoopEpochs: 10,
    };
    const split = { classes: 4, shots: 16, train: 64, val: 8, test: 100 };
    // CoOp at 16 shots, paper schedule: 2 steps of 32 images per epoch, 200 epochs, plus a third of a step per epoch
    // to score; the default for 4 classes (fast) takes the 64 images as one step per epoch.
    expect(METHOD_RUNNERS.coop.steps?.(split, settings)).toBeCloseTo(2 * 200 + 200 / 3, 9);
    expect(METHOD_RUNNERS.coop.steps?.(split, { ...settings, schedule: undefined })).toBeCloseTo(200 + 200 / 3, 9);
    expect(METHOD_RUNNERS.cocoop.steps?.(split, settings)).toBeCloseTo(64 * 10 + 108 / 3, 9);
  });

  it.each([
    ['clip-adapter', 'CLIP-Adapter, which stops inside its training loop'],
    ['tipf', 'Tip-Adapter-F, which stops between batches'],
  ] as const)('hands the job’s cancel signal to %s: %s', async (method, _what) => {
    await tf.setBackend('cpu');
    const controller = new AbortController();
    const setup = { signal: controller.signal, settings: { tipfEpochs: 20 } } as Partial<CompareSetup> as CompareSetup;
    let epochs = 0;
    const run: MethodRun = {
      setup,
      shots: 4,
      seed: 1,
      trainImages: [],
      onEpoch: () => {
        if (++epochs === 2) controller.abort();
      },
      onStep: () => {},
    };
    const before = tf.memory().numTensors;
    await expect(METHOD_RUNNERS[method].run(fewShotWorld(1, 4, 16, 4), run)).rejects.toMatchObject({
      code: 'cancelled',
    });
    expect(epochs).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});
