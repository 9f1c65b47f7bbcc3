/**
 * @file Tests of the ONNX Runtime encoders against the fixtures' PyTorch reference embeddings.
 *
 * Tolerances: fp32 graphs must reproduce PyTorch within 1e-4 absolute per component (the issue's
 * bar; ORT measured 1e-5 here per the fixtures' README). The fp16 graphs store weights in half
 * precision (11-bit mantissa, ~5e-4 relative per weight, accumulated over 2 layers and a projection):
 * the fixtures' hint is 2e-2, which we use, on embeddings whose components are of order 1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tests/helpers/engine';
import { fixtureModelDirs } from '../../../tests/helpers/fixtures';
import { AppError } from '../../../shared/result';
import { closeClipModels, openClipModel } from './clip-model';
import { cosine } from './vec';

interface Ref {
  text: { prompts: string[]; input_ids: number[][]; text_embeds: number[][] };
  vision: { images: { name: string; file: string; pixel_values_file: string }[]; image_embeds: number[][] };
}

const tmp = tempDir('coop-clip-model-');
afterAll(async () => {
  await closeClipModels();
  tmp.cleanup();
});

function readRef(dir: string): Ref {
  return JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Ref;
}

function maxAbs(got: Float32Array[], want: number[][]): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  got.forEach((row, i) => {
    expect(row.length).toBe(want[i]?.length);
    row.forEach((v, j) => (m = Math.max(m, Math.abs(v - (want[i]?.[j] ?? NaN)))));
  });
  return m;
}

function pixelsOf(dir: string, ref: Ref): Float32Array {
  const parts = ref.vision.images.map((im) => {
    const b = readFileSync(join(dir, im.pixel_values_file));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  });
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe.each(fixtureModelDirs())('CLIP encoders of %s', (dir) => {
  const ref = readRef(dir);

  it('fp32: text and image embeddings match PyTorch within 1e-4', async () => {
    const m = await openClipModel(dir);
    expect(m.provider).toBe('cpu');
    expect(m.info.variant).toBe('fp32');
    expect(maxAbs(await m.embedText(ref.text.prompts), ref.text.text_embeds)).toBeLessThan(1e-4);
    expect(maxAbs(await m.embedTokenIds(ref.text.input_ids), ref.text.text_embeds)).toBeLessThan(1e-4);
    const pixels = pixelsOf(dir, ref);
    expect(maxAbs(await m.embedPixels(pixels, ref.vision.images.length), ref.vision.image_embeds)).toBeLessThan(1e-4);
  });

  it('fp32: the full image pipeline from the image files also matches within 1e-4', async () => {
    const m = await openClipModel(dir);
    const r = await m.embedImages(
      ref.vision.images.map((im) => join(dir, im.file)),
      { batchSize: 4 },
    );
    expect(r.errors).toEqual([]);
    expect(maxAbs(r.embeddings as Float32Array[], ref.vision.image_embeds)).toBeLessThan(1e-4);
  });

  it('fp16: embeddings within 2e-2 of the fp32 reference', async () => {
    const m = await openClipModel(dir, { variant: 'fp16' });
    expect(m.info.variant).toBe('fp16');
    expect(maxAbs(await m.embedText(ref.text.prompts), ref.text.text_embeds)).toBeLessThan(2e-2);
    expect(
      maxAbs(await m.embedPixels(pixelsOf(dir, ref), ref.vision.images.length), ref.vision.image_embeds),
    ).toBeLessThan(2e-2);
  });
});

describe('openClipModel', () => {
  const dir = fixtureModelDirs()[0] ?? '';

  it('creates sessions once and shares them', async () => {
    const a = await openClipModel(dir);
    const b = await openClipModel(dir, { provider: 'cpu' });
    expect(await openClipModel(dir)).toBe(a);
    expect(b.provider).toBe('cpu');
  });

  it('reports a provider that cannot run here', async () => {
    const e = await openClipModel(dir, { provider: 'no-such-provider' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).message).toMatch(/no-such-provider/);
  });
});

describe('embedImages on a folder of mixed good and bad images', () => {
  const dir = fixtureModelDirs()[0] ?? '';

  async function makeFolder(): Promise<{ files: string[]; bad: Record<string, RegExp>; rotated: [string, string] }> {
    const f = (name: string) => join(tmp.path, name);
    const photo = sharp(join(dir, 'images', 'gradient_shapes_640x480.png')).removeAlpha();
    writeFileSync(f('cmyk.jpg'), await photo.clone().toColourspace('cmyk').jpeg().toBuffer());
    writeFileSync(f('rgba.png'), await photo.clone().ensureAlpha(0.5).png().toBuffer());
    writeFileSync(f('gray.png'), await photo.clone().grayscale().png().toBuffer());
    // Stored landscape with orientation 8 (display = rotate 270 clockwise), and the same pixels physically rotated.
    writeFileSync(
      f('exif-rotated.jpg'),
      await photo.clone().jpeg({ quality: 100 }).withMetadata({ orientation: 8 }).toBuffer(),
    );
    const upright = await sharp(f('exif-rotated.jpg')).rotate().png().toBuffer();
    writeFileSync(f('upright.png'), upright);
    writeFileSync(f('zero.jpg'), '');
    writeFileSync(f('notes.jpg'), 'meeting notes, definitely not a JPEG\n');
    const jpg = await photo.clone().jpeg().toBuffer();
    writeFileSync(f('corrupt.jpg'), jpg.subarray(0, 100));
    // A header claiming 30000x30000 (900 MP) pixels.
    const huge = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    huge.writeUInt32BE(30000, 16);
    huge.writeUInt32BE(30000, 20);
    writeFileSync(f('huge.png'), huge);
    const files = [
      'cmyk.jpg',
      'zero.jpg',
      'rgba.png',
      'notes.jpg',
      'gray.png',
      'corrupt.jpg',
      'exif-rotated.jpg',
      'huge.png',
      'upright.png',
    ].map(f);
    const bad = {
      [f('zero.jpg')]: /empty/,
      [f('notes.jpg')]: /not an image/,
      [f('corrupt.jpg')]: /the JPEG file is truncated/,
      [f('huge.png')]: /30000x30000 .* above the limit/,
    };
    return { files, bad, rotated: [f('exif-rotated.jpg'), f('upright.png')] };
  }

  it('embeds every good image, reports every bad one by name and reason, in order', async () => {
    const m = await openClipModel(dir);
    const { files, bad, rotated } = await makeFolder();
    const progress: [number, number][] = [];
    const r = await m.embedImages(files, { batchSize: 3, onProgress: (d, t) => progress.push([d, t]) });
    expect(r.errors.map((e) => e.path)).toEqual(files.filter((p) => bad[p]));
    for (const e of r.errors) {
      expect(e.reason).toMatch(bad[e.path] ?? /never/);
      expect(r.embeddings[e.index]).toBeNull();
    }
    files.forEach((p, i) => {
      if (!bad[p]) expect(r.embeddings[i]?.length).toBe(m.info.config.projectionDim);
    });
    expect(progress).toEqual([
      [0, 9],
      [3, 9],
      [6, 9],
      [9, 9],
    ]);
    // EXIF orientation is honoured: same embedding as the physically rotated copy (JPEG vs PNG of the same pixels).
    const a = r.embeddings[files.indexOf(rotated[0])];
    const b = r.embeddings[files.indexOf(rotated[1])];
    if (!a || !b) throw new Error('missing embeddings');
    expect(cosine(a, b)).toBeGreaterThan(0.9999);
  });

  it('accepts bytes and views, and stops with `cancelled` when aborted', async () => {
    const m = await openClipModel(dir);
    const bytes = readFileSync(join(dir, 'images', 'portrait_300x500.png'));
    const r = await m.embedImages([
      { data: bytes },
      { data: bytes, view: { flip: true } },
      { data: new Uint8Array(3) },
    ]);
    expect(r.errors).toEqual([expect.objectContaining({ index: 2, path: 'image #3 (3 bytes)' })]);
    const [plain, flipped] = r.embeddings;
    if (!plain || !flipped) throw new Error('missing embeddings');
    expect(cosine(plain, flipped)).toBeLessThan(0.99999);
    const ac = new AbortController();
    const many = Array.from({ length: 40 }, () => ({ data: bytes }));
    const run = m.embedImages(many, { batchSize: 4, signal: ac.signal, onProgress: (d) => d >= 8 && ac.abort() });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
  });
});
