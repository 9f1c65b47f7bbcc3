/**
 * @file Seeded test numbers shared by unit and E2E tests (plain TypeScript, any runtime).
 */

/** Seeded uniform numbers in [-0.5, 0.5) (a 32-bit LCG: the same numbers on every runtime). */
export function seededValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}
