/**
 * @file SIMD kernels for the text encoder's training step, assembled at run time (see [Note: hand-assembled kernels])
 * and run in tfjs-wasm's linear memory: a packed-weight matrix multiply, layer norm, quick GELU (forward and
 * backward) and the dot-product / axpy sweeps of attention (engine worker or browser; no Node APIs).
 *
 * Every argument is an i32: byte addresses into the wasm heap, byte strides, counts. Rows are contiguous f32 arrays.
 *
 * The GEMM is in wasm-gemm.ts (see [Note: packed GEMM]).
 */
import { F32, Fn, I32, V128, assemble, forPtr } from './wasm-asm';
import { GEMM_ROWS_FMA, GEMM_ROWS_MULADD, gemmFunctions } from './wasm-gemm';

/** The exported kernels. */
export interface KernelExports {
  gemm(
    a: number,
    lda: number,
    bp: number,
    c: number,
    ldc: number,
    bias: number,
    M: number,
    panels: number,
    K: number,
    r: number,
    ldr: number,
    ap: number,
    tile: number,
  ): void;
  layerNorm(x: number, y: number, gamma: number, beta: number, stats: number, M: number, W: number, eps: number): void;
  layerNormBwd(
    dy: number,
    x: number,
    stats: number,
    gamma: number,
    out: number,
    add: number,
    M: number,
    W: number,
  ): void;
  quickGelu(u: number, g: number, n: number): void;
  quickGeluBwd(u: number, dg: number, n: number): void;
  dotPairs(
    list: number,
    n: number,
    aBase: number,
    aField: number,
    bBase: number,
    bField: number,
    D: number,
    out: number,
  ): void;
  axpyPairs(
    list: number,
    n: number,
    coef: number,
    xBase: number,
    xField: number,
    yBase: number,
    yField: number,
    D: number,
  ): void;
}

/** Pushes the horizontal sum of a v128 local as an f32. */
function hsum(f: Fn, v: number): void {
  f.get(v).vlane(0).get(v).vlane(1).fadd().get(v).vlane(2).get(v).vlane(3).fadd().fadd();
}

/** layerNorm(x, y, gamma, beta, stats, M, W, eps): y = LN(x) row by row; stats gets (mean, 1/std) per row. */
function layerNorm(): Fn {
  const f = new Fn('layerNorm', [I32, I32, I32, I32, I32, I32, I32, F32]);
  const [x, y, gamma, beta, stats, M, W, eps] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [row, p, end, q, gp, bp] = f.locals(I32, 6);
  const [acc, mv, rv, d] = f.locals(V128, 4);
  const [mean, rstd, wf] = f.locals(F32, 3);
  f.get(W).f32FromI32().set(wf);
  f.block().loop();
  f.get(row).get(M).geU().brIf(1);
  f.get(x).get(row).get(W).mul().i32(2).shl().add().set(p);
  f.get(p).get(W).i32(2).shl().add().set(end);
  f.f32(0).vsplat().set(acc);
  forPtr(f, p, end, 16, () => f.get(acc).get(p).vload().vadd().set(acc));
  hsum(f, acc);
  f.get(wf).fdiv().tee(mean).vsplat().set(mv);
  f.get(x).get(row).get(W).mul().i32(2).shl().add().set(p);
  f.f32(0).vsplat().set(acc);
  forPtr(f, p, end, 16, () => f.get(p).vload().get(mv).vsub().tee(d).get(d).vmul().get(acc).vadd().set(acc));
  f.f32(1);
  hsum(f, acc);
  f.get(wf).fdiv().get(eps).fadd().fsqrt().fdiv().tee(rstd).vsplat().set(rv);
  f.get(x).get(row).get(W).mul().i32(2).shl().add().set(p);
  f.get(y).get(row).get(W).mul().i32(2).shl().add().set(q);
  f.get(gamma).set(gp).get(beta).set(bp);
  forPtr(f, p, end, 16, () => {
    f.get(q).get(p).vload().get(mv).vsub().get(rv).vmul().get(gp).vload().vmul().get(bp).vload().vadd().vstore();
    f.get(q).i32(16).add().set(q).get(gp).i32(16).add().set(gp).get(bp).i32(16).add().set(bp);
  });
  f.get(stats).get(row).i32(3).shl().add().tee(q).get(mean).fstore(0).get(q).get(rstd).fstore(4);
  f.get(row).i32(1).add().set(row);
  f.br(0).end().end();
  return f;
}

/**
 * layerNormBwd(dy, x, stats, gamma, out, add, M, W): out = add + dLN/dx given dy (add may be 0 or alias out):
 * with g = dy * gamma and xhat = (x - mean) / std, dx = (g - mean(g) - xhat * mean(g * xhat)) / std.
 */
