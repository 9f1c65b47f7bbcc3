/**
 * @file Small dense-matrix helpers for the few-shot methods (engine, plain TypeScript, no Node APIs).
 *
 * Feature sets are tiny (hundreds of rows, at most a few thousand columns), so plain typed-array
 * loops are fast enough and keep the methods deterministic on every backend.
 */

/** A row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Stacks equal-length vectors into a matrix. */
export function stack(vectors: readonly Float32Array[], cols?: number): Matrix {
  const c = cols ?? vectors[0]?.length ?? 0;
  const data = new Float32Array(vectors.length * c);
  vectors.forEach((v, i) => {
    if (v.length !== c) throw new Error(`Row ${i} has ${v.length} values, expected ${c}.`);
    data.set(v, i * c);
  });
  return { rows: vectors.length, cols: c, data };
}

/** Row `i` of a matrix (a view, not a copy). */
export function row(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** Returns a copy with every row scaled to unit L2 norm (zero rows stay zero). */
export function normalizeRows(m: Matrix): Matrix {
  const out = new Float32Array(m.data);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += (out[i * m.cols + j] ?? 0) ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = (out[i * m.cols + j] ?? 0) * inv;
  }
  return { rows: m.rows, cols: m.cols, data: out };
}

/** A · Bᵀ (both row-major with the same number of columns). */
export function matmulT(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.cols) throw new Error(`Cannot multiply ${a.rows}x${a.cols} by (${b.rows}x${b.cols})ᵀ.`);
  const out = new Float32Array(a.rows * b.rows);
  for (let i = 0; i < a.rows; i++) {
    const ai = i * a.cols;
    for (let j = 0; j < b.rows; j++) {
      const bj = j * b.cols;
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += a.data[ai + k]! * b.data[bj + k]!;
      out[i * b.rows + j] = s;
    }
  }
  return { rows: a.rows, cols: b.rows, data: out };
}

/** Index of the largest value of each row. */
export function argmaxRows(m: Matrix): number[] {
  const out: number[] = [];
  for (let i = 0; i < m.rows; i++) {
    let best = 0;
    let bestV = -Infinity;
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j]!;
      if (v > bestV) {
        bestV = v;
        best = j;
      }
    }
    out.push(best);
  }
  return out;
}

/** Fraction of predictions equal to the labels (0 for an empty set). */
export function accuracy(predictions: readonly number[], labels: readonly number[]): number {
  if (labels.length === 0) return 0;
  let hit = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) hit++;
  return hit / labels.length;
}

/** Row-wise softmax of `scale * m`, in place on a copy. */
export function softmaxRows(m: Matrix, scale = 1): Matrix {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    let max = -Infinity;
    for (let j = 0; j < m.cols; j++) max = Math.max(max, scale * m.data[i * m.cols + j]!);
    let sum = 0;
    for (let j = 0; j < m.cols; j++) {
      const e = Math.exp(scale * m.data[i * m.cols + j]! - max);
      out[i * m.cols + j] = e;
      sum += e;
    }
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = out[i * m.cols + j]! / sum;
  }
  return { rows: m.rows, cols: m.cols, data: out };
}
