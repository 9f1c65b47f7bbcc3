/**
 * @file The base/new class split of the CoCoOp generalization protocol and its harmonic mean (engine; pure
 * TypeScript, any runtime). See [Note: base-to-new protocol] in jobs/base-to-new.ts.
 */

/** The base and new classes of base-to-new (indices into the class list, each ascending). */
export interface BaseNewClasses {
  base: number[];
  new: number[];
}

/**
 * Base-to-new's class split: classes in label order, base = the first ceil(n/2), new = the rest (Dassl's
 * `subsample_classes`); or the given base classes, the others new. Both sides must be non-empty.
 */
export function baseNewClasses(numClasses: number, given?: readonly number[]): BaseNewClasses {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new RangeError('Base-to-new needs at least two classes.');
  const all = Array.from({ length: numClasses }, (_, i) => i);
  if (given === undefined) {
    const half = Math.ceil(numClasses / 2);
    return { base: all.slice(0, half), new: all.slice(half) };
  }
  const base = [...new Set(given)].sort((a, b) => a - b);
  if (base.some((i) => !Number.isInteger(i) || i < 0 || i >= numClasses))
    throw new RangeError('A base class index is out of range.');
  const fresh = all.filter((i) => !base.includes(i));
  if (base.length === 0 || fresh.length === 0) throw new RangeError('Base and new classes must both be non-empty.');
  return { base, new: fresh };
}

/** The harmonic mean 2bn/(b+n) of base and new accuracy (0 when both are 0). */
export function harmonicMean(base: number, fresh: number): number {
  return base + fresh > 0 ? (2 * base * fresh) / (base + fresh) : 0;
}
