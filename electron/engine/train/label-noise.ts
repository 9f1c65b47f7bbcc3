/**
 * @file Seeded label noise for CoOp's robustness study (engine; pure TypeScript, any runtime).
 *
 * [Note: label noise] As in CoOp's robustness study: per class, a seeded choice of round(rate x K) of its K training
 * labels is flipped to a uniformly drawn other class; validation and test labels stay clean (validation is evaluation
 * here: it picks the linear probe's C, and a user checking a noisy dataset would check it on clean labels). Every
 * class draws from one stream of the run's seed (`Rng(seed).fork('label-noise')`) in label order: a shuffled order of
 * its training items and a target class for every position of that order, drawn whatever the rate, so the labels
 * flipped at 25% are among those flipped at 50% with the same targets and the noise levels of a sweep are nested.
 * round() rounds halves up (2.5 -> 3).
 */
import { Rng } from './splits';

/** Training labels after flipping, and which items were flipped. */
export interface NoisyLabels {
  labels: number[];
  /** Indices (into the input) of the flipped items, ascending. */
  flipped: number[];
}

/** Flips round(rate x K_c) of each class's K_c labels to another class (see [Note: label noise]). */
export function flipLabels(labels: readonly number[], numClasses: number, rate: number, seed: number): NoisyLabels {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`The noise rate must be in [0, 1), got ${rate}.`);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new RangeError('Label noise needs at least two classes.');
  const out = labels.slice();
  const flipped: number[] = [];
  const rng = new Rng(seed).fork('label-noise');
  for (let c = 0; c < numClasses; c++) {
    const members = labels.flatMap((y, i) => (y === c ? [i] : []));
    const order = rng.shuffle(members);
    // One target per position, drawn for every position so that the draws do not depend on the rate.
    const targets = order.map(() => {
      const o = rng.int(0, numClasses - 2);
      return o >= c ? o + 1 : o;
    });
    const n = Math.floor(rate * members.length + 0.5);
    for (let k = 0; k < n; k++) {
      const i = order[k] as number;
      out[i] = targets[k] as number;
      flipped.push(i);
    }
  }
  return { labels: out, flipped: flipped.sort((a, b) => a - b) };
}
