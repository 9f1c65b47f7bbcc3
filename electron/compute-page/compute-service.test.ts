/**
 * @file The compute window's service and the engine's link to it, joined by a real structured-clone MessageChannel
 * (worker_threads) instead of Electron's ports, training a tiny fixture CLIP model on the tfjs cpu backend.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainProgress } from '../../shared/contract/train';
import { ClipTokenizer } from '../engine/clip/tokenizer';
import { ComputeLink } from '../engine/backends/compute-link';
import {
  chooseBackendForRun,
  engineBackendFromSetting,
  prepareRunBackend,
  trainCoopOnCompute,
} from '../engine/backends/training-backend';
import { PromptLearner, type PromptLearnerOptions } from '../engine/train/prompt-learner';
import { encodeIds, loadTextEncoder, type TfTextEncoder } from '../engine/train/text-encoder';
import { trainCoop, type TrainData } from '../engine/train/trainer';
import { fixtureModelDirs } from '../../tests/helpers/fixtures';
import { tempDir } from '../../tests/helpers/engine';
import { syntheticData } from '../../tests/unit/train-fake-learner';
import type { ComputeProbe } from '../engine/backends/compute-protocol';
import { createComputeService } from './compute-service';

const CLASSES = ['red apple', 'green leaf', ' blue sky'];
const LEARNER: PromptLearnerOptions = { nCtx: 4, csc: false, position: 'end', seed: 5, path: 'optimised' };
const PROBE: ComputeProbe = {
  webgpu: { available: false, note: 'no WebGPU adapter' },
  webgl: { available: true, software: false, note: 'WebGL 2 on a test GPU' },
  registered: ['cpu'],
};
const dir = fixtureModelDirs()[0] as string;
let encoder: TfTextEncoder;
let tokenizer: ClipTokenizer;
let data: TrainData;
const ports: MessageChannel[] = [];

/** A link and a service joined by a worker_threads channel (structured clone, like Electron's ports). */
function connect(): ComputeLink {
  const { port1, port2 } = new MessageChannel();
  ports.push({ port1, port2 } as MessageChannel);
  const serve = createComputeService(
    {
      probe: async () => PROBE,
      activate: async (name) => {
        if (name !== 'cpu') throw new Error(`backend ${name} is not registered here`);
        return tf.getBackend();
      },
    },
    (m) => port2.postMessage(m),
  );
  port2.on('message', serve);
  return new ComputeLink({
    send: (m) => port1.postMessage(m),
    onMessage: (l) => port1.on('message', l),
    onClose: (l) => port1.on('close', l),
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  encoder = await loadTextEncoder(dir);
  tokenizer = await ClipTokenizer.fromModelDir(dir);
  data = syntheticData({ classes: CLASSES.length, dim: encoder.projectionDim, trainPerClass: 8, views: 2, seed: 3 });
  const zs = encodeIds(
    encoder,
    CLASSES.map((c) => tokenizer.encode(`a photo of a ${c.trim()}.`)),
  );
  data = { ...data, classNames: CLASSES, zeroShotText: (await zs.array()).map((r) => Float32Array.from(r)) };
  zs.dispose();
}, 120_000);

afterAll(() => {
  encoder?.dispose();
  for (const c of ports) {
    c.port1.close();
    c.port2.close();
  }
});

const source = (backend = 'cpu') => ({
  backend,
  modelDir: dir,
  heads: encoder.heads,
  tokenizer,
  prompts: CLASSES,
  options: LEARNER,
});

describe('training in the compute window', () => {
  it('gives the same context, curve and progress as training in the engine', async () => {
    const local = new PromptLearner(encoder, tokenizer, CLASSES, LEARNER);
    const remote = new PromptLearner(encoder, tokenizer, CLASSES, LEARNER);
    // A start the service cannot reproduce from the options alone: it must use the context it is sent.
    const start0 = tf.randomNormal(local.ctx.shape, 0, 0.05, 'float32', 42);
    local.ctx.assign(start0);
    remote.ctx.assign(start0);
    start0.dispose();
    try {
      const localResult = await trainCoop(data, local, { epochs: 3, seed: 2, backend: 'cpu' });
      const events: TrainProgress[] = [];
      const start = tf.memory().numTensors;
      const remoteResult = await trainCoopOnCompute(
        source(),
        data,
        remote,
        { epochs: 3, seed: 2, backend: 'cpu', onProgress: (e) => events.push(e) },
        connect(),
      );
      // The service frees its encoder and learner: only this process's own tensors remain.
      expect(tf.memory().numTensors).toBe(start);
      // Same code, same backend, same start: the same numbers bit for bit.
      expect(Array.from(remote.ctx.dataSync())).toEqual(Array.from(local.ctx.dataSync()));
      expect(remoteResult.curve.map((p) => p.trainLoss)).toEqual(localResult.curve.map((p) => p.trainLoss));
      expect(remoteResult.test).toEqual(localResult.test);
      expect(events.filter((e) => e.kind === 'epoch')).toHaveLength(4);
      expect(events.filter((e) => e.kind === 'step')).toHaveLength(remoteResult.steps);
    } finally {
      local.dispose();
      remote.dispose();
    }
  }, 120_000);

  it('cancels a running job, and reports bad requests as errors', async () => {
    const link = connect();
    const learner = new PromptLearner(encoder, tokenizer, CLASSES, LEARNER);
    try {
      const controller = new AbortController();
      const run = trainCoopOnCompute(
        source(),
        data,
        learner,
        {
          epochs: 50,
          seed: 1,
          backend: 'cpu',
          signal: controller.signal,
          onProgress: (e) => {
            if (e.kind === 'step') controller.abort();
          },
        },
        link,
      );
      await expect(run).rejects.toMatchObject({ code: 'cancelled' });
      await expect(
        trainCoopOnCompute(source('webgpu'), data, learner, { epochs: 1, seed: 1, backend: 'x' }, link),
      ).rejects.toThrow(/backend webgpu is not registered/);
      await expect(link.train({ backend: 'cpu' } as never)).rejects.toMatchObject({ code: 'bad_args' });
      expect(await link.probe()).toEqual(PROBE);
    } finally {
      learner.dispose();
    }
  }, 120_000);

  it('fails the jobs in flight when the window goes away', async () => {
    const { port1, port2 } = new MessageChannel();
    const link = new ComputeLink({
      send: (m) => port1.postMessage(m),
      onMessage: (l) => port1.on('message', l),
      onClose: (l) => port1.on('close', l),
    });
    const pending = link.probe();
    port2.close();
    await expect(pending).rejects.toMatchObject({ code: 'engine_crashed' });
  });
});

describe('chooseBackendForRun', () => {
  it('uses the compute window when it has a GPU, unless the setting or the run says otherwise', async () => {
    const data = tempDir();
    try {
      const link = connect();
      expect(await chooseBackendForRun(data.path, undefined, link)).toMatchObject({
        backend: 'webgl',
        runsIn: 'compute-window',
      });
      expect(await chooseBackendForRun(data.path, undefined, null)).toMatchObject({
        backend: 'wasm',
        runsIn: 'engine',
      });
      writeFileSync(join(data.path, 'settings.json'), JSON.stringify({ trainBackend: 'wasm' }));
      expect(await chooseBackendForRun(data.path, undefined, link)).toMatchObject({
        backend: 'wasm',
        requested: 'wasm',
      });
      expect(await chooseBackendForRun(data.path, 'webgl', link)).toMatchObject({ backend: 'webgl' });
    } finally {
      data.cleanup();
    }
  });

  it("gives engine-only jobs the setting's engine backend, falling back from a GPU one", () => {
    const data = tempDir();
    try {
      expect(['wasm', 'tensorflow']).toContain(engineBackendFromSetting(data.path));
      writeFileSync(join(data.path, 'settings.json'), JSON.stringify({ trainBackend: 'cpu' }));
      expect(engineBackendFromSetting(data.path)).toBe('cpu');
      writeFileSync(join(data.path, 'settings.json'), JSON.stringify({ trainBackend: 'webgpu' }));
      expect(['wasm', 'tensorflow']).toContain(engineBackendFromSetting(data.path));
    } finally {
      data.cleanup();
    }
  });

  it('keeps an engine backend active next to a GPU run, and activates the chosen one otherwise', async () => {
    const data = tempDir();
    try {
      const gpu = await prepareRunBackend(data.path, undefined, connect());
      expect(gpu.choice.runsIn).toBe('compute-window');
      expect(['wasm', 'tensorflow']).toContain(gpu.engineBackend);
      expect(tf.getBackend()).toBe(gpu.engineBackend);
      const cpu = await prepareRunBackend(data.path, 'cpu', connect());
      expect(cpu).toMatchObject({ choice: { backend: 'cpu', runsIn: 'engine' }, engineBackend: 'cpu' });
      expect(tf.getBackend()).toBe('cpu');
    } finally {
      data.cleanup();
      await tf.setBackend('cpu');
    }
  });
});
