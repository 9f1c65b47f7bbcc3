/**
 * @file Test helper: small class-per-folder datasets of noisy solid-colour PNGs (Node, tests only).
 *
 * Three classes any CLIP-like encoder separates (red, green, blue things), 24x24 pixels with seeded uniform noise,
 * so training and evaluation tests run in seconds and never depend on the demo model's quality.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** The classes and their base colours. */
export const COLOUR_CLASSES: Record<string, [number, number, number]> = {
  red_thing: [220, 30, 30],
  green_thing: [30, 200, 40],
  blue_thing: [30, 40, 220],
};

/** Options of {@link writeColourDataset}. */
export interface ColourDatasetOptions {
  /** Width of the uniform noise added to each channel (default 80: +-40). */
  noise?: number;
  /** Write the classes in sorted name order (the returned groups follow it); default: declaration order. */
  sorted?: boolean;
  /** Other classes and base colours (default: {@link COLOUR_CLASSES}). */
  classes?: Record<string, [number, number, number]>;
}

/** Writes `root/<class>/<i>.png`, `perClass` images per class, and returns the file paths grouped by class. */
export async function writeColourDataset(
  root: string,
  perClass: number,
  seed: number,
  options: ColourDatasetOptions = {},
): Promise<string[][]> {
  const noise = options.noise ?? 80;
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * noise - noise / 2;
  const classes = Object.entries(options.classes ?? COLOUR_CLASSES);
  if (options.sorted) classes.sort();
  const out: string[][] = [];
  for (const [name, [r, g, b]] of classes) {
    mkdirSync(join(root, name), { recursive: true });
    const files: string[] = [];
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(24 * 24 * 3);
      for (let p = 0; p < 24 * 24; p++) {
        px[p * 3] = Math.max(0, Math.min(255, r + rand()));
        px[p * 3 + 1] = Math.max(0, Math.min(255, g + rand()));
        px[p * 3 + 2] = Math.max(0, Math.min(255, b + rand()));
      }
      const file = join(root, name, `${i}.png`);
      await sharp(px, { raw: { width: 24, height: 24, channels: 3 } })
        .png()
        .toFile(file);
      files.push(file);
    }
    out.push(files);
  }
  return out;
}
