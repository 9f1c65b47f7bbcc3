/**
 * @file Tests of the ONNX codec (runs in Vitest/Node): decoding the PyTorch-exported fixture text model, and a
 * decode -> encode -> decode round trip that ONNX Runtime still runs with identical outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fixtureModelDirs } from '../../../tests/helpers/fixtures';
import { bfloat16ToFloat32, float16ToFloat32 } from '../formats/half-float';
import { decodeModel, encodeModel, OnnxDataType, outputToFloat32, tensorToFloat32 } from './onnx-proto';

const modelDir = fixtureModelDirs()[0] ?? '';

async function runText(bytes: Uint8Array, ids: number[][]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const len = ids[0]?.length ?? 0;
  const flat = BigInt64Array.from(ids.flat(), (v) => BigInt(v));
  const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', flat, [ids.length, len]) };
  if (session.inputNames.includes('attention_mask')) {
    feeds.attention_mask = new ort.Tensor(
      'int64',
      flat.map(() => 1n),
      [ids.length, len],
    );
  }
  const out = await session.run(feeds, ['text_embeds']);
  const data = out.text_embeds?.data as Float32Array;
  await session.release();
  return data;
}

describe('onnx-proto', () => {
  const bytes = new Uint8Array(readFileSync(join(modelDir, 'onnx', 'text_model.onnx')));

  it('decodes the structure of the exported text model', () => {
    const model = decodeModel(bytes);
    const graph = model.graph;
    expect(graph?.node?.length).toBeGreaterThan(10);
    expect(graph?.input?.map((v) => v.name)).toContain('input_ids');
    expect(model.opsetImport?.some((o) => (o.version ?? 0) >= 14)).toBe(true);
    // The token embedding table: [vocab 49408, width 64] float32.
    const table = graph?.initializer?.find((t) => t.dims?.length === 2 && t.dims[0] === 49408);
    expect(table?.dims).toEqual([49408, 64]);
    expect(table?.dataType).toBe(OnnxDataType.FLOAT);
    const values = tensorToFloat32(table ?? {});
    expect(values.length).toBe(49408 * 64);
    expect(values.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('round-trips to a model ONNX Runtime runs with identical outputs', async () => {
    const model = decodeModel(bytes);
    const again = encodeModel(model);
    const redecoded = decodeModel(again);
    expect(redecoded.graph?.node?.length).toBe(model.graph?.node?.length);
    expect(redecoded.graph?.initializer?.map((t) => t.name)).toEqual(model.graph?.initializer?.map((t) => t.name));
    const ids = [[49406, 320, 1125, 539, 320, 1929, 269, ...new Array<number>(70).fill(49407)]];
    const a = await runText(bytes, ids);
    const b = await runText(again, ids);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('decodes fp16 weights to the same values as the fp32 file within half precision', () => {
    const fp16 = decodeModel(new Uint8Array(readFileSync(join(modelDir, 'onnx', 'text_model_fp16.onnx'))));
    const table16 = fp16.graph?.initializer?.find((t) => t.dims?.[0] === 49408);
    expect(table16?.dataType).toBe(OnnxDataType.FLOAT16);
    const table32 = decodeModel(bytes).graph?.initializer?.find((t) => t.dims?.[0] === 49408);
    const a = tensorToFloat32(table16 ?? {});
    const b = tensorToFloat32(table32 ?? {});
    let maxRel = 0;
    for (let i = 0; i < a.length; i += 97) {
      maxRel = Math.max(maxRel, Math.abs((a[i] ?? 0) - (b[i] ?? 0)) / Math.max(1e-3, Math.abs(b[i] ?? 0)));
    }
    expect(maxRel).toBeLessThan(1e-3);
  });

  it('reads the same weights whether the file was decoded from a Uint8Array or a Node Buffer', () => {
    const fromBuffer = decodeModel(readFileSync(join(modelDir, 'onnx', 'text_model.onnx')));
    const small = (m: typeof fromBuffer) => m.graph?.initializer?.find((t) => t.dims?.length === 1 && t.dims[0] === 64);
    const a = tensorToFloat32(small(fromBuffer) ?? {});
    const b = tensorToFloat32(small(decodeModel(bytes)) ?? {});
    expect(a.length).toBe(64);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('decodes half floats including subnormals and infinities', () => {
    const out = float16ToFloat32(Uint16Array.from([0x3c00, 0xc000, 0x0001, 0x7c00, 0x0000, 0x3555]));
    expect(Array.from(out.slice(0, 5))).toEqual([1, -2, 2 ** -24, Infinity, 0]);
    expect(out[5]).toBeCloseTo(1 / 3, 3);
  });

  it('decodes bfloat16 and ONNX Runtime outputs by their element type, never half-float bits as integers', () => {
    expect(Array.from(bfloat16ToFloat32(Uint16Array.from([0x3f80, 0xc040, 0x7f80, 0x0000])))).toEqual([
      1,
      -3,
      Infinity,
      0,
    ]);
    // 0x3c00 is 1.0 in half precision; read as an integer it would be 15360.
    expect(Array.from(outputToFloat32({ type: 'float16', data: Uint16Array.from([0x3c00, 0xb800]) }))).toEqual([
      1, -0.5,
    ]);
    expect(Array.from(outputToFloat32({ type: 'bfloat16', data: Uint16Array.from([0x4000]) }))).toEqual([2]);
    const f32 = Float32Array.from([0.25]);
    expect(outputToFloat32({ type: 'float32', data: f32 })).toBe(f32);
    expect(() => outputToFloat32({ type: 'int64', data: BigInt64Array.from([1n]) })).toThrow(/floating-point/);
    const t = {
      dims: [2],
      dataType: OnnxDataType.BFLOAT16,
      rawData: new Uint8Array(Uint16Array.from([0x3f80, 0x4040]).buffer),
    };
    expect(Array.from(tensorToFloat32(t))).toEqual([1, 3]);
  });
});
