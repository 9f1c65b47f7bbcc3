/**
 * @file The packed GEMM kernel of the training step, as WebAssembly functions for the kernel module (engine worker or
 * browser; no Node APIs; see [Note: hand-assembled kernels]).
 *
 * [Note: packed GEMM] C = A @ B (+ bias) (+ R) with B packed once into panels of 8 columns ([K][8] each, zero-padded)
 * and A packed per call into tiles of T rows ([K][T]). For each panel, every tile is multiplied by a register tile of
 * T x 8 accumulators, one k per loop iteration. Panels are the outer loop, so a panel (8 K floats) stays in L1 while
 * the packed A block (which the caller keeps L2-sized) streams; bias and R are added in one pass at the end. The
 * shape is set by V8's code generation on x64 (15 usable xmm registers): with relaxed SIMD's fused multiply-add,
 * T = 6 (12 accumulators, 2 B vectors, a splat); with separate multiply and add, T = 5 (a product needs a
 * temporary). TurboFan keeps that interleaved, spill-free loop only when the microkernel is nothing else: unrolling k,
 * a seventh row, or any branch or arithmetic on the accumulators around the loop (a bias, a residual, a partial tile)
 * made it load every splat first and spill accumulators, at a quarter to a half of the speed. Measured on this
 * machine's Zen 4 core (best of many runs under the same load, as CPU time): ~50-55 GFLOP/s with FMA, ~43 without,
 * vs ~25-30 for tfjs-wasm's XNNPACK matmul (no FMA in wasm). Sums run over k in order, as XNNPACK's do.
 */
import { Fn, I32, V128, forPtr } from './wasm-asm';

/**
 * Rows per register tile of the GEMM: 6 with fused multiply-add (6 x 2 accumulators, 2 B vectors and a splat: 15
 * registers), 5 without (a product needs a temporary register).
 */
export const GEMM_ROWS_FMA = 6;
export const GEMM_ROWS_MULADD = 5;
/** The most rows a GEMM tile may have (scratch sizes). */
export const GEMM_MAX_ROWS = GEMM_ROWS_FMA;
/** Columns per packed panel of the GEMM (two f32x4 vectors). */
export const GEMM_PANEL = 8;

/**
 * The T x 8 microkernel of [Note: packed GEMM]: mk(a, b, c, ldc, K) stores the T x 8 tile A @ B of a packed A tile
 * [K][T] and a panel [K][8] at `c` (row stride `ldc` bytes). With `fma`, products are added by relaxed SIMD's
 * f32x4.relaxed_madd (one rounding where the CPU fuses it). It is deliberately nothing but the loop and the stores:
 * any branch or arithmetic on the accumulators before or after the loop (a bias, a residual, a partial tile) made
 * TurboFan load all splats first and spill accumulators in the loop, at a quarter of the speed; the driver does those.
 */
function microkernel(T: number, fma: boolean): Fn {
  const f = new Fn('mk', [I32, I32, I32, I32, I32]);
  const [a, b, c, ldc, K] = [0, 1, 2, 3, 4];
  const acc = Array.from({ length: T }, () => [f.local(V128), f.local(V128)] as const);
  const [b0, b1, av] = f.locals(V128, 3);
  const [end, row] = f.locals(I32, 2);
  f.get(b).get(K).i32(32).mul().add().set(end);
  f.block().loop();
  f.get(b).get(end).geU().brIf(1);
  f.get(b).vload(0).set(b0);
  f.get(b).vload(16).set(b1);
  acc.forEach(([x, y], i) => {
    f.get(a)
      .vloadSplat(4 * i)
      .set(av);
    if (fma) {
      f.get(av).get(b0).get(x).vmadd().set(x);
      f.get(av).get(b1).get(y).vmadd().set(y);
    } else {
      f.get(x).get(av).get(b0).vmul().vadd().set(x);
      f.get(y).get(av).get(b1).vmul().vadd().set(y);
    }
  });
  f.get(a)
    .i32(4 * T)
    .add()
    .set(a);
  f.get(b).i32(32).add().set(b);
  f.br(0).end().end();
  acc.forEach(([x, y], i) => {
    f.get(c).get(ldc).i32(i).mul().add().set(row);
    f.get(row).get(x).vstore(0);
    f.get(row).get(y).vstore(16);
  });
  return f;
}

/** For rows [0, M) of C (row stride `ldc`, N bytes per row): C row += V row (stride `ldv`, 0 for one vector). */
function addRows(f: Fn, c: number, ldc: number, v: number, ldv: number, M: number, rowBytes: number): void {
  const [row, p, q, end] = f.locals(I32, 4);
  f.block().loop();
  f.get(row).get(M).geU().brIf(1);
  f.get(c).get(row).get(ldc).mul().add().tee(p).get(rowBytes).add().set(end);
  f.get(v).get(row).get(ldv).mul().add().set(q);
  forPtr(f, p, end, 16, () => {
    f.get(p).get(p).vload().get(q).vload().vadd().vstore();
    f.get(q).i32(16).add().set(q);
  });
  f.get(row).i32(1).add().set(row);
  f.br(0).end().end();
}

