/**
 * @file One shard of a sharded CoOp step: a worker thread with its own wasm backend, text encoder and prompt learner
 * for a range of classes, or for all classes with a slice of the encoder's heads (engine worker's worker thread,
 * plain Node; entry of dist/train-shard-worker.js).
 *
 * The protocol is in [Note: sharded steps] (sharded-learner.ts). Messages in: `init`, `step`, `features`; out:
 * `ready`, `features`, `grad`, `error`. During a step the thread blocks in `Atomics.wait` inside the gradient tape
 * until the main thread has written dL/dfeatures of its classes into the shared buffer.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../tf/backends';
import { tokenTableTokenizer } from './token-table';
import { PromptLearner } from './prompt-learner';
import { sharedAllReduce, sliceForRank } from './tensor-parallel';
import { createTextEncoder, type TfTextEncoder } from './text-encoder-core';
import { setWasmKernels } from './text-encoder-wasm';
import { DF_ABORT, DF_READY, type ShardReply, type ShardRequest } from './shard-protocol';

const port = parentPort;
if (!port) throw new Error('train-shard-worker runs only as a worker thread.');

let encoder: TfTextEncoder | null = null;
let learner: PromptLearner | null = null;
let flag: Int32Array | null = null;
let dF: Float32Array | null = null;

function reply(m: ShardReply): void {
  port?.postMessage(m);
}

function setContext(ctx: Float32Array): PromptLearner {
  if (!learner) throw new Error('The shard was not initialised.');
  const v = learner.ctx;
  if (ctx.length !== v.size) throw new Error(`The shard got ${ctx.length} context values for ${v.size}.`);
  tf.tidy(() => v.assign(tf.tensor(ctx, v.shape)));
  return learner;
}

/**
 * The loss the shard differentiates: sum(features * dL/dfeatures). Its gradient w.r.t. the context is this shard's
 * part of the true gradient, because dL/dfeatures (a constant here) is what the main thread computed from the
 * features of every shard.
 */
function exchange(features: tf.Tensor2D): tf.Scalar {
  if (!flag || !dF) throw new Error('The shard was not initialised.');
  reply({ type: 'features', data: Float32Array.from(features.dataSync() as Float32Array) });
  Atomics.wait(flag, 0, 0);
  const state = Atomics.exchange(flag, 0, 0);
  if (state === DF_ABORT) throw new Error('The step was abandoned by the main thread.');
  if (state !== DF_READY) throw new Error(`Unexpected shard state ${state}.`);
  const g = tf.tensor2d(dF.slice(0, features.size), features.shape);
  return tf.sum(tf.mul(features, g));
}

async function handle(m: ShardRequest): Promise<void> {
  if (m.type === 'init') {
    await useBackend('wasm');
    setWasmKernels(m.kernels);
    const hp = m.heads;
    if (hp && m.options.path === 'plain') throw new Error('Head-parallel training runs the optimised path only.');
    encoder = hp
      ? createTextEncoder(sliceForRank(m.weights, hp.rank, hp.ranks), {
          allReduce: sharedAllReduce(
            new Int32Array(hp.control),
            new Float32Array(hp.slots),
            hp.rank,
            hp.ranks,
            hp.slotSize,
          ),
        })
      : createTextEncoder(m.weights);
    learner = new PromptLearner(encoder, tokenTableTokenizer(m.tokens), m.prompts, m.options);
    flag = new Int32Array(m.signal);
    dF = new Float32Array(m.dF);
    reply({ type: 'ready', tensors: tf.memory().numTensors });
  } else if (m.type === 'step') {
    const { grad } = await setContext(m.ctx).step(exchange);
    const data = Float32Array.from((await grad.data()) as Float32Array);
    grad.dispose();
    reply({ type: 'grad', data });
  } else {
    const f = setContext(m.ctx).features();
    const data = Float32Array.from((await f.data()) as Float32Array);
    f.dispose();
    reply({ type: 'features', data });
  }
}

// Requests are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ShardRequest) => {
  queue = queue.then(() =>
    handle(m).catch((e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) })),
  );
});
