/**
 * @file Tests of the demo-model ONNX writer: a tiny randomly initialised demo CLIP exported by
 * `scripts/demo-model/onnx-export.ts` must run in ONNX Runtime with the tfjs model's outputs, and be
 * read by the app's own CLIP text-graph matcher.
 *
 * Tolerance 1e-4 absolute per embedding component (the bar). Both sides are float32 with
 * different summation orders; measured differences are ~1e-6 on embeddings of order 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { extractClipTextWeights } from '../../electron/engine/onnx/clip-text-graph';
import { decodeModel, encodeModel } from '../../electron/engine/onnx/onnx-proto';
import { useBackend } from '../../electron/engine/tf/backends';
import { learnBpe } from '../../scripts/demo-model/bpe';
import { type DemoClipConfig, type DemoClipParams, initParams } from '../../scripts/demo-model/clip-tf';
import { buildTextModel, buildVisionModel } from '../../scripts/demo-model/onnx-export';
import { Rng } from '../../scripts/demo-model/rng';
import { paramValues, verifyWithOrt } from '../../scripts/demo-model/verify';
import { captionScene, captionVocabularyText, randomScene, renderScene } from '../../scripts/demo-model/world';
import { tempDir } from '../helpers/engine';

const tmp = tempDir('coop-demo-export-');
let params: DemoClipParams;
let config: DemoClipConfig;
let tokenizer: ClipTokenizer;
const rng = new Rng(5);
const corpus = [captionVocabularyText(), ...Array.from({ length: 300 }, () => captionScene(randomScene(rng), rng))];

beforeAll(async () => {
  await useBackend('wasm');
  const bpe = learnBpe(corpus, { minCount: 1 });
  tokenizer = ClipTokenizer.fromVocabMerges(
    bpe.vocab,
    bpe.merges.map(([a, b]) => `${a} ${b}`),
  );
  config = {
    vocabSize: Object.keys(bpe.vocab).length,
    contextLength: 77,
    textWidth: 32,
    textLayers: 2,
    textHeads: 4,
    imageSize: 32,
    patchSize: 8,
    visionWidth: 32,
    visionLayers: 2,
    visionHeads: 2,
    projectionDim: 16,
  };
  params = initParams(config, new Rng(11));
  const pv = paramValues(params);
  mkdirSync(join(tmp.path, 'onnx'), { recursive: true });
  writeFileSync(join(tmp.path, 'onnx', 'text_model.onnx'), encodeModel(buildTextModel(config, pv)));
  writeFileSync(join(tmp.path, 'onnx', 'vision_model.onnx'), encodeModel(buildVisionModel(config, pv)));
});

afterAll(() => {
  for (const v of params.values()) v.dispose();
  tmp.cleanup();
});

describe('demo CLIP ONNX export', () => {
  it('matches the tfjs model in ONNX Runtime within 1e-4', async () => {
    const scenes = Array.from({ length: 5 }, () => randomScene(rng));
    const texts = [...scenes.map((s) => captionScene(s, rng)), 'a photo of a striped.', 'an unknown wordzzz!'];
    const r = await verifyWithOrt(
      tmp.path,
      params,
      config,
      tokenizer,
      texts,
      scenes.map((s) => renderScene(s, config.imageSize)),
    );
    expect(r.textMaxDiff).toBeLessThan(1e-4);
    expect(r.imageMaxDiff).toBeLessThan(1e-4);
  });

  it('uses the ops of a PyTorch CLIP export and round-trips through the app codec', () => {
    const pv = paramValues(params);
    const text = decodeModel(encodeModel(buildTextModel(config, pv)));
    const ops = new Set(text.graph?.node?.map((n) => n.opType));
    for (const op of ['Gather', 'LayerNormalization', 'MatMul', 'Softmax', 'Trilu', 'Sigmoid', 'ArgMax', 'Flatten'])
      expect(ops).toContain(op);
    expect(text.graph?.input?.map((i) => i.name)).toEqual(['input_ids']);
    expect(text.graph?.output?.map((o) => o.name)).toEqual(['text_embeds']);
    const vision = decodeModel(encodeModel(buildVisionModel(config, pv)));
    const vops = new Set(vision.graph?.node?.map((n) => n.opType));
    for (const op of ['Conv', 'Expand', 'Concat', 'LayerNormalization', 'Softmax']) expect(vops).toContain(op);
    expect(vision.graph?.output?.map((o) => o.name)).toEqual(['image_embeds', 'last_hidden_state']);
  });

  it('is read by the app text-graph matcher with the trained weights in place', () => {
    const pv = paramValues(params);
    const w = extractClipTextWeights(buildTextModel(config, pv), { heads: config.textHeads });
    expect(w.width).toBe(config.textWidth);
    expect(w.layers.length).toBe(config.textLayers);
    expect(w.contextLength).toBe(config.contextLength);
    expect(w.activation).toBe('quick_gelu');
    expect(Array.from(w.layers[1]?.k.w ?? [])).toEqual(
      Array.from(pv.get('text_model.encoder.layers.1.self_attn.k_proj.weight') ?? []),
    );
    expect(Array.from(w.projection.w)).toEqual(Array.from(pv.get('text_projection.weight') ?? []));
  });

  it('leaks no tensors while embedding', async () => {
    const before = tf.memory().numTensors;
    const scenes = [randomScene(rng)];
    await verifyWithOrt(
      tmp.path,
      params,
      config,
      tokenizer,
      ['a red star'],
      scenes.map((s) => renderScene(s, config.imageSize)),
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
