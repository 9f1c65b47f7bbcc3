/**
 * @file Classification metrics and CLIP logits (engine; pure TypeScript + tfjs-core).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClassificationReport } from '../../../shared/contract/train';

/** CLIP's trained logit scale (exp(4.6052)); split ONNX exports do not carry it. */
export const CLIP_LOGIT_SCALE = 100;

/** Rows scaled to unit L2 norm (a tiny epsilon keeps zero rows finite). */
export function l2normRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.add(tf.norm(x, 'euclidean', 1, true), 1e-12)));
}

/** logits = scale * cos(image, text): `images` are already normalised [N, P], `textRaw` is raw [C, P]. */
export function clipLogits(images: tf.Tensor2D, textRaw: tf.Tensor2D, scale = CLIP_LOGIT_SCALE): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.matMul(images, l2normRows(textRaw), false, true), scale));
}

/** Mean cross-entropy of `logits` [N, C] against integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(labels, numClasses);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1))) as tf.Scalar;
  });
}

/** Top-1 predictions of `logits` (argmax per row, first index on ties). */
export function predict(logits: tf.Tensor2D): number[] {
  const am = tf.argMax(logits, 1);
  try {
    return Array.from(am.dataSync());
  } finally {
    am.dispose();
  }
}

/**
 * Accuracy overall and per class, and the confusion matrix (`confusion[true][predicted]`). A class without items has
 * accuracy null; a prediction outside [0, C) counts as wrong and lands in no cell.
 *
 * [Note: one report] This is the only implementation of the metrics: the few-shot methods (`score` in methods/evaluate.ts),
 * the CoOp trainer and the jobs all report through it, so the compare table, a learning run
 * and `evaluate` can never disagree on what "accuracy" means.
 */
export function classificationReport(
  predictions: readonly number[],
  labels: readonly number[],
  classNames: readonly string[],
): ClassificationReport {
  const c = classNames.length;
  const confusion = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  let correct = 0;
  labels.forEach((y, i) => {
    const p = predictions[i] ?? -1;
    const row = confusion[y];
    if (row && p >= 0 && p < c) row[p] = (row[p] ?? 0) + 1;
    if (p === y) correct++;
  });
  const perClass = classNames.map((name, k) => {
    const row = confusion[k] ?? [];
    const count = row.reduce((a, b) => a + b, 0);
    return { name, accuracy: count > 0 ? (row[k] ?? 0) / count : null, count };
  });
  return { accuracy: labels.length > 0 ? correct / labels.length : 0, count: labels.length, perClass, confusion };
}

/** Mean and sample standard deviation (n - 1; 0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: 0, std: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}
