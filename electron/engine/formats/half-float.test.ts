/**
 * @file Half-precision conversions (Node): float32 -> float16 rounds to nearest (subnormals, overflow to infinity, the
 * mantissa carry) and decodes back to the same values.
 */
import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16 } from './half-float';

describe('float16', () => {
  it('encodes exact values to their bit patterns and decodes them back', () => {
    const values = [1, -2, 0.5, 65504, 2 ** -24, 2 ** -14, 0];
    const bits = float32ToFloat16(Float32Array.from(values));
    expect(Array.from(bits)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x0400, 0x0000]);
    expect(Array.from(float16ToFloat32(bits))).toEqual(values);
  });

  it('rounds to the nearest half, carries into the exponent, and overflows to infinity', () => {
    const bits = float32ToFloat16(Float32Array.from([1 / 3, 2047.9, 1e6, -1e6, 2 ** -26]));
    const back = float16ToFloat32(bits);
    expect(back[0]).toBeCloseTo(1 / 3, 3);
    expect(back[1]).toBe(2048);
    expect([back[2], back[3]]).toEqual([Infinity, -Infinity]);
    expect(back[4]).toBe(0);
  });
});
