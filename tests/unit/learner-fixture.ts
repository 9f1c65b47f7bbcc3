/**
 * @file Test helper for the prompt-learner tests: a fixture model's verified text encoder and tokenizer, a seeded
 * CoOp loss over synthetic image features, and tensor diff helpers (tests, plain Node).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { PromptLearner, type PromptLearnerOptions } from '../../electron/engine/train/prompt-learner';
import { loadTextEncoder, type TfTextEncoder } from '../../electron/engine/train/text-encoder';
import { fixtureModelDirs } from '../helpers/fixtures';
import { seededValues } from '../helpers/seeded';

/** Every context layout of the prompt learner: unified or class-specific, class token at the end, middle or front. */
export const CONTEXT_LAYOUTS = [
  { csc: false, position: 'end' as const },
  { csc: false, position: 'middle' as const },
  { csc: false, position: 'front' as const },
  { csc: true, position: 'end' as const },
  { csc: true, position: 'middle' as const },
  { csc: true, position: 'front' as const },
];

/** Class names of different token lengths (1 to 4 tokens), so suffixes are padded differently. */
export const CLASS_NAMES = ['dog', 'red apple', 'golden retriever puppy', 'a very small blue car', 'sky'];

/** The first fixture model's encoder and tokenizer. */
export async function loadFixtureLearnerParts(): Promise<{ encoder: TfTextEncoder; tokenizer: ClipTokenizer }> {
  const dir = fixtureModelDirs()[0] as string;
  return { encoder: await loadTextEncoder(dir), tokenizer: await ClipTokenizer.fromModelDir(dir) };
}

/**
 * CoOp's loss: cross-entropy of 100 * cos(image, class text feature) over `n` fixed synthetic image features with
 * labels i mod C. The caller disposes it.
 */
export function coopLoss(
  classes: number,
  dim: number,
  n = 12,
): { loss: (f: tf.Tensor2D) => tf.Scalar; dispose: () => void } {
  const img = tf.tidy(() => {
    const t = tf.tensor2d(seededValues(n * dim, 5), [n, dim]);
    return tf.div(t, tf.norm(t, 2, 1, true)) as tf.Tensor2D;
  });
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: n }, (_, i) => i % classes),
        'int32',
      ),
      classes,
    ),
  );
  return {
    loss: (f) => {
      const fn = tf.div(f, tf.norm(f, 2, 1, true));
      return tf.losses.softmaxCrossEntropy(labels, tf.mul(tf.matMul(img, fn, false, true), 100)) as tf.Scalar;
    },
    dispose: () => tf.dispose([img, labels]),
  };
}

/** A learner over the fixture encoder. */
export function makeLearner(
  parts: { encoder: TfTextEncoder; tokenizer: ClipTokenizer },
  opts: Partial<PromptLearnerOptions> = {},
  names: string[] = CLASS_NAMES,
): PromptLearner {
  return new PromptLearner(parts.encoder, parts.tokenizer, names, {
    nCtx: 4,
    csc: false,
    position: 'end',
    seed: 1,
    ...opts,
  });
}

/** Largest absolute difference between two equally long arrays (Infinity when their lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? NaN)));
  return Number.isNaN(m) ? Infinity : m;
}

/** Largest absolute value of an array. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] ?? 0));
  return m;
}
