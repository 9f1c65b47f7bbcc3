/**
 * @file Tensor parallelism for the frozen text encoder across threads: per-rank weight slices and a synchronous
 * all-reduce over shared memory (engine worker threads; tfjs-core, SharedArrayBuffer and Atomics only).
 *
 * [Note: head-parallel steps] Splitting the classes across threads (see [Note: sharded steps]) pays only with many
 * classes: every thread repeats the shared prefix and streams every weight matrix. With few classes the threads
 * split the encoder instead, Megatron-style: rank r of R holds the q/k/v columns and output-projection rows of heads
 * [r*H/R, (r+1)*H/R), and the fc1 columns / fc2 rows of its share of the MLP; layer norms, embeddings and the final
 * projection are replicated. Each layer then needs two sums across ranks (the output projection's and fc2's partial
 * products, "g": all-reduce forward, identity backward) and, in the backward pass, two more (the gradients reaching
 * the inputs of the split blocks, "f": identity forward, all-reduce backward). All ranks run the same graph, so they
 * meet at the same all-reduces in the same order, forward and backward; the sum is taken in rank order on every
 * rank, so the replicated hidden states stay bit-identical and every rank ends with the same, full context gradient.
 * Biases of the row-split layers are kept on rank 0 only, so the sum adds them once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipTextWeights, LinearWeights } from '../onnx/clip-text-graph';

/** A synchronous sum of equally long arrays across the ranks (every rank calls it with its own part). */
export type AllReduce = (x: Float32Array) => Float32Array;

function columns(l: LinearWeights, c0: number, c1: number): LinearWeights {
  const n = c1 - c0;
  const w = new Float32Array(l.inDim * n);
  for (let i = 0; i < l.inDim; i++) w.set(l.w.subarray(i * l.outDim + c0, i * l.outDim + c1), i * n);
  return { w, b: l.b.slice(c0, c1), inDim: l.inDim, outDim: n };
}

function rows(l: LinearWeights, r0: number, r1: number, keepBias: boolean): LinearWeights {
  return {
    w: l.w.slice(r0 * l.outDim, r1 * l.outDim),
    b: keepBias ? l.b.slice() : new Float32Array(l.outDim),
    inDim: r1 - r0,
    outDim: l.outDim,
  };
}

/** Whether the encoder splits evenly across `ranks` (heads and MLP width divisible). */
export function splitsAcross(w: Pick<ClipTextWeights, 'heads' | 'layers'>, ranks: number): boolean {
  const hidden = w.layers[0]?.fc1.outDim ?? 0;
  return ranks >= 1 && w.heads % ranks === 0 && hidden % ranks === 0;
}

/** Rank `rank`'s slice of the weights (see [Note: head-parallel steps]); `heads` stays the full count. */
export function sliceForRank(w: ClipTextWeights, rank: number, ranks: number): ClipTextWeights {
  if (!splitsAcross(w, ranks)) throw new Error(`The text encoder does not split evenly across ${ranks} threads.`);
  const a0 = (rank * w.width) / ranks;
  const a1 = ((rank + 1) * w.width) / ranks;
  return {
    ...w,
    layers: w.layers.map((l) => {
      const h0 = (rank * l.fc1.outDim) / ranks;
      const h1 = ((rank + 1) * l.fc1.outDim) / ranks;
      return {
        ...l,
        q: columns(l.q, a0, a1),
        k: columns(l.k, a0, a1),
        v: columns(l.v, a0, a1),
        out: rows(l.out, a0, a1, rank === 0),
        fc1: columns(l.fc1, h0, h1),
        fc2: rows(l.fc2, h0, h1, rank === 0),
      };
    }),
  };
}

/** Int32 slots of the all-reduce control block: arrivals at the barrier, and the barrier's generation. */
const ARRIVED = 0;
const GENERATION = 1;
/** Barrier polls before sleeping. */
const SPIN = 20_000;

/**
 * The all-reduce of rank `rank` of `ranks` over a control block (Int32Array[2] on a SharedArrayBuffer) and one slot
 * of `slotSize` floats per rank. Every call is two barriers: after all parts are written, and after all are read.
 */
export function sharedAllReduce(
  control: Int32Array,
  slots: Float32Array,
  rank: number,
  ranks: number,
  slotSize: number,
): AllReduce {
  const barrier = () => {
    const gen = Atomics.load(control, GENERATION);
    if (Atomics.add(control, ARRIVED, 1) === ranks - 1) {
      Atomics.store(control, ARRIVED, 0);
      Atomics.add(control, GENERATION, 1);
      Atomics.notify(control, GENERATION);
    } else {
      // The other ranks usually arrive within microseconds: spin briefly before sleeping (a futex wake-up costs more).
      for (let i = 0; i < SPIN && Atomics.load(control, GENERATION) === gen; i++);
      while (Atomics.load(control, GENERATION) === gen) Atomics.wait(control, GENERATION, gen);
    }
  };
  return (x) => {
    if (x.length > slotSize)
      throw new Error(`An all-reduce of ${x.length} values does not fit the ${slotSize}-value slots.`);
    slots.set(x, rank * slotSize);
    barrier();
    const y = slots.slice(0, x.length);
    for (let k = 1; k < ranks; k++) {
      const part = slots.subarray(k * slotSize, k * slotSize + x.length);
      for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + (part[i] as number);
    }
    barrier();
    return y;
  };
}

/** The "f" and "g" operators of [Note: head-parallel steps] for an all-reduce (identities when it is absent). */
export function reduceOps(allReduce: AllReduce | undefined): {
  f: (x: tf.Tensor) => tf.Tensor;
  g: (x: tf.Tensor) => tf.Tensor;
} {
  if (!allReduce) return { f: (x) => x, g: (x) => x };
  const sum = (t: tf.Tensor) => tf.tensor(allReduce(t.dataSync() as Float32Array), t.shape);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => sum(dy),
  }));
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: sum(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.clone(dy),
  }));
  return { f: (x) => f(x), g: (x) => g(x) };
}
