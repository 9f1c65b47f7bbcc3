/**
 * @file Hostile context files (issue 15, defect 12): impossible shapes and non-finite values are `invalid_data`
 * errors when the file is read, and a context of the right model id but the wrong width gets a message of its own
 * (not "learned with model X, not with X").
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, type Result } from '../../shared/result';
import { loadModelFolder } from '../../electron/engine/clip/model-folder';
import { demoModelDir } from '../../electron/engine/settings/paths';
import { writeImage } from '../../electron/engine/store/test-images';
import { decodeContextFile, encodeContextFile } from '../../electron/engine/formats/context-file';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { contextMeta } from './files-craft';

const tmp = tempDir('coop-sec-ctx-');
const engine = inProcessEngine();
afterAll(async () => {
  await engine.cleanup();
  tmp.cleanup();
});

/** Safetensors bytes with exactly this header and data (no checks: a hostile writer). */
function rawSafetensors(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
function metadataMap(meta: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = { format: 'coop-studio-context' };
  for (const [k, v] of Object.entries(meta)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}
function decodeError(bytes: Uint8Array): AppError {
  try {
    decodeContextFile(bytes, 'ctx.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('invalid_data');
    return e as AppError;
  }
  throw new Error('the file was accepted');
}

describe('context file shapes and values', () => {
  it('refuses negative, zero and fractional dimensions and a negative nCtx', () => {
    for (const [shape, nCtx] of [
      [[-2, -4], -2],
      [[0, 8], 0],
      [[2.5, 8], 2.5],
      [[2, -4], 2],
    ] as const) {
      const n = Math.max(0, Math.abs(shape[0] * shape[1]));
      const bytes = rawSafetensors(
        {
          __metadata__: metadataMap({ ...contextMeta(['a', 'b']), nCtx }),
          ctx: { dtype: 'F32', shape, data_offsets: [0, n * 4] },
        },
        new Uint8Array(n * 4),
      );
      expect(decodeError(bytes).message).toMatch(/dimension|shape|nCtx|whole number/i);
    }
  });

  it('refuses NaN and infinite values', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const ctx = new Float32Array(4 * 8).fill(0.25);
      ctx[5] = bad;
      const bytes = encodeContextFile({ ctx, shape: [4, 8], meta: contextMeta(['a', 'b']) });
      expect(decodeError(bytes).message).toMatch(/not a finite number/);
    }
  });

  it('refuses a header that is not an object and metadata of the wrong types', () => {
    const data = new Uint8Array(4 * 8 * 4);
    expect(decodeError(rawSafetensors(null, data)).message).toMatch(/header/);
    expect(decodeError(rawSafetensors([1, 2], data)).message).toMatch(/header/);
    const wrongModel = metadataMap({ ...contextMeta(['a']), model: 7 });
    const t = { dtype: 'F32', shape: [4, 8], data_offsets: [0, 128] };
    expect(decodeError(rawSafetensors({ __metadata__: wrongModel, ctx: t }, data)).message).toMatch(/model/);
    const names = metadataMap({ ...contextMeta(['a']), classNames: [1, 2], prompts: ['x', 'y'] });
    expect(decodeError(rawSafetensors({ __metadata__: names, ctx: t }, data)).message).toMatch(
      /classNames|class names/,
    );
  });
});

describe('a context of the right model id but the wrong width', () => {
  let file = '';
  let images: string[] = [];
  let modelId = '';
  beforeAll(async () => {
    const info = await loadModelFolder(demoModelDir());
    modelId = info.id;
    const width = info.config.text.width + 3;
    file = join(tmp.path, 'wide.safetensors');
    writeFileSync(
      file,
      encodeContextFile({
        ctx: new Float32Array(4 * width).fill(0.01),
        shape: [4, width],
        meta: contextMeta(['red', 'blue'], info.id),
      }),
    );
    images = [join(tmp.path, 'data', 'red', '1.png'), join(tmp.path, 'data', 'blue', '2.png')];
    for (const [i, img] of images.entries()) await writeImage(img, i + 1);
  });
  function expectWidthMessage(r: Result<unknown>) {
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid_data');
    expect(r.error.message).toMatch(/width/);
    expect(r.error.message).not.toContain(`not with "${modelId}"`);
  }

  it('predict says the widths differ', async () => {
    expectWidthMessage(await engine.client.call('predict', { context: file, images, backend: 'cpu' }));
  });

  it('evaluate says the widths differ', async () => {
    expectWidthMessage(
      await engine.client.call('evaluate', { context: file, data: join(tmp.path, 'data'), backend: 'cpu' }),
    );
  });
});
