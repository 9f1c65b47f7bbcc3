/**
 * @file Benchmark of image embedding: the full pipeline (decode, resize, normalise, infer) as a ratio to bare ORT
 * inference on pre-made tensors, measured in the same run (Node,
 * `npm run bench:embed -- [MODEL_DIR] [N=64] [ROUNDS=2]`; pass "" as MODEL_DIR for the default).
 *
 * Model: by default a ViT-B/32-sized CLIP with random weights (scripts/make-bench-model.ts, cached in the
 * OS temp dir, ~350 MB; see [Note: bench model]): throughput depends on the graph's shape, not its
 * weights, and a tiny model would make inference nearly free so the ratio would only measure decode
 * cost. Images: N synthetic 640x480 JPEGs (gradients plus noise, a typical dataset photo size) in a
 * temp folder. The ratio is what [Note: image pipeline] is about; the target is >= 0.85. Bare and
 * pipeline passes alternate ROUNDS times; the best pass of each mode gives `ratio`, and the per-round
 * ratios show how much the machine's load moved it. Prints one JSON line.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { closeClipModels, DEFAULT_IMAGE_BATCH, openClipModel } from '../electron/engine/clip/clip-model';
import { preprocessImage } from '../electron/engine/clip/preprocess';
import { makeBenchModel } from '../scripts/make-bench-model';

const modelDir = process.argv[2] || makeBenchModel();
const n = Number(process.argv[3] ?? 64);
const rounds = Math.max(1, Number(process.argv[4] ?? 2));
const batch = DEFAULT_IMAGE_BATCH;
const dir = mkdtempSync(join(tmpdir(), 'coop-embed-bench-'));
try {
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const raw = Buffer.alloc(640 * 480 * 3);
    for (let p = 0; p < 640 * 480; p++) {
      const x = p % 640;
      const y = Math.floor(p / 640);
      raw[p * 3] = (x + i * 13) % 256;
      raw[p * 3 + 1] = (y + i * 7) % 256;
      raw[p * 3 + 2] = (x ^ y ^ (p * 2654435761)) & 255;
    }
    const f = join(dir, `img-${i}.jpg`);
    writeFileSync(
      f,
      await sharp(raw, { raw: { width: 640, height: 480, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
    files.push(f);
  }
  const model = await openClipModel(modelDir);
  const size = 3 * model.info.preprocess.cropHeight * model.info.preprocess.cropWidth;
  const pixels = new Float32Array(batch * size).map((_, i) => Math.sin(i) * 1.5);
  await model.embedPixels(pixels, batch); // warm-up
  await model.embedImages(files.slice(0, batch), { batchSize: batch });

  // Bare and pipeline passes alternate, `rounds` times: the machine's load drifts (shared CI runners,
  // other processes), and alternating exposes both modes to the same drift. Each mode reports its best pass.
  const bareS: number[] = [];
  const pipeS: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    for (let done = 0; done < n; done += batch) {
      const k = Math.min(batch, n - done);
      await model.embedPixels(pixels.subarray(0, k * size), k);
    }
    bareS.push((performance.now() - t0) / 1000);
    const t1 = performance.now();
    const r = await model.embedImages(files, { batchSize: batch });
    pipeS.push((performance.now() - t1) / 1000);
    if (r.errors.length > 0) throw new Error(`unexpected errors: ${JSON.stringify(r.errors)}`);
  }

  // Preprocessing alone, one image at a time on the main thread: the CPU cost the pipeline must hide.
  const t2 = performance.now();
  for (const f of files.slice(0, 16)) await preprocessImage(f, model.info.preprocess);
  const prepMs = (performance.now() - t2) / 16;

  const t3 = performance.now();
  for (const f of files.slice(0, 8)) await model.embedImages([f], { batchSize: 1 });
  const serialPerImageMs = (performance.now() - t3) / 8;

  const bestBare = Math.min(...bareS);
  const bestPipe = Math.min(...pipeS);
  const perRound = bareS.map((b, i) => b / (pipeS[i] ?? NaN));
  const visionBytes = statSync(model.info.visionModelPath).size;
  console.log(
    JSON.stringify({
      bench: 'embed',
      model: modelDir,
      visionModelMB: +(visionBytes / 1e6).toFixed(1),
      provider: model.provider,
      input: `${model.info.preprocess.cropWidth}x${model.info.preprocess.cropHeight}`,
      cpus: availableParallelism(),
      images: n,
      batch,
      rounds,
      bareMsPerImage: +((bestBare / n) * 1000).toFixed(1),
      pipelineMsPerImage: +((bestPipe / n) * 1000).toFixed(1),
      bareImagesPerS: +(n / bestBare).toFixed(2),
      pipelineImagesPerS: +(n / bestPipe).toFixed(2),
      ratio: +(bestBare / bestPipe).toFixed(3),
      ratioPerRound: perRound.map((r) => +r.toFixed(3)),
      ratioMedianOfRounds: +(perRound.sort((a, b) => a - b)[Math.floor(perRound.length / 2)] ?? NaN).toFixed(3),
      prepOnlyMsPerImage: +prepMs.toFixed(1),
      serialOneByOneMsPerImage: +serialPerImageMs.toFixed(1),
    }),
  );
} finally {
  await closeClipModels();
  rmSync(dir, { recursive: true, force: true });
}
