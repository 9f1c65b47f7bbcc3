/**
 * @file The text encoder's forward and backward pass on tfjs-wasm as one custom-gradient op over hand-assembled SIMD
 * kernels (engine worker or browser; imports only @tensorflow/tfjs-core). The maths is the optimised path's (see
 * text-encoder-fast.ts); this file only changes how it is executed on the wasm backend.
 *
 * [Note: one op per encoder pass] Through tfjs ops a step was ~5,000 kernel calls, each allocating its output, and the
 * attention ran in tfjs-wasm's scalar batched-matmul loop (XNNPACK is used only for plain 2-D products): ~1/3 of the
 * step was not in the linear layers. Here the whole encoder is one `tf.customGrad`: the forward pass runs layer norm,
 * the fused qkv GEMM, attention, the output projection with the residual added in the GEMM's epilogue, the MLP with
 * quick GELU, and the final norm and projection as ~10 kernel calls per layer into one scratch tensor, and keeps what
 * its backward pass needs (each layer's input, norm statistics, qkv, attention probabilities, MLP pre-activations;
 * see [Note: arena lifetime]);
 * the backward pass mirrors it with the transposed packed weights. Only input gradients are computed (the weights are
 * frozen). Which rows exist and what attends to what: [Note: ragged rows] (wasm-attention-plan.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TfTextEncoder } from './text-encoder-core';
import { allocator, cachedPlan, softmaxBackward, softmaxGroups, type Plan } from './wasm-attention-plan';
import {
  gemm,
  kernelShapesOk,
  packedEncoder,
  wasmContext,
  type PackedEncoder,
  type WasmContext,
} from './wasm-encoder-weights';

let enabled = true;

/** The encoder's `derived` entry that frees its kept arenas (see [Note: arena lifetime]). */
export const ARENAS = 'wasm-arenas';

/** Turns the wasm kernel path on or off (the bench compares it with the tfjs-op path in one process). */
export function setWasmKernels(on: boolean): void {
  enabled = on;
}

/** Whether the wasm kernel path is on (shard threads follow the thread that starts them). */
export function wasmKernelsOn(): boolean {
  return enabled;
}

/** The kernel context when the kernel path runs for `enc` on the active backend, else null. */
export function wasmPathFor(enc: TfTextEncoder): WasmContext | null {
  if (!enabled || !kernelShapesOk(enc)) return null;
  return wasmContext();
}

/**
 * [Note: arena lifetime] A custom gradient's `save` copies what it saves (tfjs-wasm's Identity kernel copies), which
 * for the arena meant twice its size at the end of every forward pass and a copy of up to hundreds of MiB. So the
 * arena is not saved: when a gradient tape records the pass, the arena is kept and the pass's backward frees it;
 * otherwise (a features pass) the forward frees it before returning. An arena whose backward never ran (the loss
 * threw, or the features did not reach the differentiated value) is freed by the next recorded pass on another
 * tape, or with its encoder.
 */
const pendingArenas = new Map<tf.Tensor, { tape: object; enc: TfTextEncoder }>();

/** Frees the kept arenas that `stale` selects. */
function releaseArenas(stale: (p: { tape: object; enc: TfTextEncoder }) => boolean): void {
  for (const [t, p] of pendingArenas)
    if (stale(p)) {
      pendingArenas.delete(t);
      t.dispose();
    }
}

/** The gradient tape that records an op run now, or null. */
function recordingTape(): object | null {
  const engine = tf.engine();
  return engine.isTapeOn() ? engine.state.activeTape : null;
}

/**
 * [Note: kernel chunks] A kernel pass holds per row (token) its arena (each layer's input, qkv, residual, MLP
 * pre-activation, norm statistics and attention probabilities; one layer of temporaries; the pair lists) and, during
 * its backward pass, one layer of gradients: at most ~300 KiB per token for a ViT-B text encoder (keys bounded by
 * the context length; measured: 214 MiB for 128 classes of 7 rows behind a 17-row prefix). tfjs' tape kept ~14x as
 * much per class (1.5 GiB for the tfjs-op path's fixed chunk of 64 such classes). The kernel path's default chunk is
 * as many classes as fit `KERNEL_CHUNK_BYTES` at that bound, so a step's memory is bounded whatever the class names'
 * lengths: at ViT-B size ~240 classes of 7-token suffixes per chunk, ~70 whole 24-token prompts, ~22 prompts of the
 * full 77 tokens.
 */
export const KERNEL_CHUNK_BYTES = 512 * 2 ** 20;

