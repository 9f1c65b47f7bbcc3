/**
 * @file Seeded randomness and the few-shot train / validation / test split (engine; pure TypeScript, any runtime).
 *
 * [Note: seeded randomness] Every random choice of a learning run (which images are the K shots, the crops of the
 * augmented views, the order of the batches) draws from one {@link Rng} built from the run's seed, each consumer on
 * its own stream (`rng.fork(name)`), so adding a draw in one place does not shift the others and the same seed on
 * the same backend gives the same result.
 */

/** mulberry32's state update. */
export function mulberryStep(state: number): number {
  return (state + 0x6d2b79f5) >>> 0;
}

/** mulberry32's output for an updated state: a uniform float in [0, 1). */
export function mulberryOutput(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Plain mulberry32 from `seed` (no seed hashing, unlike {@link Rng}): for tests and benches that replay a case. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => mulberryOutput((state = mulberryStep(state)));
}

/** A small seeded pseudo-random generator (mulberry32): fast, 32-bit state, good enough for sampling. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = hash32(seed >>> 0, 0x9e3779b9);
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = mulberryStep(this.state);
    return mulberryOutput(this.state);
  }

  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A standard normal draw (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A new array with the items in a random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** An independent generator for one named consumer of the same seed (see [Note: seeded randomness]). */
  fork(name: string): Rng {
    let h = this.state;
    for (let i = 0; i < name.length; i++) h = hash32(h, name.charCodeAt(i));
    return new Rng(h);
  }
}

function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ b, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** One labelled image of a split. */
export interface SplitItem {
  path: string;
  label: number;
}

/** The three parts of a few-shot run. */
export interface FewShotSplit {
  train: SplitItem[];
  val: SplitItem[];
  test: SplitItem[];
}

/** Options of {@link fewShotSplit}. */
export interface SplitOptions {
  shots: number;
  seed: number;
  /** Files of a separate test folder per class (same class order); when given, test is exactly these. */
  testFiles?: string[][];
  /** Files the user pinned to a split, per class (see [Note: pinned splits]); the others are sampled. */
  pinned?: { train?: string[]; val?: string[]; test?: string[] }[];
}

/**
 * Samples K shots per class (all images when a class has fewer), then min(K, 4) validation images per class from the
 * rest; the remainder is the test set unless a separate test folder is given. Input order does not matter: files are
 * sorted first so the split depends only on the seed and the set of files.
 *
 * [Note: pinned splits] A project image the user pinned to `train`, `val` or `test` always lands there: pinned
 * training images count towards the K shots (all are kept when more than K are pinned), pinned validation images
 * towards the min(K, 4), and the sampling fills the rest from the unpinned images. Without pins the draw is exactly
 * the unpinned one, so pinning nothing changes no earlier result.
 */
export function fewShotSplit(classFiles: readonly (readonly string[])[], opts: SplitOptions): FewShotSplit {
  if (!Number.isInteger(opts.shots) || opts.shots < 1) throw new RangeError('shots must be a whole number >= 1');
  const rng = new Rng(opts.seed).fork('split');
  const nVal = Math.min(opts.shots, 4);
  const split: FewShotSplit = { train: [], val: [], test: [] };
  classFiles.forEach((files, label) => {
    const pin = opts.pinned?.[label] ?? {};
    const pinned = new Set([...(pin.train ?? []), ...(pin.val ?? []), ...(pin.test ?? [])]);
    const order = rng.shuffle(files.filter((f) => !pinned.has(f)).sort());
    const nTrain = Math.max(0, opts.shots - (pin.train?.length ?? 0));
    const nValLeft = Math.max(0, nVal - (pin.val?.length ?? 0));
    const train = [...(pin.train ?? []), ...order.slice(0, nTrain)];
    const val = [...(pin.val ?? []), ...order.slice(nTrain, nTrain + nValLeft)];
    const rest = [...(pin.test ?? []), ...order.slice(nTrain + nValLeft)];
    for (const path of train.sort()) split.train.push({ path, label });
    for (const path of val.sort()) split.val.push({ path, label });
    if (!opts.testFiles) for (const path of rest.sort()) split.test.push({ path, label });
  });
  opts.testFiles?.forEach((files, label) => {
    for (const path of [...files].sort()) split.test.push({ path, label });
  });
  return split;
}
