/**
 * @file CoCoOp's learner and loop on a tiny fixture CLIP text encoder and synthetic image features (plain Node, tfjs
 * cpu backend): per-image prompts, the meta-net's shape, gradients reaching every parameter, determinism per seed,
 * one step per image, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { CocoopLearner, trainCocoop } from '../../electron/engine/train/cocoop';
import { loadTextEncoder, type TfTextEncoder } from '../../electron/engine/train/text-encoder';
import { fixtureModelDirs } from '../helpers/fixtures';
import { syntheticData } from './train-fake-learner';

const modelDir = fixtureModelDirs()[0] as string;
let encoder: TfTextEncoder;
let tokenizer: ClipTokenizer;
const prompts = ['red thing', 'green thing', 'blue thing'];

beforeAll(async () => {
  await tf.setBackend('cpu');
  encoder = await loadTextEncoder(modelDir);
  tokenizer = await ClipTokenizer.fromModelDir(modelDir);
}, 60_000);

afterAll(() => encoder?.dispose());

describe('CoCoOp', () => {
  it('gives each image its own prompt through the meta-net (D -> D/16 -> W), initialised from "a photo of a"', () => {
    const start = tf.memory().numTensors;
    const learner = new CocoopLearner(encoder, tokenizer, prompts, {
      nCtx: 4,
      ctxInit: 'a photo of a',
      imageDim: 32,
      seed: 1,
    });
    expect(learner.nCtx).toBe(4);
    expect(learner.params.map((p) => p.shape)).toEqual([[4, 64], [32, 2], [2], [2, 64], [64]]);
    const [a, b] = tf.tidy(() => {
      const x1 = tf.randomNormal([1, 32], 0, 1, 'float32', 1) as tf.Tensor2D;
      const x2 = tf.randomNormal([1, 32], 0, 1, 'float32', 2) as tf.Tensor2D;
      return [learner.featuresFor(x1), learner.featuresFor(x2)];
    });
    expect(a!.shape).toEqual([3, 32]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a!, b!))).dataSync()[0] ?? 0);
    expect(diff).toBeGreaterThan(1e-6);
    tf.dispose([a!, b!]);
    learner.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('trains one step per image, moves every parameter, is deterministic per seed and leaks nothing', async () => {
    const data = syntheticData({ classes: 3, dim: 32, trainPerClass: 3, views: 2, seed: 5 });
    const start = tf.memory().numTensors;
    const run = async (seed: number) => {
      const learner = new CocoopLearner(encoder, tokenizer, prompts, { nCtx: 4, imageDim: 32, seed });
      const before = learner.params.map((p) => Array.from(p.dataSync()));
      try {
        const r = await trainCocoop(data, learner, { epochs: 2, seed, backend: 'cpu' });
        const after = learner.params.map((p) => Array.from(p.dataSync()));
        return { r, before, after };
      } finally {
        learner.dispose();
      }
    };
    const one = await run(1);
    const again = await run(1);
    expect(tf.memory().numTensors).toBe(start);
    expect(one.r.steps).toBe(2 * 9);
    expect(one.r.curve).toHaveLength(2);
    one.after.forEach((p, k) => expect(p).not.toEqual(one.before[k]));
    expect(again.after).toEqual(one.after);
    expect(again.r.test).toEqual(one.r.test);
    expect(one.r.test.count).toBe(data.test.labels.length);
  }, 60_000);
});
