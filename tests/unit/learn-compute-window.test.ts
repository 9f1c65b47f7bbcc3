/**
 * @file `learn` trains in the desktop app's compute window when the setting asks for a GPU backend (unit test, Node):
 * the window is the real compute service over a structured-clone MessageChannel, with the cpu backend standing in for
 * WebGL, so its learned context must equal a cpu run in the engine.
 */
import { MessageChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { readContextFile } from '../../electron/engine/formats/context-file';
import { ComputeLink, setComputeLink } from '../../electron/engine/backends/compute-link';
import { createComputeService } from '../../electron/compute-page/compute-service';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const writeImages = (root: string, perClass: number, seed: number): Promise<string[][]> =>
  writeColourDataset(root, perClass, seed);

describe('learn through the compute window', () => {
  it('trains in the window when the setting says webgl', async () => {
    const tmp = tempDir();
    const engine = inProcessEngine();
    await writeImages(join(tmp.path, 'd'), 11, 1);
    const { port1, port2 } = new MessageChannel();
    const ops: string[] = [];
    const serve = createComputeService(
      {
        probe: async () => ({
          webgpu: { available: false, note: 'none' },
          webgl: { available: true, software: false, note: 'fake GPU' },
          registered: ['cpu'],
        }),
        activate: async (name) => {
          ops.push(name);
          await tf.setBackend('cpu');
          return 'cpu';
        },
      },
      (m) => port2.postMessage(m),
    );
    port2.on('message', serve);
    setComputeLink(
      new ComputeLink({
        send: (m) => port1.postMessage(m),
        onMessage: (l) => port1.on('message', l),
        onClose: (l) => port1.on('close', l),
      }),
    );
    writeFileSync(join(engine.dataDir, 'settings.json'), JSON.stringify({ trainBackend: 'webgl' }));
    const model = fixtureModelDirs()[0] as string;
    const base = { model, data: join(tmp.path, 'd'), shots: 4, nCtx: 4, epochs: 3, augViews: 2, seed: 1 };
    const steps: number[] = [];
    const gpu = unwrap(
      await engine.client.call(
        'learn',
        { ...base, out: join(tmp.path, 'g') },
        {
          onProgress: (e) => {
            if (e.kind === 'step') steps.push(1);
          },
        },
      ),
    );
    expect(ops).toEqual(['webgl']);
    expect(gpu.backend).toBe('webgl');
    expect(steps).toHaveLength(3);
    setComputeLink(null);
    const cpu = unwrap(await engine.client.call('learn', { ...base, backend: 'cpu', out: join(tmp.path, 'c') }));
    const a = await readContextFile(gpu.contextPath);
    const b = await readContextFile(cpu.contextPath);
    let maxDiff = 0;
    a.ctx.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - (b.ctx[i] ?? NaN)))));
    expect(maxDiff).toBeLessThan(1e-5);
    port1.close();
    await engine.cleanup();
    tmp.cleanup();
  }, 120_000);
});
