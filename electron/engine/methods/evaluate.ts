/**
 * @file Shared inputs and scoring of the few-shot methods (engine, plain TypeScript).
 *
 * [Note: one split for all methods] Every method gets the same `FewShotFeatures`: the same cached,
 * L2-normalised image features, the same seeded train/val/test split and the same class text
 * features, so the compare table differs only by method. Hyper-parameters are always chosen on
 * the validation split, never on test.
 */
import type { ClassificationReport } from '../../../shared/contract/train';
import { classificationReport } from '../train/metrics';
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

/** Scores of one set of predictions: the app's one classification report (see [Note: one report] in train/metrics.ts). */
export type Scores = ClassificationReport;

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
