/**
 * @file WebAssembly SIMD kernels of the PIL-exact RGB resize, assembled at load time from the instructions below
 * (engine, plain Node).
 *
 * [Note: resize SIMD kernels] The JavaScript passes of pil-resize.ts cost about 4 ms of CPU per
 * 640x480 photo, a third of CLIP preprocessing, competing with ONNX Runtime for the same cores.
 * Both passes are integer multiply-adds on 32-bit lanes (the same int32 sums as Pillow's C), so
 * WebAssembly's 128-bit SIMD computes them with identical results: the horizontal pass keeps one RGB
 * pixel in an i32x4 (the fourth lane is ignored), the vertical pass 16 bytes of a row in four. The
 * rounding `ss >> 22` then two saturating narrowings are exactly Pillow's `clip8`. No toolchain
 * builds this: the module is a few hundred bytes, written out here with the binary opcodes
 * (WebAssembly core spec, SIMD section), so it needs no build step and no package. pil-resize.test.ts
 * checks the kernels byte for byte against the plain port. Where SIMD is missing (validation fails)
 * the JavaScript passes run instead.
 */

/** Signed LEB128, as the binary format stores i32 constants. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

/** Unsigned LEB128 (sizes, counts, indices). */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

// Opcodes used (core: control, locals, i32; 0xfd prefix: SIMD).
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const br = (depth: number) => [0x0c, depth];
const brIf = (depth: number) => [0x0d, depth];
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32c = (v: number) => [0x41, ...sleb(v)];
const ADD = 0x6a;
const SUB = 0x6b;
const MUL = 0x6c;
const SHL = 0x74;
const EQZ = 0x45;
const GE_S = 0x4e;
const LOAD = [0x28, 0, 0];
const STORE = [0x36, 0, 0];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const LOAD8X8_U = (offset: number) => simd(0x02, 0, offset);
const V_STORE = simd(0x0b, 0, 0);
const SPLAT = simd(0x11);
const LANE0 = simd(0x1b, 0);
const NARROW_U8 = simd(0x66);
const NARROW_S16 = simd(0x85);
const EXT_LO = simd(0xa9);
const EXT_HI = simd(0xaa);
const SHR_S = simd(0xac);
const V_ADD = simd(0xae);
const V_MUL = simd(0xb5);

const HALF = 1 << 21;

/** `local += step` for an i32 local. */
const bump = (local: number, step: number) => [...get(local), ...i32c(step), ADD, ...set(local)];
/** `local = base[idx * 4]` (an Int32 table in memory). */
const loadAt = (base: number, idx: number) => [...get(base), ...get(idx), ...i32c(2), SHL, ADD, ...LOAD];
/** Loop while `counter < limit`, running `body`, then `counter += step`. */
const forLt = (counter: number, limit: number, step: number, body: number[]) => [
  ...i32c(0),
  ...set(counter),
  ...BLOCK,
  ...LOOP,
  ...get(counter),
  ...get(limit),
  GE_S,
  ...brIf(1),
  ...body,
  ...bump(counter, step),
  ...br(0),
  END,
  END,
];
/** Counts `m` down to zero, running `body` each time. */
const times = (m: number, body: number[]) => [
  ...BLOCK,
  ...LOOP,
  ...get(m),
  EQZ,
  ...brIf(1),
  ...body,
  ...get(m),
  ...i32c(1),
  SUB,
  ...set(m),
  ...br(0),
  END,
  END,
];
/** i32x4 >> 22 (arithmetic): the fixed-point sums to 8-bit range before the saturating narrowings. */
const shr22 = [...i32c(22), ...SHR_S];

// hpass(src, srcStride, rows, n, lo, len, kk, kstride, dst, dstStride): one RGB pixel per i32x4, two rows per
// walk over each kernel (sharing the weight loads). With an odd `rows` the last pair reads and writes one row past
// the end: the caller leaves a row of slack in both buffers and never reads that output row.
const H = { src: 0, srcStride: 1, rows: 2, n: 3, lo: 4, len: 5, kk: 6, kstride: 7, dst: 8, dstStride: 9 };
const HL = { y: 10, i: 11, p: 12, kp: 13, m: 14, row: 15, o: 16, acc: 17, acc2: 18, w: 19 };
/** Stores the clipped RGB of `acc` as 4 bytes at the address `addr` pushes (the fourth is overwritten next). */
const storePixel = (addr: number[], acc: number) => [
  ...addr,
  ...[...get(acc), ...shr22, ...set(acc), ...get(acc), ...get(acc), ...NARROW_S16],
  ...[...set(acc), ...get(acc), ...get(acc), ...NARROW_U8, ...LANE0],
  ...STORE,
];
const hpass = [
  ...forLt(HL.y, H.rows, 2, [
    ...[...get(H.src), ...get(HL.y), ...get(H.srcStride), MUL, ADD, ...set(HL.row)],
    ...[...get(H.dst), ...get(HL.y), ...get(H.dstStride), MUL, ADD, ...set(HL.o)],
    ...forLt(HL.i, H.n, 1, [
      ...loadAt(H.len, HL.i),
      ...set(HL.m),
      ...[...get(HL.row), ...loadAt(H.lo, HL.i), ...i32c(3), MUL, ADD, ...set(HL.p)],
      ...[...get(H.kk), ...get(HL.i), ...get(H.kstride), MUL, ADD, ...set(HL.kp)],
      ...[...i32c(HALF), ...SPLAT, ...set(HL.acc), ...i32c(HALF), ...SPLAT, ...set(HL.acc2)],
      ...times(HL.m, [
        ...[...get(HL.kp), ...LOAD, ...SPLAT, ...set(HL.w)],
        ...[...get(HL.acc), ...get(HL.p), ...LOAD8X8_U(0), ...EXT_LO, ...get(HL.w), ...V_MUL, ...V_ADD, ...set(HL.acc)],
        ...get(HL.acc2),
        ...[...get(HL.p), ...get(H.srcStride), ADD, ...LOAD8X8_U(0), ...EXT_LO],
        ...[...get(HL.w), ...V_MUL, ...V_ADD, ...set(HL.acc2)],
        ...bump(HL.p, 3),
        ...bump(HL.kp, 4),
      ]),
      ...storePixel(get(HL.o), HL.acc),
      ...storePixel([...get(HL.o), ...get(H.dstStride), ADD], HL.acc2),
      ...bump(HL.o, 3),
    ]),
  ]),
];

