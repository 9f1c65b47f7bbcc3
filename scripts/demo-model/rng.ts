/**
 * @file Seeded pseudo-random numbers for the demo-model build (build script, plain Node).
 *
 * [Note: demo determinism] Everything the demo-model build draws at random (scenes, captions,
 * weight initialisation, batch order) comes from this generator, never from `Math.random` or tfjs'
 * own random ops, so one seed fixes the whole build.
 */
import { mulberryOutput, mulberryStep } from '../../electron/engine/train/splits';

/** A small, fast, seedable generator (mulberry32) with helpers. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = mulberryStep(this.state);
    return mulberryOutput(this.state);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty array');
    return item;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A Float32Array of N(0, std^2) values. */
  normalArray(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }

  /** A derived generator, so that separate streams (data, weights) do not shift each other. */
  fork(salt: number): Rng {
    return new Rng((Math.imul(this.int(0x7fffffff) ^ salt, 0x85ebca6b) ^ salt) >>> 0);
  }

  /** Shuffles an array in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }
}
