/**
 * @file Contrastive training of the demo CLIP on the synthetic world (build script, plain Node,
 * tfjs-core on any backend; the build uses wasm).
 *
 * [Note: demo training recipe] Batches of fresh scenes (never repeated, so no overfitting) with one
 * random caption each; symmetric InfoNCE with a learned temperature; AdamW (lr 1e-3, weight decay
 * 0.1 on matrices only, as CLIP) with a linear warm-up and cosine decay. Captions are trained at a
 * short length (`TRAIN_TEXT_LENGTH`): with a causal mask, positions after the EOT never affect the
 * pooled EOT state, so the exported 77-token graph gives the same embeddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { type Bpe, encodeWithBpe } from './bpe';
import { type DemoClipConfig, type DemoClipParams, clipLoss, encodeImage, encodeText, initParams } from './clip-tf';
import { CLIP_MEAN, CLIP_STD, RESCALE } from './hf-config';
import { Rng } from './rng';
import { type Scene, captionScene, randomScene, renderScene } from './world';

/** Token length used during training (captions are shorter; see [Note: demo training recipe]). */
export const TRAIN_TEXT_LENGTH = 20;

/** Writes interleaved RGB bytes as normalised CHW floats at `out[offset...]`, as the app's preprocessing does. */
export function rgbToPixels(rgb: Uint8Array, size: number, out: Float32Array, offset = 0): void {
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    for (let ch = 0; ch < 3; ch++) {
      out[offset + ch * plane + i] = ((rgb[i * 3 + ch] ?? 0) * RESCALE - (CLIP_MEAN[ch] ?? 0)) / (CLIP_STD[ch] ?? 1);
    }
  }
}

/** Token ids padded (with 0; see the Note) to `length`, plus each row's EOT index. */
export function tokenizeBatch(bpe: Bpe, texts: string[], length: number): { ids: Int32Array; eot: number[] } {
  const ids = new Int32Array(texts.length * length);
  const eot: number[] = [];
  texts.forEach((t, r) => {
    const row = encodeWithBpe(bpe, t, length);
    ids.set(row, r * length);
    eot.push(row.length - 1);
  });
  return { ids, eot };
}

/** One training batch of scenes, pixels and tokenised captions. */
export function makeBatch(
  rng: Rng,
  bpe: Bpe,
  c: DemoClipConfig,
  n: number,
): { scenes: Scene[]; pixels: Float32Array; ids: Int32Array; eot: number[] } {
  const scenes: Scene[] = [];
  const captions: string[] = [];
  const pixels = new Float32Array(n * 3 * c.imageSize * c.imageSize);
  for (let i = 0; i < n; i++) {
    const s = randomScene(rng);
    scenes.push(s);
    captions.push(captionScene(s, rng));
    rgbToPixels(renderScene(s, c.imageSize), c.imageSize, pixels, i * 3 * c.imageSize * c.imageSize);
  }
  return { scenes, pixels, ...tokenizeBatch(bpe, captions, TRAIN_TEXT_LENGTH) };
}

/** Options of {@link trainDemoClip}. */
export interface TrainOptions {
  seed: number;
  steps: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  onLog?: (step: number, loss: number, lr: number) => void;
}

/** AdamW state: first and second moments per parameter. */
class AdamW {
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(private readonly params: DemoClipParams) {
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  step(grads: Record<string, tf.Tensor>, lr: number, weightDecay: number): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.98;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name];
        const m = this.m.get(name);
        const v = this.v.get(name);
        if (!g || !m || !v) continue;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), 1e-6));
        const decay = p.rank >= 2 ? weightDecay : 0;
        p.assign(tf.sub(tf.mul(p, 1 - lr * decay), tf.mul(update, lr)));
      }
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** Trains a fresh demo CLIP; deterministic for a seed on one backend (see resources/README.md). */
export function trainDemoClip(bpe: Bpe, c: DemoClipConfig, o: TrainOptions): DemoClipParams {
  const root = new Rng(o.seed);
  const params = initParams(c, root.fork(1));
  const dataRng = root.fork(2);
  const opt = new AdamW(params);
  const s = c.imageSize;
  for (let step = 0; step < o.steps; step++) {
    const lr =
      step < o.warmupSteps
        ? (o.lr * (step + 1)) / o.warmupSteps
        : 0.5 * o.lr * (1 + Math.cos((Math.PI * (step - o.warmupSteps)) / Math.max(1, o.steps - o.warmupSteps)));
    const batch = makeBatch(dataRng, bpe, c, o.batchSize);
    const { value, grads } = tf.variableGrads(() => {
      const pix = tf.tensor4d(batch.pixels, [o.batchSize, 3, s, s]);
      const ids = tf.tensor2d(batch.ids, [o.batchSize, TRAIN_TEXT_LENGTH], 'int32');
      return clipLoss(params, encodeImage(params, c, pix), encodeText(params, c, ids, batch.eot));
    });
    opt.step(grads, lr, 0.1);
    const loss = value.dataSync()[0] ?? NaN;
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    o.onLog?.(step, loss, lr);
  }
  opt.dispose();
  return params;
}
