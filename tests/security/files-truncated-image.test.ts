/**
 * @file Truncated and damaged images (issue 15, defect 15): the reason an image was not imported (or embedded)
 * says what is wrong with the file in plain words, never libvips' "Unknown error".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { decodeRgb } from '../../electron/engine/clip/preprocess';
import { inProcessEngine, tempDir } from '../helpers/engine';

const tmp = tempDir('coop-sec-trunc-');
const engine = inProcessEngine();
afterAll(async () => {
  await engine.cleanup();
  tmp.cleanup();
});

async function photo(format: 'png' | 'interlaced-png' | 'jpeg' | 'gif' | 'webp'): Promise<Buffer> {
  const w = 320;
  const h = 240;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = ((i % w) * 3 + ((i / w) | 0) + ((i * 2654435761) >>> 27)) & 0xff;
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  if (format === 'interlaced-png') return img.png({ progressive: true }).toBuffer();
  if (format === 'png') return img.png().toBuffer();
  if (format === 'jpeg') return img.jpeg().toBuffer();
  if (format === 'gif') return img.gif().toBuffer();
  return img.webp().toBuffer();
}

const CASES = [
  ['interlaced-png', 'png'],
  ['png', 'png'],
  ['jpeg', 'jpg'],
  ['gif', 'gif'],
  ['webp', 'webp'],
] as const;

describe('a truncated image', () => {
  it('is reported as truncated, in plain words, at import', async () => {
    const dir = join(tmp.path, 'import', 'cats');
    mkdirSync(dir, { recursive: true });
    for (const [format, ext] of CASES) {
      const bytes = await photo(format);
      writeFileSync(join(dir, `${format}.${ext}`), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    }
    const projectId = unwrap(await engine.client.call('projectCreate', { name: 'p' })).id;
    const report = unwrap(
      await engine.client.call('projectImportData', { projectId, sources: [join(tmp.path, 'import')] }),
    );
    expect(report.failed).toBe(CASES.length);
    for (const f of report.failedFiles) {
      expect(f.reason).not.toMatch(/unknown error/i);
      expect(f.reason).not.toMatch(/vipspng|VipsJpeg|gifload|libpng/);
      expect(f.reason).toMatch(/truncated/);
    }
  });

  it('is reported as truncated when embedded', async () => {
    for (const [format] of CASES) {
      const bytes = await photo(format);
      const err = await decodeRgb(bytes.subarray(0, Math.floor(bytes.length * 0.6))).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/truncated/);
      expect(err?.message).not.toMatch(/unknown error/i);
    }
  });

  it('a damaged (not truncated) image says it is damaged', async () => {
    const bytes = Buffer.from(await photo('png'));
    // Overwrite the middle of the compressed pixel data, keeping the file's length and its end marker.
    for (let i = Math.floor(bytes.length * 0.4); i < Math.floor(bytes.length * 0.45); i++) bytes[i] = 0x55;
    const err = await decodeRgb(bytes).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/damaged/);
    expect(err?.message).not.toMatch(/truncated|unknown error/i);
  });
});
