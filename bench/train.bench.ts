/**
 * @file `npm run bench:train`: ms per CoOp training step for a ViT-B/32-size text encoder (width 512, 12 layers,
 * 8 heads, random weights, M = 16), optimised vs plain path, on every available tfjs backend (on wasm also the
 * optimised maths through tfjs ops vs the SIMD kernels, see [Note: one op per encoder pass]); then peak tensor memory
 * of one step for 100 and 1000 classes (plain Node script run by tsx).
 *
 * [Note: what the bench counts] A step is `PromptLearner.step` with a CoOp loss (cross-entropy of 100 * cos between
 * 32 fixed image features and the class features). GFLOP/s counts the matmul and attention arithmetic each path
 * really executes (forward plus the input-gradient backward, which is about as costly as the forward; no weight
 * gradients are needed because the encoder is frozen), so the two paths' rates are comparable while their step times
 * show the algorithmic savings. Times are medians over the measured steps after one warm-up step; the 10-class paths
 * take turns step by step so a change in the machine's load (printed) hits them alike. Learners with several threads
 * also print their busiest thread's CPU time per step (Linux), the step's critical path when the cores are free.
 * Then, on wasm, 1 thread vs the sharded learner's threads (one per core, 2 to 4), splitting the classes or the
 * encoder's heads, for 10, 20, 40 and 100 classes, on the kernel path and, for 10 and 100 classes, also through
 * tfjs ops (before the kernels) on 1 thread and split by classes (all of them taking turns step by step).
 * Environment: BENCH_STEPS (default 3), BENCH_MEMORY_CLASSES (default "100,1000"; empty to skip),
 * BENCH_SHARD_CLASSES (default "10,20,40,100"; empty to skip), BENCH_BEFORE_CLASSES (default "10,100": those of the
 * shard classes also timed through tfjs ops). The shard threads run dist/train-shard-worker.js, which
 * `npm run bench:train` builds first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import type { Scalar, Tensor2D } from '@tensorflow/tfjs-core';
import type { ClipTextWeights } from '../electron/engine/onnx/clip-text-graph';
import type { ShardMode } from '../electron/engine/train/sharded-learner';
import { mulberry32 } from '../electron/engine/train/splits';

// tfjs-core's ESM gradient registration imports files without extensions; let Node's resolver retry with .js
// (the same hook as scripts/demo-model/esm-resolve-hook.mjs, inlined so the bench runs with plain `tsx`).
register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); } catch (e) {
    const parent = context.parentURL ?? '';
    if (!parent.includes('/@tensorflow/') || !specifier.startsWith('.')) throw e;
    for (const suffix of ['.js', '/index.js']) { try { return await next(specifier + suffix, context); } catch {} }
    throw e;
  }
}`),
);

const tf = await import('@tensorflow/tfjs-core');
const { useBackend } = await import('../electron/engine/tf/backends');
const { TRAIN_BACKENDS } = await import('../shared/contract/train');
const { createTextEncoder } = await import('../electron/engine/train/text-encoder-core');
const { PromptLearner } = await import('../electron/engine/train/prompt-learner');
const { setWasmKernels } = await import('../electron/engine/train/text-encoder-wasm');
const { ShardedLearner } = await import('../electron/engine/train/sharded-learner');
const { tokenTable } = await import('../electron/engine/train/token-table');
type Learner = Pick<InstanceType<typeof PromptLearner>, 'step'>;

const W = 512;
const LAYERS = 12;
const HEADS = 8;
const VOCAB = 49408;
const CONTEXT = 77;
const PROJ = 512;
const M = 16;
const NAME_TOKENS = 5; // 1 + 16 + 5 + "." + EOS = 24 tokens, the "10 prompts x 24 tokens"
const STEPS = Number(process.env.BENCH_STEPS ?? 3);
const SHARD_CLASSES = (process.env.BENCH_SHARD_CLASSES ?? '10,20,40,100').split(',').filter(Boolean).map(Number);
const SHARD_THREADS = Math.max(2, Math.min(4, availableParallelism()));
const BEFORE_CLASSES = (process.env.BENCH_BEFORE_CLASSES ?? '10,100').split(',').filter(Boolean).map(Number);
const MEMORY_CLASSES = (process.env.BENCH_MEMORY_CLASSES ?? '100,1000').split(',').filter(Boolean).map(Number);

function randomWeights(): ClipTextWeights {
  const r = mulberry32(7);
  const arr = (n: number, scale: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const lin = (i: number, o: number) => ({ w: arr(i * o, 1 / Math.sqrt(i)), b: arr(o, 0.01), inDim: i, outDim: o });
  const ln = () => ({
    gamma: Float32Array.from({ length: W }, () => 1 + (r() - 0.5) * 0.1),
    beta: arr(W, 0.01),
    eps: 1e-5,
  });
  return {
    vocabSize: VOCAB,
    width: W,
    contextLength: CONTEXT,
    heads: HEADS,
    projectionDim: PROJ,
    activation: 'quick_gelu',
    tokenEmbedding: arr(VOCAB * W, 0.02),
    positionalEmbedding: arr(CONTEXT * W, 0.01),
    layers: Array.from({ length: LAYERS }, () => ({
      ln1: ln(),
      q: lin(W, W),
      k: lin(W, W),
      v: lin(W, W),
      out: lin(W, W),
      ln2: ln(),
      fc1: lin(W, 4 * W),
      fc2: lin(4 * W, W),
    })),
    finalLn: ln(),
    projection: lin(W, PROJ),
  };
}

/** A stand-in tokenizer: each word of a class name is one token id; "." is 269 as in CLIP's vocabulary. */
const tokenizer = {
  sotId: VOCAB - 2,
  eotId: VOCAB - 1,
  encode(text: string): number[] {
    const ids = text === '.' ? [269] : text.split(' ').map((w) => 1000 + (Number(w.replace(/\D/g, '')) % 40000));
    return [VOCAB - 2, ...ids, VOCAB - 1];
  },
  idToToken: (id: number) => `t${id}`,
};

