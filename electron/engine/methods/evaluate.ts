/**
 * @file Shared inputs and scoring of the few-shot methods (engine, plain TypeScript).
 *
 * [Note: one split for all methods] Every method gets the same `FewShotFeatures`: the same cached,
 * L2-normalised image features, the same seeded train/val/test split and the same class text
 * features, so the compare table differs only by method. Hyper-parameters are always chosen on
 * the validation split, never on test.
 */
import { argmaxRows, type Matrix } from './matrix';

/** Features with their class labels; rows are L2-normalised image features. */
export interface LabelledFeatures {
  features: Matrix;
  labels: number[];
}

/** What every method sees. */
export interface FewShotFeatures {
  numClasses: number;
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

/** Scores of one set of predictions. */
export interface Scores {
  accuracy: number;
  perClass: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

/** Accuracy, per-class accuracy and confusion matrix of logits against labels. */
export function score(logits: Matrix, labels: readonly number[], numClasses: number): Scores {
  const predictions = argmaxRows(logits);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let hits = 0;
  labels.forEach((y, i) => {
    const p = predictions[i] ?? 0;
    const rowOf = confusion[y];
    if (rowOf) rowOf[p] = (rowOf[p] ?? 0) + 1;
    if (p === y) hits++;
  });
  const perClass = confusion.map((r, c) => {
    const total = r.reduce((a, b) => a + b, 0);
    return total === 0 ? 0 : (r[c] ?? 0) / total;
  });
  return { accuracy: labels.length ? hits / labels.length : 0, perClass, confusion };
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
