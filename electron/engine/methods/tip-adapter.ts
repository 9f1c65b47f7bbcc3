/**
 * @file Tip-Adapter (training-free) and Tip-Adapter-F (fine-tuned keys) (engine, plain TypeScript).
 *
 * [Note: Tip-Adapter] Cache keys K = few-shot image features, values V = their one-hot labels;
 * logits = scale * f Wᵀ + alpha * exp(-beta * (1 - f Kᵀ)) V. alpha and beta are searched on the
 * validation split (the reference grid: beta in [0.1, 7), alpha in [0.1, 3)), never on test.
 * Tip-Adapter-F initialises a learnable copy of K and fine-tunes it for 20 epochs with AdamW
 * (lr 0.001, eps 1e-4, cosine schedule) on the (augmented) training features; the gradient is
 * written out by hand, so no autodiff backend is needed.
 */
import { type FewShotFeatures, type LabelledFeatures, type MethodOutcome, classesOf, score } from './evaluate';
import { matmulT, type Matrix } from './matrix';
import { throwIfCancelled, yieldToEventLoop } from '../train/trainer';

/** Tip-Adapter hyper-parameters. */
export interface TipParams {
  alpha: number;
  beta: number;
}

/** Logits of Tip-Adapter for features `f` with cache keys `keys` and labels `keyLabels`. */
export function tipLogits(
  f: Matrix,
  keys: Matrix,
  keyLabels: readonly number[],
  zeroShot: Matrix,
  numClasses: number,
  p: TipParams,
  logitScale: number,
): Matrix {
  const clip = matmulT(f, zeroShot);
  const affinity = matmulT(f, keys);
  return combine(clip, affinity, keyLabels, numClasses, p, logitScale);
}

function combine(
  clip: Matrix,
  affinity: Matrix,
  keyLabels: readonly number[],
  numClasses: number,
  p: TipParams,
  logitScale: number,
): Matrix {
  const out = new Float32Array(clip.rows * numClasses);
  for (let i = 0; i < clip.rows; i++) {
    for (let c = 0; c < numClasses; c++) out[i * numClasses + c] = logitScale * clip.data[i * numClasses + c]!;
    for (let j = 0; j < affinity.cols; j++) {
      const w = p.alpha * Math.exp(-p.beta * (1 - affinity.data[i * affinity.cols + j]!));
      const y = keyLabels[j]!;
      out[i * numClasses + y] = out[i * numClasses + y]! + w;
    }
  }
  return { rows: clip.rows, cols: numClasses, data: out };
}

/** The reference search grid. */
export function searchGrid(betaSteps = 70, alphaSteps = 30): { betas: number[]; alphas: number[] } {
  const betas = Array.from({ length: betaSteps }, (_, i) => 0.1 + (i * (7 - 0.1)) / betaSteps);
  const alphas = Array.from({ length: alphaSteps }, (_, i) => 0.1 + (i * (3 - 0.1)) / alphaSteps);
  return { betas, alphas };
}

/** Best alpha/beta on the validation features for given keys. */
export function searchAlphaBeta(data: FewShotFeatures, keys: Matrix, keyLabels: readonly number[]): TipParams {
  const clip = matmulT(data.val.features, data.zeroShotWeights);
  const affinity = matmulT(data.val.features, keys);
  const { betas, alphas } = searchGrid();
  let best: TipParams = { alpha: 1, beta: 1 };
  let bestAcc = -1;
  for (const beta of betas) {
    for (const alpha of alphas) {
      const acc = score(
        combine(clip, affinity, keyLabels, data.numClasses, { alpha, beta }, data.logitScale),
        data.val.labels,
        data.numClasses,
      ).accuracy;
      if (acc > bestAcc) {
        bestAcc = acc;
        best = { alpha, beta };
      }
    }
  }
  return best;
}

/** Training-free Tip-Adapter. */
export function tipAdapter(data: FewShotFeatures): MethodOutcome {
  const cache = data.train;
  const p = searchAlphaBeta(data, cache.features, cache.labels);
  const run = (split: LabelledFeatures) =>
    score(
      tipLogits(
        split.features,
        cache.features,
        cache.labels,
        data.zeroShotWeights,
        data.numClasses,
        p,
        data.logitScale,
      ),
      split.labels,
      classesOf(data),
    );
  return { method: 'tip', val: run(data.val), test: run(data.test), chosen: { ...p } };
}

/** Options of Tip-Adapter-F. */
export interface TipFOptions {
  epochs?: number;
  lr?: number;
  batchSize?: number;
  /** Seeded shuffling. */
  random: () => number;
  /** Stops the fine-tuning between batches with the app's `cancelled` error. */
  signal?: AbortSignal;
  /** After each epoch. */
  onEpoch?: (epoch: number, epochs: number) => void;
}

/** The reference's AdamW settings for the keys: betas, eps and weight decay. */
const TIPF_ADAMW = { b1: 0.9, b2: 0.999, eps: 1e-4, wd: 0.01 };

/** One AdamW update of `keys` by `grad` at step `t` (1-based); `m` and `v` are the moment estimates. */
function adamwStep(keys: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, t: number, lr: number) {
  const { b1, b2, eps, wd } = TIPF_ADAMW;
  for (let e = 0; e < keys.length; e++) {
    const g = grad[e]!;
    m[e] = b1 * m[e]! + (1 - b1) * g;
    v[e] = b2 * v[e]! + (1 - b2) * g * g;
    const mh = m[e]! / (1 - b1 ** t);
    const vh = v[e]! / (1 - b2 ** t);
    keys[e] = keys[e]! * (1 - lr * wd) - (lr * mh) / (Math.sqrt(vh) + eps);
  }
}

