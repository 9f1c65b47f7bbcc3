/**
 * @file Test support for the fuzz suite: a seeded generator, byte-level and JSON-level mutations of a valid file,
 * the "clear error or success" oracle, and a guard that nothing was written outside the data folder (tests, Node).
 *
 * [Note: fuzz oracle] Every parser that reads a user's file gets seeded random mutations of a valid file, a fixed
 * number of cases within a time budget (whichever ends first, so a slow machine runs fewer cases, never longer).
 * A case passes when the parser succeeds, or fails with an `AppError` whose code is not `internal` and whose
 * message is a readable sentence; any other exception, a hang past the test timeout, or a file written outside
 * the temporary data folder fails the test, and the message names the seed and case to replay.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import type { EngineClient } from '../../shared/client';
import { AppError, type Result } from '../../shared/result';
import { Engine, inProcessClient } from '../../electron/engine/engine';
import { createHandlers } from '../../electron/engine/handlers';

/** A small seeded generator (xorshift32): the same cases on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    // Neighbouring seeds must not give neighbouring streams: mix the seed (a murmur3 finaliser) and warm up.
    let h = (seed ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    this.s = (h ^ (h >>> 16)) >>> 0 || 1;
    for (let i = 0; i < 4; i++) this.next();
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s ^= this.s << 13;
    this.s >>>= 0;
    this.s ^= this.s >>> 17;
    this.s ^= this.s << 5;
    this.s >>>= 0;
    return this.s / 4294967296;
  }
  /** Uniform whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const EXTREME_U32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

/** One to `maxOps` random edits of `src`: bit flips, bytes and 32-bit extremes, cuts, inserts, repeats. */
export function mutateBytes(src: Uint8Array, rng: Rng, maxOps = 3, focus?: { from: number; to: number }): Buffer {
  let b = Buffer.from(src);
  const ops = 1 + rng.int(maxOps);
  const pos = () =>
    focus ? Math.min(b.length, focus.from + rng.int(Math.max(1, focus.to - focus.from))) : rng.int(b.length + 1);
  for (let k = 0; k < ops; k++) {
    const at = pos();
    switch (rng.int(7)) {
      case 0:
        if (at < b.length) b[at] = (b[at] ?? 0) ^ (1 << rng.int(8));
        break;
      case 1:
        if (at < b.length) b[at] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
        break;
      case 2:
        if (at + 4 <= b.length) b.writeUInt32LE(rng.pick(EXTREME_U32), at);
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      case 4:
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + rng.int(16) }, () => rng.int(256))),
          b.subarray(at),
        ]);
        break;
      case 5: {
        const len = rng.int(64);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      default: {
        const len = 1 + rng.int(64);
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
      }
    }
  }
  return b;
}

/** Values a hostile document puts where a field was; `escape` is a path that would land outside the data folder. */
function hostileValue(rng: Rng, escape: string): unknown {
  return rng.pick<unknown>([
    null,
    true,
    0,
    -1,
    2.5,
    1e308,
    -1e308,
    2 ** 53 + 2,
    '',
    'x',
    'NaN',
    'Infinity',
    '-1',
    '[1, 2]',
    '{"a": 1}',
    '=HYPERLINK("x")',
    escape,
    `/${escape.replace(/^(\.\.\/)+/, '')}`,
    'images/../../../../escape.png',
    'a'.repeat(5000),
    [],
    [1, -2, 3],
    {},
    { path: escape },
  ]);
}

/** One to three random edits of a JSON value: a key removed, a value replaced by a hostile one, an item repeated. */
export function mutateJson(value: unknown, rng: Rng, escape: string): unknown {
  const root = structuredClone(value) as unknown;
  const edits = 1 + rng.int(3);
  let out = root;
  for (let k = 0; k < edits; k++) {
    // Walk down a random path, then edit the container reached.
    let parent: unknown = null;
    let key: string | number | null = null;
    let node = out;
    for (
      let depth = 0;
      depth < 6 && typeof node === 'object' && node !== null && (depth === 0 || rng.next() < 0.75);
      depth++
    ) {
      const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
      if (keys.length === 0) break;
      parent = node;
      key = rng.pick<string | number>(keys);
      node = (node as Record<string | number, unknown>)[key];
    }
    if (parent === null || key === null) {
      if (rng.next() < 0.1) out = hostileValue(rng, escape);
      continue;
    }
    const p = parent as Record<string | number, unknown>;
    const op = rng.int(4);
    if (op === 0 && !Array.isArray(parent)) delete p[key];
    else if (op === 1 && Array.isArray(parent)) parent.push(structuredClone(parent[key as number]));
    else p[key] = hostileValue(rng, escape);
  }
  return out;
}

function readable(message: string): boolean {
  return message.length >= 10 && message.length <= 5000 && !/\[object Object\]|\bundefined\b/.test(message);
}

/** The oracle of [Note: fuzz oracle] for a thrown value (undefined: the parser succeeded). */
export function expectClearError(thrown: unknown, label: string): void {
  if (thrown === undefined) return;
  if (!(thrown instanceof AppError))
    throw new Error(`${label}: threw ${String(thrown)}${thrown instanceof Error ? `\n${thrown.stack ?? ''}` : ''}`);
  expect(thrown.code, `${label}: ${thrown.message}`).not.toBe('internal');
  expect(readable(thrown.message), `${label}: unreadable message ${JSON.stringify(thrown.message)}`).toBe(true);
}

/** The oracle for an engine reply. */
export function expectClearResult(r: Result<unknown>, label: string): void {
  if (r.ok) return;
  expect(r.error.code, `${label}: ${r.error.message}\n${r.error.detail ?? ''}`).not.toBe('internal');
  expect(readable(r.error.message), `${label}: unreadable message ${JSON.stringify(r.error.message)}`).toBe(true);
}

/**
 * Runs `body` for cases 0, 1, ... until `count` cases or `budgetMs` have passed; returns how many ran.
 * `COOP_FUZZ_SCALE=N` multiplies both, for a longer hunt by hand (the same first cases, then new ones).
 */
export async function fuzz(
  opts: { seed: number; count: number; budgetMs: number },
  body: (rng: Rng, label: string) => Promise<void>,
): Promise<number> {
  const scale = Math.max(1, Number(process.env['COOP_FUZZ_SCALE'] ?? 1) || 1);
  const start = Date.now();
  let i = 0;
  for (; i < opts.count * scale && Date.now() - start < opts.budgetMs * scale; i++)
    await body(new Rng(opts.seed * 100_003 + i), `seed ${opts.seed} case ${i}`);
  return i;
}

/** Every file below `dir` (relative paths), leaving out the folders named in `skip`. */
export function filesBelow(dir: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (skip.includes(full)) continue;
      if (e.isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * An in-process engine whose data folder is `<root>/data`, so a path that escapes the data folder (`../x`) lands
 * in `root`, where {@link filesBelow} sees it.
 */
export function engineIn(root: string): { client: EngineClient; dataDir: string } {
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { recursive: true });
  return { client: inProcessClient(new Engine(createHandlers({ dataDir, log: () => {} }))), dataDir };
}
