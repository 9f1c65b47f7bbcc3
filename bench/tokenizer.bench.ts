/**
 * @file Benchmark of the CLIP tokenizer: tokens per second with and without the BPE cache (Node, `npm run bench:tokenizer`).
 *
 * Texts: captions built from a seeded random draw of real vocabulary words plus the fixture cases, so
 * the cache sees a realistic mix of repeated and new words. Prints one JSON line with the numbers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipTokenizer } from '../electron/engine/clip/tokenizer';
import { fixturesDir } from '../tests/helpers/fixtures';

const dir = process.argv[2] ?? join(fixturesDir(), 'tokenizer');
const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Record<string, number>;
const merges = readFileSync(join(dir, 'merges.txt'), 'utf8').split('\n').slice(1);
const cases = (
  JSON.parse(readFileSync(join(fixturesDir(), 'tokenizer', 'cases.json'), 'utf8')) as { cases: { text: string }[] }
).cases;

let seed = 1;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const words = Object.keys(vocab)
  .filter((w) => /^[a-z]{3,}<\/w>$/.test(w))
  .map((w) => w.slice(0, -4));
const texts = Array.from(
  { length: 2000 },
  () =>
    Array.from({ length: 6 + Math.floor(rand() * 14) }, () => words[Math.floor(rand() * words.length)] ?? 'dog').join(
      ' ',
    ) + '.',
).concat(cases.map((c) => c.text));

function run(tok: ClipTokenizer, rounds: number): { tokensPerS: number; textsPerS: number } {
  let tokens = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const t of texts) tokens += tok.encode(t).length;
  const s = (performance.now() - t0) / 1000;
  return { tokensPerS: Math.round(tokens / s), textsPerS: Math.round((texts.length * rounds) / s) };
}

const cached = ClipTokenizer.fromVocabMerges(vocab, merges);
run(cached, 1); // warm the cache and the JIT
const warm = run(cached, 5);
const bare = ClipTokenizer.fromVocabMerges(vocab, merges);
bare.cacheEnabled = false;
run(bare, 1);
const uncached = run(bare, 2);
console.log(
  JSON.stringify({
    bench: 'tokenizer',
    texts: texts.length,
    cached: warm,
    uncached,
    speedup: +(warm.tokensPerS / uncached.tokensPerS).toFixed(2),
  }),
);