/** An upper bound of the bytes a kernel pass (forward and backward) of `enc` holds per row (token). */
export function kernelBytesPerRow(enc: TfTextEncoder): number {
  const W = enc.width;
  const l0 = enc.layerWeights[0];
  const Wl = (l0?.qkv.w.shape[1] ?? 0) / 3;
  const Hd = l0?.fc1.w.shape[1] ?? 0;
  const hK = (Wl / (W / enc.heads)) * enc.contextLength; // this rank's heads x the most keys a query has
  const layer = 2 * W + 3 * Wl + Hd + 4 + hK;
  const temporaries = 3 * W + Wl + Hd + 2 + 6 * hK;
  const backward = enc.projectionDim + 5 * W + 4 * Wl + Hd + hK;
  return 4 * (enc.layerWeights.length * layer + temporaries + backward);
}

/** Classes per chunk on the kernel path for classes of `rowsPerClass` rows after `prefixRows` shared rows. */
export function kernelChunkSize(enc: TfTextEncoder, rowsPerClass: number, prefixRows: number): number {
  const rows = Math.floor(KERNEL_CHUNK_BYTES / kernelBytesPerRow(enc)) - prefixRows;
  return Math.max(1, Math.floor(rows / Math.max(1, rowsPerClass)));
}

/** Float offsets of one layer's saved activations within the arena. */
interface LayerSlots {
  x0: number;
  st1: number;
  qkv: number;
  prob: number;
  x1: number;
  st2: number;
  u: number;
}

/**
 * Features [C, out] of prompts made of an optional shared `prefix` [P, W] and per-class `suffix` [C, S, W] (token
 * embeddings without positions), EOT at suffix row `eot[c]`, through the kernels (see [Note: one op per encoder
 * pass]). With `constantSuffix`, the suffix's gradient is returned as zeros and layer 0's qkv backward skips its rows.
 */
