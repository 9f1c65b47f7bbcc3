/**
 * @file Tests that the crop-aware fast resampler is byte-identical to a straightforward port of Pillow's two passes.
 *
 * The reference below is the plain algorithm of `Resample.c` (whole image, horizontal pass then
 * vertical pass, each pixel summed on its own and clipped with a division, then a zero-padded
 * crop). Its agreement with Pillow itself is what preprocess.test.ts checks on the fixtures' PIL
 * crops; here the fast code must equal it exactly (tolerance 0 levels) on random sizes, channel
 * counts, filters, crops and pixels, seeded so a failure reproduces, both with the WebAssembly SIMD kernels
 * (resize-simd.ts, used for RGB) and with the JavaScript passes.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../train/splits';
import { coefficients, pilResize, pilResizeCrop } from './pil-resize';
import { simdKernels } from './resize-simd';

const SCALE = 2 ** 22;

function clip8(v: number): number {
  if (v <= 0) return 0;
  return Math.min(255, Math.floor(v / SCALE));
}

/** One separable pass along the axis of `inSize` pixels; `at(line, pos, c)` reads, `put(line, pos, c, v)` writes. */
function pass(
  lines: number,
  inSize: number,
  outSize: number,
  channels: number,
  resample: number,
  at: (line: number, pos: number, c: number) => number,
  put: (line: number, pos: number, c: number, v: number) => void,
): void {
  const { ksize, lo, len, kk } = coefficients(inSize, outSize, resample);
  for (let line = 0; line < lines; line++)
    for (let o = 0; o < outSize; o++)
      for (let c = 0; c < channels; c++) {
        let ss = 2 ** 21;
        for (let t = 0; t < (len[o] ?? 0); t++) ss += at(line, (lo[o] ?? 0) + t, c) * (kk[o * ksize + t] ?? 0);
        put(line, o, c, clip8(ss));
      }
}

/** Pillow's resize (NEAREST or the two convolution passes), then a crop with zeros outside the image. */
function reference(
  src: Uint8Array,
  w: number,
  h: number,
  ch: number,
  rw: number,
  rh: number,
  left: number,
  top: number,
  cw: number,
  chh: number,
  resample: number,
): Uint8Array {
  let img = src;
  if (resample === 0) {
    img = new Uint8Array(rw * rh * ch);
    for (let y = 0; y < rh; y++)
      for (let x = 0; x < rw; x++) {
        const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / rh));
        const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / rw));
        for (let c = 0; c < ch; c++) img[(y * rw + x) * ch + c] = src[(sy * w + sx) * ch + c] ?? 0;
      }
  } else {
    let cw0 = w;
    if (rw !== w) {
      const cur = img;
      const next = new Uint8Array(rw * h * ch);
      pass(
        h,
        w,
        rw,
        ch,
        resample,
        (y, x, c) => cur[(y * w + x) * ch + c] ?? 0,
        (y, x, c, v) => (next[(y * rw + x) * ch + c] = v),
      );
      img = next;
      cw0 = rw;
    }
    if (rh !== h) {
      const cur = img;
      const next = new Uint8Array(cw0 * rh * ch);
      pass(
        cw0,
        h,
        rh,
        ch,
        resample,
        (x, y, c) => cur[(y * cw0 + x) * ch + c] ?? 0,
        (x, y, c, v) => (next[(y * cw0 + x) * ch + c] = v),
      );
      img = next;
    }
  }
  const out = new Uint8Array(cw * chh * ch);
  for (let y = 0; y < chh; y++)
    for (let x = 0; x < cw; x++) {
      const sx = x + left;
      const sy = y + top;
      if (sx < 0 || sy < 0 || sx >= rw || sy >= rh) continue;
      for (let c = 0; c < ch; c++) out[(y * cw + x) * ch + c] = img[(sy * rw + sx) * ch + c] ?? 0;
    }
  return out;
}

/** Random pixels; half the images are hard-edged 0/255 blocks, which drive the sums past 0..255 and exercise clipping. */
function pixels(n: number, rand: () => number): Uint8Array {
  const a = new Uint8Array(n);
  const blocky = rand() < 0.5;
  for (let i = 0; i < n; i++) a[i] = blocky ? (rand() < 0.5 ? 0 : 255) : Math.floor(rand() * 256);
  return a;
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return -2;
  return a.findIndex((v, i) => v !== b[i]);
}

describe('pilResizeCrop', () => {
  it('equals the plain resize + crop byte for byte on 400 random cases (sizes, channels, filters, crops; SIMD and JS)', () => {
    const rand = mulberry32(20261127);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let n = 0; n < 400; n++) {
      const w = int(1, 48);
      const h = int(1, 48);
      const ch = int(1, 4);
      const resample = int(0, 5);
      // Shrinks down to 1/6, enlargements up to 3x, and the same size on one axis now and then.
      const rw = rand() < 0.15 ? w : int(1, Math.min(3 * w, 64));
      const rh = rand() < 0.15 ? h : int(1, Math.min(3 * h, 64));
      const cw = int(1, rw + 6);
      const chh = int(1, rh + 6);
      // Offsets from "before the image" to "past it", centred crops included.
      const left = rand() < 0.4 ? Math.floor((rw - cw) / 2) : int(-4, rw + 2);
      const top = rand() < 0.4 ? Math.floor((rh - chh) / 2) : int(-4, rh + 2);
      const src = pixels(w * h * ch, rand);
      const want = reference(src, w, h, ch, rw, rh, left, top, cw, chh, resample);
      for (const kernel of ['auto', 'js'] as const) {
        const got = pilResizeCrop(src, w, h, ch, rw, rh, left, top, cw, chh, resample, kernel);
        const at = firstDiff(got, want);
        if (at !== -1)
          throw new Error(
            `case ${n} (${kernel}): ${w}x${h}x${ch} -> ${rw}x${rh}, crop ${cw}x${chh} at (${left},${top}), ` +
              `filter ${resample}: first difference at byte ${at} (${got[at]} vs ${want[at]})`,
          );
      }
    }
  });

  it('equals the plain resize on a photo-sized RGB Buffer: CLIP center crop, whole image, and a larger-than-image crop', () => {
    const rand = mulberry32(7);
    const w = 160;
    const h = 120;
    const src = Buffer.from(pixels(w * h * 3, rand));
    for (const [rw, rh, left, top, cw, chh] of [
      [74, 56, 9, 0, 56, 56],
      [74, 56, 0, 0, 74, 56],
      [60, 45, -2, -5, 64, 56],
      [320, 240, 40, 0, 240, 240],
    ] as const) {
      const want = reference(src, w, h, 3, rw, rh, left, top, cw, chh, 3);
      for (const kernel of ['auto', 'js'] as const)
        expect(firstDiff(pilResizeCrop(src, w, h, 3, rw, rh, left, top, cw, chh, 3, kernel), want)).toBe(-1);
    }
    expect(firstDiff(pilResize(src, w, h, 3, 74, 56), reference(src, w, h, 3, 74, 56, 0, 0, 74, 56, 3))).toBe(-1);
  });

  it('has the WebAssembly SIMD kernels on this Node, so the random cases above exercised them', () => {
    expect(simdKernels()).not.toBeNull();
  });
});
