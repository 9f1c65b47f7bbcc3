/**
 * @file The hidden compute window's page in headless Chromium: probes WebGL and trains CoOp on it (Node test runner).
 *
 * Electron cannot run here, so the page is loaded in Debian's Chromium with SwiftShader's software WebGL, and the
 * test plays the preload's part (posting a MessagePort to the page) and the engine's part (sending the protocol
 * messages of [Note: compute window protocol]). The same run on the tfjs cpu backend in Node is the reference.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ComputeProbe,
  ComputeTrainArgs,
  ComputeTrainResult,
} from '../../electron/engine/backends/compute-protocol';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { appRoot } from '../../electron/engine/settings/paths';
import { tokenTable } from '../../electron/engine/train/token-table';
import { PromptLearner, type PromptLearnerOptions } from '../../electron/engine/train/prompt-learner';
import { encodeIds, loadTextEncoder, readTextWeights, textModelFile } from '../../electron/engine/train/text-encoder';
import { trainCoop, type TrainData } from '../../electron/engine/train/trainer';
import type { Result } from '../../shared/result';
import { COMPUTE_PORT_MESSAGE } from '../../electron/engine/backends/compute-protocol';
import { fixtureModelDirs } from '../helpers/fixtures';
import { syntheticData } from '../unit/train-fake-learner';
import { CHROMIUM } from './harness';

const CLASSES = ['red apple', 'green leaf', 'blue sky'];
const LEARNER: PromptLearnerOptions = { nCtx: 4, csc: false, position: 'end', seed: 7, path: 'optimised' };
/** Two steps without CoOp's warm-up epoch (lr 1e-5 would hardly move the context), so that they change it visibly. */
const TRAIN = { epochs: 2, seed: 3, schedule: { baseLr: 0.002, warmupEpochs: 0, warmupLr: 0 } };
/** Software WebGL: Chromium's GPU-less default, the worst case the page must still handle. */
const WEBGL_ARGS = ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-first-run'];

/** Typed arrays do not survive `page.evaluate`'s JSON: Float32Arrays travel as base64. */
function pack(v: unknown): unknown {
  if (v instanceof Float32Array) return { __f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(pack);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pack(x)]));
  return v;
}

let browser: Browser;
let page: Page;
let outDir: string;

/** Sends one protocol call to the page's service and waits for its result; progress events are counted. */
async function call<T>(op: string, args: unknown): Promise<{ result: Result<T>; progress: number }> {
  return page.evaluate(
    async ({ op, packed, portMessage }) => {
      const unpack = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(unpack);
        if (v && typeof v === 'object') {
          const r = v as Record<string, unknown>;
          if (typeof r['__f32'] === 'string') {
            const bytes = Uint8Array.from(atob(r['__f32']), (c) => c.charCodeAt(0));
            return new Float32Array(bytes.buffer);
          }
          return Object.fromEntries(Object.entries(r).map(([k, x]) => [k, unpack(x)]));
        }
        return v;
      };
      const w = window as unknown as { __port?: MessagePort; __id?: number };
      if (!w.__port) {
        const channel = new MessageChannel();
        window.postMessage(portMessage, '*', [channel.port2]);
        w.__port = channel.port1;
        w.__port.start();
      }
      const port = w.__port;
      const id = (w.__id = (w.__id ?? 0) + 1);
      let progress = 0;
      return new Promise<{ result: Result<T>; progress: number }>((resolve) => {
        port.addEventListener('message', (e: MessageEvent) => {
          const m = e.data as { type: string; id: number; result?: Result<T> };
          if (m.id !== id) return;
          if (m.type === 'progress') progress++;
          if (m.type === 'result' && m.result) {
            const r = m.result;
            resolve({
              result: r.ok
                ? {
                    ok: true,
                    value: JSON.parse(
                      JSON.stringify(r.value, (_k, x: unknown) => (x instanceof Float32Array ? Array.from(x) : x)),
                    ) as T,
                  }
                : r,
              progress,
            });
          }
        });
        port.postMessage({ type: 'call', id, op, args: unpack(packed), wantsProgress: true });
      });
    },
    { op, packed: pack(args), portMessage: COMPUTE_PORT_MESSAGE },
  );
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'coop-compute-page-'));
  const { buildComputePage } = (await import(pathToFileURL(join(appRoot(), 'scripts/browser-bundles.mjs')).href)) as {
    buildComputePage: (root: string, outdir: string) => Promise<void>;
  };
  await buildComputePage(appRoot(), outDir);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: WEBGL_ARGS });
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(join(outDir, 'index.html')).href);
  if (errors.length) throw new Error(`The compute page failed to load: ${errors.join('; ')}`);
});

