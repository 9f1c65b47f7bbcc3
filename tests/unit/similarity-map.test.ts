/**
 * @file `similarityMap` on the PyTorch-exported fixture CLIPs (opset 17 with LayerNormalization, opset 14 with the
 * layer norm decomposed, fp16 with casts) and on the demo model: the map equals a direct computation from the ONNX
 * outputs (last_hidden_state through the post-layernorm and projection weights read from the graph, cosine with
 * text_embeds), the learned prompt's probabilities equal `predict`'s, overlays are PNGs, and a graph without hidden
 * states is refused clearly (plain Node, ONNX Runtime, tfjs cpu).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimilarityMapResult } from '../../shared/contract/similarity-map';
import { unwrap } from '../../shared/result';
import { openClipModel } from '../../electron/engine/clip/clip-model';
import { preprocessImage } from '../../electron/engine/clip/preprocess';
import { releasePatchHeads } from '../../electron/engine/methods/patch-features';
import { decodeModel, encodeModel, tensorToFloat32 } from '../../electron/engine/onnx/onnx-proto';
import { demoModelDir, resourcesDir } from '../../electron/engine/settings/paths';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const tmp = tempDir('coop-simmap-');
const engine = inProcessEngine();
const CLASSES = ['red thing', 'green thing', 'blue thing', 'a dog'];

afterAll(async () => {
  releaseTextEncoderCache();
  await releasePatchHeads();
  await engine.cleanup();
  tmp.cleanup();
});

const unit = (v: ArrayLike<number>) => {
  const n = Math.hypot(...Array.from(v));
  return Array.from(v, (x) => x / n);
};
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

/**
 * The map computed directly: ONNX Runtime's last_hidden_state and image_embeds, the post-layernorm (epsilon from
 * config.json) and projection weights taken from the graph's initializers, cosine with ONNX Runtime's text_embeds.
 */
async function directMap(dir: string, image: string, classes: string[]) {
  const model = await openClipModel(dir);
  const graph = decodeModel(readFileSync(model.info.visionModelPath)).graph;
  const init = (name: string) => {
    const t = graph?.initializer?.find((x) => x.name === name);
    if (!t) throw new Error(`no initializer ${name}`);
    return tensorToFloat32(t);
  };
  const projName = graph?.node?.find((n) => n.name === '/visual_projection/MatMul')?.input?.[1] ?? '';
  const gamma = init('vision_model.post_layernorm.weight');
  const beta = init('vision_model.post_layernorm.bias');
  const proj = init(projName);
  const eps =
    (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vision_config: { layer_norm_eps?: number } })
      .vision_config.layer_norm_eps ?? 1e-5;
  const session = await ort.InferenceSession.create(model.info.visionModelPath);
  try {
    const pixels = await preprocessImage(image, model.info.preprocess);
    const size = model.info.preprocess.cropHeight;
    const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, size, size]) });
    const hidden = out['last_hidden_state'];
    const embeds = out['image_embeds']?.data as Float32Array;
    if (!hidden) throw new Error('no last_hidden_state');
    const [, tokens = 0, width = 0] = hidden.dims;
    const h = hidden.data as Float32Array;
    const p = proj.length / width;
    const project = (t: number) => {
      const x = Array.from(h.subarray(t * width, (t + 1) * width));
      const mean = x.reduce((a, b) => a + b, 0) / width;
      const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / width;
      const ln = x.map((xi, j) => ((xi - mean) / Math.sqrt(v + eps)) * (gamma[j] ?? 0) + (beta[j] ?? 0));
      return Array.from({ length: p }, (_, k) => ln.reduce((a, xi, j) => a + xi * (proj[j * p + k] ?? 0), 0));
    };
    const cls = project(0);
    const text = (await model.embedText(classes.map((c) => `a photo of a ${c}.`))).map(unit);
    const patches = Array.from({ length: tokens - 1 }, (_, i) => unit(project(i + 1)));
    return {
      clsDiff: Math.max(...cls.map((v, k) => Math.abs(v - (embeds[k] ?? NaN)))),
      maps: text.map((t) => patches.map((q) => dot(q, t))),
      grid: Math.sqrt(tokens - 1),
    };
  } finally {
    await session.release();
  }
}