function layerNormBwd(): Fn {
  const f = new Fn('layerNormBwd', [I32, I32, I32, I32, I32, I32, I32, I32]);
  const [dy, x, stats, gamma, out, add, M, W] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [row, off, bytes, s] = f.locals(I32, 4);
  const [sg, sgx, g, xh, mv, rv, av, bv] = f.locals(V128, 8);
  const wf = f.local(F32);
  f.get(W).f32FromI32().set(wf);
  f.get(W).i32(2).shl().set(bytes);
  const loadGX = () => {
    // g = dy * gamma, xh = (x - mean) * rstd at row offset `off` + element offset in `s`.
    f.get(dy).get(off).add().get(s).add().vload().get(gamma).get(s).add().vload().vmul().set(g);
    f.get(x).get(off).add().get(s).add().vload().get(mv).vsub().get(rv).vmul().set(xh);
  };
  const overRow = (body: () => void) => {
    f.i32(0).set(s);
    f.block().loop();
    f.get(s).get(bytes).geU().brIf(1);
    body();
    f.get(s).i32(16).add().set(s);
    f.br(0).end().end();
  };
  f.block().loop();
  f.get(row).get(M).geU().brIf(1);
  f.get(row).get(bytes).mul().set(off);
  f.get(stats).get(row).i32(3).shl().add().tee(s).fload(0).vsplat().set(mv);
  f.get(s).fload(4).vsplat().set(rv);
  f.f32(0).vsplat().tee(sg).set(sgx);
  overRow(() => {
    loadGX();
    f.get(sg).get(g).vadd().set(sg);
    f.get(sgx).get(g).get(xh).vmul().vadd().set(sgx);
  });
  hsum(f, sg);
  f.get(wf).fdiv().vsplat().set(av);
  hsum(f, sgx);
  f.get(wf).fdiv().vsplat().set(bv);
  const dx = () => f.get(g).get(av).vsub().get(xh).get(bv).vmul().vsub().get(rv).vmul();
  f.get(add).if();
  overRow(() => {
    loadGX();
    f.get(out).get(off).add().get(s).add();
    dx();
    f.get(add).get(off).add().get(s).add().vload().vadd().vstore();
  });
  f.else();
  overRow(() => {
    loadGX();
    f.get(out).get(off).add().get(s).add();
    dx();
    f.vstore();
  });
  f.end();
  f.get(row).i32(1).add().set(row);
  f.br(0).end().end();
  return f;
}

/** Quick GELU's gate: pushes sigmoid(1.702 x) for the v128 local x, via exp(-1.702 x) (Cephes' expf, ~1 ulp). */
function sigmoidGate(f: Fn, x: number, t: number, n: number): void {
  f.get(x).vconst(-1.702).vmul().vconst(-87.3).vmax().vconst(88.3).vmin().set(t);
  f.get(t).vconst(Math.LOG2E).vmul().vconst(0.5).vadd().vfloor().set(n);
  f.get(t).get(n).vconst(0.693359375).vmul().vsub().get(n).vconst(-2.1219444e-4).vmul().vsub().set(t);
  // p(t) = ((((c5 t + c4) t + c3) t + c2) t + c1) t + c0, exp(t) ~ p(t) t^2 + t + 1
  f.get(t).vconst(1.98756915e-4).vmul().vconst(1.3981999507e-3).vadd();
  for (const c of [8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1])
    f.get(t).vmul().vconst(c).vadd();
  f.get(t).vmul().get(t).vmul().get(t).vadd().vconst(1).vadd();
  // * 2^n
  f.get(n).vtoInt().i32(127).visplat().viadd().i32(23).vishl().vmul();
  f.vconst(1).vadd().set(t);
  f.vconst(1).get(t).vdiv();
}

/** quickGelu(u, g, n): g = u * sigmoid(1.702 u) over n floats (n a multiple of 4). */
function quickGelu(): Fn {
  const f = new Fn('quickGelu', [I32, I32, I32]);
  const [u, g, n] = [0, 1, 2];
  const [end, x, t, e] = [f.local(I32), f.local(V128), f.local(V128), f.local(V128)];
  f.get(u).get(n).i32(2).shl().add().set(end);
  forPtr(f, u, end, 16, () => {
    f.get(g);
    f.get(u).vload().set(x);
    sigmoidGate(f, x, t, e);
    f.get(x).vmul().vstore();
    f.get(g).i32(16).add().set(g);
  });
  return f;
}

