/**
 * @file The CoOp trainer runs in a browser: the step trainer's browser bundle (tfjs-core + WebGL backend, no Node
 * modules) trains the demo model's prompt in headless Chromium on WebGL (SwiftShader software rendering) and gets
 * the same losses as the same code in Node (Node test runner + playwright-core).
 *
 * [Note: browser loss tolerance] Both sides run the same float32 maths, but WebGL shaders (SwiftShader) and the
 * tfjs cpu backend order their sums differently and the GPU's exp/sqrt are not correctly rounded, so losses agree
 * to ~1e-6 relative on this small model, not bit for bit. The test allows 1e-3 relative on each of the first three
 * step losses and 1e-3 of the context's scale on the learned context: a wrong mask, row or gradient changes the
 * loss trajectory by far more (each step lowers the loss by about 10% here). Measured here (SwiftShader
 * WebGL 2, float32 textures): the losses differ by about 1e-7 relative. A half-float-only WebGL would need a
 * looser bound.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { appRoot, demoModelDir } from '../../electron/engine/settings/paths';
import { readTextWeights } from '../../electron/engine/train/text-encoder';
import { createStepTrainer, type StepTrainerReply, type StepTrainerRequest } from './browser-trainer/step-trainer';
import { CHROMIUM } from './harness';
import { seededValues } from '../helpers/seeded';

/** Chromium with WebGL on SwiftShader (no GPU needed). */
const WEBGL_ARGS = [
  '--no-sandbox',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-dev-shm-usage',
];
const CLASSES = ['red circle', 'blue square', 'green triangle', 'yellow star'];
const STEPS = 3;

let bundle = '';
let browser: Browser | undefined;
let init: Extract<StepTrainerRequest, { type: 'init' }>;

beforeAll(async () => {
  // The options of the shipped browser bundles (scripts/build.mjs), built in memory.
  const { BROWSER_BUNDLE } = (await import(pathToFileURL(join(appRoot(), 'scripts/browser-bundles.mjs')).href)) as {
    BROWSER_BUNDLE: esbuild.BuildOptions;
  };
  const built = await esbuild.build({
    ...BROWSER_BUNDLE,
    absWorkingDir: appRoot(),
    entryPoints: ['tests/e2e/browser-trainer/browser-trainer-entry.ts'],
    write: false,
    logLevel: 'error',
  });
  bundle = built.outputFiles[0]?.text ?? '';

  const dir = demoModelDir();
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
    text_config: { num_attention_heads: number };
  };
  const { weights } = readTextWeights(
    new Uint8Array(readFileSync(join(dir, 'onnx', 'text_model.onnx'))),
    cfg.text_config.num_attention_heads,
  );
  const tok = await ClipTokenizer.fromModelDir(dir);
  const nCtx = 4;
  const images = 16;
  init = {
    type: 'init',
    weights,
    tokens: { sotId: tok.sotId, eotId: tok.eotId, encodings: [...CLASSES, '.'].map((t) => [t, tok.encode(t)]) },
    prompts: CLASSES,
    learner: { nCtx, csc: false, position: 'end', seed: 1 },
    initCtx: Float32Array.from(seededValues(nCtx * weights.width, 3), (x) => x * 0.04),
    images: seededValues(images * weights.projectionDim, 9),
    labels: Array.from({ length: images }, (_, i) => i % CLASSES.length),
  };
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: WEBGL_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

/** Runs init + STEPS steps + context through a step trainer's `handle`. */
async function trainIn(handle: (r: StepTrainerRequest) => Promise<StepTrainerReply>, backend: string) {
  const ready = await handle({ ...init, backend });
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const r = await handle({ type: 'step', lr: 0.002 });
    if (r.type !== 'stepped') throw new Error(`unexpected reply ${r.type}`);
    losses.push(r.loss);
  }
  const c = await handle({ type: 'context' });
  await handle({ type: 'dispose' });
  return { ready, losses, ctx: c.type === 'context' ? Array.from(c.ctx) : [] };
}

/** Float32Arrays cross page.evaluate as base64 (the page decodes them back). */
function encodeForPage(v: unknown): unknown {
  if (v instanceof Float32Array) return { __f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(encodeForPage);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeForPage(x)]));
  return v;
}

describe('the CoOp trainer in headless Chromium (WebGL)', () => {
  it('trains the demo model prompt with the same losses as in Node', async () => {
    // Node: the same module on the tfjs cpu backend.
    const node = await trainIn(createStepTrainer().handle, 'cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(node.losses.every(Number.isFinite)).toBe(true);
    expect(node.losses[STEPS - 1]).toBeLessThan(node.losses[0] ?? 0);

    const page = await (browser as Browser).newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.setContent('<!doctype html><title>step trainer</title>');
    await page.addScriptTag({ content: bundle });
    const web = await page.evaluate(
      async ({ initArgs, steps }) => {
        const decode = (v: unknown): unknown => {
          if (Array.isArray(v)) return v.map(decode);
          if (v && typeof v === 'object') {
            const b64 = (v as { __f32?: string }).__f32;
            if (b64 !== undefined) return new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
          }
          return v;
        };
        const g = globalThis as unknown as {
          coopStepTrainer: { handle(r: unknown): Promise<{ type: string; loss?: number; ctx?: Float32Array }> };
          tf?: unknown;
        };
        const ready = await g.coopStepTrainer.handle({ ...(decode(initArgs) as object), backend: 'webgl' });
        const losses: number[] = [];
        for (let i = 0; i < steps; i++)
          losses.push((await g.coopStepTrainer.handle({ type: 'step', lr: 0.002 })).loss ?? NaN);
        const ctx = Array.from((await g.coopStepTrainer.handle({ type: 'context' })).ctx ?? []);
        await g.coopStepTrainer.handle({ type: 'dispose' });
        const gl = document.createElement('canvas').getContext('webgl2');
        const ext = gl?.getExtension('WEBGL_debug_renderer_info');
        const renderer = gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'none';
        return { ready, losses, ctx, renderer };
      },
      { initArgs: encodeForPage(init), steps: STEPS },
    );
    await page.close();
    expect(pageErrors).toEqual([]);
    expect(web.ready).toMatchObject({ type: 'ready', backend: 'webgl' });
    console.log(
      `WebGL renderer: ${web.renderer}; losses node ${node.losses.join(', ')} / webgl ${web.losses.join(', ')}`,
    );
    web.losses.forEach((l, i) => {
      const n = node.losses[i] ?? NaN;
      expect(Math.abs(l - n), `step ${i + 1}: webgl ${l} vs node ${n}`).toBeLessThan(1e-3 * Math.abs(n));
    });
    const scale = Math.max(...node.ctx.map(Math.abs));
    const diff = Math.max(...web.ctx.map((x, i) => Math.abs(x - (node.ctx[i] ?? NaN))));
    expect(web.ctx).toHaveLength(node.ctx.length);
    expect(diff).toBeLessThan(1e-3 * scale);
  });
});
