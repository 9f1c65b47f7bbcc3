/**
 * @file A small L-BFGS minimiser with a backtracking Armijo line search (engine, plain TypeScript).
 *
 * Used by the linear probe (multinomial logistic regression), the same optimiser family CLIP's
 * linear-probe evaluation uses through scikit-learn. Works on Float64 parameters for stability.
 */

/** Objective: returns the value and writes the gradient into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** Options of {@link minimize}. */
export interface LbfgsOptions {
  maxIterations?: number;
  memory?: number;
  /** Stop when the gradient's infinity norm is below this. */
  tolerance?: number;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Minimises `f` from `x0`; returns the final point and value. */
export function minimize(
  f: Objective,
  x0: Float64Array,
  options: LbfgsOptions = {},
): { x: Float64Array; value: number; iterations: number } {
  const n = x0.length;
  const m = options.memory ?? 10;
  const maxIt = options.maxIterations ?? 300;
  const tol = options.tolerance ?? 1e-6;
  const x = new Float64Array(x0);
  const g = new Float64Array(n);
  let fx = f(x, g);
  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  let it = 0;
  for (; it < maxIt; it++) {
    let gMax = 0;
    for (let i = 0; i < n; i++) gMax = Math.max(gMax, Math.abs(g[i]!));
    if (gMax < tol) break;
    // Two-loop recursion: d = -H g.
    d.set(g);
    const alpha: number[] = [];
    for (let k = sHist.length - 1; k >= 0; k--) {
      const a = rho[k]! * dot(sHist[k]!, d);
      alpha[k] = a;
      const y = yHist[k]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * y[i]!;
    }
    const last = sHist.length - 1;
    const gamma =
      last >= 0
        ? dot(sHist[last]!, yHist[last]!) / dot(yHist[last]!, yHist[last]!)
        : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    for (let k = 0; k < sHist.length; k++) {
      const b = rho[k]! * dot(yHist[k]!, d);
      const s = sHist[k]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! + s[i]! * (alpha[k]! - b);
    }
    for (let i = 0; i < n; i++) d[i] = -d[i]!;
    let slope = dot(g, d);
    if (slope >= 0) {
      // Not a descent direction (curvature went bad): restart from steepest descent.
      sHist.length = 0;
      yHist.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    let step = 1;
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * d[i]!;
      fNew = f(xNew, gNew);
      if (fNew <= fx + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew < fx) && Math.abs(fNew - fx) < 1e-12) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sHist.push(s);
      yHist.push(y);
      rho.push(1 / sy);
      if (sHist.length > m) {
        sHist.shift();
        yHist.shift();
        rho.shift();
      }
    }
    x.set(xNew);
    g.set(gNew);
    const converged = Math.abs(fx - fNew) <= 1e-10 * Math.max(1, Math.abs(fx));
    fx = fNew;
    if (converged) break;
  }
  return { x, value: fx, iterations: it };
}
