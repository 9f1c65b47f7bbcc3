/**
 * @file Test helper: a synthetic few-shot task on feature vectors, for the methods' unit tests (plain TypeScript).
 *
 * Classes are clusters around random unit centres in D dimensions. The "hand-written prompt" weights are the true
 * centres mixed with a wrong class's centre, so zero-shot is clearly imperfect and the few-shot methods have
 * something to learn.
 */
import type { FewShotFeatures, LabelledFeatures } from '../../electron/engine/methods/evaluate';
import { normalizeRows, stack } from '../../electron/engine/methods/matrix';
import { mulberry32 } from '../../electron/engine/train/splits';

/** A Gaussian draw (Box-Muller) for synthetic feature clouds. */
export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** The synthetic task of `seed`: `shots` training and 4 validation features per class, 60 test features per class. */
export function fewShotWorld(seed: number, classes = 6, dim = 24, shots = 16, noise = 0.9): FewShotFeatures {
  const r = mulberry32(seed);
  const centres = Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => gauss(r)));
  const sample = (perClass: number): LabelledFeatures => {
    const rows: Float32Array[] = [];
    const labels: number[] = [];
    for (let c = 0; c < classes; c++) {
      for (let i = 0; i < perClass; i++) {
        rows.push(Float32Array.from(centres[c]!, (v) => v + noise * gauss(r)));
        labels.push(c);
      }
    }
    return { features: normalizeRows(stack(rows)), labels };
  };
  const textRows = centres.map((c, i) =>
    Float32Array.from(c, (v, j) => 0.45 * v + 0.55 * centres[(i + 1) % classes]![j]!),
  );
  return {
    numClasses: classes,
    zeroShotWeights: normalizeRows(stack(textRows)),
    train: sample(shots),
    val: sample(4),
    test: sample(60),
    logitScale: 100,
  };
}
