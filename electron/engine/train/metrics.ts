/**
 * @file Classification metrics and CLIP logits (engine; pure TypeScript + tfjs-core).
 */
import * as tf from '@tensorflow/tfjs-core';

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

/** The one classification report and mean/std (see [Note: one report] in methods/evaluate.ts). */
export { classificationReport, meanStd } from '../methods/evaluate';
