/**
 * @file Embedding helpers of the demo-model build: tfjs embeddings, the ONNX Runtime cross-check
 * and zero-shot accuracy (build script and tests, plain Node).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { type ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { type DemoClipConfig, type DemoClipParams, encodeImage, encodeText } from './clip-tf';
import { type ParamValues } from './onnx-export';
import { rgbToPixels } from './train';

/** Copies every parameter out of tfjs. */
export function paramValues(params: DemoClipParams): ParamValues {
  return new Map([...params].map(([name, v]) => [name, v.dataSync() as Float32Array]));
}

/** Token ids padded to the context length with the EOT id (as Hugging Face pads) and EOT positions. */
export function tokenize(
  tokenizer: ClipTokenizer,
  texts: string[],
  length: number,
): { ids: number[][]; eotIndex: number[] } {
  const { ids, eotIndex } = tokenizer.encodeBatch(texts, { length, padId: tokenizer.eotId });
  return { ids, eotIndex };
}

/** Raw text embeddings from the tfjs model at the full context length. */
export function tfTextEmbeds(
  params: DemoClipParams,
  c: DemoClipConfig,
  tokenizer: ClipTokenizer,
  texts: string[],
): Float32Array[] {
  const { ids, eotIndex } = tokenize(tokenizer, texts, c.contextLength);
  return tf.tidy(() => {
    const t = tf.tensor2d(ids.flat(), [ids.length, c.contextLength], 'int32');
    const e = encodeText(params, c, t, eotIndex).arraySync();
    return e.map((row) => Float32Array.from(row));
  });
}

/** Raw image embeddings from the tfjs model for RGB byte images of the model's size. */
export function tfImageEmbeds(
  params: DemoClipParams,
  c: DemoClipConfig,
  images: Uint8Array[],
  batch = 64,
): Float32Array[] {
  const out: Float32Array[] = [];
  const per = 3 * c.imageSize * c.imageSize;
  for (let i = 0; i < images.length; i += batch) {
    const chunk = images.slice(i, i + batch);
    const pixels = new Float32Array(chunk.length * per);
    chunk.forEach((rgb, j) => rgbToPixels(rgb, c.imageSize, pixels, j * per));
    const rows = tf.tidy(() =>
      encodeImage(params, c, tf.tensor4d(pixels, [chunk.length, 3, c.imageSize, c.imageSize])).arraySync(),
    );
    for (const r of rows) out.push(Float32Array.from(r));
  }
  return out;
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(v - (b[i]?.[j] ?? Infinity))))));
  return m;
}

/** Runs the exported graphs in ONNX Runtime and compares them with the tfjs model. */
export async function verifyWithOrt(
  dir: string,
  params: DemoClipParams,
  c: DemoClipConfig,
  tokenizer: ClipTokenizer,
  texts: string[],
  images: Uint8Array[],
): Promise<{ textMaxDiff: number; imageMaxDiff: number; textCount: number; imageCount: number }> {
  const text = await ort.InferenceSession.create(join(dir, 'onnx', 'text_model.onnx'));
  const vision = await ort.InferenceSession.create(join(dir, 'onnx', 'vision_model.onnx'));
  try {
    const { ids } = tokenize(tokenizer, texts, c.contextLength);
    const idTensor = new ort.Tensor(
      'int64',
      BigInt64Array.from(ids.flat(), (v) => BigInt(v)),
      [ids.length, c.contextLength],
    );
    const tOut = (await text.run({ input_ids: idTensor }))['text_embeds'];
    const per = 3 * c.imageSize * c.imageSize;
    const pixels = new Float32Array(images.length * per);
    images.forEach((rgb, j) => rgbToPixels(rgb, c.imageSize, pixels, j * per));
    const vOut = (
      await vision.run({
        pixel_values: new ort.Tensor('float32', pixels, [images.length, 3, c.imageSize, c.imageSize]),
      })
    )['image_embeds'];
    if (!tOut || !vOut) throw new Error('The exported graphs lack text_embeds / image_embeds outputs.');
    const rows = (t: ort.Tensor, n: number) =>
      Array.from({ length: n }, (_, i) =>
        (t.data as Float32Array).slice(i * c.projectionDim, (i + 1) * c.projectionDim),
      );
    return {
      textMaxDiff: maxAbsDiff(rows(tOut, texts.length), tfTextEmbeds(params, c, tokenizer, texts)),
      imageMaxDiff: maxAbsDiff(rows(vOut, images.length), tfImageEmbeds(params, c, images)),
      textCount: texts.length,
      imageCount: images.length,
    };
  } finally {
    await text.release();
    await vision.release();
  }
}

function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

/** Zero-shot accuracy: each image gets the class whose prompt embedding has the highest cosine. */
export function zeroShotAccuracy(
  imageEmb: Float32Array[],
  textEmb: Float32Array[],
  labels: number[],
  classNames: string[],
): { overall: number; perClass: Record<string, number> } {
  const texts = textEmb.map(normalise);
  const hits = new Array<number>(classNames.length).fill(0);
  const totals = new Array<number>(classNames.length).fill(0);
  imageEmb.forEach((img, i) => {
    const f = normalise(img);
    let best = 0;
    let bestScore = -Infinity;
    texts.forEach((t, k) => {
      let s = 0;
      for (let j = 0; j < t.length; j++) s += (t[j] ?? 0) * (f[j] ?? 0);
      if (s > bestScore) {
        bestScore = s;
        best = k;
      }
    });
    const y = labels[i] ?? 0;
    totals[y] = (totals[y] ?? 0) + 1;
    if (best === y) hits[y] = (hits[y] ?? 0) + 1;
  });
  const perClass: Record<string, number> = {};
  classNames.forEach((n, k) => (perClass[n] = (hits[k] ?? 0) / Math.max(1, totals[k] ?? 0)));
  const total = totals.reduce((a, b) => a + b, 0);
  return { overall: hits.reduce((a, b) => a + b, 0) / Math.max(1, total), perClass };
}