function classNames(n: number): string[] {
  return Array.from({ length: n }, (_, c) => Array.from({ length: NAME_TOKENS }, (_, j) => `w${c * 7 + j}`).join(' '));
}

function coopLoss(nClasses: number) {
  const r = mulberry32(3);
  const img = tf.tidy(() => {
    const t = tf.tensor2d(
      Float32Array.from({ length: 32 * PROJ }, () => r() - 0.5),
      [32, PROJ],
    );
    return tf.div(t, tf.norm(t, 2, 1, true));
  });
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 32 }, (_, i) => i % nClasses),
        'int32',
      ),
      nClasses,
    ),
  );
  const loss = (f: Tensor2D) => {
    const fn = tf.div(f, tf.norm(f, 2, 1, true));
    return tf.losses.softmaxCrossEntropy(labels, tf.mul(tf.matMul(img, fn, false, true), 100)) as Scalar;
  };
  return { loss, dispose: () => tf.dispose([img, labels]) };
}

/** Forward matmul + attention FLOPs of `tokens` rows attending to `keys` keys on average, per layer stack. */
function forwardFlops(tokens: number, keys: number): number {
  return LAYERS * tokens * (24 * W * W + 4 * keys * W);
}

function executedFlops(path: 'optimised' | 'plain', classes: number): number {
  const S = NAME_TOKENS + 2;
  const P = 1 + M;
  if (path === 'plain') return 2 * forwardFlops(classes * (P + S), (P + S) / 2);
  // Shared prefix once, suffixes attend to the prefix and half of themselves.
  return 2 * (forwardFlops(P, P / 2) + forwardFlops(classes * S, P + S / 2));
}

type Path = 'kernels' | 'tfjs ops' | 'plain';

/** CPU ms of each thread of this process (Linux: /proc/self/task; empty elsewhere). */
function threadCpuMs(): Map<string, number> {
  const ms = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms.set(tid, ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS);
    }
  } catch {
    // No /proc (or a thread ended while it was read): no per-thread times.
  }
  return ms;
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** The largest CPU ms any one thread spent between two `threadCpuMs` snapshots (NaN without /proc). */
function busiestThread(a: Map<string, number>, b: Map<string, number>): number {
  let most = NaN;
  for (const [tid, v] of b) most = Math.max(Number.isNaN(most) ? 0 : most, v - (a.get(tid) ?? 0));
  return most;
}

/**
 * Median wall-clock, process-CPU and busiest-thread-CPU ms/step of each learner, the learners taking turns step by
 * step after one warm-up round, so a change in the machine's load hits them alike; `before(j)` runs before learner
 * j's step, `maxSteps(j)` caps its timed steps. On a loaded machine the CPU time of a one-thread learner is closer to
 * its quiet wall time than its wall time is (it includes Node's own helper threads, a few ms); for threads that wait
 * for each other the busiest thread's CPU time is the step's critical path (10 ms ticks: a median over steps).
 */