/**
 * gemm(a, lda, bp, c, ldc, bias, M, panels, K, r, ldr, ap, tile): see [Note: packed GEMM]; C = A @ B, then + bias and
 * + R when those are non-zero (R must not overlap C: C is written first). `ap` is scratch for A packed into tiles of T rows ([K][T] each, the last zero-padded):
 * ceil(M / T) * T * K floats; `tile` is scratch for one T x 8 tile (the last, partial tile of rows goes there first).
 */
function gemmDriver(T: number): Fn {
  const f = new Fn('gemm', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [a, lda, bp, c, ldc, bias, M, panels, K, r, ldr, ap, tileBuf] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const [row, lane, tile, src, dst, end, p, tiles, tileBytes, full, rowBytes] = f.locals(I32, 11);
  f.get(M)
    .i32(T - 1)
    .add()
    .i32(T)
    .divU()
    .tee(tiles)
    .i32(T)
    .mul()
    .set(end);
  f.get(M).i32(T).divU().set(full);
  f.get(K)
    .i32(4 * T)
    .mul()
    .set(tileBytes);
  // Pack A: row `row` goes to lane `lane` of tile `tile`.
  f.get(ap).set(tile);
  f.block().loop();
  f.get(row).get(end).geU().brIf(1);
  f.get(tile).get(lane).i32(2).shl().add().set(dst);
  f.get(row).get(M).ltU().if();
  f.get(a).get(row).get(lda).mul().add().set(src);
  f.get(src).get(K).i32(2).shl().add().set(p);
  forPtr(f, src, p, 4, () => {
    f.get(dst).get(src).fload().fstore();
    f.get(dst)
      .i32(4 * T)
      .add()
      .set(dst);
  });
  f.else();
  f.get(dst).get(tileBytes).add().set(p);
  forPtr(f, dst, p, 4 * T, () => f.get(dst).f32(0).fstore());
  f.end();
  f.get(row).i32(1).add().set(row);
  f.get(lane).i32(1).add().tee(lane).i32(T).eq().if();
  f.i32(0).set(lane).get(tile).get(tileBytes).add().set(tile);
  f.end();
  f.br(0).end().end();
  // Panels outer, tiles inner; a partial last tile goes through `tileBuf`.
  f.i32(0).set(p);
  f.block().loop();
  f.get(p).get(panels).geU().brIf(1);
  f.i32(0).set(tile);
  f.block().loop();
  f.get(tile).get(full).geU().brIf(1);
  f.get(ap).get(tile).get(tileBytes).mul().add();
  f.get(bp);
  f.get(c).get(tile).i32(T).mul().get(ldc).mul().add().get(p).i32(5).shl().add();
  f.get(ldc).get(K).call(0);
  f.get(tile).i32(1).add().set(tile);
  f.br(0).end().end();
  f.get(full).get(tiles).ltU().if();
  f.get(ap).get(full).get(tileBytes).mul().add().get(bp).get(tileBuf).i32(32).get(K).call(0);
  f.get(full).i32(T).mul().set(row);
  f.get(tileBuf).set(src);
  f.block().loop();
  f.get(row).get(M).geU().brIf(1);
  f.get(c).get(row).get(ldc).mul().add().get(p).i32(5).shl().add().tee(dst).get(src).vload(0).vstore(0);
  f.get(dst).get(src).vload(16).vstore(16);
  f.get(src).i32(32).add().set(src);
  f.get(row).i32(1).add().set(row);
  f.br(0).end().end();
  f.end();
  f.get(bp).get(K).i32(5).shl().add().set(bp);
  f.get(p).i32(1).add().set(p);
  f.br(0).end().end();
  // Epilogue: + bias (one row for all), + R.
  f.get(panels).i32(5).shl().set(rowBytes);
  f.get(bias).if();
  addRows(f, c, ldc, bias, f.local(I32), M, rowBytes);
  f.end();
  f.get(r).if();
  addRows(f, c, ldc, r, ldr, M, rowBytes);
  f.end();
  return f;
}

/** The GEMM's functions: the microkernel first (the driver calls function 0), then `gemm`. */
export function gemmFunctions(fma: boolean): Fn[] {
  const T = fma ? GEMM_ROWS_FMA : GEMM_ROWS_MULADD;
  return [microkernel(T, fma), gemmDriver(T)];
}
