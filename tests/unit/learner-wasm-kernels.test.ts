/**
 * @file The hand-assembled wasm kernels (see [Note: hand-assembled kernels]) against tfjs ops: the packed GEMM for
 * every row remainder, with and without bias and residual; layer norm and quick GELU forward and backward (the
 * backward against tfjs autodiff); the attention pair sweeps against plain loops; and the whole kernel encoder pass
 * against the tfjs-op path for features and gradients w.r.t. both inputs, without leaking tensors, also with the
 * multiply-add GEMM of engines without relaxed SIMD; and the fallback to the tfjs-op path where the kernels cannot be
 * built (plain Node; wasm and cpu backends; fixture model).
 *
 * Tolerances: the kernels compute in float32 like the ops they replace, in a different summation order (4-lane
 * partial sums, a polynomial exp with ~1 ulp error): agreement within ~1e-6 of the values' scale; the bounds (1e-5
 * relative, 1e-4 for sums over a whole encoder) still catch a wrong row, lane, stride or sign, which are O(1) errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../electron/engine/tf/backends';
import { GEMM_PANEL } from '../../electron/engine/tf/wasm-gemm';
import {
  instantiateKernels,
  kernelModuleBytes,
  relaxedSimdSupported,
  type KernelExports,
} from '../../electron/engine/tf/wasm-kernels';
import { activate, layerNorm } from '../../electron/engine/train/text-encoder-core';
import { fastForward } from '../../electron/engine/train/text-encoder-fast';
import { setWasmKernels, wasmPathFor } from '../../electron/engine/train/text-encoder-wasm';
import {
  packPanels,
  setKernelBuild,
  wasmContext,
  wasmHeap,
  type WasmContext,
} from '../../electron/engine/train/wasm-encoder-weights';
import { seededValues } from '../helpers/seeded';
import { loadFixtureLearnerParts, maxAbs, maxAbsDiff } from './learner-fixture';

type Parts = Awaited<ReturnType<typeof loadFixtureLearnerParts>>;

let ctx: WasmContext;
let parts: Parts;
/** Both GEMM builds over the wasm heap: separate multiply and add, and fused (relaxed SIMD). */
let gemms: { name: string; k: KernelExports }[];
beforeAll(async () => {
  await useBackend('wasm');
  ctx = wasmContext() as WasmContext;
  const heap = wasmHeap() as WebAssembly.Memory;
  gemms = [false, true].map((fma) => ({ name: fma ? 'fma' : 'mul+add', k: instantiateKernels(heap, fma).k }));
  parts = await loadFixtureLearnerParts();
}, 120_000);
afterAll(() => parts?.encoder.dispose());

/** A wasm tensor holding `values`, and its heap address. */
function onHeap(values: Float32Array): { t: tf.Tensor; at: number } {
  const t = tf.tensor1d(values);
  return { t, at: ctx.addr(t) };
}

const heapSlice = (at: number, n: number) => ctx.f32().slice(at / 4, at / 4 + n);

