/**
 * @file Entry of the hidden compute window's page (Electron renderer, sandboxed; bundled for the browser).
 *
 * Registers the GPU backends of tfjs, probes what this Chromium offers, and serves every MessagePort the preload
 * hands over (one per engine incarnation; see [Note: compute port]) with `createComputeService`.
 *
 * [Note: webgpu bundle] Both GPU backends are bundled: WebGPU (@tensorflow/tfjs-backend-webgpu) where Chromium
 * offers an adapter, WebGL otherwise. The probe reports what it found, and the choice falls back along
 * WebGPU > WebGL > the engine's own backends (see backend-choice.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { AppError } from '../../shared/result';
import { isSoftwareRenderer } from '../engine/backends/backend-choice';
import { COMPUTE_PORT_MESSAGE, type ComputeProbe } from '../engine/backends/compute-protocol';
import { createComputeService } from './compute-service';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string };
}
interface NavigatorGpu {
  gpu?: { requestAdapter(o?: { powerPreference?: string }): Promise<GpuAdapterLike | null> };
}

async function probeWebGpu(): Promise<ComputeProbe['webgpu']> {
  const gpu = (navigator as unknown as NavigatorGpu).gpu;
  if (!gpu) return { available: false, note: 'this Chromium exposes no WebGPU (navigator.gpu is missing)' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return { available: false, note: 'no WebGPU adapter (no usable GPU, or its driver is blocklisted)' };
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  if (!tf.findBackendFactory('webgpu'))
    return { available: false, note: `adapter ${name} found, but @tensorflow/tfjs-backend-webgpu is not bundled` };
  return { available: true, note: `WebGPU adapter ${name}` };
}

function probeWebGl(): ComputeProbe['webgl'] {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return { available: false, software: false, note: 'no WebGL 2 context' };
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { available: true, software: isSoftwareRenderer(renderer), note: `WebGL 2 on ${renderer}` };
}

async function probe(): Promise<ComputeProbe> {
  return {
    webgpu: await probeWebGpu(),
    webgl: probeWebGl(),
    registered: ['webgpu', 'webgl', 'cpu'].filter((b) => tf.findBackendFactory(b) !== null),
  };
}

async function activate(name: string): Promise<string> {
  if (tf.getBackend() !== name && !(await tf.setBackend(name)))
    throw new AppError('unsupported', `The tfjs backend "${name}" could not be initialised in the compute window.`);
  await tf.ready();
  return tf.getBackend();
}

window.addEventListener('message', (e: MessageEvent) => {
  const port = e.ports[0];
  if (e.source !== window || e.data !== COMPUTE_PORT_MESSAGE || !port) return;
  const serve = createComputeService({ probe, activate }, (m) => port.postMessage(m));
  port.onmessage = (m) => serve(m.data);
});
