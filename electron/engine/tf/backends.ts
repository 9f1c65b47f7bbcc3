/**
 * @file tfjs backends in the Node engine: wasm (always), tensorflow (tfjs-node, optional), cpu.
 *
 * [Note: tfjs backends] The trainer is written against `@tensorflow/tfjs-core` only. In Node the
 * engine registers the wasm backend (the default: it installs everywhere), the plain JS cpu
 * backend (a slow reference), and `@tensorflow/tfjs-node` when the user installed it (it cannot be
 * installed on machines without access to its binary CDN, so it is never a dependency). The
 * browser GPU backends (WebGPU/WebGL) live in the desktop app's hidden compute window (see
 * [Note: compute port]); `probeBackends` reports them from that window's probe.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { dirname, join } from 'node:path';
import type { BackendStatus } from '../../../shared/contract';
import { AppError } from '../../../shared/result';
import { computeLink, listenForComputePort } from '../backends/compute-link';

/** Backends the Node engine knows about, in order of preference. */
export const NODE_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
/** A backend name of the Node engine. */
export type NodeBackend = (typeof NODE_BACKENDS)[number];

const require = createRequire(import.meta.url);
let tfjsNodeTried = false;
let tfjsNodeError: string | null = null;
let wasmConfigured = false;

function tryLoadTfjsNode(): boolean {
  if (!tfjsNodeTried) {
    tfjsNodeTried = true;
    try {
      require('@tensorflow/tfjs-node');
    } catch (e) {
      tfjsNodeError = e instanceof Error ? (e.message.split('\n')[0] ?? 'not installed') : String(e);
    }
  }
  return tfjsNodeError === null;
}

/** Whether @tensorflow/tfjs-node loaded (tried once per process). */
export function tfjsNodeAvailable(): boolean {
  return tryLoadTfjsNode();
}

function configureWasm(): void {
  if (wasmConfigured) return;
  wasmConfigured = true;
  // Resolve the .wasm binaries from the installed package (works from sources, bundles and asar-unpacked installs).
  const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  setWasmPaths(join(pkgDir, 'dist') + '/');
  setThreadsCount(Math.max(1, availableParallelism()));
}

/** Activates a backend (or the best available when `name` is undefined) and returns its name. */
export async function useBackend(name?: NodeBackend): Promise<NodeBackend> {
  const wanted = name ?? (tryLoadTfjsNode() ? 'tensorflow' : 'wasm');
  if (wanted === 'tensorflow' && !tryLoadTfjsNode()) {
    throw new AppError(
      'unsupported',
      'The "tensorflow" backend needs @tensorflow/tfjs-node, which is not installed. Install it with `npm install @tensorflow/tfjs-node`, or use --backend wasm.',
      tfjsNodeError ?? undefined,
    );
  }
  if (wanted === 'wasm') configureWasm();
  if (tf.getBackend() !== wanted) {
    const okSet = await tf.setBackend(wanted);
    if (!okSet) throw new AppError('unsupported', `The tfjs backend "${wanted}" could not be initialised.`);
  }
  await tf.ready();
  return wanted;
}

/** Checks which backends can be initialised, without leaving any other than the current one active. */
export async function probeBackends(): Promise<BackendStatus[]> {
  const statuses: BackendStatus[] = await gpuStatuses();
  const hasNode = tryLoadTfjsNode();
  statuses.push({
    name: 'tensorflow',
    available: hasNode,
    note: hasNode ? 'tfjs-node (native TensorFlow)' : `optional accelerator not installed (${tfjsNodeError ?? ''})`,
  });
  for (const name of ['wasm', 'cpu'] as const) {
    try {
      await useBackend(name);
      const note =
        name === 'wasm'
          ? // tfjs-wasm loads its single-threaded build under Node (tfjs issue 3830), whatever was requested.
            `WebAssembly, ${getThreadsCount()} thread(s) in use (${availableParallelism()} cores)`
          : 'plain JavaScript reference (slow)';
      statuses.push({ name, available: true, note });
    } catch (e) {
      statuses.push({ name, available: false, note: e instanceof Error ? e.message : String(e) });
    }
  }
  return statuses;
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

// The engine worker under Electron receives the compute window's port from the main process.
listenForComputePort();

/** The tfjs-core version in use. */
export const tfjsVersion: string = tf.version_core;
