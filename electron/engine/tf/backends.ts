/**
 * @file tfjs backends in the Node engine: wasm (always), tensorflow (tfjs-node, optional), cpu.
 *
 * [Note: tfjs backends] The trainer is written against `@tensorflow/tfjs-core` only. In Node the
 * engine registers the wasm backend (the default: it installs everywhere), the plain JS cpu
 * backend (a slow reference), and `@tensorflow/tfjs-node` when the user installed it (it cannot be
 * installed on machines without access to its binary CDN, so it is never a dependency). The
 * browser GPU backends (WebGPU/WebGL) live in the desktop app's hidden compute window (see
 * [Note: compute port]); `probeBackends` (backends/probe.ts) reports them from that window's probe.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { dirname, join } from 'node:path';
import type { EngineBackend } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { relaxedSimdSupported } from './wasm-kernels';

/** A backend name of the Node engine (see [Note: one list of training backends] in shared/contract/train.ts). */
export type NodeBackend = EngineBackend;

const require = createRequire(import.meta.url);
let tfjsNodeTried = false;
let tfjsNodeErrorText: string | null = null;
let wasmConfigured = false;

function tryLoadTfjsNode(): boolean {
  if (!tfjsNodeTried) {
    tfjsNodeTried = true;
    try {
      require('@tensorflow/tfjs-node');
    } catch (e) {
      tfjsNodeErrorText = e instanceof Error ? (e.message.split('\n')[0] ?? 'not installed') : String(e);
    }
  }
  return tfjsNodeErrorText === null;
}

/** Whether @tensorflow/tfjs-node loaded (tried once per process). */
export function tfjsNodeAvailable(): boolean {
  return tryLoadTfjsNode();
}

/** Why @tensorflow/tfjs-node did not load (null when it did, or was not tried yet). */
export function tfjsNodeError(): string | null {
  return tfjsNodeErrorText;
}

/**
 * [Note: relaxed SIMD in Node] The training kernels' GEMM is ~30% faster with fused multiply-add (see [Note: packed
 * GEMM]), which WebAssembly has only in the relaxed SIMD extension: on by default in V8 11.4+ (Electron, Node 22+),
 * behind a flag in Node 20's V8 11.3, where the implementation is the one that shipped. The engine sets that flag
 * before any kernel module is compiled; V8 reads wasm feature flags per compile, and flags are process-wide (shard
 * threads included). It changes nothing else: modules without relaxed instructions validate as before.
 */
function enableRelaxedSimd(): void {
  if (relaxedSimdSupported()) return;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // An engine without the flag: the kernels use separate multiply and add.
  }
}

function configureWasm(): void {
  if (wasmConfigured) return;
  wasmConfigured = true;
  enableRelaxedSimd();
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
      tfjsNodeErrorText ?? undefined,
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

/** The tfjs-core version in use. */
export const tfjsVersion: string = tf.version_core;
