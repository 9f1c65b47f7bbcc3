/**
 * @file Tests of image preprocessing against the fixtures' PIL/Hugging Face reference and on generated odd images.
 *
 * Tolerances: the resize is a port of Pillow's fixed-point resampler (see [Note: PIL-exact resize]),
 * so the 8-bit crops must be byte-identical to the reference crops (tolerance 0 levels), and the
 * normalised tensors may differ from `pixel_values/*.f32` only by float32 rounding of
 * (x/255 - mean)/std, which is below 1e-6 for |values| < 3; we allow 1e-5.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tests/helpers/engine';
import { fixtureModelDirs } from '../../../tests/helpers/fixtures';
import { AppError } from '../../../shared/result';
import { loadModelFolder, type ClipModelInfo } from './model-folder';
import { applyView, decodeRgb, preprocessImage, resizeAndCrop, resizeTarget, type ViewTransform } from './preprocess';

interface RefStats {
  channel_mean: number[];
  uint8_crop_sum: number;
}
interface RefImage {
  name: string;
  file: string;
  width: number;
  height: number;
  resized_to: [number, number];
  pixel_values_file: string;
  preprocessed_png: string;
  stats: RefStats;
  variants?: Record<string, { stats: RefStats }>;
}

const tmp = tempDir('coop-preprocess-');
afterAll(() => tmp.cleanup());

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

async function invalidReason(input: string | Uint8Array, pre: ClipModelInfo['preprocess']): Promise<string> {
  try {
    await preprocessImage(input, pre);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('invalid_image');
    return (e as AppError).message;
  }
  throw new Error('expected invalid_image');
}

/** A PNG whose header claims `w`x`h` pixels (a decompression bomb's calling card); the data is a stub. */
function pngHeaderOnly(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = (crcTable[(c ^ x) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(16))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe.each(fixtureModelDirs())('preprocessImage vs the PIL reference of %s', (dir) => {
  let info: ClipModelInfo;
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { vision: { images: RefImage[] } };
  beforeAll(async () => {
    info = await loadModelFolder(dir);
  });

  it.each(ref.vision.images.map((im) => [im.name, im] as const))(
    '%s: byte-identical crop, pixel_values within 1e-5',
    async (_n, im) => {
      const rgb = await decodeRgb(join(dir, im.file));
      expect([rgb.width, rgb.height]).toEqual([im.width, im.height]);
      expect(resizeTarget(im.width, im.height, info.preprocess.shortestEdge)).toEqual(im.resized_to);
      const crop = resizeAndCrop(rgb, info.preprocess);
      const refCrop = await sharp(join(dir, im.preprocessed_png)).removeAlpha().toColourspace('srgb').raw().toBuffer();
      expect(Buffer.from(crop.data).equals(refCrop)).toBe(true);
      expect(crop.data.reduce((a, b) => a + b, 0)).toBe(im.stats.uint8_crop_sum);
      const pv = await preprocessImage(join(dir, im.file), info.preprocess);
      expect(maxAbsDiff(pv, readF32(join(dir, im.pixel_values_file)))).toBeLessThan(1e-5);
    },
  );

  it('flattens alpha on white or black when asked, like PIL alpha_composite (crop sums within 0.5%)', async () => {
    const im = ref.vision.images.find((i) => i.variants?.['composite_on_white']);
    if (!im) throw new Error('the fixture has no RGBA image with variants');
    for (const [alpha, key] of [
      ['white', 'composite_on_white'],
      ['black', 'composite_on_black'],
    ] as const) {
      const crop = resizeAndCrop(await decodeRgb(join(dir, im.file), undefined, { alpha }), info.preprocess).data;
      const sum = crop.reduce((a, b) => a + b, 0);
      const want = im.variants?.[key]?.stats.uint8_crop_sum ?? NaN;
      // sharp's flatten rounds the blend slightly differently from PIL's alpha_composite.
      expect(Math.abs(sum - want) / want).toBeLessThan(5e-3);
    }
  });
});

describe('preprocessImage on odd inputs', () => {
  let pre: ClipModelInfo['preprocess'];
  beforeAll(async () => {
    pre = (await loadModelFolder(fixtureModelDirs()[0] ?? '')).preprocess;
  });

  it('honours EXIF orientation: a landscape stored with orientation 6 comes out as the portrait it shows', async () => {
    // Left half red, right half blue, 64x32 stored; orientation 6 = rotate 90 degrees clockwise to display.
    const raw = Buffer.alloc(64 * 32 * 3);
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 64; x++) raw.set(x < 32 ? [255, 0, 0] : [0, 0, 255], (y * 64 + x) * 3);
    const jpg = await sharp(raw, { raw: { width: 64, height: 32, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const rgb = await decodeRgb(jpg);
    expect([rgb.width, rgb.height]).toEqual([32, 64]);
    // After rotating clockwise the left (red) half is on top.
    expect(rgb.data[0]).toBeGreaterThan(200);
    expect(rgb.data[63 * 32 * 3 + 2]).toBeGreaterThan(200);
  });

  it('converts grayscale, CMYK and 16-bit images to 8-bit RGB', async () => {
    const grad = Buffer.alloc(40 * 30 * 3);
    for (let i = 0; i < 40 * 30; i++) grad.set([(i * 7) % 256, (i * 3) % 256, 128], i * 3);
    const base = () => sharp(grad, { raw: { width: 40, height: 30, channels: 3 } });
    const gray = await base().grayscale().png().toBuffer();
    const cmyk = await base().toColourspace('cmyk').jpeg().toBuffer();
    const deep = await base().toColourspace('rgb16').png().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    for (const img of [gray, cmyk, deep]) {
      const rgb = await decodeRgb(img);
      expect([rgb.width, rgb.height, rgb.data.length]).toEqual([40, 30, 40 * 30 * 3]);
      const t = await preprocessImage(img, pre);
      expect(t.length).toBe(3 * pre.cropHeight * pre.cropWidth);
      expect(t.every(Number.isFinite)).toBe(true);
    }
    const g = await decodeRgb(gray);
    expect(g.data[3]).toBe(g.data[4]);
    // 16-bit decodes to the same 8-bit values as the 8-bit original.
    expect(Buffer.from((await decodeRgb(deep)).data).equals(grad)).toBe(true);
  });

  it('applies a view: crop fractions of the oriented image and a horizontal flip', async () => {
    const raw = Buffer.alloc(10 * 4 * 3);
    for (let x = 0; x < 10; x++) for (let y = 0; y < 4; y++) raw[(y * 10 + x) * 3] = x * 20;
    const png = await sharp(raw, { raw: { width: 10, height: 4, channels: 3 } })
      .png()
      .toBuffer();
    const cropped = await decodeRgb(png, { crop: [0.5, 0, 1, 1] });
    expect([cropped.width, cropped.height]).toEqual([5, 4]);
    expect(cropped.data[0]).toBe(100);
    const flipped = await decodeRgb(png, { flip: true });
    expect(flipped.data[0]).toBe(180);
  });

  it("applies views with the same bytes as sharp's extract + flop (random pixels, edge and clamped crops)", async () => {
    const [w, h] = [37, 23];
    const raw = Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 2654435761) >>> 24));
    const views = [
      { crop: [0.1, 0.2, 0.7, 0.9] },
      { crop: [0.1, 0.2, 0.7, 0.9], flip: true },
      { flip: true },
      { crop: [0, 0, 1, 1] },
      { crop: [0.95, 0.97, 1.4, 1.2], flip: true },
    ] satisfies ViewTransform[];
    for (const view of views) {
      const got = applyView({ data: raw, width: w, height: h }, view);
      let ref = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
      if (view.crop) {
        const [x0, y0, x1, y1] = view.crop;
        const left = Math.min(w - 1, Math.max(0, Math.floor(x0 * w)));
        const top = Math.min(h - 1, Math.max(0, Math.floor(y0 * h)));
        const width = Math.max(1, Math.min(w - left, Math.round((x1 - x0) * w)));
        const height = Math.max(1, Math.min(h - top, Math.round((y1 - y0) * h)));
        ref = ref.extract({ left, top, width, height });
      }
      if (view.flip) ref = ref.flop();
      const want = await ref.raw().toBuffer({ resolveWithObject: true });
      expect([got.width, got.height]).toEqual([want.info.width, want.info.height]);
      expect(got.data.equals(want.data)).toBe(true);
    }
  });

  it('refuses empty, corrupt, non-image and decompression-bomb files with a reason', async () => {
    expect(await invalidReason(new Uint8Array(0), pre)).toMatch(/empty/);
    const textJpg = join(tmp.path, 'notes.jpg');
    writeFileSync(textJpg, 'this is a text file, not a photo\n');
    expect(await invalidReason(textJpg, pre)).toMatch(/not an image/);
    const good = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    expect(await invalidReason(good.subarray(0, 200), pre)).toMatch(/the JPEG file is truncated/);
    expect(await invalidReason(pngHeaderOnly(50_000, 50_000), pre)).toMatch(
      /50000x50000 \(2500 megapixels\), above the limit/,
    );
    expect(await invalidReason(join(tmp.path, 'missing.png'), pre)).toMatch(/could not be read \(ENOENT\)/);
  });
});