afterAll(async () => {
  await browser?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe('compute window page (headless Chromium)', () => {
  it('probes WebGL and WebGPU and says why a backend is unusable', async () => {
    const { result } = await call<ComputeProbe>('probe', {});
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.registered).toContain('webgl');
    // SwiftShader is a software renderer: available, but flagged so that `auto` prefers wasm.
    expect(result.value.webgl).toMatchObject({ available: true, software: true });
    expect(result.value.webgpu.note.length).toBeGreaterThan(0);
    const unknown = await call('nope', {});
    expect(unknown.result).toMatchObject({ ok: false, error: { code: 'unknown_op' } });
  });

  it('trains CoOp on WebGL to the same context as the cpu backend in Node', async () => {
    await tf.setBackend('cpu');
    const dir = fixtureModelDirs()[0] as string;
    const encoder = await loadTextEncoder(dir);
    const tokenizer = await ClipTokenizer.fromModelDir(dir);
    const learner = new PromptLearner(encoder, tokenizer, CLASSES, LEARNER);
    try {
      let data: TrainData = syntheticData({
        classes: 3,
        dim: encoder.projectionDim,
        trainPerClass: 8,
        views: 2,
        seed: 4,
      });
      const zs = encodeIds(
        encoder,
        CLASSES.map((c) => tokenizer.encode(`a photo of a ${c}.`)),
      );
      data = { ...data, classNames: CLASSES, zeroShotText: (await zs.array()).map((r) => Float32Array.from(r)) };
      zs.dispose();
      const initCtx = Float32Array.from(learner.ctx.dataSync());
      const args: ComputeTrainArgs = {
        backend: 'webgl',
        weights: readTextWeights(new Uint8Array(readFileSync(textModelFile(dir))), encoder.heads).weights,
        tokens: tokenTable(tokenizer, CLASSES),
        prompts: CLASSES,
        learner: LEARNER,
        initCtx,
        data,
        options: TRAIN,
      };
      const reference = await trainCoop(data, learner, { ...TRAIN, backend: 'cpu' });
      const { result, progress } = await call<ComputeTrainResult>('train', args);
      if (!result.ok) throw new Error(result.error.message);
      expect(result.value.backend).toBe('webgl');
      expect(progress).toBe(reference.steps + reference.curve.length);
      // float32 on SwiftShader vs float32 on the CPU, through two SGD steps of a 2-layer encoder: rounding only,
      // far below how far training moved the context.
      const local = Array.from(learner.ctx.dataSync());
      const maxDiff = Math.max(...result.value.ctx.map((x, i) => Math.abs(x - (local[i] ?? NaN))));
      const moved = Math.max(...local.map((x, i) => Math.abs(x - (initCtx[i] ?? NaN))));
      expect(moved).toBeGreaterThan(1e-3);
      expect(maxDiff).toBeLessThan(1e-5);
      result.value.result.curve.forEach((p, i) =>
        expect(p.trainLoss).toBeCloseTo(reference.curve[i]?.trainLoss ?? NaN, 3),
      );
      expect(result.value.result.test.accuracy).toBe(reference.test.accuracy);
    } finally {
      learner.dispose();
      encoder.dispose();
    }
  });
});
