/**
 * @file The wasm kernels' view of a text encoder: access to tfjs-wasm's heap, the encoder's weights packed for the
 * GEMM kernel (forward and transposed), scratch tensors and a row-blocked GEMM call (engine worker or browser;
 * imports only @tensorflow/tfjs-core).
 *
 * [Note: kernel memory] Everything the kernels touch lives in tfjs-wasm's heap as ordinary tfjs tensors: the packed
 * weights are one tensor owned by the encoder (freed by `encoder.dispose()`), the activations of a forward pass are
 * one scratch tensor (the arena) kept for its backward pass, which frees it (see [Note: arena lifetime] in
 * text-encoder-wasm.ts), and the backward pass's buffers are one scratch tensor freed
 * before it returns. So `tf.memory()` accounts for all of it, and the allocator reuses the same blocks step after
 * step. Addresses are looked up from the tensors on every call; JS views of the heap are rebuilt after any allocation
 * (the heap may grow and replace its ArrayBuffer).
 */
import * as tf from '@tensorflow/tfjs-core';
import { GEMM_MAX_ROWS, GEMM_PANEL } from '../tf/wasm-gemm';
import { instantiateKernels, type KernelExports, type Kernels } from '../tf/wasm-kernels';
import type { TfLayerNorm, TfLinear, TfTextEncoder } from './text-encoder-core';

