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

/** The last `memory` curvature pairs: steps `s`, gradient changes `y`, and `rho = 1 / (s . y)`. */
interface History {
  readonly s: Float64Array[];
  readonly y: Float64Array[];
  readonly rho: number[];
}

/** The gradient's infinity norm. */
function maxAbs(g: Float64Array): number {
  let gMax = 0;
  for (let i = 0; i < g.length; i++) gMax = Math.max(gMax, Math.abs(g[i]!));
  return gMax;
}

/**
 * Writes the search direction `d = -H g` (two-loop recursion) and returns its slope `g . d`; forgets the history
 * and falls back to steepest descent when that is not a descent direction.
 */
function searchDirection(g: Float64Array, hist: History, d: Float64Array): number {
  const n = g.length;
  const { s: sHist, y: yHist, rho } = hist;
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
  return slope;
}

/**
 * Backtracking Armijo line search along `d` from `x` (value `fx`, slope `slope`): halves the step from 1 until the
 * sufficient-decrease condition holds, at most 40 times. Leaves the last point tried in `xNew` and its gradient in
 * `gNew`, and returns its value.
 */
function lineSearch(
  f: Objective,
  x: Float64Array,
  fx: number,
  d: Float64Array,
  slope: number,
  xNew: Float64Array,
  gNew: Float64Array,
): number {
  let step = 1;
  let fNew = Infinity;
  for (let tries = 0; tries < 40; tries++) {
    for (let i = 0; i < x.length; i++) xNew[i] = x[i]! + step * d[i]!;
    fNew = f(xNew, gNew);
    if (fNew <= fx + 1e-4 * step * slope) break;
    step *= 0.5;
  }
  return fNew;
}

/** Records the curvature pair of the step `x -> xNew` when it is positive, keeping the last `memory` pairs. */
function remember(
  hist: History,
  memory: number,
  x: Float64Array,
  xNew: Float64Array,
  g: Float64Array,
  gNew: Float64Array,
): void {
  const n = x.length;
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = xNew[i]! - x[i]!;
    y[i] = gNew[i]! - g[i]!;
  }
  const sy = dot(s, y);
  if (sy > 1e-12) {
    hist.s.push(s);
    hist.y.push(y);
    hist.rho.push(1 / sy);
    if (hist.s.length > memory) {
      hist.s.shift();
      hist.y.shift();
      hist.rho.shift();
    }
  }
}

/** Minimises `f` from `x0`; returns the final point and value. */
export function minimize(
  f: Objective,
  x0: Float64Array,
  options: LbfgsOptions = {},
): { x: Float64Array; value: number; iterations: number } {
  const n = x0.length;
  const memory = options.memory ?? 10;
  const maxIt = options.maxIterations ?? 300;
  const tol = options.tolerance ?? 1e-6;
  const x = new Float64Array(x0);
  const g = new Float64Array(n);
  let fx = f(x, g);
  const hist: History = { s: [], y: [], rho: [] };
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  let it = 0;
  for (; it < maxIt; it++) {
    if (maxAbs(g) < tol) break;
    const slope = searchDirection(g, hist, d);
    const fNew = lineSearch(f, x, fx, d, slope, xNew, gNew);
    // The line search found no lower value and the objective is flat here: nothing left to gain.
    if (!(fNew < fx) && Math.abs(fNew - fx) < 1e-12) break;
    remember(hist, memory, x, xNew, g, gNew);
    x.set(xNew);
    g.set(gNew);
    const converged = Math.abs(fx - fNew) <= 1e-10 * Math.max(1, Math.abs(fx));
    fx = fNew;
    if (converged) break;
  }
  return { x, value: fx, iterations: it };
}
