/**
 * @file What a learning run writes about itself: the split rows the store records, the test predictions, the run
 * folder's name, model file hashes, and the error when no test image is left (engine worker, plain Node).
 */
import { count } from '../../../shared/words';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MIN_IMAGES_PER_CLASS, type TestPrediction } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { clipLogits } from '../train/metrics';
import type { PromptLearner } from '../train/prompt-learner';
import type { FewShotSplit } from '../train/splits';
import type { FeatureSet } from '../train/trainer';
import type { RunSource } from './run-source';

const hashCache = new Map<string, string>();

/** Size and sha256 of a file, cached by path, mtime and size. */
export async function sha256File(path: string): Promise<{ bytes: number; sha256: string }> {
  const s = await stat(path);
  const key = `${path}\n${s.mtimeMs}\n${s.size}`;
  let h = hashCache.get(key);
  if (!h) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    h = hash.digest('hex');
    hashCache.set(key, h);
  }
  return { bytes: s.size, sha256: h };
}

/** The folder name of a run's outputs. */
export function runFolderName(title: string, seed: number, runId?: number): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = basename(resolve(title)).replace(/[^\w.-]+/g, '_');
  return `${runId !== undefined ? `run${runId}-` : ''}${stamp}-${name}-coop-seed${seed}`;
}

/** The learned prompt's class and softmax confidence for every test image with a feature. */
export function testPredictions(
  learner: PromptLearner,
  test: FeatureSet & { items: { path: string; label: number }[] },
  dim: number,
  scale: number,
  src: RunSource,
): TestPrediction[] {
  const n = test.labels.length;
  if (n === 0) return [];
  const [pred, conf] = tf.tidy(() => {
    const logits = clipLogits(tf.tensor2d(test.features, [n, dim]), learner.features(), scale);
    return [tf.argMax(logits, 1).dataSync(), tf.max(tf.softmax(logits), 1).dataSync()];
  });
  return test.items.map((it, i) => ({
    imageId: src.images.get(it.path)?.imageId ?? null,
    path: it.path,
    label: it.label,
    predicted: pred[i] ?? -1,
    confidence: conf[i] ?? 0,
  }));
}

/** The split as the store records it (see [Note: run images]). */
export function splitRows(split: FewShotSplit, src: RunSource) {
  const rows = (items: FewShotSplit['train'], name: 'train' | 'val' | 'test') =>
    items.map((it) => ({
      imageId: src.images.get(it.path)?.imageId ?? null,
      path: it.path,
      sha256: src.images.get(it.path)?.sha256 ?? null,
      label: it.label,
      split: name,
    }));
  return [...rows(split.train, 'train'), ...rows(split.val, 'val'), ...rows(split.test, 'test')];
}

/**
 * The error of a split without test images, phrased for any reader (no CLI flags; see [Note: error reasons]): a
 * separate test folder without images of the classes, or classes too small for any test image.
 */
export function noTestImages(src: RunSource, shots: number, testFolder: boolean): AppError {
  const perClass = src.classes.map((c) => ({ name: c.label, images: c.files.length }));
  return new AppError(
    'invalid_data',
    testFolder
      ? 'The separate test folder has no images of the classes to learn, so nothing can be tested.'
      : `No image is left for testing: with ${count(shots, 'shot')} and the validation images, every class is used up (a class needs ${MIN_IMAGES_PER_CLASS} usable images: one to learn from, one to validate, one to test).`,
    undefined,
    { reason: 'no_test_images', facts: { shots, perClass, minImagesPerClass: MIN_IMAGES_PER_CLASS, testFolder } },
  );
}
