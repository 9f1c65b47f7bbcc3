/**
 * @file The attention plan of the wasm kernel path: which rows a forward pass has and which (query, key) pairs each
 * head attends over, plus the per-query softmax and its backward pass in JS (engine worker or browser; no imports).
 *
 * [Note: ragged rows] Rows are only the tokens up to each prompt's EOT: a class's suffix (or whole prompt, without a
 * shared prefix) contributes eot + 1 rows, not the padded length, so short class names cost only their own tokens.
 * Attention is written as lists of (query, key) pairs per head: a prefix row attends to the prefix rows before it, a
 * class row to the whole prefix and to its own class's rows up to itself; in the last layer only the EOT rows are
 * queries. The same lists drive the scores (dot products), the softmax (in JS, per query), the weighted sum of
 * values, and the four sweeps of the backward pass, so every layout (shared prefix or not, any class position) is the
 * same code.
 */

/** The packed encoder's attention shape: heads on this rank, head size, this rank's attention width. */
export interface AttentionShape {
  heads: number;
  D: number;
  Wl: number;
}

/** Rows, attention pair lists and arena layout of one forward pass (see [Note: ragged rows]). */
export interface Plan {
  P: number;
  C: number;
  S: number;
  R: number;
  /** First row of each class and its number of rows (eot + 1). */
  base: number[];
  len: number[];
  /** Per-query key counts (one softmax group per head and query), for all rows and for the EOT queries. */
  keysAll: Int32Array;
  keysEot: Int32Array;
  nAll: number;
  nEot: number;
  /** Pair lists as int32 triples (q offset in qkv, k/v offset in qkv, o offset in the output), in bytes. */
  listAll: Int32Array;
  listEot: Int32Array;
}

const plans = new WeakMap<AttentionShape, Map<string, Plan>>();

/** `plan`, remembered per encoder for the last few layouts (every step of a run has the same one). */
export function cachedPlan(pk: AttentionShape, P: number, C: number, S: number, eot: number[]): Plan {
  const key = `${P} ${S} ${eot.join(',')}`;
  const cache = plans.get(pk) ?? new Map<string, Plan>();
  plans.set(pk, cache);
  const have = cache.get(key);
  if (have) return have;
  const made = plan(pk, P, C, S, eot);
  if (cache.size >= 8) cache.delete(cache.keys().next().value as string);
  cache.set(key, made);
  return made;
}

function plan(pk: AttentionShape, P: number, C: number, S: number, eot: number[]): Plan {
  const len = eot.map((e) => e + 1);
  const base: number[] = [];
  let R = P;
  for (const n of len) {
    base.push(R);
    R += n;
  }
  // Keys of every row: [first, count] ranges (prefix part, own-class part).
  const ranges: [number, number, number, number][] = [];
  for (let i = 0; i < P; i++) ranges.push([0, i + 1, 0, 0]);
  len.forEach((n, c) => {
    for (let s = 0; s < n; s++) ranges.push([0, P, base[c] as number, s + 1]);
  });
  const eotRows = len.map((n, c) => (base[c] as number) + n - 1);
  const { heads, D, Wl } = pk;
  const build = (queries: number[], outRow: (q: number, i: number) => number) => {
    const keys = new Int32Array(queries.length);
    queries.forEach((q, i) => {
      const r = ranges[q] as [number, number, number, number];
      keys[i] = r[1] + r[3];
    });
    const perHead = keys.reduce((a, b) => a + b, 0);
    const list = new Int32Array(perHead * heads * 3);
    let e = 0;
    for (let h = 0; h < heads; h++) {
      const hb = h * D * 4;
      queries.forEach((q, i) => {
        const [a0, an, b0, bn] = ranges[q] as [number, number, number, number];
        const qOff = q * 3 * Wl * 4 + hb;
        const oOff = outRow(q, i) * Wl * 4 + hb;
        for (const [k0, kn] of [
          [a0, an],
          [b0, bn],
        ] as const)
          for (let j = k0; j < k0 + kn; j++) {
            list[e++] = qOff;
            list[e++] = j * 3 * Wl * 4 + hb;
            list[e++] = oOff;
          }
      });
    }
    return { keys, list, n: perHead * heads };
  };
  const all = build(
    Array.from({ length: R }, (_, i) => i),
    (q) => q,
  );
  const last = build(eotRows, (_, i) => i);
  return {
    P,
    C,
    S,
    R,
    base,
    len,
    keysAll: all.keys,
    keysEot: last.keys,
    nAll: all.n,
    nEot: last.n,
    listAll: all.list,
    listEot: last.list,
  };
}

/** Bump allocation of float regions, 16-byte aligned. */
export function allocator() {
  let n = 0;
  return {
    take: (size: number) => {
      const at = n;
      n += Math.ceil(size / 4) * 4;
      return at;
    },
    get size() {
      return n;
    },
  };
}

/** Softmax over each group of `keys[i]` consecutive values (groups repeat per head), in place. */
export function softmaxGroups(v: Float32Array, at: number, keys: Int32Array, heads: number): void {
  let p = at;
  for (let h = 0; h < heads; h++)
    for (const n of keys) {
      let m = -Infinity;
      for (let j = p; j < p + n; j++) m = Math.max(m, v[j] as number);
      let z = 0;
      for (let j = p; j < p + n; j++) {
        const e = Math.exp((v[j] as number) - m);
        v[j] = e;
        z += e;
      }
      for (let j = p; j < p + n; j++) v[j] = (v[j] as number) / z;
      p += n;
    }
}

/** dS = P * (dP - sum(P * dP)) per group, written over dP. */
export function softmaxBackward(v: Float32Array, prob: number, dp: number, keys: Int32Array, heads: number): void {
  let o = 0;
  for (let h = 0; h < heads; h++)
    for (const n of keys) {
      let dot = 0;
      for (let j = o; j < o + n; j++) dot += (v[prob + j] as number) * (v[dp + j] as number);
      for (let j = o; j < o + n; j++) v[dp + j] = (v[prob + j] as number) * ((v[dp + j] as number) - dot);
      o += n;
    }
}