/** quickGeluBwd(u, dg, n): dg *= d/du [u * s(1.702 u)] = s + 1.702 u s (1 - s). */
function quickGeluBwd(): Fn {
  const f = new Fn('quickGeluBwd', [I32, I32, I32]);
  const [u, dg, n] = [0, 1, 2];
  const [end, x, t, e, s] = [f.local(I32), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.get(u).get(n).i32(2).shl().add().set(end);
  forPtr(f, u, end, 16, () => {
    f.get(u).vload().set(x);
    sigmoidGate(f, x, t, e);
    f.set(s);
    f.get(dg);
    f.get(s).get(x).vconst(1.702).vmul().get(s).vmul().vconst(1).get(s).vsub().vmul().vadd();
    f.get(dg).vload().vmul().vstore();
    f.get(dg).i32(16).add().set(dg);
  });
  return f;
}

/** Loads the i32 field at byte `field` of 12-byte list entry `e` plus `base`. */
function fieldAddr(f: Fn, e: number, field: number, base: number): void {
  f.get(e).get(field).add().load().get(base).add();
}

/** dotPairs(list, n, aBase, aField, bBase, bField, D, out): out[p] = <A row, B row> over D floats for each entry. */
function dotPairs(): Fn {
  const f = new Fn('dotPairs', [I32, I32, I32, I32, I32, I32, I32, I32]);
  const [list, n, aBase, aField, bBase, bField, D, out] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [e, end, pa, pb, stop, stop16] = f.locals(I32, 6);
  const [a0, a1, a2, a3] = f.locals(V128, 4);
  f.get(list).get(n).i32(12).mul().add().set(end);
  forPtr(f, list, end, 12, () => {
    f.get(list).set(e);
    fieldAddr(f, e, aField, aBase);
    f.set(pa);
    fieldAddr(f, e, bField, bBase);
    f.set(pb);
    f.get(pa).get(D).i32(2).shl().add().set(stop);
    f.get(pa).get(D).i32(-16).and().i32(2).shl().add().set(stop16);
    f.f32(0).vsplat().tee(a0).tee(a1).tee(a2).set(a3);
    f.block().loop();
    f.get(pa).get(stop16).geU().brIf(1);
    [a0, a1, a2, a3].forEach((acc, i) =>
      f
        .get(acc)
        .get(pa)
        .vload(16 * i)
        .get(pb)
        .vload(16 * i)
        .vmul()
        .vadd()
        .set(acc),
    );
    f.get(pa).i32(64).add().set(pa).get(pb).i32(64).add().set(pb);
    f.br(0).end().end();
    f.block().loop();
    f.get(pa).get(stop).geU().brIf(1);
    f.get(a0).get(pa).vload().get(pb).vload().vmul().vadd().set(a0);
    f.get(pa).i32(16).add().set(pa).get(pb).i32(16).add().set(pb);
    f.br(0).end().end();
    f.get(a0).get(a1).vadd().get(a2).get(a3).vadd().vadd().set(a0);
    f.get(out);
    hsum(f, a0);
    f.fstore();
    f.get(out).i32(4).add().set(out);
  });
  return f;
}

/** axpyPairs(list, n, coef, xBase, xField, yBase, yField, D): Y row += coef[p] * X row (D floats) for each entry. */
function axpyPairs(): Fn {
  const f = new Fn('axpyPairs', [I32, I32, I32, I32, I32, I32, I32, I32]);
  const [list, n, coef, xBase, xField, yBase, yField, D] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [e, end, px, py, stop] = f.locals(I32, 5);
  const cv = f.local(V128);
  f.get(list).get(n).i32(12).mul().add().set(end);
  forPtr(f, list, end, 12, () => {
    f.get(list).set(e);
    fieldAddr(f, e, xField, xBase);
    f.set(px);
    fieldAddr(f, e, yField, yBase);
    f.set(py);
    f.get(coef).vloadSplat().set(cv);
    f.get(coef).i32(4).add().set(coef);
    f.get(py).get(D).i32(2).shl().add().set(stop);
    forPtr(f, py, stop, 16, () => {
      f.get(py).get(py).vload().get(cv).get(px).vload().vmul().vadd().vstore();
      f.get(px).i32(16).add().set(px);
    });
  });
  return f;
}

/** Whether the engine runs relaxed SIMD (f32x4.relaxed_madd), probed with a one-instruction module. */
export function relaxedSimdSupported(): boolean {
  const f = new Fn('madd', [V128, V128, V128], [V128]);
  f.get(0).get(1).get(2).vmadd();
  return WebAssembly.validate(assemble([f]));
}

/** The kernel module's bytes (functions in export order; the microkernel comes first so `call(0)` finds it). */
export function kernelModuleBytes(fma: boolean): Uint8Array<ArrayBuffer> {
  return assemble([
    ...gemmFunctions(fma),
    layerNorm(),
    layerNormBwd(),
    quickGelu(),
    quickGeluBwd(),
    dotPairs(),
    axpyPairs(),
  ]);
}

/** The kernels instantiated over a memory, and the GEMM tile height they were built with. */
export interface Kernels {
  k: KernelExports;
  tileRows: number;
  fma: boolean;
}

/**
 * Instantiates the kernels over `memory`, with fused multiply-adds when the engine has relaxed SIMD (or as `fma`
 * says; throws when the engine lacks what is asked for, SIMD itself, or refuses the memory).
 */
export function instantiateKernels(memory: WebAssembly.Memory, fma = relaxedSimdSupported()): Kernels {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelModuleBytes(fma)), { env: { memory } });
  return {
    k: instance.exports as unknown as KernelExports,
    tileRows: fma ? GEMM_ROWS_FMA : GEMM_ROWS_MULADD,
    fma,
  };
}
