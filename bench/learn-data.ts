/**
 * @file The dataset of `npm run bench:learn`: class folders of 500x375 JPEGs (an ImageNet-typical photo size), cached
 * in the OS temp folder by size (bench helper, plain Node).
 *
 * [Note: bench dataset] The bench model has random weights, so what the pictures show does not matter, only their
 * count and size (decode and resize cost). Each image is a seeded pattern of gradients and noise; class folders are
 * common English words (one or two tokens of the bench model's vocabulary, like real class names in CLIP's).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { EXTRA_WORDS } from '../scripts/demo-model/world';

const WIDTH = 500;
const HEIGHT = 375;
const DONE = '.complete';

/** `n` distinct class names (single common words, then pairs of them). */
export function benchClassNames(n: number): string[] {
  const words = [...new Set(EXTRA_WORDS.split(/\s+/).filter((w) => /^[a-z]{3,}$/.test(w)))];
  const out = words.slice(0, n);
  for (let i = 0; out.length < n; i++)
    out.push(`${words[i % words.length] ?? 'x'} ${words[(i * 7 + 3) % words.length] ?? 'y'}`);
  return out;
}

/** Writes (once) `classes` folders of `perClass` JPEGs and returns the dataset folder. */
export async function makeLearnDataset(classes: number, perClass: number): Promise<string> {
  const dir = join(tmpdir(), `coop-bench-learn-${classes}x${perClass}-${WIDTH}x${HEIGHT}`);
  if (existsSync(join(dir, DONE))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const raw = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (const [c, name] of benchClassNames(classes).entries()) {
    const folder = join(dir, name.replace(/ /g, '_'));
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      let s = (c * 7919 + i * 104729 + 1) >>> 0;
      for (let p = 0; p < WIDTH * HEIGHT; p++) {
        const x = p % WIDTH;
        const y = (p / WIDTH) | 0;
        s = (s * 1664525 + 1013904223) >>> 0;
        raw[p * 3] = (x + c * 29 + i * 13) & 255;
        raw[p * 3 + 1] = (y + c * 53 + i * 7) & 255;
        raw[p * 3 + 2] = ((x ^ y) + (s >>> 26)) & 255;
      }
      const jpg = await sharp(raw, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer();
      writeFileSync(join(folder, `${String(i).padStart(3, '0')}.jpg`), jpg);
    }
  }
  writeFileSync(join(dir, DONE), '');
  return dir;
}
