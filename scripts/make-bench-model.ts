/**
 * @file Writes a ViT-B/32-sized CLIP model folder with random weights, for benchmarks that need
 * realistic inference cost (build script, plain Node with tsx).
 *
 * [Note: bench model] Real CLIP weights cannot be downloaded everywhere (no internet on CI or the build
 * machine), but throughput only depends on the graph's shape, not on trained values. So this reuses the
 * demo model's export (`demo-model/onnx-export.ts`, the same ops as a PyTorch export of Hugging Face's
 * CLIP) with seeded random parameters in the shapes of `paramShapes`: the vision tower is ViT-B/32's
 * (224 px, patch 32, width 768, 12 layers, 12 heads, projection 512, ~88 M parameters, ~350 MB), the
 * text tower stays tiny (the model folder loader accepts any sizes the config declares) with a small
 * learned BPE. Parameters are drawn directly as Float32Arrays (no tfjs variables: 350 MB of them
 * would double the memory for nothing). The folder is cached under the OS temp dir by config, so
 * repeated bench runs skip the ~10 s of writing.
 *
 * Usage: `tsx scripts/make-bench-model.ts [OUT_DIR]` prints the folder's path.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeModel } from '../electron/engine/onnx/onnx-proto';
import { EOT, SOT, learnBpe, tokenizerFiles } from './demo-model/bpe';
import { type DemoClipConfig, paramShapes } from './demo-model/clip-tf';
import { type ParamValues, buildTextModel, buildVisionModel } from './demo-model/onnx-export';
import { hfConfig, preprocessorConfig } from './demo-model/hf-config';
import { Rng } from './demo-model/rng';

/** ViT-B/32's vision tower with a tiny text tower (vocabSize is filled in from the BPE). */
export const BENCH_CONFIG: Omit<DemoClipConfig, 'vocabSize'> = {
  contextLength: 77,
  textWidth: 64,
  textLayers: 1,
  textHeads: 4,
  imageSize: 224,
  patchSize: 32,
  visionWidth: 768,
  visionLayers: 12,
  visionHeads: 12,
  projectionDim: 512,
};

const DONE_MARKER = '.complete';

/** The `coop_studio` entry of the bench model's config.json. */
const BENCH_PROVENANCE = {
  note: 'Random weights, ViT-B/32 sizes: for throughput benchmarks only (scripts/make-bench-model.ts).',
};

/** The default cache folder of the bench model. */
export function defaultBenchModelDir(): string {
  const c = BENCH_CONFIG;
  return join(tmpdir(), `coop-bench-clip-vit-${c.visionWidth}w-${c.visionLayers}l-p${c.patchSize}-${c.imageSize}px`);
}

function randomParams(c: DemoClipConfig, seed: number): ParamValues {
  const rng = new Rng(seed);
  const out: ParamValues = new Map();
  for (const [name, shape, std] of paramShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    out.set(name, std === 0 ? new Float32Array(n) : std === -1 ? new Float32Array(n).fill(1) : rng.normalArray(n, std));
  }
  return out;
}

/** Writes the bench model folder to `outDir` (default: the temp cache) unless complete there; returns its path. */
export function makeBenchModel(outDir = defaultBenchModelDir(), seed = 1): string {
  if (existsSync(join(outDir, DONE_MARKER))) return outDir;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  const bpe = learnBpe(['a photo of a cat.', 'a photo of a dog.', 'a photo of a bird.'], { maxMerges: 50 });
  const config: DemoClipConfig = { ...BENCH_CONFIG, vocabSize: Object.keys(bpe.vocab).length };
  const params = randomParams(config, seed);
  writeFileSync(join(outDir, 'onnx', 'text_model.onnx'), encodeModel(buildTextModel(config, params)));
  writeFileSync(join(outDir, 'onnx', 'vision_model.onnx'), encodeModel(buildVisionModel(config, params)));
  for (const [name, text] of Object.entries(tokenizerFiles(bpe))) writeFileSync(join(outDir, name), text);
  const sotId = bpe.vocab[SOT] ?? 0;
  const eotId = bpe.vocab[EOT] ?? 0;
  writeFileSync(
    join(outDir, 'config.json'),
    JSON.stringify(hfConfig(config, sotId, eotId, BENCH_PROVENANCE), null, 2) + '\n',
  );
  writeFileSync(
    join(outDir, 'preprocessor_config.json'),
    JSON.stringify(preprocessorConfig(config.imageSize), null, 2) + '\n',
  );
  writeFileSync(join(outDir, DONE_MARKER), '');
  return outDir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = Date.now();
  const dir = makeBenchModel(process.argv[2]);
  process.stderr.write(`bench model ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  console.log(dir);
}