export function wasmForward(
  ctx: WasmContext,
  enc: TfTextEncoder,
  prefix: tf.Tensor2D | null,
  suffix: tf.Tensor3D,
  eot: number[],
  constantSuffix: boolean,
): tf.Tensor2D {
  const pk = packedEncoder(enc, ctx);
  const [C = 0, S = 0, W = 0] = suffix.shape;
  const P = prefix?.shape[0] ?? 0;
  const pl = cachedPlan(pk, P, C, S, eot);
  const { R } = pl;
  const { Wl, hidden: Hd, heads, D, out: Pout } = pk;
  const L = pk.layers.length;
  const reduce = enc.allReduce;
  // Arena: per-layer saved activations, then temporaries, then the two pair lists.
  const A = allocator();
  const slots: LayerSlots[] = pk.layers.map((_, l) => {
    const last = l === L - 1;
    const Q = last ? C : R;
    return {
      x0: A.take(R * W),
      st1: A.take(2 * R),
      qkv: A.take(R * 3 * Wl),
      prob: A.take(last ? pl.nEot : pl.nAll),
      x1: A.take(Q * W),
      st2: A.take(2 * Q),
      u: A.take(Q * Hd),
    };
  });
  const xf = A.take(C * W);
  const stf = A.take(2 * C);
  const tA = A.take(R * W);
  const tO = A.take(R * Wl);
  const tG = A.take(R * Hd);
  const tZ = A.take(C * W);
  const lAll = A.take(pl.listAll.length);
  const lEot = A.take(pl.listEot.length);

  const tape = recordingTape();
  if (tape) {
    releaseArenas((p) => p.tape !== tape);
    if (!enc.derived.has(ARENAS)) enc.derived.set(ARENAS, { dispose: () => releaseArenas((p) => p.enc === enc) });
  }
  const forward = () => {
    const { t: arena, at } = ctx.scratch(A.size);
    const outT = ctx.scratch(C * Pout);
    const pre = prefix ? (prefix.dataSync() as Float32Array) : null;
    const suf = suffix.dataSync() as Float32Array;
    const wb = ctx.addr(pk.tensor);
    const B = (f: number) => at + f * 4;
    const a0 = at / 4;
    let v = ctx.f32();
    ctx.i32().set(pl.listAll, a0 + lAll);
    ctx.i32().set(pl.listEot, a0 + lEot);
    // Layer 0's input: embeddings plus positions, ragged rows.
    const x0 = a0 + (slots[0] as LayerSlots).x0;
    for (let i = 0; i < P; i++)
      for (let j = 0; j < W; j++) v[x0 + i * W + j] = (pre?.[i * W + j] as number) + (pk.pos[i * W + j] as number);
    pl.len.forEach((n, c) => {
      for (let s = 0; s < n; s++) {
        const row = x0 + ((pl.base[c] as number) + s) * W;
        for (let j = 0; j < W; j++)
          v[row + j] = (suf[(c * S + s) * W + j] as number) + (pk.pos[(P + s) * W + j] as number);
      }
    });
    const allReduceInto = (f: number, n: number) => {
      if (!reduce) return;
      const sum = reduce(ctx.f32().subarray(a0 + f, a0 + f + n));
      ctx.f32().set(sum, a0 + f);
    };
    pk.layers.forEach((lw, l) => {
      const s = slots[l] as LayerSlots;
      const last = l === L - 1;
      const Q = last ? C : R;
      const next = last ? xf : (slots[l + 1] as LayerSlots).x0;
      ctx.k.layerNorm(B(s.x0), B(tA), wb + lw.ln1.gamma, wb + lw.ln1.beta, B(s.st1), R, W, lw.ln1.eps);
      gemm(ctx, pk, wb, lw.qkv, B(tA), R, B(s.qkv));
      // Attention over the pair list: scores, softmax per query, weighted values.
      const list = B(last ? lEot : lAll);
      const n = last ? pl.nEot : pl.nAll;
      ctx.k.dotPairs(list, n, B(s.qkv), 0, B(s.qkv) + Wl * 4, 4, D, B(s.prob));
      v = ctx.f32();
      softmaxGroups(v, a0 + s.prob, last ? pl.keysEot : pl.keysAll, heads);
      v.fill(0, a0 + tO, a0 + tO + Q * Wl);
      ctx.k.axpyPairs(list, n, B(s.prob), B(s.qkv) + 2 * Wl * 4, 4, B(tO), 8, D);
      // The residual stream: all rows, or the EOT rows gathered in the last layer.
      let res = s.x0;
      if (last) {
        v = ctx.f32();
        pl.len.forEach((n2, c) =>
          v.copyWithin(
            a0 + tZ + c * W,
            a0 + s.x0 + ((pl.base[c] as number) + n2 - 1) * W,
            a0 + s.x0 + ((pl.base[c] as number) + n2) * W,
          ),
        );
        res = tZ;
      }
      if (reduce) {
        gemm(ctx, pk, wb, lw.out, B(tO), Q, B(s.x1));
        allReduceInto(s.x1, Q * W);
        addInto(ctx.f32(), a0 + s.x1, a0 + res, Q * W);
      } else gemm(ctx, pk, wb, lw.out, B(tO), Q, B(s.x1), { r: B(res) });
      ctx.k.layerNorm(B(s.x1), B(tA), wb + lw.ln2.gamma, wb + lw.ln2.beta, B(s.st2), Q, W, lw.ln2.eps);
      gemm(ctx, pk, wb, lw.fc1, B(tA), Q, B(s.u));
      ctx.k.quickGelu(B(s.u), B(tG), Q * Hd);
      if (reduce) {
        gemm(ctx, pk, wb, lw.fc2, B(tG), Q, B(next));
        allReduceInto(next, Q * W);
        addInto(ctx.f32(), a0 + next, a0 + s.x1, Q * W);
      } else gemm(ctx, pk, wb, lw.fc2, B(tG), Q, B(next), { r: B(s.x1) });
    });
    ctx.k.layerNorm(B(xf), B(tZ), wb + pk.lnf.gamma, wb + pk.lnf.beta, B(stf), C, W, pk.lnf.eps);
    gemm(ctx, pk, wb, pk.proj, B(tZ), C, outT.at);
    // See [Note: arena lifetime].
    if (tape) pendingArenas.set(tf.keep(arena), { tape, enc });
    else arena.dispose();
    const value = tf.reshape(outT.t, [C, Pout]) as tf.Tensor2D;
    outT.t.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        try {
          return backward(ctx, pk, pl, slots, { xf, stf, lAll, lEot }, arena, dy, constantSuffix, reduce);
        } finally {
          pendingArenas.delete(arena);
          arena.dispose();
        }
      },
    };
  };
  const inputs = prefix ? [prefix, suffix] : [suffix];
  return tf.customGrad(forward as Parameters<typeof tf.customGrad>[0])(...inputs) as tf.Tensor2D;
}

function addInto(v: Float32Array, dst: number, src: number, n: number): void {
  for (let i = 0; i < n; i++) v[dst + i] = (v[dst + i] as number) + (v[src + i] as number);
}

