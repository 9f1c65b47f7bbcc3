/**
 * @file The packed GEMM kernel of the training step, as WebAssembly functions for the kernel module (engine worker or
 * browser; no Node APIs; see [Note: hand-assembled kernels]).
 *
 * [Note: packed GEMM] C = A @ B + bias (+ R) with B packed once into panels of 8 columns ([K][8] each, zero-padded)
 * and A packed per call into tiles of T rows ([K][T]). For each panel, every tile is multiplied by a register tile of
 * T x 8 accumulators, one k per loop iteration. Panels are the outer loop, so a panel (8 K floats) stays in L1 while
 * the packed A block (which the caller keeps L2-sized) streams. The shape is set by V8's code generation on x64 (15
 * usable xmm registers): with relaxed SIMD's fused multiply-add, T = 6 (12 accumulators, 2 B vectors, a splat);
 * with separate multiply and add, T = 5 (a product needs a temporary). Unrolling k, or one more row, made TurboFan
 * hoist the loads and spill the accumulators (half the speed). Measured on this machine's Zen 4 core, best of many
 * runs under the same load: ~55 GFLOP/s with FMA, ~43 without, vs ~30 for tfjs-wasm's XNNPACK matmul (which has
 * no FMA in wasm). The sums run over k in order, so results agree with XNNPACK's to rounding (exactly, without FMA).
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
 * The T x 8 microkernel of [Note: packed GEMM]: mk(a, b, c, ldc, K, bias, r, ldr, rows), `a` a packed tile [K][T],
 * `b` a panel [K][8]; stores the first `rows` rows of C (with bias and R added when non-zero). With `fma`, each
 * product is added by relaxed SIMD's f32x4.relaxed_madd (one rounding where the CPU fuses it).
 */
function microkernel(T: number, fma: boolean): Fn {
  const f = new Fn('mk', [I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [a, b, c, ldc, K, bias, r, ldr, rows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const acc = Array.from({ length: T }, () => [f.local(V128), f.local(V128)] as const);
  const [b0, b1, av] = f.locals(V128, 3);
  const [end, row] = f.locals(I32, 2);
  const first = acc[0] as readonly [number, number];
  f.get(bias).if();
  f.get(bias).vload(0).set(first[0]).get(bias).vload(16).set(first[1]);
  for (const [x, y] of acc.slice(1)) f.get(first[0]).set(x).get(first[1]).set(y);
  f.end();
  f.get(b).get(K).i32(5).shl().add().set(end);
  // One k per iteration: unrolled bodies let V8 hoist every load and spill the accumulators.
  forPtr(f, b, end, 32, () => {
    f.get(b).vload(0).set(b0).get(b).vload(16).set(b1);
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
  });
  acc.forEach(([x, y], i) => {
    f.get(rows).i32(i).gtU().if();
    f.get(r).if();
    f.get(r).get(ldr).i32(i).mul().add().set(row);
    f.get(x).get(row).vload(0).vadd().set(x).get(y).get(row).vload(16).vadd().set(y);
    f.end();
    f.get(c).get(ldc).i32(i).mul().add().tee(row).get(x).vstore(0).get(row).get(y).vstore(16);
    f.end();
  });
  return f;
}

/**
 * gemm(a, lda, bp, c, ldc, bias, M, panels, K, r, ldr, ap): see [Note: packed GEMM]; bias and r may be 0 (none), `ap`
 * is scratch for A packed into tiles of T rows ([K][T] each, the last zero-padded): ceil(M / T) * T * K floats.
 */
function gemmDriver(T: number): Fn {
  const f = new Fn('gemm', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [a, lda, bp, c, ldc, bias, M, panels, K, r, ldr, ap] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [row, lane, tile, src, dst, end, p, tiles, tileBytes, left] = f.locals(I32, 10);
  f.get(M)
    .i32(T - 1)
    .add()
    .i32(T)
    .divU()
    .tee(tiles)
    .i32(T)
    .mul()
    .set(end);
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
  // Panels outer, tiles inner.
  f.i32(0).set(p);
  f.block().loop();
  f.get(p).get(panels).geU().brIf(1);
  f.i32(0).set(tile);
  f.get(M).set(left);
  f.block().loop();
  f.get(tile).get(tiles).geU().brIf(1);
  f.get(ap).get(tile).get(tileBytes).mul().add();
  f.get(bp);
  f.get(c).get(tile).i32(T).mul().get(ldc).mul().add().get(p).i32(5).shl().add();
  f.get(ldc).get(K);
  f.get(bias).if(I32).get(bias).get(p).i32(5).shl().add().else().i32(0).end();
  f.get(r).if(I32).get(r).get(tile).i32(T).mul().get(ldr).mul().add().get(p).i32(5).shl().add().else().i32(0).end();
  f.get(ldr).get(left);
  f.call(0);
  f.get(left).i32(T).sub().set(left);
  f.get(tile).i32(1).add().set(tile);
  f.br(0).end().end();
  f.get(bp).get(K).i32(5).shl().add().set(bp);
  f.get(p).i32(1).add().set(p);
  f.br(0).end().end();
  return f;
}

/** The GEMM's functions: the microkernel first (the driver calls function 0), then `gemm`. */
export function gemmFunctions(fma: boolean): Fn[] {
  const T = fma ? GEMM_ROWS_FMA : GEMM_ROWS_MULADD;
  return [microkernel(T, fma), gemmDriver(T)];
}
