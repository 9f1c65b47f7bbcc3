/**
 * @file Linear probe: multinomial logistic regression on frozen image features (engine, plain TypeScript).
 *
 * [Note: linear probe] As in CLIP's evaluation (scikit-learn's L-BFGS logistic regression), the
 * objective is `sum(cross-entropy) + ||W||² / (2C)` with an unregularised bias, and the inverse
 * regularisation strength C is chosen on the validation split: a coarse log grid, then a finer
 * grid around the best. Weak at 1-2 shots, as the CoOp paper reports.
 */
import { type FewShotFeatures, type MethodOutcome, classesOf, score } from './evaluate';
import { minimize } from './lbfgs';
import type { Matrix } from './matrix';

/** A fitted linear classifier. */
export interface LinearModel {
  weights: Matrix; // [C, D]
  bias: Float32Array; // [C]
}

/** Fits multinomial logistic regression with inverse regularisation strength `c`. */
export function fitLogisticRegression(
  x: Matrix,
  labels: readonly number[],
  numClasses: number,
  c: number,
  maxIterations = 300,
): LinearModel {
  const { rows: n, cols: d } = x;
  const k = numClasses;
  const params = new Float64Array(k * d + k);
  const logits = new Float64Array(k);
  const objective = (p: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const xi = i * d;
      let max = -Infinity;
      for (let a = 0; a < k; a++) {
        let s = p[k * d + a]!;
        const wa = a * d;
        for (let j = 0; j < d; j++) s += p[wa + j]! * x.data[xi + j]!;
        logits[a] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let a = 0; a < k; a++) sum += Math.exp(logits[a]! - max);
      const logSum = max + Math.log(sum);
      const y = labels[i]!;
      loss += logSum - logits[y]!;
      for (let a = 0; a < k; a++) {
        const coef = Math.exp(logits[a]! - logSum) - (a === y ? 1 : 0);
        const wa = a * d;
        for (let j = 0; j < d; j++) grad[wa + j] = grad[wa + j]! + coef * x.data[xi + j]!;
        grad[k * d + a] = grad[k * d + a]! + coef;
      }
    }
    const lambda = 1 / c;
    for (let q = 0; q < k * d; q++) {
      loss += 0.5 * lambda * p[q]! ** 2;
      grad[q] = grad[q]! + lambda * p[q]!;
    }
    return loss;
  };
  const { x: best } = minimize(objective, params, { maxIterations });
  return {
    weights: { rows: k, cols: d, data: Float32Array.from(best.subarray(0, k * d)) },
    bias: Float32Array.from(best.subarray(k * d)),
  };
}

/** Logits of a linear model. */
export function linearLogits(model: LinearModel, x: Matrix): Matrix {
  const k = model.weights.rows;
  const d = x.cols;
  const out = new Float32Array(x.rows * k);
  for (let i = 0; i < x.rows; i++) {
    for (let a = 0; a < k; a++) {
      let s = model.bias[a]!;
      for (let j = 0; j < d; j++) s += model.weights.data[a * d + j]! * x.data[i * d + j]!;
      out[i * k + a] = s;
    }
  }
  return { rows: x.rows, cols: k, data: out };
}

/** Linear probe with C chosen on validation accuracy. */
export function linearProbe(data: FewShotFeatures): MethodOutcome {
  const fitAndScore = (c: number) => {
    const model = fitLogisticRegression(data.train.features, data.train.labels, data.numClasses, c);
    return { c, model, val: score(linearLogits(model, data.val.features), data.val.labels, classesOf(data)) };
  };
  const coarse = [-3, -2, -1, 0, 1, 2, 3, 4].map((e) => fitAndScore(10 ** e));
  // Ties prefer the stronger regularisation (smaller C): fewer shots than dimensions overfit easily.
  const pick = (cands: ReturnType<typeof fitAndScore>[]) =>
    cands.reduce((best, cur) => (cur.val.accuracy > best.val.accuracy ? cur : best));
  const best0 = pick(coarse); // coarse is already in ascending C
  const logC = Math.log10(best0.c);
  const fine = [-0.5, -0.25, 0.25, 0.5].map((o) => fitAndScore(10 ** (logC + o)));
  const best = pick([...coarse, ...fine].sort((a, b) => a.c - b.c));
  return {
    method: 'linear',
    val: best.val,
    test: score(linearLogits(best.model, data.test.features), data.test.labels, classesOf(data)),
    chosen: { C: best.c },
  };
}
