/**
 * @file Test support: writes small distinct images and a dataset folder full of awkward files (tests and bench, Node).
 *
 * Not imported by the app. Images are generated (never copied from fixtures) so each test owns its data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/** Encoded bytes of a distinct `w` x `h` image whose pixels derive from `seed`. */
export async function imageBytes(
  seed: number,
  opts: { w?: number; h?: number; format?: 'jpeg' | 'png' | 'webp' } = {},
): Promise<Buffer> {
  const w = opts.w ?? 24;
  const h = opts.h ?? 16;
  const px = Buffer.alloc(w * h * 3);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    px[i] = s & 0xff;
  }
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  const format = opts.format ?? 'png';
  return format === 'jpeg' ? img.jpeg().toBuffer() : format === 'webp' ? img.webp().toBuffer() : img.png().toBuffer();
}

/** Writes a distinct image to `file` (folders created). */
export async function writeImage(
  file: string,
  seed: number,
  opts: Parameters<typeof imageBytes>[1] = {},
): Promise<Buffer> {
  mkdirSync(dirname(file), { recursive: true });
  const data = await imageBytes(seed, opts);
  writeFileSync(file, data);
  return data;
}

/** What {@link writeAwkwardDataset} put where, for assertions. */
export interface AwkwardDataset {
  root: string;
  /** Class folder name -> number of good, distinct images in it. */
  goodPerClass: Record<string, number>;
  corrupt: string;
  zeroByte: string;
  nonImage: string;
  hidden: string;
  duplicate: string;
  deep: string;
}

/**
 * A folder of class folders with every awkward case: a corrupt image (valid header, truncated
 * body), a zero-byte .jpg, a .txt, a hidden file, a duplicate of another class's image, an image
 * five folders deep, unicode and emoji names, and a class folder with one image.
 */
export async function writeAwkwardDataset(root: string): Promise<AwkwardDataset> {
  const cat = await writeImage(join(root, 'cat', 'c1.png'), 1);
  await writeImage(join(root, 'cat', 'c2.jpg'), 2, { format: 'jpeg' });
  await writeImage(join(root, 'cat', 'ünïcödé 猫.png'), 3);
  const deep = join(root, 'dog', 'a', 'b', 'c', 'd', 'deep.webp');
  await writeImage(deep, 4, { format: 'webp' });
  await writeImage(join(root, 'dog', 'd1.png'), 5);
  await writeImage(join(root, 'dog', '🐶 emoji.png'), 6);
  await writeImage(join(root, 'sea_otter', 'only-one.png'), 7);
  const duplicate = join(root, 'dog', 'copy-of-cat.png');
  writeFileSync(duplicate, cat);
  const full = await imageBytes(8, { w: 64, h: 64, format: 'jpeg' });
  const corrupt = join(root, 'cat', 'corrupt.jpg');
  writeFileSync(corrupt, full.subarray(0, Math.floor(full.length / 3)));
  const zeroByte = join(root, 'dog', 'zero.jpg');
  writeFileSync(zeroByte, Buffer.alloc(0));
  const nonImage = join(root, 'cat', 'notes.txt');
  writeFileSync(nonImage, 'not an image');
  const hidden = join(root, 'cat', '.DS_Store');
  writeFileSync(hidden, 'x');
  return {
    root,
    goodPerClass: { cat: 3, dog: 3, sea_otter: 1 },
    corrupt,
    zeroByte,
    nonImage,
    hidden,
    duplicate,
    deep,
  };
}
