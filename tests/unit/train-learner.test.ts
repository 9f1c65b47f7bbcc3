/**
 * @file The training loop with the real prompt learner and text encoder of a tiny fixture CLIP model
 * (plain Node, tfjs cpu backend): learning, determinism, no tensor leaks, optimised = plain path; on tfjs-wasm the
 * same run on the kernel path, through tfjs ops and on the plain path.
 *
 * The image features are synthetic (class centres in the model's projection space): this tests the loop and the
 * learner together, not image accuracy, which the demo and the bench measure on real images.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { PromptLearner } from '../../electron/engine/train/prompt-learner';
import { encodeIds, loadTextEncoder, type TfTextEncoder } from '../../electron/engine/train/text-encoder';
import { trainCoop, type TrainData } from '../../electron/engine/train/trainer';
import { fixtureModelDirs } from '../helpers/fixtures';
import { useBackend } from '../../electron/engine/tf/backends';
import { setWasmKernels, wasmPathFor } from '../../electron/engine/train/text-encoder-wasm';
import { syntheticData } from './train-fake-learner';

const CLASSES = ['red apple', 'green leaf', 'blue sky'];
let encoder: TfTextEncoder;
let tokenizer: ClipTokenizer;
let data: TrainData;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const dir = fixtureModelDirs()[0] as string;
  encoder = await loadTextEncoder(dir);
  tokenizer = await ClipTokenizer.fromModelDir(dir);
  data = syntheticData({ classes: CLASSES.length, dim: encoder.projectionDim, trainPerClass: 12, views: 2, seed: 11 });
  // The zero-shot baseline is the encoder's own feature of the hand-written prompt, as in a real run.
  const zs = encodeIds(
    encoder,
    CLASSES.map((c) => tokenizer.encode(`a photo of a ${c}.`)),
  );
  const rows = await zs.array();
  zs.dispose();
  data = { ...data, classNames: CLASSES, zeroShotText: rows.map((r) => Float32Array.from(r)) };
}, 120_000);

afterAll(() => encoder?.dispose());

async function run(seed: number, path: 'optimised' | 'plain', epochs = 6, enc = encoder, backend = 'cpu') {
  const learner = new PromptLearner(enc, tokenizer, CLASSES, { nCtx: 4, csc: false, position: 'end', seed, path });
  try {
    const result = await trainCoop(data, learner, { epochs, seed, backend });
    return { result, ctx: Array.from(learner.ctx.dataSync()) };
  } finally {
    learner.dispose();
  }
}

describe('trainCoop with the real prompt learner', () => {
  it('lowers the training loss and leaks no tensor across the whole run', async () => {
    const start = tf.memory().numTensors;
    const { result } = await run(1, 'optimised');
    expect(tf.memory().numTensors).toBe(start);
    const first = result.curve[1]?.trainLoss ?? 0;
    const last = result.curve[result.curve.length - 1]?.trainLoss ?? Infinity;
    expect(last).toBeLessThan(first);
    expect(result.curve).toHaveLength(7);
    expect(result.steps).toBe(6);
  });

  it('is deterministic for a seed', async () => {
    const a = await run(2, 'optimised', 3);
    const b = await run(2, 'optimised', 3);
    expect(b.ctx).toEqual(a.ctx);
  });

  it('learns the same with the optimised and the plain text-encoder path', async () => {
    const opt = await run(3, 'optimised', 4);
    const plain = await run(3, 'plain', 4);
    // Same maths in a different order: float32 rounding only (the context has |x| ~ 0.02).
    let maxDiff = 0;
    opt.ctx.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - (plain.ctx[i] ?? NaN)))));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(plain.result.test.accuracy).toBe(opt.result.test.accuracy);
    opt.result.curve.forEach((p, i) => expect(plain.result.curve[i]?.trainLoss).toBeCloseTo(p.trainLoss, 4));
  });
});

describe('trainCoop on tfjs-wasm', () => {
  let wasmEncoder: TfTextEncoder;
  beforeAll(async () => {
    await useBackend('wasm');
    wasmEncoder = await loadTextEncoder(fixtureModelDirs()[0] as string);
  }, 120_000);
  afterAll(() => wasmEncoder?.dispose());

  it('learns the same on the kernel path as through tfjs ops and on the plain path, leaking nothing', async () => {
    expect(wasmPathFor(wasmEncoder)).not.toBeNull();
    const opsRun = (epochs: number) => {
      setWasmKernels(false);
      return run(3, 'optimised', epochs, wasmEncoder, 'wasm').finally(() => setWasmKernels(true));
    };
    // What each path keeps with the encoder once used (packed weights; transposed weights) is made first.
    await run(3, 'optimised', 1, wasmEncoder, 'wasm');
    await opsRun(1);
    const start = tf.memory().numTensors;
    const kernels = await run(3, 'optimised', 4, wasmEncoder, 'wasm');
    const ops = await opsRun(4);
    const plain = await run(3, 'plain', 4, wasmEncoder, 'wasm');
    expect(tf.memory().numTensors).toBe(start);
    for (const other of [ops, plain]) {
      let maxDiff = 0;
      kernels.ctx.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - (other.ctx[i] ?? NaN)))));
      expect(maxDiff).toBeLessThan(1e-4);
      expect(other.result.test.accuracy).toBe(kernels.result.test.accuracy);
      kernels.result.curve.forEach((p, i) => expect(other.result.curve[i]?.trainLoss).toBeCloseTo(p.trainLoss, 4));
    }
    expect(kernels.result.curve[kernels.result.curve.length - 1]?.trainLoss).toBeLessThan(
      kernels.result.curve[1]?.trainLoss ?? 0,
    );
  });
});
