/**
 * @file Shared inputs and scoring of the few-shot methods (engine, plain TypeScript).
 *
 * [Note: one split for all methods] Every method gets the same `FewShotFeatures`: the same cached,
 * L2-normalised image features, the same seeded train/val/test split and the same class text
 * features, so the compare table differs only by method. Hyper-parameters are always chosen on
 * the validation split, never on test.
 */
import type { ClassificationReport } from '../../../shared/contract/train';
import { argmaxRows, type Matrix } from './matrix';

/** Features with their class labels; rows are L2-normalised image features. */
export interface LabelledFeatures {
  features: Matrix;
  labels: number[];
}

/** What every method sees. */
export interface FewShotFeatures {
  numClasses: number;
  /** Class names for the reports (indices when absent). */
  classNames?: string[];
  /** Normalised text features of the hand-written prompt per class ([C, D]). */
  zeroShotWeights: Matrix;
  /** Training shots (original images). */
  train: LabelledFeatures;
  /** Training shots plus their cached augmented views (falls back to `train`). */
  trainAugmented?: LabelledFeatures;
  val: LabelledFeatures;
  test: LabelledFeatures;
  /** CLIP's logit scale (100 for trained CLIP models). */
  logitScale: number;
}

/** Scores of one set of predictions: the app's one classification report (see [Note: one report]). */
export type Scores = ClassificationReport;

/**
 * Accuracy overall and per class, and the confusion matrix (`confusion[true][predicted]`). A class without items has
 * accuracy null; a prediction outside [0, C) counts as wrong and lands in no cell.
 *
 * [Note: one report] This is the only implementation of the metrics: the few-shot methods (`score`), the CoOp trainer
 * and the run glue (`train/metrics.ts` re-exports it) all report through it, so the compare table, a learning run
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

/** The report of `logits` (argmax per row) against labels; `classes` is C or the class names. */
export function score(logits: Matrix, labels: readonly number[], classes: number | readonly string[]): Scores {
  const names = typeof classes === 'number' ? Array.from({ length: classes }, (_, i) => String(i)) : classes;
  return classificationReport(argmaxRows(logits), labels, names);
}

/** What reports of `data` are labelled with: its class names, or C. */
export function classesOf(data: FewShotFeatures): number | readonly string[] {
  return data.classNames ?? data.numClasses;
}

/** Result of one method on one split. */
export interface MethodOutcome {
  method: string;
  val: Scores;
  test: Scores;
  /** Hyper-parameters the method chose on the validation split. */
  chosen: Record<string, number>;
  /** Per-epoch curve for methods that train. */
  curve?: { epoch: number; loss: number; trainAccuracy: number; valAccuracy: number }[];
}
