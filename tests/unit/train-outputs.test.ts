/**
 * @file Tests of the run's outputs: the safetensors context file and the curve PNG (plain Node).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeContextFile,
  encodeContextFile,
  readContextFile,
  writeContextFile,
  type ContextFile,
} from '../../electron/engine/formats/context-file';
import { curvePng, curveSvg } from '../../electron/engine/reports/curve';
import { tempDir } from '../helpers/engine';

const tmp = tempDir('coop-train-out-');
afterAll(() => tmp.cleanup());

function sample(csc: boolean): ContextFile {
  const shape = csc ? [2, 3, 4] : [3, 4];
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    ctx: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.02),
    shape,
    meta: {
      formatVersion: 1,
      method: 'coop',
      model: {
        id: 'demo-clip',
        dir: '/models/demo',
        files: [{ path: 'onnx/text_model.onnx', bytes: 10, sha256: 'ab' }],
      },
      tokenizer: { kind: 'clip-bpe', vocabSize: 49408, contextLength: 77 },
      classNames: ['red_circle', 'blue square'],
      prompts: ['red circle', 'blue "square"'],
      nCtx: 3,
      csc,
      position: 'middle',
      init: 'random',
      seed: 2,
      shots: 16,
      epochs: 50,
      augViews: 4,
      backend: 'wasm',
      metrics: { zeroShotTestAccuracy: 0.5, testAccuracy: 0.9, valAccuracy: null },
      appVersion: '0.1.0',
      nearestTokens: [{ position: 0, tokens: [{ token: 'photo</w>', id: 1125, distance: 0.5 }] }],
      createdAt: '2026-11-27T00:00:00.000Z',
    },
  };
}

describe('context file', () => {
  it.each([false, true])('round-trips tensor and metadata exactly (csc=%s)', async (csc) => {
    const file = sample(csc);
    const path = join(tmp.path, `ctx-${csc}.safetensors`);
    await writeContextFile(path, file);
    const back = await readContextFile(path);
    expect(back.shape).toEqual(file.shape);
    expect(Array.from(back.ctx)).toEqual(Array.from(file.ctx));
    expect(back.meta).toEqual(file.meta);
  });

  it('follows the safetensors layout: u64 LE header length, 8-byte aligned JSON header, F32 LE data', () => {
    const bytes = encodeContextFile(sample(false));
    const view = new DataView(bytes.buffer);
    const len = Number(view.getBigUint64(0, true));
    expect(len % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Record<string, unknown>;
    expect(header['ctx']).toEqual({ dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] });
    const md = header['__metadata__'] as Record<string, unknown>;
    expect(Object.values(md).every((v) => typeof v === 'string')).toBe(true);
    expect(bytes.length).toBe(8 + len + 48);
    expect(view.getFloat32(8 + len + 4, true)).toBeCloseTo(Math.sin(1) * 0.02, 7);
  });

  it('refuses damaged or foreign files with a clear error', async () => {
    const good = encodeContextFile(sample(false));
    expect(() => decodeContextFile(good.subarray(0, good.length - 4), 'x')).toThrow(/truncated/);
    expect(() => decodeContextFile(new Uint8Array(4), 'x')).toThrow(/shorter/);
    const foreign = new TextEncoder().encode('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    const f = new Uint8Array(8 + foreign.length + 4);
    new DataView(f.buffer).setBigUint64(0, BigInt(foreign.length), true);
    f.set(foreign, 8);
    expect(() => decodeContextFile(f, 'x')).toThrow(/format "coop-studio-context"/);
    const wrongShape = sample(true);
    wrongShape.meta = { ...wrongShape.meta, csc: false };
    expect(() => decodeContextFile(encodeContextFile(wrongShape), 'x')).toThrow(/shape/);
    const path = join(tmp.path, 'garbage.safetensors');
    writeFileSync(path, 'not a safetensors file at all');
    await expect(readContextFile(path)).rejects.toMatchObject({ code: 'invalid_data' });
    await expect(readContextFile(join(tmp.path, 'missing.safetensors'))).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('curve', () => {
  const curve = [0, 1, 2, 3].map((epoch) => ({
    epoch,
    lr: epoch === 0 ? null : 0.002,
    trainLoss: 2 / (epoch + 1),
    trainAccuracy: 0.4 + epoch * 0.15,
    valAccuracy: 0.35 + epoch * 0.1,
    testAccuracy: 0.3 + epoch * 0.12,
    seconds: 1,
  }));

  it('draws one path per series and escapes the title', () => {
    const svg = curveSvg(curve, { title: 'cats & dogs <demo>' });
    expect(svg.match(/<path /g)).toHaveLength(4);
    expect(svg).toContain('cats &amp; dogs &lt;demo&gt;');
  });

  it('rasterises to a PNG of the requested size with coloured pixels', async () => {
    const png = await curvePng(curve, { title: 'demo', width: 640, height: 400 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([640, 400]);
    let coloured = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      const [r, g, b] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
    }
    expect(coloured).toBeGreaterThan(200);
  });
});
