/**
 * @file Which tfjs backend trains, and where (pure TypeScript: used by the engine worker, tests and the UI's report).
 *
 * [Note: training backend choice] In order of preference: WebGPU in the desktop app's hidden compute window (a
 * usable GPU adapter and the webgpu backend bundled), then WebGL there (a hardware renderer: a software rasteriser
 * such as SwiftShader or llvmpipe is slower than wasm, so `auto` skips it), then tfjs-node in the engine worker when
 * the user installed it, then wasm in the engine worker (always there). The `trainingBackend` setting can ask for one
 * backend; when it cannot run here the choice falls back along the same order and says why, rather than failing a
 * run the user started. `cpu` (the plain JS reference) is only ever used when asked for.
 */

import {
  COMPUTE_WINDOW_BACKENDS,
  TRAINING_BACKEND_SETTINGS,
  TRAINING_BACKENDS,
  type TrainingBackend,
  type TrainingBackendSetting,
} from '../../../shared/contract/train';

/** What the hidden compute window found (see `compute-service.ts`'s `probe`). */
export interface GpuProbe {
  webgpu: { available: boolean; note: string };
  webgl: { available: boolean; software: boolean; note: string };
}

/** What the engine knows about this machine when it chooses. */
export interface BackendEnvironment {
  /** The compute window's probe; null without one (CLI, web mode, tests, or its window failed). */
  compute: GpuProbe | null;
  /** Whether @tensorflow/tfjs-node loaded in the engine worker. */
  tfjsNode: boolean;
}

/** The decision, with a sentence for the UI. */
export interface BackendChoice {
  backend: TrainingBackend;
  runsIn: 'compute-window' | 'engine';
  requested: TrainingBackendSetting;
  /** Why this backend: shown in doctor and the Settings screen. */
  reason: string;
}

/** What `auto` tries, best first: every backend but the slow `cpu` reference. */
const AUTO_ORDER: readonly TrainingBackend[] = TRAINING_BACKENDS.filter((b) => b !== 'cpu');

/** True for renderer strings of software rasterisers (SwiftShader, llvmpipe, softpipe, Microsoft Basic Render). */
export function isSoftwareRenderer(renderer: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
}

/** Parses a stored setting; anything unknown is `auto`. */
export function parseBackendSetting(value: unknown): TrainingBackendSetting {
  return (TRAINING_BACKEND_SETTINGS as readonly unknown[]).includes(value) ? (value as TrainingBackendSetting) : 'auto';
}

/** Whether `backend` can run here; `strict` (the auto order) also refuses a software WebGL. */
function usable(backend: TrainingBackend, env: BackendEnvironment, strict: boolean): string | null {
  switch (backend) {
    case 'webgpu':
      if (!env.compute) return 'WebGPU runs only in the desktop app';
      return env.compute.webgpu.available ? null : env.compute.webgpu.note;
    case 'webgl':
      if (!env.compute) return 'WebGL runs only in the desktop app';
      if (!env.compute.webgl.available) return env.compute.webgl.note;
      return strict && env.compute.webgl.software ? `${env.compute.webgl.note} is a software renderer` : null;
    case 'tensorflow':
      return env.tfjsNode ? null : '@tensorflow/tfjs-node is not installed';
    case 'wasm':
    case 'cpu':
      return null;
  }
}

function describe(backend: TrainingBackend): string {
  return backend === 'webgpu' || backend === 'webgl'
    ? `${backend === 'webgpu' ? 'WebGPU' : 'WebGL'} on the GPU (hidden compute window)`
    : backend === 'tensorflow'
      ? 'tfjs-node (native TensorFlow) in the engine'
      : backend === 'wasm'
        ? 'WebAssembly on the CPU in the engine'
        : 'the plain JavaScript reference backend (slow)';
}

/** Chooses the training backend for a setting on this machine; see [Note: training backend choice]. */
export function chooseTrainingBackend(setting: TrainingBackendSetting, env: BackendEnvironment): BackendChoice {
  const make = (backend: TrainingBackend, reason: string): BackendChoice => ({
    backend,
    runsIn: (COMPUTE_WINDOW_BACKENDS as readonly string[]).includes(backend) ? 'compute-window' : 'engine',
    requested: setting,
    reason,
  });
  const skipped: string[] = [];
  if (setting !== 'auto') {
    const why = usable(setting, env, false);
    if (why === null) return make(setting, `${describe(setting)}, as set in Settings.`);
    skipped.push(`${setting} was asked for but cannot run here (${why})`);
  }
  for (const candidate of AUTO_ORDER) {
    const why = usable(candidate, env, true);
    if (why === null) {
      const prefix = skipped.length ? `${skipped.join('; ')}; ` : '';
      return make(candidate, `${prefix}${describe(candidate)}${setting === 'auto' ? ', chosen automatically' : ''}.`);
    }
    if (setting === 'auto' || candidate !== setting) skipped.push(`${candidate}: ${why}`);
  }
  // Unreachable: wasm is always usable. Kept so the function is total.
  return make('wasm', `${describe('wasm')}.`);
}