describe('wasm kernels', () => {
  it('assemble into a valid module and run on wasm only; the Node engine enables relaxed SIMD (FMA)', async () => {
    expect(WebAssembly.validate(kernelModuleBytes(false))).toBe(true);
    expect(relaxedSimdSupported()).toBe(true);
    expect(WebAssembly.validate(kernelModuleBytes(true))).toBe(true);
    expect(ctx.tileRows).toBe(6);
    expect(ctx).toBeTruthy();
    expect(wasmPathFor(parts.encoder)).not.toBeNull();
    setWasmKernels(false);
    expect(wasmPathFor(parts.encoder)).toBeNull();
    setWasmKernels(true);
    await useBackend('cpu');
    expect(wasmPathFor(parts.encoder)).toBeNull();
    await useBackend('wasm');
    // Exact GELU has no kernel: such encoders take the tfjs-op path.
    expect(wasmPathFor({ ...parts.encoder, activation: 'gelu' })).toBeNull();
  });

  it.each([
    [1, 3, 8],
    [4, 16, 16],
    [5, 17, 24],
    [6, 64, 8],
    [13, 5, 32],
    [87, 64, 40],
  ])('GEMM of %i x %i by %i x N equals tf.matMul, with and without bias and residual', (M, K, N) => {
    const a = seededValues(M * K, M + K);
    const w = seededValues(K * N, N + 3);
    const bias = seededValues(N, 7);
    const res = seededValues(M * N, 11);
    const wT = tf.tidy(() => tf.transpose(tf.tensor2d(w, [K, N])).dataSync() as Float32Array);
    for (const transposed of [false, true]) {
      // B packed from w [K, N] directly, or from its transpose [N, K] (how the backward weights are packed).
      const packed = onHeap(new Float32Array(Math.ceil(N / GEMM_PANEL) * GEMM_PANEL * K));
      packPanels(ctx.f32(), packed.at / 4, transposed ? wT : w, transposed, K, N);
      const A = onHeap(a);
      const B = onHeap(bias);
      const R = onHeap(res);
      const C = onHeap(new Float32Array(M * N));
      const ap = onHeap(new Float32Array((M + 6) * K));
      const tile = onHeap(new Float32Array(6 * GEMM_PANEL));
      for (const { name, k } of gemms)
        for (const [withBias, withRes] of [
          [false, false],
          [true, false],
          [true, true],
          [false, true],
        ]) {
          const at = (flag: boolean | undefined, h: { at: number }) => (flag ? h.at : 0);
          k.gemm(
            A.at,
            K * 4,
            packed.at,
            C.at,
            N * 4,
            at(withBias, B),
            M,
            N / GEMM_PANEL,
            K,
            at(withRes, R),
            N * 4,
            ap.at,
            tile.at,
          );
          const want = tf.tidy(() => {
            let y: tf.Tensor = tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(w, [K, N]));
            if (withBias) y = tf.add(y, tf.tensor1d(bias));
            if (withRes) y = tf.add(y, tf.tensor2d(res, [M, N]));
            return y.dataSync() as Float32Array;
          });
          const what = `${name}, bias ${withBias}, residual ${withRes}, B ${transposed ? 'from w^T' : 'from w'}`;
          expect(maxAbsDiff(heapSlice(C.at, M * N), want), what).toBeLessThan(1e-5 * Math.max(1, maxAbs(want)));
        }
      tf.dispose([packed.t, A.t, B.t, R.t, C.t, ap.t, tile.t]);
    }
  });

  it('layer norm forward and backward equal tfjs (with and without a gradient to add)', () => {
    const [M, W] = [6, 24];
    const x = Float32Array.from(seededValues(M * W, 4), (v, i) => 3 * v + (i % W) * 0.1 - 1);
    const gamma = Float32Array.from(seededValues(W, 5), (v) => 1 + v);
    const beta = seededValues(W, 6);
    const dy = seededValues(M * W, 8);
    const add = seededValues(M * W, 9);
    const ln = { gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta), eps: 1e-5 };
    const X = onHeap(x);
    const G = onHeap(gamma);
    const Bt = onHeap(beta);
    const Y = onHeap(new Float32Array(M * W));
    const ST = onHeap(new Float32Array(2 * M));
    const DY = onHeap(dy);
    const ADD = onHeap(add);
    const OUT = onHeap(new Float32Array(M * W));
    ctx.k.layerNorm(X.at, Y.at, G.at, Bt.at, ST.at, M, W, 1e-5);
    const want = tf.tidy(() => layerNorm(tf.tensor2d(x, [M, W]), ln).dataSync());
    expect(maxAbsDiff(heapSlice(Y.at, M * W), want)).toBeLessThan(1e-5 * maxAbs(want));
    const grad = tf.tidy(() =>
      tf
        .grad((t: tf.Tensor) => tf.sum(tf.mul(layerNorm(t, ln), tf.tensor2d(dy, [M, W]))))(tf.tensor2d(x, [M, W]))
        .dataSync(),
    );
    ctx.k.layerNormBwd(DY.at, X.at, ST.at, G.at, OUT.at, 0, M, W);
    expect(maxAbsDiff(heapSlice(OUT.at, M * W), grad)).toBeLessThan(1e-5 * maxAbs(grad));
    ctx.k.layerNormBwd(DY.at, X.at, ST.at, G.at, ADD.at, ADD.at, M, W);
    const plus = Float32Array.from(grad, (g, i) => g + (add[i] as number));
    expect(maxAbsDiff(heapSlice(ADD.at, M * W), plus)).toBeLessThan(1e-5 * maxAbs(plus));
    tf.dispose([X, G, Bt, Y, ST, DY, ADD, OUT].map((h) => h.t));
    tf.dispose([ln.gamma, ln.beta]);
  });

  it('quick GELU forward and backward equal tfjs from -200 to 200', () => {
    const n = 4096;
    const x = Float32Array.from({ length: n }, (_, i) =>
      i < 16
        ? ([-200, -90, -88, -60, -20, -1e-3, 0, 1e-3, 20, 60, 88, 90, 200, 5, -5, 0.5][i] as number)
        : ((i * 7919) % 8000) / 200 - 20,
    );
    const dg = seededValues(n, 12);
    const U = onHeap(x);
    const G = onHeap(new Float32Array(n));
    const DG = onHeap(dg);
    ctx.k.quickGelu(U.at, G.at, n);
    const want = tf.tidy(() => activate(tf.tensor1d(x), 'quick_gelu').dataSync());
    expect(maxAbsDiff(heapSlice(G.at, n), want)).toBeLessThan(1e-5 * maxAbs(want));
    const grad = tf.tidy(() =>
      tf
        .grad((t: tf.Tensor) => tf.sum(tf.mul(activate(t, 'quick_gelu'), tf.tensor1d(dg))))(tf.tensor1d(x))
        .dataSync(),
    );
    ctx.k.quickGeluBwd(U.at, DG.at, n);
    const got = heapSlice(DG.at, n);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(got, grad)).toBeLessThan(1e-5 * maxAbs(grad));
    tf.dispose([U.t, G.t, DG.t]);
  });

  it('attention pair sweeps (dot products and axpys over listed row pairs) equal plain loops', () => {
    const D = 24;
    const rows = 9;
    const a = seededValues(rows * 3 * D, 21);
    const b = seededValues(rows * 2 * D, 22);
    const pairs = [
      [0, 0, 1],
      [2, 1, 1],
      [8, 3, 0],
      [5, 5, 5],
      [1, 7, 2],
    ] as const;
    // Entries: (offset in a, offset in b, offset in the output rows) in bytes.
    const list = new Int32Array(pairs.flatMap(([i, j, o]) => [i * 3 * D * 4 + D * 4, j * 2 * D * 4, o * D * 4]));
    const coef = seededValues(pairs.length, 23);
    const A = onHeap(a);
    const B = onHeap(b);
    const L = onHeap(new Float32Array(list.length));
    ctx.i32().set(list, L.at / 4);
    const OUT = onHeap(new Float32Array(pairs.length));
    const CO = onHeap(coef);
    const Y = onHeap(new Float32Array(6 * D));
    ctx.k.dotPairs(L.at, pairs.length, A.at, 0, B.at, 4, D, OUT.at);
    const dots = pairs.map(([i, j]) => {
      let s = 0;
      for (let d = 0; d < D; d++) s += (a[i * 3 * D + D + d] as number) * (b[j * 2 * D + d] as number);
      return s;
    });
    expect(maxAbsDiff(heapSlice(OUT.at, pairs.length), dots)).toBeLessThan(1e-5);
    // Y[o] += coef * B[j] (x field 4, y field 8), with repeated targets accumulating.
    ctx.k.axpyPairs(L.at, pairs.length, CO.at, B.at, 4, Y.at, 8, D);
    const y = new Float32Array(6 * D);
    pairs.forEach(([, j, o], p) => {
      for (let d = 0; d < D; d++)
        y[o * D + d] = (y[o * D + d] as number) + (coef[p] as number) * (b[j * 2 * D + d] as number);
    });
    expect(maxAbsDiff(heapSlice(Y.at, 6 * D), y)).toBeLessThan(1e-5);
    tf.dispose([A.t, B.t, L.t, OUT.t, CO.t, Y.t]);
  });
});

