/**
 * @file A port of Pillow's 8-bit separable resampler (`Resample.c`), so resizing matches PIL exactly (engine, plain Node).
 *
 * [Note: PIL-exact resize] Hugging Face's CLIPImageProcessor resizes with `PIL.Image.resize`
 * (bicubic, a = -0.5, antialiased when shrinking: the kernel support grows with the scale), on
 * 8-bit pixels, rounding after each of the two passes. libvips' cubic reduce differs by up to
 * 8 levels out of 255 on the fixtures (0.12 after normalisation), so sharp only decodes and we
 * resample here: fixed-point coefficients with 22 fractional bits, horizontal pass then vertical
 * pass, each clipped to 0..255, exactly as Pillow does.
 *
 * [Note: crop-aware resize] CLIP resizes the whole image (640x480 -> 298x224) and then keeps a
 * center crop (224x224). Every output pixel depends only on its own kernel window, so
 * {@link pilResizeCrop} computes only the cropped pixels: the horizontal pass for the crop's
 * columns and only the source rows the vertical pass reads, the vertical pass for the crop's rows.
 * The sums are integers as in Pillow's C (`int ss`), so a shift by 22 is Pillow's `clip8`
 * without a division (the SIMD kernels first check that no sum can leave int32). Byte-identical to
 * the plain two-pass resize (pil-resize.test.ts compares against a straightforward port on random
 * sizes, filters and crops). A 640x480 photo to a 224x224 crop costs about 4 ms of CPU with the
 * JavaScript passes below and about 1.5 ms with the SIMD kernels of resize-simd.ts, from about 10 ms
 * for the whole-image resize it replaces.
 */

import { simdResizeRgb } from './resize-simd';

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const SCALE = 2 ** PRECISION_BITS;
/** Sums from here on are 255 or more after the shift. */
const CLIP_HIGH = 256 * SCALE;

