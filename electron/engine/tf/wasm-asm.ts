/**
 * @file A minimal WebAssembly assembler: function bodies written as typed instruction calls, assembled into a module
 * that imports one linear memory (engine worker or browser; no imports, no Node APIs).
 *
 * [Note: hand-assembled kernels] The training kernels (wasm-kernels.ts) must run inside tfjs-wasm's own linear memory,
 * so that they read and write tensors in place, and the project has no C/C++-to-wasm toolchain. A module that imports
 * tfjs' `WebAssembly.Memory` is therefore written directly in WebAssembly instructions through this small assembler:
 * only the opcodes the kernels use (integer address arithmetic, structured loops, f32 and 128-bit SIMD arithmetic),
 * checked by `WebAssembly.validate` when the module is built and by the kernel tests against tfjs ops.
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const utf8 = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** A tuple of `N` numbers (local indices). */
type Locals<N extends number, T extends number[] = []> = T['length'] extends N ? T : Locals<N, [...T, number]>;

/** One function body under construction; every emitter returns `this` so code reads as a stack-machine listing. */
export class Fn {
  readonly bytes: number[] = [];
  private count: number;
  private readonly extra: number[] = [];

  constructor(
    readonly name: string,
    readonly params: number[],
    readonly results: number[] = [],
  ) {
    this.count = params.length;
  }

  /** Declares a local of type `t` and returns its index. */
  local(t: number): number {
    this.extra.push(t);
    return this.count++;
  }

  /** Declares `n` locals of type `t`. */
  locals<N extends number>(t: number, n: N): Locals<N> {
    return Array.from({ length: n }, () => this.local(t)) as Locals<N>;
  }

  private op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }

  private simd(code: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(code), ...imm);
  }

  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }
  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }
  tee(i: number): this {
    return this.op(0x22, ...uleb(i));
  }
  call(fn: number): this {
    return this.op(0x10, ...uleb(fn));
  }
  drop(): this {
    return this.op(0x1a);
  }

  // Control flow. `block`/`loop`/`if` take no values and return none.
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  /** `if` with no result, or with one result of type `t` (then `else` is required). */
  if(t?: number): this {
    return this.op(0x04, t ?? 0x40);
  }
  else(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }

  // i32 arithmetic and comparisons (unsigned where it matters: addresses).
  i32(n: number): this {
    return this.op(0x41, ...sleb(n));
  }
  eqz(): this {
    return this.op(0x45);
  }
  eq(): this {
    return this.op(0x46);
  }
  ne(): this {
    return this.op(0x47);
  }
  ltS(): this {
    return this.op(0x48);
  }
  ltU(): this {
    return this.op(0x49);
  }
  gtU(): this {
    return this.op(0x4b);
  }
  geU(): this {
    return this.op(0x4f);
  }
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  divU(): this {
    return this.op(0x6e);
  }
  and(): this {
    return this.op(0x71);
  }
  shl(): this {
    return this.op(0x74);
  }
  load(offset = 0): this {
    return this.op(0x28, 2, ...uleb(offset));
  }

  // f32 scalars.
  f32(x: number): this {
    return this.op(0x43, ...new Uint8Array(new Float32Array([x]).buffer));
  }
  fload(offset = 0): this {
    return this.op(0x2a, 2, ...uleb(offset));
  }
  fstore(offset = 0): this {
    return this.op(0x38, 2, ...uleb(offset));
  }
  fadd(): this {
    return this.op(0x92);
  }
  fsub(): this {
    return this.op(0x93);
  }
  fmul(): this {
    return this.op(0x94);
  }
  fdiv(): this {
    return this.op(0x95);
  }
  fsqrt(): this {
    return this.op(0x91);
  }
  i32FromF32(): this {
    return this.op(0xa8); // i32.trunc_f32_s
  }
  f32FromI32(): this {
    return this.op(0xb2); // f32.convert_i32_s
  }

  // 128-bit SIMD (f32x4 unless named otherwise); memory operands are natural alignment hints.
  vload(offset = 0): this {
    return this.simd(0x00, 4, ...uleb(offset));
  }
  vstore(offset = 0): this {
    return this.simd(0x0b, 4, ...uleb(offset));
  }
  vloadSplat(offset = 0): this {
    return this.simd(0x09, 2, ...uleb(offset)); // v128.load32_splat
  }
  vsplat(): this {
    return this.simd(0x13);
  }
  vconst(x: number): this {
    return this.f32(x).vsplat();
  }
  vlane(lane: number): this {
    return this.simd(0x1f, lane); // f32x4.extract_lane
  }
  vadd(): this {
    return this.simd(0xe4);
  }
  vsub(): this {
    return this.simd(0xe5);
  }
  vmul(): this {
    return this.simd(0xe6);
  }
  vdiv(): this {
    return this.simd(0xe7);
  }
  vmin(): this {
    return this.simd(0xe8);
  }
  vmax(): this {
    return this.simd(0xe9);
  }
  vfloor(): this {
    return this.simd(0x68);
  }
  /** f32x4.relaxed_madd (relaxed SIMD): a * b + c, fused or not as the CPU does it. */
  vmadd(): this {
    return this.simd(0x105);
  }
  /** i32x4.trunc_sat_f32x4_s */
  vtoInt(): this {
    return this.simd(0xf8);
  }
  /** i32x4.add */
  viadd(): this {
    return this.simd(0xae);
  }
  /** i32x4.shl by an i32 count on the stack */
  vishl(): this {
    return this.simd(0xab);
  }
  /** i32x4.splat */
  visplat(): this {
    return this.simd(0x11);
  }

  /** The encoded body (locals and code) for the code section. */
  encode(): number[] {
    const body = [...vec(this.extra.map((t) => [1, t])), ...this.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/**
 * Assembles functions into a module that imports `env.memory` (any size) and exports every function by name.
 * Function indices are positions in `fns` (for `call`).
 */
export function assemble(fns: Fn[]): Uint8Array<ArrayBuffer> {
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  const imports = vec([[...utf8('env'), ...utf8('memory'), 0x02, 0x00, 0x01]]);
  const funcs = vec(fns.map((_, i) => uleb(i)));
  const exports = vec(fns.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]));
  const code = vec(fns.map((f) => f.encode()));
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** `block loop (exit when ptr >= end) body; ptr += step; br loop end end`. */
export function forPtr(f: Fn, ptr: number, end: number, step: number, body: () => void): void {
  f.block().loop();
  f.get(ptr).get(end).geU().brIf(1);
  body();
  f.get(ptr).i32(step).add().set(ptr);
  f.br(0).end().end();
}