async function alternate(
  learners: Learner[],
  loss: (f: Tensor2D) => Scalar,
  before: (j: number) => void = () => undefined,
  maxSteps: (j: number) => number = () => STEPS,
): Promise<{ wall: number[]; cpu: number[]; busiest: number[] }> {
  const wall = learners.map(() => [] as number[]);
  const cpu = learners.map(() => [] as number[]);
  const busiest = learners.map(() => [] as number[]);
  for (let i = 0; i <= STEPS; i++)
    for (const [j, learner] of learners.entries()) {
      if (i > maxSteps(j)) continue;
      before(j);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const th0 = threadCpuMs();
      const { grad } = await learner.step(loss);
      grad.dispose();
      const c = process.cpuUsage(c0);
      if (i > 0) {
        wall[j]?.push(performance.now() - t0);
        cpu[j]?.push((c.user + c.system) / 1000);
        busiest[j]?.push(busiestThread(th0, threadCpuMs()));
      }
    }
  return { wall: wall.map(median), cpu: cpu.map(median), busiest: busiest.map(median) };
}

/** Median ms/step of the 10-class paths (see `alternate`); the plain path takes at most 2 timed steps (it is slow). */
async function comparePaths(
  enc: ReturnType<typeof createTextEncoder>,
  names: string[],
  loss: (f: Tensor2D) => Scalar,
  paths: Path[],
): Promise<{ wall: Partial<Record<Path, number>>; cpu: Partial<Record<Path, number>> }> {
  const learners = paths.map((p) => learnerFor(enc, names, p).learner);
  const ms = await alternate(
    learners,
    loss,
    (j) => setWasmKernels(paths[j] === 'kernels'),
    (j) => (paths[j] === 'plain' ? 2 : STEPS),
  );
  setWasmKernels(true);
  for (const l of learners) l.dispose();
  const byPath = (xs: number[]) => Object.fromEntries(paths.map((p, j) => [p, xs[j]]));
  return { wall: byPath(ms.wall), cpu: byPath(ms.cpu) };
}