/** Pillow's filters by its resample code: 0 nearest (not here), 2 bilinear, 3 bicubic, 1 lanczos, 4 box, 5 hamming. */
const FILTERS: Record<number, { support: number; f: (x: number) => number }> = {
  1: { support: 3, f: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
  2: { support: 1, f: (x) => Math.max(0, 1 - Math.abs(x)) },
  3: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  4: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  5: { support: 1, f: (x) => (x === 0 ? 1 : x <= -1 || x >= 1 ? 0 : 0.54 + 0.46 * Math.cos(Math.PI * x)) },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Fixed-point kernels of output positions `from..to-1`: window start `lo[i]`, length `len[i]`, weights at `i * ksize`. */
interface Coefficients {
  ksize: number;
  lo: Int32Array;
  len: Int32Array;
  kk: Int32Array;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`, for the output positions `from..to-1` only. */
export function coefficients(inSize: number, outSize: number, resample: number, from = 0, to = outSize): Coefficients {
  const filter = FILTERS[resample] ?? FILTERS[3];
  if (!filter) throw new Error('no resampling filter');
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const n = Math.max(0, to - from);
  const lo = new Int32Array(n);
  const len = new Int32Array(n);
  const kk = new Int32Array(n * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let i = 0; i < n; i++) {
    const center = (from + i + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = filter.f((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? (w[x] as number) / ww : (w[x] as number);
      kk[i * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * SCALE) : Math.trunc(0.5 + v * SCALE);
    }
    lo[i] = xmin;
    len[i] = xmax;
  }
  return { ksize, lo, len, kk };
}

/** A plain Uint8Array view (a Buffer argument would make the hot loops polymorphic). */
function plain(a: Uint8Array): Uint8Array {
  return a.constructor === Uint8Array ? a : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Resizes 8-bit interleaved pixels (`channels` per pixel) like `PIL.Image.resize` with `reducing_gap=None`. */
export function pilResize(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  resample = 3,
): Uint8Array {
  return pilResizeCrop(src, width, height, channels, outWidth, outHeight, 0, 0, outWidth, outHeight, resample);
}

/**
 * `pilResize` to `outWidth`x`outHeight` followed by a `cropWidth`x`cropHeight` crop at (`left`, `top`) of the
 * resized image, zero outside it, computing only the cropped pixels (see [Note: crop-aware resize]). RGB with both
 * passes runs on WebAssembly SIMD where available ([Note: resize SIMD kernels]); `kernel: 'js'` forces the
 * JavaScript passes (tests compare the two).
 */
export function pilResizeCrop(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  left: number,
  top: number,
  cropWidth: number,
  cropHeight: number,
  resample = 3,
  kernel: 'auto' | 'js' = 'auto',
): Uint8Array {
  const C = channels;
  const out = new Uint8Array(cropWidth * cropHeight * C);
  // The part of the crop inside the resized image: output columns x0..x1-1, rows y0..y1-1.
  const x0 = Math.max(0, left);
  const x1 = Math.min(outWidth, left + cropWidth);
  const y0 = Math.max(0, top);
  const y1 = Math.min(outHeight, top + cropHeight);
  if (x1 <= x0 || y1 <= y0) return out;
  const s = plain(src);
  const outStride = cropWidth * C;
  const outBase = ((y0 - top) * cropWidth + (x0 - left)) * C;
  const rowBytes = (x1 - x0) * C;
  if (resample === 0) {
    nearest(s, width, height, C, outWidth, outHeight, x0, x1, y0, y1, out, outBase, outStride);
    return out;
  }
  const needH = outWidth !== width;
  const needV = outHeight !== height;
  const vk = needV ? coefficients(height, outHeight, resample, y0, y1) : null;
  // Source rows the vertical pass reads (or the crop's rows when there is none).
  let r0 = y0;
  let r1 = y1;
  if (vk) {
    r0 = height;
    r1 = 0;
    for (let i = 0; i < y1 - y0; i++) {
      const a = vk.lo[i] as number;
      const n = vk.len[i] as number;
      if (n <= 0) continue;
      if (a < r0) r0 = a;
      if (a + n > r1) r1 = a + n;
    }
    if (r1 <= r0) r1 = r0 = 0;
  }
  // The horizontally resampled rows r0..r1-1 (columns x0..x1-1), or the source itself.
  let mid = s;
  let midBase = x0 * C;
  let midStride = width * C;
  if (needH) {
    const hk = coefficients(width, outWidth, resample, x0, x1);
    if (vk) {
      if (C === 3 && kernel === 'auto' && simdResizeRgb(s, width, r0, r1, hk, vk, out, outBase, outStride)) return out;
      mid = scratch((r1 - r0) * rowBytes);
      midBase = -r0 * rowBytes;
      midStride = rowBytes;
      horizontal(s, width * C, r0, r1, C, hk, mid, 0, rowBytes);
    } else {
      horizontal(s, width * C, y0, y1, C, hk, out, outBase, outStride);
      return out;
    }
  }
  if (vk) vertical(mid, midBase, midStride, rowBytes, vk, out, outBase, outStride);
  else
    for (let y = y0; y < y1; y++) {
      const from = midBase + y * midStride;
      out.set(mid.subarray(from, from + rowBytes), outBase + (y - y0) * outStride);
    }
  return out;
}

/** The reused buffer of the intermediate rows (kept up to 8 MB). */
let scratchBuf = new Uint8Array(0);

/**
 * A buffer of at least `size` bytes for the intermediate rows, reused between calls: a fresh 300 kB
 * array per image costs page faults (about 0.3 ms of system time). The resize is synchronous, so
 * one buffer per thread is safe; every byte the vertical pass reads is written first.
 */
function scratch(size: number): Uint8Array {
  if (size > 8 << 20) return new Uint8Array(size);
  if (scratchBuf.length < size) scratchBuf = new Uint8Array(size);
  return scratchBuf;
}

/** Pillow's `clip8`: the rounded fixed-point sum to 0..255 (`ss` already holds the +0.5 rounding term). */
function clip8(ss: number): number {
  // Exact for any integer sum: 0..2^30 shifts into 0..255 (a sum outside int32 only clamps).
  return ss <= 0 ? 0 : ss >= CLIP_HIGH ? 255 : ss >> PRECISION_BITS;
}

/** The horizontal pass over source rows `r0..r1-1` into `dst` (one row every `dstStride` bytes from `dstBase`). */
function horizontal(
  src: Uint8Array,
  srcStride: number,
  r0: number,
  r1: number,
  C: number,
  k: Coefficients,
  dst: Uint8Array,
  dstBase: number,
  dstStride: number,
): void {
  let y = r0;
  if (C === 3) {
    // Two rows per walk over each kernel: the weight loads and loop overhead are shared (about 20% faster).
    for (; y + 1 < r1; y += 2)
      horizontalRgb2(src, y * srcStride, srcStride, k, dst, dstBase + (y - r0) * dstStride, dstStride);
  }
  const { ksize, lo, len, kk } = k;
  const n = lo.length;
  for (; y < r1; y++) {
    const row = y * srcStride;
    let o = dstBase + (y - r0) * dstStride;
    for (let i = 0; i < n; i++) {
      const m = len[i] as number;
      const k0 = i * ksize;
      for (let c = 0; c < C; c++, o++) {
        let ss = HALF;
        let p = row + (lo[i] as number) * C + c;
        for (let x = 0; x < m; x++, p += C) ss += (src[p] as number) * (kk[k0 + x] as number);
        dst[o] = clip8(ss);
      }
    }
  }
}

/** The horizontal pass of two RGB rows, the first at `row`, the second `stride` bytes later. */
function horizontalRgb2(
  src: Uint8Array,
  row: number,
  stride: number,
  k: Coefficients,
  dst: Uint8Array,
  dstBase: number,
  dstStride: number,
): void {
  const { ksize, lo, len, kk } = k;
  const n = lo.length;
  let o = dstBase;
  for (let i = 0; i < n; i++, o += 3) {
    const m = len[i] as number;
    const k0 = i * ksize;
    let r = HALF;
    let g = HALF;
    let b = HALF;
    let r2 = HALF;
    let g2 = HALF;
    let b2 = HALF;
    let p = row + (lo[i] as number) * 3;
    for (let x = 0; x < m; x++, p += 3) {
      const w = kk[k0 + x] as number;
      r += (src[p] as number) * w;
      g += (src[p + 1] as number) * w;
      b += (src[p + 2] as number) * w;
      r2 += (src[p + stride] as number) * w;
      g2 += (src[p + stride + 1] as number) * w;
      b2 += (src[p + stride + 2] as number) * w;
    }
    dst[o] = clip8(r);
    dst[o + 1] = clip8(g);
    dst[o + 2] = clip8(b);
    dst[o + dstStride] = clip8(r2);
    dst[o + dstStride + 1] = clip8(g2);
    dst[o + dstStride + 2] = clip8(b2);
  }
}

/**
 * The vertical pass: output row `i` sums `len[i]` rows of `src` from row `lo[i]` (row `r` starts at
 * `srcBase + r * srcStride`), `rowBytes` bytes each, into `dst` (one row every `dstStride` bytes from `dstBase`).
 * Four bytes per walk down the kernel: sharing the weight loads makes it about 3x faster than one.
 */
function vertical(
  src: Uint8Array,
  srcBase: number,
  srcStride: number,
  rowBytes: number,
  k: Coefficients,
  dst: Uint8Array,
  dstBase: number,
  dstStride: number,
): void {
  const { ksize, lo, len, kk } = k;
  const n = lo.length;
  const quads = rowBytes - (rowBytes % 4);
  for (let i = 0; i < n; i++) {
    const m = len[i] as number;
    const k0 = i * ksize;
    const first = srcBase + (lo[i] as number) * srcStride;
    const o = dstBase + i * dstStride;
    let j = 0;
    for (; j < quads; j += 4) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      let p = first + j;
      for (let y = 0; y < m; y++, p += srcStride) {
        const w = kk[k0 + y] as number;
        s0 += (src[p] as number) * w;
        s1 += (src[p + 1] as number) * w;
        s2 += (src[p + 2] as number) * w;
        s3 += (src[p + 3] as number) * w;
      }
      dst[o + j] = clip8(s0);
      dst[o + j + 1] = clip8(s1);
      dst[o + j + 2] = clip8(s2);
      dst[o + j + 3] = clip8(s3);
    }
    for (; j < rowBytes; j++) {
      let ss = HALF;
      let p = first + j;
      for (let y = 0; y < m; y++, p += srcStride) ss += (src[p] as number) * (kk[k0 + y] as number);
      dst[o + j] = clip8(ss);
    }
  }
}

/** Pillow's NEAREST: the source pixel under each output pixel's center, for output columns x0..x1-1, rows y0..y1-1. */
function nearest(
  src: Uint8Array,
  width: number,
  height: number,
  C: number,
  outWidth: number,
  outHeight: number,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  dst: Uint8Array,
  dstBase: number,
  dstStride: number,
): void {
  for (let y = y0; y < y1; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight));
    for (let x = x0; x < x1; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth));
      const o = dstBase + (y - y0) * dstStride + (x - x0) * C;
      for (let c = 0; c < C; c++) dst[o + c] = src[(sy * width + sx) * C + c] as number;
    }
  }
}