/** The parts of tfjs-wasm's backend object the kernels use (internal to tfjs-backend-wasm 4.x, checked at run time). */
interface WasmBackendInternals {
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** The kernels bound to the active wasm backend's heap. */
export interface WasmContext {
  k: KernelExports;
  /** Rows per GEMM tile of these kernels. */
  tileRows: number;
  /** A float32 view of the whole heap (rebuilt when the heap grew). */
  f32(): Float32Array;
  /** An int32 view of the whole heap. */
  i32(): Int32Array;
  /** The heap byte address of a tensor's data. */
  addr(t: tf.Tensor): number;
  /** An uninitialised float32 tensor of `n` values, and its address. */
  scratch(n: number): { t: tf.Tensor; at: number };
}

let contexts = new WeakMap<object, WasmContext | null>();

/** How kernels are built over a heap: with fused multiply-add where the engine has relaxed SIMD. */
const defaultBuild = (memory: WebAssembly.Memory): Kernels => instantiateKernels(memory);
let buildKernels = defaultBuild;

/**
 * Replaces how the kernels are built (null: the default) and forgets every context, so the next pass builds its
 * kernels (and packs its weights) again. Tests force the multiply-add GEMM, or a build that throws as on an engine
 * without SIMD, to check both fallbacks on an engine that has everything.
 */
export function setKernelBuild(build: ((memory: WebAssembly.Memory) => Kernels) | null): void {
  buildKernels = build ?? defaultBuild;
  contexts = new WeakMap();
}

function memoryOf(be: WasmBackendInternals): WebAssembly.Memory | null {
  const m = be.wasm?.asm?.memory ?? be.wasm?.wasmMemory;
  return m instanceof WebAssembly.Memory ? m : null;
}

/** The active tfjs-wasm backend's heap, or null (another backend, or a build whose memory is not reachable). */
export function wasmHeap(): WebAssembly.Memory | null {
  return tf.getBackend() === 'wasm' ? memoryOf(tf.backend() as unknown as WasmBackendInternals) : null;
}

/** The kernels for the active backend, or null when it is not tfjs-wasm or the kernels cannot run there. */
export function wasmContext(): WasmContext | null {
  if (tf.getBackend() !== 'wasm') return null;
  const be = tf.backend() as unknown as WasmBackendInternals;
  if (contexts.has(be)) return contexts.get(be) ?? null;
  let ctx: WasmContext | null = null;
  try {
    const memory = memoryOf(be);
    if (memory && typeof be.makeOutput === 'function' && be.dataIdMap) {
      const { k, tileRows } = buildKernels(memory);
      let f32 = new Float32Array(memory.buffer);
      let i32 = new Int32Array(memory.buffer);
      const addr = (t: tf.Tensor) => {
        const d = be.dataIdMap.get(t.dataId);
        if (!d) throw new Error('A tensor is not on the wasm backend.');
        return d.memoryOffset;
      };
      ctx = {
        k,
        tileRows,
        f32: () => (f32.buffer === memory.buffer ? f32 : (f32 = new Float32Array(memory.buffer))),
        i32: () => (i32.buffer === memory.buffer ? i32 : (i32 = new Int32Array(memory.buffer))),
        addr,
        scratch: (n) => {
          const t = tf.engine().makeTensorFromTensorInfo(be.makeOutput([Math.max(4, n)], 'float32'));
          return { t, at: addr(t) };
        },
      };
    }
  } catch {
    // No SIMD, a shared heap, or another tfjs-wasm build: the tfjs-op path runs instead.
    ctx = null;
  }
  contexts.set(be, ctx);
  return ctx;
}

/** A linear layer packed for the GEMM: byte offsets (from the packed tensor's start) of B panels and the bias. */
export interface PackedLinear {
  b: number;
  bias: number;
  K: number;
  N: number;
}

/** The encoder's weights for the kernels (offsets relative to `tensor`'s data). */
export interface PackedEncoder {
  /** The kernels (hence the heap) the weights were packed for. */
  ctx: WasmContext;
  tensor: tf.Tensor;
  W: number;
  /** This rank's attention width (heads x head size) and MLP width. */
  Wl: number;
  hidden: number;
  heads: number;
  D: number;
  out: number;
  layers: {
    ln1: PackedNorm;
    ln2: PackedNorm;
    qkv: PackedLinear;
    qkvT: PackedLinear;
    out: PackedLinear;
    outT: PackedLinear;
    fc1: PackedLinear;
    fc1T: PackedLinear;
    fc2: PackedLinear;
    fc2T: PackedLinear;
  }[];
  lnf: PackedNorm;
  proj: PackedLinear;
  projT: PackedLinear;
  /** Byte offsets of the GEMM's A-packing scratch and partial-tile scratch. */
  apack: number;
  tile: number;
  /** Positional embeddings [contextLength, W] (small, kept in JS). */
  pos: Float32Array;
  dispose(): void;
}

/** A layer norm's gamma and beta offsets and epsilon. */
export interface PackedNorm {
  gamma: number;
  beta: number;
  eps: number;
}

/** Whether the kernels support this encoder's shapes (every GEMM width a multiple of the panel, heads of 4k floats). */
export function kernelShapesOk(enc: TfTextEncoder): boolean {
  const W = enc.width;
  const D = W / enc.heads;
  const l0 = enc.layerWeights[0];
  if (!l0 || enc.activation !== 'quick_gelu' || !Number.isInteger(D) || D % 4 !== 0) return false;
  const dims = [W, l0.qkv.w.shape[1] / 3, l0.fc1.w.shape[1], enc.projectionDim];
  return dims.every((d) => Number.isInteger(d) && d > 0 && d % GEMM_PANEL === 0);
}

const KEY = 'wasm-kernels';

/** Where a linear layer goes in the packed block (float offsets; no bias, -1, for the transposed copy). */
interface LinearSlot {
  lin: TfLinear;
  T: boolean;
  off: number;
  biasOff: number;
  K: number;
  N: number;
}

/** Where every weight and scratch buffer goes in the packed block, and how many floats the block holds. */
interface PackedLayout extends Pick<PackedEncoder, 'layers' | 'lnf' | 'proj' | 'projT'> {
  linears: LinearSlot[];
  /** Each layer norm with the float offsets of its gamma and beta. */
  norms: [TfLayerNorm, number, number][];
  /** Float offsets of the GEMM's A-packing scratch and partial-tile scratch. */
  apack: number;
  tile: number;
  floats: number;
}

/**
 * Lays the encoder out in one block of floats, each buffer starting on a 16-byte boundary: per layer its norms and
 * its linear layers forward and transposed, the final norm and projection, then the GEMM's scratch.
 */
function layoutEncoder(enc: TfTextEncoder): PackedLayout {
  const linears: LinearSlot[] = [];
  let floats = 0;
  const reserve = (n: number) => {
    const at = floats;
    floats += Math.ceil(n / 4) * 4;
    return at;
  };
  const lin = (l: TfLinear, T: boolean): PackedLinear => {
    const [K0 = 0, N0 = 0] = l.w.shape;
    const [K, N] = T ? [N0, K0] : [K0, N0];
    const off = reserve(K * N);
    const biasOff = T ? -1 : reserve(N);
    linears.push({ lin: l, T, off, biasOff, K, N });
    return { b: off * 4, bias: biasOff < 0 ? -1 : biasOff * 4, K, N };
  };
  const norms: [TfLayerNorm, number, number][] = [];
  const norm = (n: TfLayerNorm): PackedNorm => {
    const g = reserve(n.gamma.size);
    const b = reserve(n.beta.size);
    norms.push([n, g, b]);
    return { gamma: g * 4, beta: b * 4, eps: n.eps };
  };
  const layers = enc.layerWeights.map((l) => ({
    ln1: norm(l.ln1),
    ln2: norm(l.ln2),
    qkv: lin(l.qkv, false),
    qkvT: lin(l.qkv, true),
    out: lin(l.out, false),
    outT: lin(l.out, true),
    fc1: lin(l.fc1, false),
    fc1T: lin(l.fc1, true),
    fc2: lin(l.fc2, false),
    fc2T: lin(l.fc2, true),
  }));
  const lnf = norm(enc.finalLn);
  const proj = lin(enc.projection, false);
  const projT = lin(enc.projection, true);
  // The GEMM's A-packing scratch: a row block (see gemmRowBlock) of the largest K, rounded up to whole tiles.
  const maxK = Math.max(...linears.map((p) => p.K));
  const apack = reserve(GEMM_BLOCK_FLOATS + 2 * GEMM_MAX_ROWS * maxK);
  const tile = reserve(GEMM_MAX_ROWS * GEMM_PANEL);
  return { linears, norms, layers, lnf, proj, projT, apack, tile, floats };
}

/** Copies the weights into the heap at the block's float address `base`: GEMM panels and biases, then the norms. */
function writeWeights(ctx: WasmContext, base: number, layout: PackedLayout): void {
  for (const p of layout.linears) {
    const w = p.lin.w.dataSync() as Float32Array;
    const heap = ctx.f32();
    packPanels(heap, base + p.off, w, p.T, p.K, p.N);
    if (p.biasOff >= 0) heap.set(p.lin.b.dataSync() as Float32Array, base + p.biasOff);
  }
  for (const [n, g, b] of layout.norms) {
    const gamma = n.gamma.dataSync() as Float32Array;
    const beta = n.beta.dataSync() as Float32Array;
    ctx.f32().set(gamma, base + g);
    ctx.f32().set(beta, base + b);
  }
}

/** The packed weights of `enc`, built on first use and freed with the encoder (see [Note: kernel memory]). */
export function packedEncoder(enc: TfTextEncoder, ctx: WasmContext): PackedEncoder {
  const have = enc.derived.get(KEY) as PackedEncoder | undefined;
  if (have?.ctx === ctx) return have;
  // Packed for another wasm backend instance (another heap): pack again for this one.
  have?.dispose();
  const layout = layoutEncoder(enc);
  // Kept out of any enclosing tidy: the packed weights live as long as the encoder.
  const tensor = tf.keep(ctx.scratch(layout.floats).t);
  writeWeights(ctx, ctx.addr(tensor) / 4, layout);
  const l0 = enc.layerWeights[0] as TfTextEncoder['layerWeights'][number];
  const D = enc.width / enc.heads;
  const Wl = l0.qkv.w.shape[1] / 3;
  const packed: PackedEncoder = {
    ctx,
    tensor,
    W: enc.width,
    Wl,
    hidden: l0.fc1.w.shape[1],
    heads: Wl / D,
    D,
    out: enc.projectionDim,
    layers: layout.layers,
    lnf: layout.lnf,
    proj: layout.proj,
    projT: layout.projT,
    apack: layout.apack * 4,
    tile: layout.tile * 4,
    pos: enc.positionalEmbedding.dataSync().slice() as Float32Array,
    dispose: () => tensor.dispose(),
  };
  enc.derived.set(KEY, packed);
  return packed;
}

/** Writes B = w [K, N] (or w^T when `T`, w being [N, K]) as panels of 8 columns, [panel][k][8], zero-padded. */
export function packPanels(heap: Float32Array, at: number, w: Float32Array, T: boolean, K: number, N: number): void {
  const panels = Math.ceil(N / GEMM_PANEL);
  for (let p = 0; p < panels; p++) {
    const dst = at + p * K * GEMM_PANEL;
    const cols = Math.min(GEMM_PANEL, N - p * GEMM_PANEL);
    for (let k = 0; k < K; k++) {
      const row = dst + k * GEMM_PANEL;
      for (let j = 0; j < GEMM_PANEL; j++) {
        const n = p * GEMM_PANEL + j;
        // B[k][n] is w[k][n], or for the transpose w[n][k] (w is [N, K] then).
        heap[row + j] = j < cols ? (T ? (w[n * K + k] as number) : (w[k * N + n] as number)) : 0;
      }
    }
  }
}

/** Floats of A per GEMM call: a packed block of ~512 KiB stays in L2 while the panels sweep over it. */
const GEMM_BLOCK_FLOATS = 131072;

/** Rows of A per GEMM call, whole tiles. */
function gemmRowBlock(K: number, tile: number): number {
  return Math.max(tile, Math.floor(GEMM_BLOCK_FLOATS / K / tile) * tile);
}

/**
 * C[M, N] = A[M, K] @ B + bias (+ R[M, N] when `r` is non-zero, R apart from C); addresses in bytes, rows
 * contiguous; `base` is the packed tensor's address (see [Note: packed GEMM]).
 */
export function gemm(
  ctx: WasmContext,
  pk: PackedEncoder,
  base: number,
  l: PackedLinear,
  a: number,
  M: number,
  c: number,
  opts: { r?: number } = {},
): void {
  const { K, N } = l;
  const lda = K * 4;
  const ldc = N * 4;
  const block = gemmRowBlock(K, ctx.tileRows);
  const bias = l.bias >= 0 ? base + l.bias : 0;
  for (let m0 = 0; m0 < M; m0 += block) {
    const m = Math.min(block, M - m0);
    const r = opts.r ? opts.r + m0 * ldc : 0;
    const ap = base + pk.apack;
    ctx.k.gemm(
      a + m0 * lda,
      lda,
      base + l.b,
      c + m0 * ldc,
      ldc,
      bias,
      m,
      N / GEMM_PANEL,
      K,
      r,
      ldc,
      ap,
      base + pk.tile,
    );
  }
}
