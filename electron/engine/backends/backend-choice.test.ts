import { describe, expect, it } from 'vitest';
import {
  chooseTrainingBackend,
  isSoftwareRenderer,
  parseBackendSetting,
  type BackendEnvironment,
  type GpuProbe,
} from './backend-choice';
import {
  COMPUTE_WINDOW_BACKENDS,
  TRAIN_BACKENDS,
  TRAINING_BACKEND_SETTINGS,
  TRAINING_BACKENDS,
} from '../../../shared/contract/train';
import { TRAIN_BACKEND_CHOICES } from '../../../shared/contract/settings';

const gpu = (over: { webgpu?: boolean; webgl?: boolean; software?: boolean } = {}): GpuProbe => ({
  webgpu: { available: over.webgpu ?? true, note: over.webgpu === false ? 'no WebGPU adapter' : 'adapter: Apple M2' },
  webgl: {
    available: over.webgl ?? true,
    software: over.software ?? false,
    note: over.software ? 'WebGL 2 on Google SwiftShader' : 'WebGL 2 on ANGLE (NVIDIA)',
  },
});
const cli: BackendEnvironment = { compute: null, tfjsNode: false };

describe('chooseTrainingBackend', () => {
  it('prefers WebGPU, then WebGL, then tfjs-node, then wasm', () => {
    expect(chooseTrainingBackend('auto', { compute: gpu(), tfjsNode: true })).toMatchObject({
      backend: 'webgpu',
      runsIn: 'compute-window',
    });
    expect(chooseTrainingBackend('auto', { compute: gpu({ webgpu: false }), tfjsNode: true })).toMatchObject({
      backend: 'webgl',
      runsIn: 'compute-window',
    });
    expect(
      chooseTrainingBackend('auto', { compute: gpu({ webgpu: false, webgl: false }), tfjsNode: true }),
    ).toMatchObject({ backend: 'tensorflow', runsIn: 'engine' });
    const plain = chooseTrainingBackend('auto', cli);
    expect(plain).toMatchObject({ backend: 'wasm', runsIn: 'engine', requested: 'auto' });
    expect(plain.reason).toContain('tfjs-node is not installed');
  });

  it('skips a software WebGL renderer in auto mode but uses it when asked for', () => {
    const env = { compute: gpu({ webgpu: false, software: true }), tfjsNode: false };
    const auto = chooseTrainingBackend('auto', env);
    expect(auto.backend).toBe('wasm');
    expect(auto.reason).toContain('software renderer');
    expect(chooseTrainingBackend('webgl', env)).toMatchObject({ backend: 'webgl', runsIn: 'compute-window' });
  });

  it('honours the setting when it can run, and otherwise falls back with the reason', () => {
    expect(chooseTrainingBackend('wasm', { compute: gpu(), tfjsNode: true })).toMatchObject({
      backend: 'wasm',
      runsIn: 'engine',
    });
    expect(chooseTrainingBackend('cpu', cli).backend).toBe('cpu');
    const noGpu = chooseTrainingBackend('webgpu', cli);
    expect(noGpu).toMatchObject({ backend: 'wasm', requested: 'webgpu' });
    expect(noGpu.reason).toMatch(/^webgpu was asked for but cannot run here \(WebGPU runs only in the desktop app\)/);
    const noNode = chooseTrainingBackend('tensorflow', { compute: gpu({ webgpu: false }), tfjsNode: false });
    expect(noNode.backend).toBe('webgl');
    expect(noNode.reason).toContain('tfjs-node is not installed');
  });

  it('never picks the slow cpu reference by itself', () => {
    for (const compute of [null, gpu(), gpu({ webgpu: false, webgl: false })])
      for (const tfjsNode of [false, true])
        expect(chooseTrainingBackend('auto', { compute, tfjsNode }).backend).not.toBe('cpu');
  });
});

describe('helpers', () => {
  it('recognises software renderers', () => {
    expect(isSoftwareRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)')).toBe(
      true,
    );
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.7, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)')).toBe(false);
  });

  it('derives the setting, the Settings choices and the run backends from one list', () => {
    expect([...TRAINING_BACKEND_SETTINGS]).toEqual(['auto', ...COMPUTE_WINDOW_BACKENDS, ...TRAIN_BACKENDS]);
    expect(TRAIN_BACKEND_CHOICES).toEqual(TRAINING_BACKEND_SETTINGS.filter((b) => b !== 'cpu'));
    for (const b of TRAINING_BACKENDS) {
      expect(parseBackendSetting(b)).toBe(b);
      const env = { compute: gpu(), tfjsNode: true };
      expect(chooseTrainingBackend(b, env).runsIn).toBe(
        (COMPUTE_WINDOW_BACKENDS as readonly string[]).includes(b) ? 'compute-window' : 'engine',
      );
    }
  });

  it('reads unknown or missing settings as auto', () => {
    expect(parseBackendSetting('webgl')).toBe('webgl');
    expect(parseBackendSetting('cuda')).toBe('auto');
    expect(parseBackendSetting(undefined)).toBe('auto');
  });
});