/** A learner of `names` for `path`, made with the kernels on or off as the path has them (its default chunk). */
function learnerFor(enc: ReturnType<typeof createTextEncoder>, names: string[], path: Path) {
  setWasmKernels(path === 'kernels');
  const options = { nCtx: M, csc: false, position: 'end' as const, seed: 1 };
  const learner = new PromptLearner(enc, tokenizer, names, {
    ...options,
    path: path === 'plain' ? 'plain' : 'optimised',
  });
  setWasmKernels(true);
  return { learner, options };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const weights = randomWeights();
console.log(
  `CoOp step bench: text encoder width ${W}, ${LAYERS} layers, ${HEADS} heads (random weights), M=${M}, prompts of ${1 + M + NAME_TOKENS + 2} tokens, ${STEPS} timed steps (median)`,
);
const backends: string[] = [];
for (const name of TRAIN_BACKENDS) {
  if (name === 'cpu') continue; // the plain-JS reference backend is orders of magnitude slower
  try {
    await useBackend(name);
    backends.push(name);
  } catch (e) {
    console.log(`backend ${name}: not available (${(e as Error).message.split('\n')[0] ?? ''})`);
  }
}
for (const backend of backends) {
  await useBackend(backend as 'wasm');
  if (backend === 'wasm') {
    // [Note: wasm threads in Node] tfjs-backend-wasm disables its threaded build under Node (tfjs issue 3830: its
    // pthread workers are blob: URLs, which Node's Worker refuses), so setThreadsCount has no effect here.
    const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    console.log(`wasm: ${getThreadsCount()} thread(s) in use (multithread support: ${String(mt)})`);
  }
  const enc = createTextEncoder(weights);
  const classes = 10;
  const names = classNames(classes);
  const { loss, dispose } = coopLoss(classes);
  // On wasm the optimised path runs as one op over SIMD kernels; the same maths through tfjs ops (the path before
  // the kernels, and the one every other backend runs) is timed alongside, step for step in turn.
  const paths: Path[] = backend === 'wasm' ? ['kernels', 'tfjs ops', 'plain'] : ['tfjs ops', 'plain'];
  const { wall: ms, cpu } = await comparePaths(enc, names, loss, paths);
  for (const path of paths) {
    const gflops = executedFlops(path === 'plain' ? 'plain' : 'optimised', classes) / 1e9;
    console.log(
      `${backend.padEnd(10)} ${path.padEnd(9)} ${classes} classes: ${(ms[path] ?? 0).toFixed(0).padStart(6)} ms/step  ` +
        `${gflops.toFixed(1)} GFLOP executed, ${(gflops / ((ms[path] ?? 1) / 1000)).toFixed(1)} GFLOP/s ` +
        `(CPU time ${(cpu[path] ?? 0).toFixed(0)} ms/step)`,
    );
  }
  const fastest = paths[0] as Path;
  console.log(
    `${backend.padEnd(10)} speed-up plain/${fastest}: ${((ms.plain ?? 0) / (ms[fastest] ?? 1)).toFixed(2)}x` +
      (backend === 'wasm'
        ? `, tfjs ops/kernels: ${((ms['tfjs ops'] ?? 0) / (ms.kernels ?? 1)).toFixed(2)}x` +
          ` (load average ${loadavg()
            .map((x) => x.toFixed(1))
            .join(' ')})`
        : ''),
  );
  dispose();
  if (backend === 'wasm') {
    // [Note: sharded steps]: the classes split across worker threads, each with its own wasm backend.
    for (const n of SHARD_CLASSES) {
      const names = classNames(n);
      const l = coopLoss(n);
      // Each path on 1 thread and on the shard threads (which run the path they were started with), all in turn.
      const runs: { path: Path; split: 'one' | ShardMode; learner: Learner; close(): Promise<void> }[] = [];
      for (const path of BEFORE_CLASSES.includes(n) ? (['kernels', 'tfjs ops'] as const) : (['kernels'] as const)) {
        const { learner: single, options } = learnerFor(enc, names, path);
        const shardSource = { weights, tokens: tokenTable(tokenizer, names), prompts: names, options };
        runs.push({ path, split: 'one', learner: single, close: async () => single.dispose() });
        for (const split of path === 'kernels' ? (['classes', 'heads'] as const) : (['classes'] as const)) {
          setWasmKernels(path === 'kernels');
          const sharded = await ShardedLearner.start(single, shardSource, SHARD_THREADS, split);
          setWasmKernels(true);
          runs.push({ path, split, learner: sharded, close: () => sharded.close() });
        }
      }
      const { wall, busiest } = await alternate(
        runs.map((r) => r.learner),
        l.loss,
        (j) => setWasmKernels(runs[j]?.path === 'kernels'),
      );
      setWasmKernels(true);
      for (const r of [...runs].reverse()) await r.close();
      l.dispose();
      const at = (xs: number[], path: Path, split: 'one' | ShardMode) =>
        xs[runs.findIndex((r) => r.path === path && r.split === split)] ?? NaN;
      const ms = (path: Path, split: 'one' | ShardMode) => at(wall, path, split);
      for (const path of [...new Set(runs.map((r) => r.path))]) {
        const one = ms(path, 'one');
        const busy1 = at(busiest, path, 'one');
        const splits = runs
          .filter((r) => r.path === path && r.split !== 'one')
          .map((r) => {
            const busy = at(busiest, path, r.split);
            return (
              `by ${r.split} ${ms(path, r.split).toFixed(0)} ms/step (${(one / ms(path, r.split)).toFixed(2)}x; ` +
              `busiest thread ${busy.toFixed(0)} ms CPU, ${(busy1 / busy).toFixed(2)}x)`
            );
          });
        console.log(
          `${backend.padEnd(10)} ${path.padEnd(9)} ${n} classes: 1 thread ${one.toFixed(0)} ms/step ` +
            `(${busy1.toFixed(0)} ms CPU); ${SHARD_THREADS} threads ${splits.join(', ')} ` +
            `(load average ${loadavg()[0]?.toFixed(1)})`,
        );
      }
      if (runs.some((r) => r.path === 'tfjs ops'))
        console.log(
          `${backend.padEnd(10)} ${n} classes, tfjs ops / kernels: 1 thread ` +
            `${(ms('tfjs ops', 'one') / ms('kernels', 'one')).toFixed(2)}x, ${SHARD_THREADS} threads by classes ` +
            `${(ms('tfjs ops', 'classes') / ms('kernels', 'classes')).toFixed(2)}x`,
        );
    }
  }
  if (backend === backends[0]) {
    for (const n of MEMORY_CLASSES)
      for (const path of backend === 'wasm' ? (['kernels', 'tfjs ops'] as const) : (['tfjs ops'] as const)) {
        const l = coopLoss(n);
        const { learner } = learnerFor(enc, classNames(n), path);
        setWasmKernels(path === 'kernels');
        // A first step makes what the path keeps for the encoder (packed or transposed weights) outside the count.
        await learner.step(l.loss).then((r) => r.grad.dispose());
        const before = tf.memory().numBytes;
        const t0 = performance.now();
        const info = await tf.profile(async () => {
          const { grad } = await learner.step(l.loss);
          grad.dispose();
        });
        const ms1 = performance.now() - t0;
        const chunk = learner.chunkSize;
        learner.dispose();
        l.dispose();
        setWasmKernels(true);
        console.log(
          `${backend.padEnd(10)} ${path.padEnd(9)} ${n} classes (chunks of ${chunk}): peak tensor memory ` +
            `${((info.peakBytes - before) / 2 ** 20).toFixed(0)} MiB above the ${(before / 2 ** 20).toFixed(0)} MiB of ` +
            `weights, step ${(ms1 / 1000).toFixed(1)} s (profiled), process RSS ` +
            `${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
        );
      }
  }
  enc.dispose();
}
