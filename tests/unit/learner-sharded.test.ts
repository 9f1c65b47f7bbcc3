/**
 * @file The sharded learner (classes split across worker threads, see [Note: sharded steps], or the encoder's heads,
 * see [Note: head-parallel steps]) gives the same loss, gradient and features as the one-thread learner, for every
 * context layout and uneven splits; a loss that throws
 * stops the threads with a clear error; a whole sharded CoOp run matches the one-thread run; the main thread leaks no
 * tensors (plain Node; wasm; fixture model; the threads run dist/train-shard-worker.js, built by the global setup).
 *
 * Tolerances: each thread runs the same float32 maths as the one-thread learner on fewer rows, and the unified
 * gradient is summed over the threads, so only the order of the additions differs: losses agree to ~1e-7 relative and
 * gradients to ~1e-7 of their largest entry. The bounds (1e-5 relative loss, 1e-4 of the largest gradient) still
 * catch a wrong class range, context slice or dL/dfeatures row, which move gradients by O(1) of their size.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelDirs } from '../helpers/fixtures';
import { trainWhereChosen } from '../../electron/engine/backends/training-backend';
import { tokenTable } from '../../electron/engine/train/token-table';
import { useBackend } from '../../electron/engine/tf/backends';
import { setWasmKernels } from '../../electron/engine/train/text-encoder-wasm';
import { ShardedLearner, defaultShardCount } from '../../electron/engine/train/sharded-learner';
import { readTextWeights, textModelFile } from '../../electron/engine/train/text-encoder';
import type { PromptLearner } from '../../electron/engine/train/prompt-learner';
import type { ClipTextWeights } from '../../electron/engine/onnx/clip-text-graph';
import { CLASS_NAMES, coopLoss, loadFixtureLearnerParts, makeLearner, maxAbs, maxAbsDiff } from './learner-fixture';
import { syntheticData } from './train-fake-learner';

type Parts = Awaited<ReturnType<typeof loadFixtureLearnerParts>>;

let parts: Parts;
let weights: ClipTextWeights;

function shardSource(learner: PromptLearner, opts: Parameters<typeof makeLearner>[1]) {
  return {
    weights,
    tokens: tokenTable(parts.tokenizer, CLASS_NAMES, opts?.ctxInit),
    prompts: CLASS_NAMES,
    options: { nCtx: learner.nCtx, csc: false, position: 'end' as const, seed: 5, ...opts },
  };
}

async function stepOf(learner: { step: PromptLearner['step'] }, classes = CLASS_NAMES.length) {
  const { loss, dispose } = coopLoss(classes, parts.encoder.projectionDim);
  try {
    const r = await learner.step(loss);
    const grad = r.grad.dataSync().slice();
    r.grad.dispose();
    return { loss: r.loss, grad };
  } finally {
    dispose();
  }
}

beforeAll(async () => {
  await useBackend('wasm');
  parts = await loadFixtureLearnerParts();
  const dir = fixtureModelDirs()[0] as string;
  weights = readTextWeights(new Uint8Array(readFileSync(textModelFile(dir))), parts.encoder.heads).weights;
}, 120_000);

afterAll(() => parts.encoder.dispose());

describe('sharded learner', () => {
  const CONFIGS = [
    { csc: false, position: 'end' as const },
    { csc: false, position: 'middle' as const },
    { csc: true, position: 'end' as const },
    { csc: false, position: 'front' as const, ctxInit: 'a photo of a' },
  ];
  const SPLITS = [
    { threads: 2, mode: 'classes' as const },
    { threads: 3, mode: 'classes' as const },
    { threads: 2, mode: 'heads' as const },
  ];
  for (const cfg of CONFIGS)
    for (const { threads, mode } of SPLITS)
      it(`equals one thread: ${JSON.stringify(cfg)}, ${threads} threads by ${mode}`, async () => {
        const local = makeLearner(parts, { seed: 5, ...cfg });
        const sharded = await ShardedLearner.start(local, shardSource(local, cfg), threads, mode);
        try {
          expect([sharded.threads, sharded.mode]).toEqual([threads, mode]);
          // A non-trivial context (the random init), then two steps with an update between them.
          const one = await stepOf(local);
          const many = await stepOf(sharded);
          expect(Math.abs(many.loss - one.loss)).toBeLessThan(1e-5 * Math.abs(one.loss));
          expect(maxAbsDiff(many.grad, one.grad)).toBeLessThan(1e-4 * maxAbs(one.grad));
          expect(maxAbs(one.grad)).toBeGreaterThan(0);
          tf.tidy(() => local.ctx.assign(tf.sub(local.ctx, tf.mul(tf.tensor(one.grad, local.ctx.shape), 0.5))));
          const one2 = await stepOf(local);
          const many2 = await stepOf(sharded);
          expect(Math.abs(many2.loss - one2.loss)).toBeLessThan(1e-5 * Math.abs(one2.loss));
          expect(maxAbsDiff(many2.grad, one2.grad)).toBeLessThan(1e-4 * maxAbs(one2.grad));
          const f1 = local.features();
          const fN = await sharded.features();
          expect(maxAbsDiff(fN.dataSync(), f1.dataSync())).toBeLessThan(1e-4 * maxAbs(f1.dataSync()));
          tf.dispose([f1, fN]);
        } finally {
          await sharded.close();
          local.dispose();
        }
      }, 120_000);

  it('runs in its threads the path the main thread runs (wasm kernels or tfjs ops)', async () => {
    const features = async (kernels: boolean) => {
      setWasmKernels(kernels);
      const local = makeLearner(parts, { seed: 5 });
      try {
        const sharded = await ShardedLearner.start(local, shardSource(local, {}), 1, 'classes');
        const fN = await sharded.features();
        await sharded.close();
        const f1 = local.features();
        const out = { local: f1.dataSync().slice(), shard: fN.dataSync().slice() };
        tf.dispose([f1, fN]);
        return out;
      } finally {
        setWasmKernels(true);
        local.dispose();
      }
    };
    const ker = await features(true);
    const ops = await features(false);
    // One thread over all classes runs the very same maths as the local learner: bit for bit.
    expect(ker.shard).toEqual(ker.local);
    expect(ops.shard).toEqual(ops.local);
    // The two paths differ in float rounding, so the equalities above tell which one each thread ran.
    expect(ker.local).not.toEqual(ops.local);
  }, 120_000);

  it('splits the 4 heads of the fixture encoder across 4 threads, and refuses 3', async () => {
    const local = makeLearner(parts, { seed: 5 });
    try {
      const sharded = await ShardedLearner.start(local, shardSource(local, {}), 4, 'heads');
      const one = await stepOf(local);
      const many = await stepOf(sharded);
      await sharded.close();
      expect(Math.abs(many.loss - one.loss)).toBeLessThan(1e-5 * Math.abs(one.loss));
      expect(maxAbsDiff(many.grad, one.grad)).toBeLessThan(1e-4 * maxAbs(one.grad));
      await expect(ShardedLearner.start(local, shardSource(local, {}), 3, 'heads')).rejects.toThrow(
        /4 heads do not split across 3 threads/,
      );
    } finally {
      local.dispose();
    }
  }, 120_000);

  for (const mode of ['classes', 'heads'] as const)
    it(`stops its threads with a clear error when the loss throws, and leaks no tensors (by ${mode})`, async () => {
      const local = makeLearner(parts, { seed: 5 });
      const sharded = await ShardedLearner.start(local, shardSource(local, {}), 2, mode);
      const before = tf.memory().numTensors;
      await stepOf(sharded);
      expect(tf.memory().numTensors).toBe(before);
      await expect(
        sharded.step(() => {
          throw new Error('bad loss');
        }),
      ).rejects.toThrow('bad loss');
      await expect(stepOf(sharded)).rejects.toThrow(/training thread/);
      expect(tf.memory().numTensors).toBe(before);
      await sharded.close();
      local.dispose();
    }, 120_000);

  it('a whole CoOp run on 2 threads matches the run on 1 thread', async () => {
    const data = {
      ...syntheticData({
        classes: CLASS_NAMES.length,
        dim: parts.encoder.projectionDim,
        trainPerClass: 4,
        views: 1,
        seed: 3,
      }),
      classNames: CLASS_NAMES,
    };
    const run = async (threads: number) => {
      const learner = makeLearner(parts, { seed: 2 });
      try {
        const r = await trainWhereChosen(
          { runsIn: 'engine', backend: 'wasm', requested: 'wasm', reason: 'test' },
          {
            modelDir: fixtureModelDirs()[0] as string,
            heads: parts.encoder.heads,
            tokenizer: parts.tokenizer,
            prompts: CLASS_NAMES,
            options: { nCtx: 4, csc: false, position: 'end', seed: 2 },
            threads,
          },
          data,
          learner,
          { epochs: 3, seed: 2, batchSize: 4, backend: 'wasm' },
          null,
        );
        return { r, ctx: learner.ctx.dataSync().slice() };
      } finally {
        learner.dispose();
      }
    };
    const one = await run(1);
    const two = await run(2);
    expect(one.r.threads).toBe(1);
    expect(two.r.threads).toBe(2);
    expect(two.r.steps).toBe(one.r.steps);
    expect(maxAbsDiff(two.ctx, one.ctx)).toBeLessThan(1e-4 * maxAbs(one.ctx));
    const losses = (r: typeof one.r) => r.curve.map((p) => p.trainLoss);
    expect(maxAbsDiff(losses(two.r), losses(one.r))).toBeLessThan(1e-4 * maxAbs(losses(one.r)));
    expect(two.r.test.accuracy).toBe(one.r.test.accuracy);
  }, 300_000);

  it('automatically uses one thread per core (at most 4) for real-size encoders and >= 5 classes per thread', () => {
    expect(defaultShardCount(10, 512, undefined, 2)).toBe(2);
    expect(defaultShardCount(9, 512, undefined, 2)).toBe(1);
    expect(defaultShardCount(100, 768, 0, 16)).toBe(4);
    expect(defaultShardCount(15, 512, undefined, 16)).toBe(3);
    expect(defaultShardCount(1000, 64, undefined, 8)).toBe(1);
    // Asked for: as many as asked, at most one per class.
    expect(defaultShardCount(10, 64, 3, 2)).toBe(3);
    expect(defaultShardCount(2, 512, 4, 2)).toBe(2);
    // Split by heads: one per core for real-size encoders whatever the classes, or as many as asked.
    expect(defaultShardCount(3, 512, undefined, 2, 'heads')).toBe(2);
    expect(defaultShardCount(3, 64, undefined, 2, 'heads')).toBe(1);
    expect(defaultShardCount(3, 64, 4, 2, 'heads')).toBe(4);
  });
});
