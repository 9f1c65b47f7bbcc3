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
 * [Note: full bench model] `--full` writes ViT-B/32 whole: the text tower too (width 512, 12 layers, 8 heads, context
 * 77, ~63 M parameters) with a vocabulary of exactly 49,408 ids in OpenAI's layout: merges learned on a few hundred
 * common English words (so class names such as "dog" or "sunset" are one or two tokens, as in CLIP's vocabulary),
 * then byte-pair merges nobody uses up to the real size (the token table then weighs what CLIP's does). It also
 * writes `weights.safetensors` (every parameter by Hugging Face-style name, `[in, out]` linear weights) so
 * `bench/coop_torch.py` runs PyTorch CoOp on exactly the same numbers as the app (`npm run bench:learn`).
 *
 * Usage: `tsx scripts/make-bench-model.ts [--full] [OUT_DIR]` prints the folder's path.
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeModel } from '../electron/engine/onnx/onnx-proto';
import { EOT, SOT, type Bpe, bytesToUnicode, learnBpe, tokenizerFiles } from './demo-model/bpe';
import { type DemoClipConfig, paramShapes } from './demo-model/clip-tf';
import { type ParamValues, buildTextModel, buildVisionModel } from './demo-model/onnx-export';
import { hfConfig, preprocessorConfig } from './demo-model/hf-config';
import { Rng } from './demo-model/rng';
import { EXTRA_WORDS } from './demo-model/world';

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

/** ViT-B/32 whole, text tower included (vocabSize is CLIP's); see [Note: full bench model]. */
export const BENCH_FULL_CONFIG: DemoClipConfig = {
  ...BENCH_CONFIG,
  vocabSize: 49408,
  textWidth: 512,
  textLayers: 12,
  textHeads: 8,
};

const DONE_MARKER = '.complete';

/** The `coop_studio` entry of the bench model's config.json. */
const BENCH_PROVENANCE = {
  note: 'Random weights, ViT-B/32 sizes: for throughput benchmarks only (scripts/make-bench-model.ts).',
};

/** The default cache folder of the bench model (`full`: with ViT-B/32's text tower). */
export function defaultBenchModelDir(full = false): string {
  const c = BENCH_CONFIG;
  const name = `coop-bench-clip-vit-${c.visionWidth}w-${c.visionLayers}l-p${c.patchSize}-${c.imageSize}px`;
  return join(tmpdir(), full ? `${name}-text-${BENCH_FULL_CONFIG.textWidth}w-${BENCH_FULL_CONFIG.textLayers}l` : name);
}

/** A BPE with exactly `size` ids: merges learned on common words, then unused byte-pair merges (see [Note: full bench model]). */
function fullSizeBpe(size: number): Bpe {
  const learned = learnBpe([EXTRA_WORDS], { maxMerges: 4000, minCount: 1 });
  const merges = [...learned.merges];
  const vocab: Record<string, number> = {};
  let id = 0;
  const syms = bytesToUnicode().map(([, s]) => s);
  for (const s of syms) vocab[s] = id++;
  for (const s of syms) vocab[`${s}</w>`] = id++;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = id++;
  outer: for (const a of syms)
    for (const b of [...syms.map((s) => `${s}</w>`), ...syms]) {
      if (id >= size - 2) break outer;
      if (a + b in vocab) continue;
      merges.push([a, b]);
      vocab[a + b] = id++;
    }
  vocab[SOT] = id++;
  vocab[EOT] = id++;
  return { merges, vocab };
}

/** Writes `params` as safetensors (F32, little-endian, names sorted) for the PyTorch side of the bench. */
function writeSafetensors(path: string, params: ParamValues, shapes: Map<string, number[]>): void {
  const names = [...params.keys()].sort();
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const name of names) {
    const bytes = (params.get(name) as Float32Array).byteLength;
    header[name] = { dtype: 'F32', shape: shapes.get(name) ?? [], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, Buffer.from(json, 'utf8'));
    for (const name of names) {
      const a = params.get(name) as Float32Array;
      writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
  } finally {
    closeSync(fd);
  }
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

/**
 * Writes the bench model folder to `outDir` (default: the temp cache) unless complete there; returns its path.
 * `full`: ViT-B/32's text tower and vocabulary too, plus `weights.safetensors` (see [Note: full bench model]).
 */
export function makeBenchModel(outDir?: string, seed = 1, full = false): string {
  const dir = outDir ?? defaultBenchModelDir(full);
  if (existsSync(join(dir, DONE_MARKER))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const bpe = full
    ? fullSizeBpe(BENCH_FULL_CONFIG.vocabSize)
    : learnBpe(['a photo of a cat.', 'a photo of a dog.', 'a photo of a bird.'], { maxMerges: 50 });
  const config: DemoClipConfig = {
    ...(full ? BENCH_FULL_CONFIG : BENCH_CONFIG),
    vocabSize: Object.keys(bpe.vocab).length,
  };
  const params = randomParams(config, seed);
  writeFileSync(join(dir, 'onnx', 'text_model.onnx'), encodeModel(buildTextModel(config, params)));
  writeFileSync(join(dir, 'onnx', 'vision_model.onnx'), encodeModel(buildVisionModel(config, params)));
  for (const [name, text] of Object.entries(tokenizerFiles(bpe))) writeFileSync(join(dir, name), text);
  const sotId = bpe.vocab[SOT] ?? 0;
  const eotId = bpe.vocab[EOT] ?? 0;
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify(hfConfig(config, sotId, eotId, BENCH_PROVENANCE), null, 2) + '\n',
  );
  writeFileSync(
    join(dir, 'preprocessor_config.json'),
    JSON.stringify(preprocessorConfig(config.imageSize), null, 2) + '\n',
  );
  if (full)
    writeSafetensors(join(dir, 'weights.safetensors'), params, new Map(paramShapes(config).map(([n, sh]) => [n, sh])));
  writeFileSync(join(dir, DONE_MARKER), '');
  return dir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t0 = Date.now();
  const args = process.argv.slice(2);
  const full = args.includes('--full');
  const dir = makeBenchModel(
    args.find((a) => a !== '--full'),
    1,
    full,
  );
  process.stderr.write(`bench model ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  console.log(dir);
}
