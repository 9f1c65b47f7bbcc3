/**
 * @file IEEE 754 half-precision (float16) conversions for models whose encoders take or return float16 tensors
 * (engine, pure TypeScript).
 */

/** float16 bit patterns to float32 values (subnormals, infinities and NaN included). */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i] ?? 0;
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    out[i] =
      exp === 0
        ? sign * 2 ** -14 * (frac / 1024)
        : exp === 31
          ? frac
            ? NaN
            : sign * Infinity
          : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

/** float32 values to float16 bit patterns, rounded to nearest. */
export function floatToHalf(f: Float32Array): Uint16Array {
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
