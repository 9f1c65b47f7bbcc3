import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tests/helpers/engine';
import { fixtureModelDirs } from '../../../tests/helpers/fixtures';
import { decodeModel } from './onnx-proto';
import { writeOnnxClassifier } from './onnx-classifier';

interface Reference {
  vision: { images: { file?: string; name?: string }[] };
}

function referencePixels(dir: string): { pixels: Float32Array; count: number; size: number } {
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
  const files = ref.vision.images.map((im) => (im.file ?? im.name ?? '').replace(/^.*\//, '').replace(/\.png$/, ''));
  const chunks = files.map(
    (f) => new Float32Array(readFileSync(join(dir, 'pixel_values', `${f}.f32`)).buffer.slice(0)),
  );
  const per = chunks[0]!.length;
  const pixels = new Float32Array(per * chunks.length);
  chunks.forEach((c, i) => pixels.set(c, i * per));
  return { pixels, count: chunks.length, size: Math.round(Math.sqrt(per / 3)) };
}

describe('ONNX classifier export', () => {
  const out = tempDir('coop-export-');
  afterAll(() => out.cleanup());

  for (const modelDir of fixtureModelDirs()) {
    it(`matches the app's predictions with plain onnxruntime-node (${modelDir.split('/').pop()})`, async () => {
      const { pixels, count, size } = referencePixels(modelDir);
      const dims: [number, number, number, number] = [count, 3, size, size];
      // The app's own path: image features from the frozen vision graph, then cosine with the class features.
      const vision = await ort.InferenceSession.create(join(modelDir, 'onnx', 'vision_model.onnx'));
      const embeds = (await vision.run({ pixel_values: new ort.Tensor('float32', pixels, dims) }))['image_embeds']!;
      const d = embeds.dims[1]!;
      const feats = embeds.data as Float32Array;
      // Class features: three images' own embeddings, so every class is predicted somewhere.
      const classFeatures = [0, 2, 4].map((i) => feats.slice(i * d, (i + 1) * d));
      const names = ['first class', 'second', 'third 🐱'];
      const expectedLogits: number[][] = [];
      for (let i = 0; i < count; i++) {
        const f = feats.subarray(i * d, (i + 1) * d);
        const fn = Math.hypot(...f);
        expectedLogits.push(
          classFeatures.map((w) => (100 * w.reduce((s, v, j) => s + v * f[j]!, 0)) / (fn * Math.hypot(...w))),
        );
      }
      const path = join(out.path, `${modelDir.split('/').pop()}.onnx`);
      const written = writeOnnxClassifier(
        {
          visionModelPath: join(modelDir, 'onnx', 'vision_model.onnx'),
          classNames: names,
          classFeatures,
          logitScale: 100,
          metadata: { method: 'coop' },
        },
        path,
      );
      expect(written.preprocessor).not.toBeNull();

      // Plain ONNX Runtime, no app code: load the exported file and classify the same tensors.
      const session = await ort.InferenceSession.create(path);
      expect(session.inputNames).toEqual(['pixel_values']);
      expect([...session.outputNames].sort()).toEqual(['logits', 'probs']);
      const r = await session.run({ pixel_values: new ort.Tensor('float32', pixels, dims) });
      const logits = r['logits']!.data as Float32Array;
      const probs = r['probs']!.data as Float32Array;
      for (let i = 0; i < count; i++) {
        const row = expectedLogits[i]!;
        row.forEach((v, k) => expect(logits[i * 3 + k]).toBeCloseTo(v, 3));
        const top = row.indexOf(Math.max(...row));
        const got = [0, 1, 2].reduce((b, k) => (probs[i * 3 + k]! > probs[i * 3 + b]! ? k : b), 0);
        expect(got).toBe(top);
        expect(probs[i * 3]! + probs[i * 3 + 1]! + probs[i * 3 + 2]!).toBeCloseTo(1, 5);
      }
      const meta = new Map((decodeModel(readFileSync(path)).metadataProps ?? []).map((e) => [e.key, e.value]));
      expect(JSON.parse(meta.get('class_names') ?? '[]')).toEqual(names);
      expect(meta.get('method')).toBe('coop');
      await session.release();
      await vision.release();
    });
  }
});
