/**
 * @file Which tfjs backends can train here: the Node backends of this process and the compute window's GPU
 * backends, for `doctor` and the system card (engine, plain Node).
 */
import { availableParallelism } from 'node:os';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { BackendStatus } from '../../../shared/contract';
import { TRAIN_BACKENDS, type EngineBackend } from '../../../shared/contract/train';
import { tfjsNodeAvailable, tfjsNodeError, useBackend } from '../tf/backends';
import { computeLink } from './compute-link';

/** Checks which backends can be initialised, without leaving any other than the current one active. */
export async function probeBackends(): Promise<BackendStatus[]> {
  const statuses: BackendStatus[] = await gpuStatuses();
  for (const name of TRAIN_BACKENDS) statuses.push(await engineStatus(name));
  return statuses;
}

/** One backend of this process: tfjs-node by whether it loaded, the others by initialising them. */
async function engineStatus(name: EngineBackend): Promise<BackendStatus> {
  if (name === 'tensorflow') {
    const hasNode = tfjsNodeAvailable();
    return {
      name,
      available: hasNode,
      note: hasNode ? 'tfjs-node (native TensorFlow)' : `optional accelerator not installed (${tfjsNodeError() ?? ''})`,
    };
  }
  try {
    await useBackend(name);
    const note =
      name === 'wasm'
        ? // tfjs-wasm loads its single-threaded build under Node (tfjs issue 3830), whatever was requested.
          `WebAssembly, ${getThreadsCount()} thread(s) in use (${availableParallelism()} cores)`
        : 'plain JavaScript reference (slow)';
    return { name, available: true, note };
  } catch (e) {
    return { name, available: false, note: e instanceof Error ? e.message : String(e) };
  }
}

/** WebGPU and WebGL as the compute window found them, or why there is no window. */
async function gpuStatuses(): Promise<BackendStatus[]> {
  const link = computeLink();
  const probe = link ? await link.probe().catch((e: unknown) => (e instanceof Error ? e.message : String(e))) : null;
  if (probe === null || typeof probe === 'string') {
    const note = probe ?? 'desktop app only (hidden GPU compute window)';
    return [
      { name: 'webgpu', available: false, note },
      { name: 'webgl', available: false, note },
    ];
  }
  return [
    { name: 'webgpu', available: probe.webgpu.available, note: probe.webgpu.note },
    {
      name: 'webgl',
      available: probe.webgl.available,
      note: probe.webgl.software ? `${probe.webgl.note} (software renderer: slower than wasm)` : probe.webgl.note,
    },
  ];
}