// vpass(src, srcStride, rowBytes, n, lo, len, kk, kstride, dst, dstStride): 16 bytes of a row per step.
const V = { src: 0, srcStride: 1, rowBytes: 2, n: 3, lo: 4, len: 5, kk: 6, kstride: 7, dst: 8, dstStride: 9 };
const VL = { i: 10, j: 11, first: 12, kp0: 13, m0: 14, p: 15, kp: 16, m: 17, orow: 18 };
const VV = { a0: 19, a1: 20, a2: 21, a3: 22, w: 23, lo8: 24, hi8: 25 };
const madd = (acc: number, src: number, ext: number[]) => [
  ...get(acc),
  ...get(src),
  ...ext,
  ...get(VV.w),
  ...V_MUL,
  ...V_ADD,
  ...set(acc),
];
const vpass = [
  ...forLt(VL.i, V.n, 1, [
    ...loadAt(V.len, VL.i),
    ...set(VL.m0),
    ...[...get(V.src), ...loadAt(V.lo, VL.i), ...get(V.srcStride), MUL, ADD, ...set(VL.first)],
    ...[...get(V.kk), ...get(VL.i), ...get(V.kstride), MUL, ADD, ...set(VL.kp0)],
    ...[...get(V.dst), ...get(VL.i), ...get(V.dstStride), MUL, ADD, ...set(VL.orow)],
    ...forLt(VL.j, V.rowBytes, 16, [
      ...[VV.a0, VV.a1, VV.a2, VV.a3].flatMap((a) => [...i32c(HALF), ...SPLAT, ...set(a)]),
      ...[...get(VL.first), ...get(VL.j), ADD, ...set(VL.p)],
      ...[...get(VL.kp0), ...set(VL.kp), ...get(VL.m0), ...set(VL.m)],
      ...times(VL.m, [
        ...[...get(VL.kp), ...LOAD, ...SPLAT, ...set(VV.w)],
        ...[...get(VL.p), ...LOAD8X8_U(0), ...set(VV.lo8)],
        ...[...get(VL.p), ...LOAD8X8_U(8), ...set(VV.hi8)],
        ...madd(VV.a0, VV.lo8, EXT_LO),
        ...madd(VV.a1, VV.lo8, EXT_HI),
        ...madd(VV.a2, VV.hi8, EXT_LO),
        ...madd(VV.a3, VV.hi8, EXT_HI),
        ...[...get(VL.p), ...get(V.srcStride), ADD, ...set(VL.p)],
        ...bump(VL.kp, 4),
      ]),
      ...[...get(VL.orow), ...get(VL.j), ADD],
      ...[...get(VV.a0), ...shr22, ...get(VV.a1), ...shr22, ...NARROW_S16],
      ...[...get(VV.a2), ...shr22, ...get(VV.a3), ...shr22, ...NARROW_S16],
      ...NARROW_U8,
      ...V_STORE,
    ]),
  ]),
];

/** A function body: local declarations (runs of [count, type]) then code. */
function body(locals: [number, number][], code: number[]): number[] {
  const b = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t]), ...code, END];
  return [...uleb(b.length), ...b];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const I32 = 0x7f;
const V128 = 0x7b;
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** The module's bytes: memory imported as env.memory; exports hpass and vpass, both (i32 x 10) -> (). */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...uleb(10), ...new Array<number>(10).fill(I32), 0];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, ...type]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [2, 0, 0]),
    ...section(7, [2, ...name('hpass'), 0x00, 0, ...name('vpass'), 0x00, 1]),
    ...section(10, [
      2,
      ...body(
        [
          [7, I32],
          [3, V128],
        ],
        hpass,
      ),
      ...body(
        [
          [9, I32],
          [7, V128],
        ],
        vpass,
      ),
    ]),
  ]);
}