describe('similarityMap on the fixture exports', () => {
  const fixtures = fixtureModelDirs();
  const image = (dir: string) => join(dir, 'images', readdirSync(join(dir, 'images')).sort()[0] ?? '');

  it.each(fixtures.map((d) => [d.split('/').pop() ?? d, d]))(
    '%s: the map equals the direct computation from the ONNX outputs',
    async (_name, dir) => {
      const r = unwrap(
        await engine.client.call('similarityMap', { model: dir, image: image(dir), classes: CLASSES, size: 64 }),
      );
      const direct = await directMap(dir, image(dir), CLASSES);
      expect(direct.clsDiff).toBeLessThan(1e-4);
      expect(r.grid).toEqual({ rows: direct.grid, cols: direct.grid });
      const hand = r.prompts.find((p) => p.prompt === 'hand-written');
      expect(hand?.maps).toHaveLength(CLASSES.length);
      hand?.maps.forEach((m, c) =>
        m.forEach((v, i) => expect(Math.abs(v - (direct.maps[c]?.[i] ?? NaN))).toBeLessThan(1e-5)),
      );
      expect(r.check.clsMaxAbsDiff).toBeLessThanOrEqual(r.check.tolerance);
      expect(r.note).toMatch(/not a gradient saliency/i);
    },
    60_000,
  );

  it('reads the fp16 export through its casts', async () => {
    const dir = fixtures[0] as string;
    const model = await openClipModel(dir, { variant: 'fp16' });
    const { patchFeatures } = await import('../../electron/engine/methods/patch-features');
    const r = await patchFeatures(model, image(dir));
    expect(r.check.clsMaxAbsDiff).toBeLessThanOrEqual(r.check.tolerance);
    expect(r.patches).toHaveLength(r.grid.rows * r.grid.cols);
  }, 60_000);

  it('refuses a vision graph without last_hidden_state, saying what is missing', async () => {
    const src = fixtures[0] as string;
    const dir = join(tmp.path, 'no-hidden');
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    for (const f of readdirSync(src))
      if (f.endsWith('.json') || f.endsWith('.txt')) copyFileSync(join(src, f), join(dir, f));
    copyFileSync(join(src, 'onnx', 'text_model.onnx'), join(dir, 'onnx', 'text_model.onnx'));
    const vision = decodeModel(readFileSync(join(src, 'onnx', 'vision_model.onnx')));
    if (vision.graph) vision.graph.output = vision.graph.output?.filter((o) => o.name === 'image_embeds');
    writeFileSync(join(dir, 'onnx', 'vision_model.onnx'), encodeModel(vision));
    const r = await engine.client.call('similarityMap', { model: dir, image: image(src), classes: CLASSES });
    expect(r.ok ? null : r.error.code).toBe('invalid_model');
    expect(r.ok ? '' : r.error.message).toMatch(/last_hidden_state/);
  }, 60_000);
});

describe('similarityMap with a learned context', () => {
  const dir = fixtureModelDirs()[1] as string;
  const data = join(tmp.path, 'colours');
  let result: SimilarityMapResult;
  let context = '';
  let img = '';

  beforeAll(async () => {
    const files = await writeColourDataset(data, 8, 3, { noise: 60 });
    img = files[1]?.[0] ?? '';
    const learned = unwrap(
      await engine.client.call('learn', {
        model: dir,
        data,
        shots: 2,
        epochs: 2,
        nCtx: 4,
        backend: 'cpu',
        out: join(tmp.path, 'run'),
      }),
    );
    context = learned.contextPath;
    result = unwrap(
      await engine.client.call('similarityMap', {
        model: dir,
        image: img,
        context,
        backend: 'cpu',
        size: 48,
        out: join(tmp.path, 'maps'),
      }),
    );
  }, 180_000);

  it("gives the learned prompt's map next to the hand-written one, with predict's probabilities", async () => {
    expect(result.prompts.map((p) => p.prompt)).toEqual(['hand-written', 'learned']);
    expect(result.classNames).toEqual(['blue_thing', 'green_thing', 'red_thing']);
    expect(result.prompts[1]?.texts[0]).toBe('X X X X blue thing.');
    const predicted = unwrap(
      await engine.client.call('predict', { model: dir, context, images: [img], top: 3, backend: 'cpu' }),
    );
    for (const t of predicted.predictions[0]?.top ?? [])
      expect(result.prompts[1]?.probabilities[t.label]).toBeCloseTo(t.probability, 5);
  }, 60_000);

  it('draws overlays for the top classes of both prompts and writes them as PNG files', async () => {
    expect(result.overlays).toHaveLength(3 * 2);
    const first = result.overlays[0];
    const meta = await sharp(Buffer.from(first?.png ?? '', 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 48, 48]);
    // Each class's two overlays share one colour scale.
    const byClass = result.overlays.filter((o) => o.classIndex === first?.classIndex);
    expect(new Set(byClass.map((o) => `${o.min}/${o.max}`)).size).toBe(1);
    const pngs = result.files.filter((f) => f.endsWith('.png'));
    expect(pngs).toHaveLength(6 + 3);
    for (const f of pngs) expect((await sharp(f).metadata()).format).toBe('png');
    const json = JSON.parse(readFileSync(result.files.find((f) => f.endsWith('-map.json')) ?? '', 'utf8')) as {
      prompts: unknown[];
      overlays: object[];
    };
    expect(json.prompts).toHaveLength(2);
    expect(json.overlays[0]).not.toHaveProperty('png');
  });

  it('refuses class indices out of range', async () => {
    const r = await engine.client.call('similarityMap', { model: dir, image: img, context, classIndices: [7] });
    expect(r.ok ? null : r.error.code).toBe('bad_args');
  });
});

describe('similarityMap on the demo model', () => {
  it('has the hidden states in its export, and the class token through the head is image_embeds', async () => {
    const image = join(resourcesDir(), 'samples', 'backgrounds', 'dotted', 'dotted-001.png');
    const r = unwrap(
      await engine.client.call('similarityMap', {
        model: demoModelDir(),
        image,
        classes: ['plain', 'striped', 'dotted', 'checkered', 'grid'],
      }),
    );
    expect(r.grid).toEqual({ rows: 6, cols: 6 });
    expect(r.check.clsMaxAbsDiff).toBeLessThan(1e-5);
  }, 60_000);
});
