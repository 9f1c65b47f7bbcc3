/**
 * @file IEEE 754 half precision (float16) and bfloat16 to and from float32, for model files and encoders that store
 * or take 16-bit floats (engine, pure TypeScript).
 */

/** Decodes IEEE 754 half-precision floats. */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i] ?? 0;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Decodes bfloat16 (the upper 16 bits of an IEEE 754 single). */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = (bits[i] ?? 0) << 16;
  return new Float32Array(wide.buffer);
}

/** float32 values to float16 bit patterns, rounded to nearest. */
export function float32ToFloat16(f: Float32Array): Uint16Array {
  const out = new Uint16Array(f.length);
  const fv = new Float32Array(1);
  const iv = new Uint32Array(fv.buffer);
  for (let i = 0; i < f.length; i++) {
    fv[0] = f[i] ?? 0;
    const x = iv[0] ?? 0;
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    if (exp >= 31) out[i] = sign | 0x7c00;
    else if (exp <= 0) {
      if (exp < -10) out[i] = sign;
      else {
        mant |= 0x800000;
        const shift = 14 - exp;
        out[i] = sign | ((mant + (1 << (shift - 1))) >> shift);
      }
    } else {
      // Round to nearest; a carry out of the mantissa correctly bumps the exponent.
      out[i] = sign | (((exp << 10) | (mant >> 13)) + ((mant >> 12) & 1));
    }
  }
  return out;
}