type Kernel = (
  src: number,
  srcStride: number,
  rowsOrBytes: number,
  n: number,
  lo: number,
  len: number,
  kk: number,
  kstride: number,
  dst: number,
  dstStride: number,
) => void;

/** The instantiated kernels and their memory. */
export interface SimdKernels {
  memory: WebAssembly.Memory;
  hpass: Kernel;
  vpass: Kernel;
}

let kernels: SimdKernels | null | undefined;

/** The SIMD kernels, or null where this runtime has no WebAssembly SIMD (instantiated once, synchronously). */
export function simdKernels(): SimdKernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  try {
    const bytes = moduleBytes();
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return null;
    const memory = new WebAssembly.Memory({ initial: 32 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernels = { memory, hpass: inst.exports['hpass'] as Kernel, vpass: inst.exports['vpass'] as Kernel };
  } catch {
    kernels = null;
  }
  return kernels;
}

/** Fixed-point kernels as pil-resize.ts computes them (window starts, lengths, `ksize` weights per output). */
export interface KernelTable {
  ksize: number;
  lo: Int32Array;
  len: Int32Array;
  kk: Int32Array;
}

/** Whether every sum of 8-bit values with these weights stays in int32 (wasm's i32 lanes wrap; JS's do not). */
function fitsInt32(k: KernelTable): boolean {
  for (let i = 0; i < k.lo.length; i++) {
    let pos = 0;
    let neg = 0;
    for (let x = 0; x < (k.len[i] as number); x++) {
      const w = k.kk[i * k.ksize + x] as number;
      if (w > 0) pos += w;
      else neg -= w;
    }
    if (HALF + 255 * pos > 0x7fffffff || HALF - 255 * neg < -0x80000000) return false;
  }
  return true;
}

/** Above this much WebAssembly memory (a 10-megapixel photo) the JavaScript passes run: wasm memory never shrinks. */
const MAX_WASM_BYTES = 48 << 20;

const align16 = (x: number) => (x + 15) & ~15;

/**
 * Both passes of an RGB resize with the SIMD kernels: source rows `r0..r1-1` (all columns) through `hk`, then
 * `vk` (its windows in absolute source rows), into `dst` from `dstBase`, a row every `dstStride` bytes.
 * Returns false, writing nothing, where the kernels are unavailable or the case is outside their limits.
 */
export function simdResizeRgb(
  src: Uint8Array,
  width: number,
  r0: number,
  r1: number,
  hk: KernelTable,
  vk: KernelTable,
  dst: Uint8Array,
  dstBase: number,
  dstStride: number,
): boolean {
  const n = hk.lo.length;
  const nv = vk.lo.length;
  const srcStride = width * 3;
  const rows = r1 - r0;
  const rowBytes = n * 3;
  const row16 = align16(rowBytes);
  // The intermediate rows have a 4-byte gap: a pixel's fourth stored byte must not land on the next row.
  const midStride = rowBytes + 4;
  // Layout: source rows, kernel tables, intermediate rows, output rows; a row and 16 bytes of slack after
  // each buffer a kernel reads or writes past (odd row counts, 8-byte loads of a 3-byte pixel, 16-byte chunks).
  const srcOff = 0;
  const hLo = align16(srcOff + (rows + 1) * srcStride + 16);
  const hLen = hLo + n * 4;
  const hKk = hLen + n * 4;
  const vLo = align16(hKk + hk.kk.length * 4);
  const vLen = vLo + nv * 4;
  const vKk = vLen + nv * 4;
  const mid = align16(vKk + vk.kk.length * 4);
  const out = align16(mid + (rows + 1) * midStride + 16);
  const end = out + nv * row16 + 16;
  if (end > MAX_WASM_BYTES || !fitsInt32(hk) || !fitsInt32(vk)) return false;
  const k = simdKernels();
  if (!k) return false;
  const have = k.memory.buffer.byteLength;
  if (end > have)
    try {
      k.memory.grow(Math.ceil((end - have) / 65536));
    } catch {
      return false;
    }
  const mem = new Uint8Array(k.memory.buffer);
  const i32 = new Int32Array(k.memory.buffer);
  mem.set(src.subarray(r0 * srcStride, r1 * srcStride), srcOff);
  i32.set(hk.lo, hLo >> 2);
  i32.set(hk.len, hLen >> 2);
  i32.set(hk.kk, hKk >> 2);
  for (let i = 0; i < nv; i++) i32[(vLo >> 2) + i] = (vk.lo[i] as number) - r0;
  i32.set(vk.len, vLen >> 2);
  i32.set(vk.kk, vKk >> 2);
  k.hpass(srcOff, srcStride, rows, n, hLo, hLen, hKk, hk.ksize * 4, mid, midStride);
  k.vpass(mid, midStride, rowBytes, nv, vLo, vLen, vKk, vk.ksize * 4, out, row16);
  for (let i = 0; i < nv; i++)
    dst.set(mem.subarray(out + i * row16, out + i * row16 + rowBytes), dstBase + i * dstStride);
  return true;
}