describe('the kernel encoder pass', () => {
  /** Features and gradients w.r.t. (prefix, suffix) of sum(features * R), on the kernel or the tfjs-op path. */
  function run(kernels: boolean, constantSuffix: boolean) {
    setWasmKernels(kernels);
    try {
      const W = parts.encoder.width;
      const eot = [2, 0, 4, 3];
      const [C, S, P] = [eot.length, 5, 3];
      const prefix = tf.tensor2d(seededValues(P * W, 31), [P, W]);
      const suffix = tf.tensor3d(seededValues(C * S * W, 32), [C, S, W]);
      const r = tf.tensor2d(seededValues(C * parts.encoder.projectionDim, 33), [C, parts.encoder.projectionDim]);
      const f = (p: tf.Tensor, s: tf.Tensor) =>
        fastForward(parts.encoder, p as tf.Tensor2D, s as tf.Tensor3D, eot, { constantSuffix });
      const feats = tf.tidy(() => f(prefix, suffix).dataSync().slice());
      const [dp, ds] = tf
        .tidy(() => tf.grads((p: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(f(p, s), r)))([prefix, suffix]))
        .map((g) => {
          const v = g.dataSync().slice();
          g.dispose();
          return v;
        });
      tf.dispose([prefix, suffix, r]);
      return { feats, dp: dp as Float32Array, ds: ds as Float32Array };
    } finally {
      setWasmKernels(true);
    }
  }

  it("equals the tfjs-op path in features and both inputs' gradients, and leaks nothing", () => {
    // The tfjs-op path makes its transposed weights on first use (they belong to the encoder): count after that.
    run(false, false);
    const start = tf.memory().numTensors;
    const ops = run(false, false);
    const ker = run(true, false);
    expect(maxAbsDiff(ker.feats, ops.feats)).toBeLessThan(1e-4 * maxAbs(ops.feats));
    expect(maxAbs(ops.dp)).toBeGreaterThan(0);
    expect(maxAbs(ops.ds)).toBeGreaterThan(0);
    expect(maxAbsDiff(ker.dp, ops.dp)).toBeLessThan(1e-4 * maxAbs(ops.dp));
    expect(maxAbsDiff(ker.ds, ops.ds)).toBeLessThan(1e-4 * maxAbs(ops.ds));
    // A constant suffix: same prefix gradient, none for the suffix.
    const c = run(true, true);
    expect(maxAbsDiff(c.dp, ops.dp)).toBeLessThan(1e-4 * maxAbs(ops.dp));
    expect(maxAbs(c.ds)).toBe(0);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('runs the multiply-add GEMM (5-row tiles) where the engine lacks relaxed SIMD, with the same results', () => {
    const ops = run(false, false);
    setKernelBuild((memory) => instantiateKernels(memory, false));
    try {
      expect(wasmContext()?.tileRows).toBe(5);
      const ker = run(true, false);
      expect(maxAbsDiff(ker.feats, ops.feats)).toBeLessThan(1e-4 * maxAbs(ops.feats));
      expect(maxAbsDiff(ker.dp, ops.dp)).toBeLessThan(1e-4 * maxAbs(ops.dp));
      expect(maxAbsDiff(ker.ds, ops.ds)).toBeLessThan(1e-4 * maxAbs(ops.ds));
    } finally {
      setKernelBuild(null);
    }
    expect(wasmContext()?.tileRows).toBe(6);
  });

  it('falls back to the tfjs-op path where the kernels cannot be built (no SIMD, a shared heap)', () => {
    const ops = run(false, false);
    setKernelBuild(() => {
      throw new WebAssembly.CompileError('WebAssembly.Module(): invalid SIMD opcode');
    });
    try {
      expect(wasmContext()).toBeNull();
      expect(wasmPathFor(parts.encoder)).toBeNull();
      const start = tf.memory().numTensors;
      const fallback = run(true, false);
      // The very same tfjs ops: bit for bit.
      expect(fallback.feats).toEqual(ops.feats);
      expect(fallback.dp).toEqual(ops.dp);
      expect(fallback.ds).toEqual(ops.ds);
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      setKernelBuild(null);
    }
    expect(wasmPathFor(parts.encoder)).not.toBeNull();
  });
});