/** The backward pass of `wasmForward` (see [Note: one op per encoder pass]): gradients of [prefix, suffix]. */
function backward(
  ctx: WasmContext,
  pk: PackedEncoder,
  pl: Plan,
  slots: LayerSlots[],
  fin: { xf: number; stf: number; lAll: number; lEot: number },
  arena: tf.Tensor,
  dy: tf.Tensor,
  constantSuffix: boolean,
  reduce: TfTextEncoder['allReduce'],
): tf.Tensor[] {
  const { P, C, S, R } = pl;
  const { W, Wl, hidden: Hd, heads, D, out: Pout } = pk;
  const L = pk.layers.length;
  const A = allocator();
  const dF = A.take(C * Pout);
  const dZ = A.take(C * W);
  const dE = A.take(C * W);
  const dX = A.take(R * W);
  const dG = A.take(R * Hd);
  const dM = A.take(R * W);
  const dO = A.take(R * Wl);
  const dQ = A.take(R * 3 * Wl);
  const dP = A.take(Math.max(pl.nAll, pl.nEot));
  const { t: scratch, at: bt } = ctx.scratch(A.size);
  const at = ctx.addr(arena);
  const wb = ctx.addr(pk.tensor);
  const a0 = at / 4;
  const b0 = bt / 4;
  const SA = (f: number) => at + f * 4;
  const SB = (f: number) => bt + f * 4;
  const allReduceAt = (f: number, n: number) => {
    if (!reduce) return;
    const sum = reduce(ctx.f32().subarray(b0 + f, b0 + f + n));
    ctx.f32().set(sum, b0 + f);
  };
  let v = ctx.f32();
  v.set(dy.dataSync() as Float32Array, b0 + dF);
  gemm(ctx, pk, wb, pk.projT, SB(dF), C, SB(dZ));
  ctx.k.layerNormBwd(SB(dZ), SA(fin.xf), SA(fin.stf), wb + pk.lnf.gamma, SB(dE), 0, C, W);
  for (let l = L - 1; l >= 0; l--) {
    const lw = pk.layers[l] as PackedEncoder['layers'][number];
    const s = slots[l] as LayerSlots;
    const last = l === L - 1;
    const Q = last ? C : R;
    const dRes = last ? dE : dX;
    // MLP.
    gemm(ctx, pk, wb, lw.fc2T, SB(dRes), Q, SB(dG));
    ctx.k.quickGeluBwd(SA(s.u), SB(dG), Q * Hd);
    gemm(ctx, pk, wb, lw.fc1T, SB(dG), Q, SB(dM));
    allReduceAt(dM, Q * W);
    ctx.k.layerNormBwd(SB(dM), SA(s.x1), SA(s.st2), wb + lw.ln2.gamma, SB(dRes), SB(dRes), Q, W);
    // Attention.
    gemm(ctx, pk, wb, lw.outT, SB(dRes), Q, SB(dO));
    const list = SA(last ? fin.lEot : fin.lAll);
    const n = last ? pl.nEot : pl.nAll;
    ctx.k.dotPairs(list, n, SB(dO), 8, SA(s.qkv) + 2 * Wl * 4, 4, D, SB(dP));
    v = ctx.f32();
    softmaxBackward(v, a0 + s.prob, b0 + dP, last ? pl.keysEot : pl.keysAll, heads);
    v.fill(0, b0 + dQ, b0 + dQ + R * 3 * Wl);
    ctx.k.axpyPairs(list, n, SB(dP), SA(s.qkv) + Wl * 4, 4, SB(dQ), 0, D);
    ctx.k.axpyPairs(list, n, SB(dP), SA(s.qkv), 0, SB(dQ) + Wl * 4, 4, D);
    ctx.k.axpyPairs(list, n, SA(s.prob), SB(dO), 8, SB(dQ) + 2 * Wl * 4, 4, D);
    // Rows whose input gradient is needed: all, or only the prefix in layer 0 when the suffix is constant.
    const rows = l === 0 && constantSuffix && P > 0 ? P : R;
    gemm(ctx, pk, wb, lw.qkvT, SB(dQ), rows, SB(dM));
    allReduceAt(dM, rows * W);
    if (last) {
      v = ctx.f32();
      v.fill(0, b0 + dX, b0 + dX + R * W);
      pl.len.forEach((n2, c) =>
        v.copyWithin(b0 + dX + ((pl.base[c] as number) + n2 - 1) * W, b0 + dE + c * W, b0 + dE + (c + 1) * W),
      );
    }
    ctx.k.layerNormBwd(SB(dM), SA(s.x0), SA(s.st1), wb + lw.ln1.gamma, SB(dX), SB(dX), rows, W);
  }
  v = ctx.f32();
  const grads: tf.Tensor[] = [];
  if (P > 0) grads.push(tf.tensor2d(v.slice(b0 + dX, b0 + dX + P * W), [P, W]));
  const ds = new Float32Array(C * S * W);
  if (!constantSuffix || P === 0)
    pl.len.forEach((n, c) =>
      ds.set(v.subarray(b0 + dX + (pl.base[c] as number) * W, b0 + dX + ((pl.base[c] as number) + n) * W), c * S * W),
    );
  grads.push(tf.tensor3d(ds, [C, S, W]));
  scratch.dispose();
  return grads;
}