/** Cross-entropy summed over a batch, its correct predictions, and d loss / d keys (mean over the batch). */
function keyGradient(
  data: FewShotFeatures,
  f: Matrix,
  labels: readonly number[],
  keys: Matrix,
  p: TipParams,
): { lossSum: number; hits: number; grad: Float32Array } {
  const c = data.numClasses;
  const cacheLabels = data.train.labels;
  const d = keys.cols;
  const affinity = matmulT(f, keys);
  const logits = combine(matmulT(f, data.zeroShotWeights), affinity, cacheLabels, c, p, data.logitScale);
  const grad = new Float32Array(keys.data.length);
  let lossSum = 0;
  let hits = 0;
  for (let q = 0; q < f.rows; q++) {
    const y = labels[q]!;
    const row = logits.data.subarray(q * c, (q + 1) * c);
    let max = -Infinity;
    for (let a = 0; a < c; a++) max = Math.max(max, row[a]!);
    let sum = 0;
    for (let a = 0; a < c; a++) sum += Math.exp(row[a]! - max);
    lossSum += max + Math.log(sum) - row[y]!;
    let argmax = 0;
    for (let a = 1; a < c; a++) if (row[a]! > row[argmax]!) argmax = a;
    if (argmax === y) hits++;
    // dL/dA_qj = (P_q,label(j) - Y_q,label(j)) * alpha * beta * exp(-beta (1 - A_qj)); dL/dK_j += that * f_q.
    for (let j = 0; j < keys.rows; j++) {
      const lj = cacheLabels[j]!;
      const pj = Math.exp(row[lj]! - max) / sum - (lj === y ? 1 : 0);
      const coef = (pj * p.alpha * p.beta * Math.exp(-p.beta * (1 - affinity.data[q * keys.rows + j]!))) / f.rows;
      for (let e = 0; e < d; e++) grad[j * d + e] = grad[j * d + e]! + coef * f.data[q * d + e]!;
    }
  }
  return { lossSum, hits, grad };
}

/** Fisher-Yates shuffle of `order` in place with `random`. */
function shuffle(order: number[], random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
}

/** The rows `idx` of `m` as a matrix of their own. */
function rowsOf(m: Matrix, idx: readonly number[]): Matrix {
  const out: Matrix = { rows: idx.length, cols: m.cols, data: new Float32Array(idx.length * m.cols) };
  idx.forEach((r, q) => out.data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), q * m.cols));
  return out;
}

/**
 * Tip-Adapter-F: fine-tunes the cache keys (AdamW, cosine lr, alpha and beta held at their first search), then
 * re-searches alpha/beta on validation. Yields to the event loop between batches so a cancel can stop it.
 */
export async function tipAdapterF(data: FewShotFeatures, options: TipFOptions): Promise<MethodOutcome> {
  const cache = data.train;
  const trainSet = data.trainAugmented ?? data.train;
  const epochs = options.epochs ?? 20;
  const lr0 = options.lr ?? 0.001;
  const batch = options.batchSize ?? 256;
  const c = data.numClasses;
  // As in the reference, the fine-tuned keys are used as they are (a linear layer), not re-normalised.
  const keys: Matrix = { ...cache.features, data: new Float32Array(cache.features.data) };
  const m = new Float32Array(keys.data.length);
  const v = new Float32Array(keys.data.length);
  const init = searchAlphaBeta(data, cache.features, cache.labels);
  const curve: NonNullable<MethodOutcome['curve']> = [];
  const order = trainSet.labels.map((_, i) => i);
  const total = epochs * Math.ceil(order.length / batch);
  let t = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(order, options.random);
    let lossSum = 0;
    let hits = 0;
    for (let start = 0; start < order.length; start += batch) {
      await yieldToEventLoop();
      throwIfCancelled(options.signal);
      const idx = order.slice(start, start + batch);
      const labels = idx.map((r) => trainSet.labels[r]!);
      const step = keyGradient(data, rowsOf(trainSet.features, idx), labels, keys, init);
      lossSum += step.lossSum;
      hits += step.hits;
      t++;
      adamwStep(keys.data, step.grad, m, v, t, 0.5 * lr0 * (1 + Math.cos((Math.PI * (t - 1)) / total)));
    }
    const valLogits = tipLogits(data.val.features, keys, cache.labels, data.zeroShotWeights, c, init, data.logitScale);
    const valAccuracy = score(valLogits, data.val.labels, c).accuracy;
    curve.push({ epoch, loss: lossSum / order.length, trainAccuracy: hits / order.length, valAccuracy });
    options.onEpoch?.(epoch, epochs);
  }
  const p = searchAlphaBeta(data, keys, cache.labels);
  const run = (split: LabelledFeatures) =>
    score(
      tipLogits(split.features, keys, cache.labels, data.zeroShotWeights, c, p, data.logitScale),
      split.labels,
      classesOf(data),
    );
  return { method: 'tipf', val: run(data.val), test: run(data.test), chosen: { ...p, epochs }, curve };
}
