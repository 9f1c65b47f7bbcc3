/**
 * @file Memory of the wasm kernel path (see [Note: arena lifetime] and [Note: kernel chunks]): a step holds at most
 * its rows times the per-row bound the default chunk is sized by, the chunk shrinks for longer prompts, and the
 * activations of a pass whose backward never ran are freed (plain Node; wasm backend; fixture model).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../electron/engine/tf/backends';
import type { TfTextEncoder } from '../../electron/engine/train/text-encoder-core';
import { fastForward } from '../../electron/engine/train/text-encoder-fast';
import {
  ARENAS,
  KERNEL_CHUNK_BYTES,
  kernelBytesPerRow,
  kernelChunkSize,
  wasmPathFor,
} from '../../electron/engine/train/text-encoder-wasm';
import { seededValues } from '../helpers/seeded';
import { CLASS_NAMES, coopLoss, loadFixtureLearnerParts, makeLearner } from './learner-fixture';

let parts: Awaited<ReturnType<typeof loadFixtureLearnerParts>>;
beforeAll(async () => {
  await useBackend('wasm');
  parts = await loadFixtureLearnerParts();
}, 120_000);
afterAll(() => parts?.encoder.dispose());

/** One recorded kernel pass (features and their gradient), leaving nothing behind. */
function recordedPass(): void {
  const W = parts.encoder.width;
  const prefix = tf.tensor2d(seededValues(3 * W, 31), [3, W]);
  const suffix = tf.tensor3d(seededValues(2 * 4 * W, 32), [2, 4, W]);
  tf.dispose(
    tf.grads((p: tf.Tensor, s: tf.Tensor) =>
      tf.sum(fastForward(parts.encoder, p as tf.Tensor2D, s as tf.Tensor3D, [3, 2], { constantSuffix: true })),
    )([prefix, suffix]),
  );
  tf.dispose([prefix, suffix]);
}

describe('kernel pass activations (see [Note: arena lifetime])', () => {
  it('frees the activations of a pass whose backward never ran: at the next recorded pass, or with the encoder', () => {
    expect(wasmPathFor(parts.encoder)).not.toBeNull();
    recordedPass();
    const start = tf.memory().numTensors;
    const W = parts.encoder.width;
    const prefix = tf.tensor2d(seededValues(2 * W, 41), [2, W]);
    const suffix = tf.tensor3d(seededValues(3 * 4 * W, 42), [3, 4, W]);
    const failing = () =>
      tf.grads((p: tf.Tensor, s: tf.Tensor) => {
        fastForward(parts.encoder, p as tf.Tensor2D, s as tf.Tensor3D, [3, 1, 2], { constantSuffix: true });
        throw new Error('the loss failed');
      })([prefix, suffix]);
    expect(failing).toThrow('the loss failed');
    // Only the kept arena is left (see [Note: arena lifetime]) ...
    expect(tf.memory().numTensors).toBe(start + 2 + 1);
    // ... until the next pass recorded on another tape.
    recordedPass();
    expect(tf.memory().numTensors).toBe(start + 2);
    expect(failing).toThrow('the loss failed');
    expect(tf.memory().numTensors).toBe(start + 2 + 1);
    parts.encoder.derived.get(ARENAS)?.dispose();
    expect(tf.memory().numTensors).toBe(start + 2);
    tf.dispose([prefix, suffix]);
  });
});

describe('kernel chunks (see [Note: kernel chunks])', () => {
  it('bound what a kernel step holds by its rows (tokens), for every layout', async () => {
    const names = [...CLASS_NAMES, 'a much longer class name with quite a few more words in it'];
    const content = (t: string) => parts.tokenizer.encode(t).length - 2;
    for (const layout of [
      { csc: false, position: 'end' as const },
      { csc: true, position: 'middle' as const },
    ]) {
      const learner = makeLearner(parts, layout, names);
      // Rows of one pass: the shared prefix once and each class's suffix, or each class's whole prompt.
      const suffixRows = names.reduce((n, c) => n + content(c) + content('.') + 1, 0);
      const rows = learner.sharesPrefix
        ? 1 + learner.nCtx + suffixRows
        : names.length * (1 + learner.nCtx) + suffixRows;
      expect(learner.chunkSize).toBeGreaterThanOrEqual(names.length);
      const { loss, dispose } = coopLoss(names.length, parts.encoder.projectionDim);
      await learner.step(loss).then((r) => r.grad.dispose());
      const before = tf.memory().numBytes;
      const info = await tf.profile(async () => {
        const { grad } = await learner.step(loss);
        grad.dispose();
      });
      dispose();
      learner.dispose();
      const peak = info.peakBytes - before;
      expect(peak).toBeLessThanOrEqual(rows * kernelBytesPerRow(parts.encoder));
      // A bound, not a guess: the arena alone is most of it.
      expect(peak).toBeGreaterThan(0.25 * rows * kernelBytesPerRow(parts.encoder));
    }
  });

  it('size the default chunk by memory: fewer classes for longer prompts, at least one', () => {
    const vitB = {
      width: 512,
      heads: 8,
      contextLength: 77,
      projectionDim: 512,
      layerWeights: Array.from({ length: 12 }, () => ({
        qkv: { w: { shape: [512, 1536] } },
        fc1: { w: { shape: [512, 2048] } },
      })),
    } as unknown as TfTextEncoder;
    const rows = KERNEL_CHUNK_BYTES / kernelBytesPerRow(vitB);
    const short = kernelChunkSize(vitB, 7, 17);
    expect(17 + 7 * short).toBeLessThanOrEqual(rows);
    expect(17 + 7 * (short + 1)).toBeGreaterThan(rows);
    // 100 classes of short names in one chunk (no second forward pass); whole prompts in smaller ones.
    expect(short).toBeGreaterThan(100);
    expect(kernelChunkSize(vitB, 24, 0)).toBe(Math.floor(rows / 24));
    expect(kernelChunkSize(vitB, 10 * rows, 0)).toBe(1);
  });
});
