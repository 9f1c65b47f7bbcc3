/**
 * @file `npm run build:demo-model`: trains the embedded demo CLIP and writes resources/models/demo-clip
 * and resources/samples (build script, plain Node with tsx; tfjs wasm backend + ONNX Runtime).
 *
 * Steps: caption corpus -> BPE vocabulary -> contrastive training -> ONNX export -> verification
 * (ONNX Runtime vs tfjs within 1e-4, the app's tokenizer vs the build's) -> sample PNGs ->
 * zero-shot accuracy of "a photo of a {class}." per task, written to build-report.json.
 *
 * Usage: `npm run build:demo-model -- [--seed 1] [--steps 1200] [--batch 64] [--lr 0.002] [--out DIR] [--samples DIR]`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { encodeModel } from '../../electron/engine/onnx/onnx-proto';
import { useBackend } from '../../electron/engine/tf/backends';
import { encodeWithBpe, learnBpe, tokenizerFiles } from './bpe';
import { type DemoClipConfig } from './clip-tf';
import { buildTextModel, buildVisionModel } from './onnx-export';
import { Rng } from './rng';
import { SAMPLE_TASKS, taskScenes } from './samples';
import { hfConfig, preprocessorConfig } from './hf-config';
import { trainDemoClip } from './train';
import { captionScene, captionVocabularyText, randomScene, renderScene } from './world';
import { paramValues, tfImageEmbeds, tfTextEmbeds, verifyWithOrt, zeroShotAccuracy } from './verify';

/** The demo model's sizes (vocabSize is filled in from the learned BPE). */
export const DEMO_CONFIG: Omit<DemoClipConfig, 'vocabSize'> = {
  contextLength: 77,
  textWidth: 64,
  textLayers: 2,
  textHeads: 4,
  imageSize: 48,
  patchSize: 8,
  visionWidth: 64,
  visionLayers: 2,
  visionHeads: 4,
  projectionDim: 64,
};

/** The zero-shot template the README reports. */
export const ZERO_SHOT_TEMPLATE = 'a photo of a {}.';

/** The `coop_studio` entry of the demo model's config.json. */
function demoProvenance(logitScale: number): object {
  return {
    note: 'Demo CLIP trained by scripts/demo-model on a synthetic shapes world. The trained temperature is recorded here; zero-shot uses 100 like every CLIP.',
    trained_logit_scale_exp: logitScale,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      steps: { type: 'string', default: '1200' },
      batch: { type: 'string', default: '64' },
      lr: { type: 'string', default: '0.002' },
      out: { type: 'string', default: 'resources/models/demo-clip' },
      samples: { type: 'string', default: 'resources/samples' },
    },
  });
  const seed = Number(values.seed);
  const steps = Number(values.steps);
  const batchSize = Number(values.batch);
  const started = Date.now();
  const log = (msg: string) =>
    process.stderr.write(`[demo-model ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
  await useBackend('wasm');

  // 1. Vocabulary: BPE learned on captions of a seeded corpus plus the world's full word list.
  const corpusRng = new Rng(seed).fork(3);
  const corpus = [captionVocabularyText()];
  for (let i = 0; i < 20000; i++) corpus.push(captionScene(randomScene(corpusRng), corpusRng));
  const bpe = learnBpe(corpus, { maxMerges: 2000, minCount: 1 });
  const files = tokenizerFiles(bpe);
  const tokenizer = ClipTokenizer.fromVocabMerges(
    bpe.vocab,
    bpe.merges.map(([a, b]) => `${a} ${b}`),
  );
  for (const text of corpus.slice(1, 2001)) {
    const ours = encodeWithBpe(bpe, text).join();
    const app = tokenizer.encode(text).join();
    if (ours !== app) throw new Error(`The app's tokenizer disagrees with the build's on "${text}": ${app} vs ${ours}`);
  }
  const config: DemoClipConfig = { ...DEMO_CONFIG, vocabSize: Object.keys(bpe.vocab).length };
  log(`vocabulary: ${bpe.merges.length} merges, ${config.vocabSize} ids; app tokenizer agrees on 2000 captions`);

  // 2. Training.
  let lastLoss = NaN;
  const params = trainDemoClip(bpe, config, {
    seed,
    steps,
    batchSize,
    lr: Number(values.lr),
    warmupSteps: Math.min(200, Math.floor(steps / 10)),
    onLog: (step, loss, lr) => {
      lastLoss = loss;
      if (step % 25 === 0 || step === steps - 1)
        log(`step ${step + 1}/${steps} loss ${loss.toFixed(4)} lr ${lr.toExponential(2)}`);
    },
  });
  const logitScale = Math.exp(Math.min(params.get('logit_scale')?.dataSync()[0] ?? 0, Math.log(100)));

  // 3. Export.
  const out = values.out;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'onnx'), { recursive: true });
  const pv = paramValues(params);
  writeFileSync(join(out, 'onnx', 'text_model.onnx'), encodeModel(buildTextModel(config, pv)));
  writeFileSync(join(out, 'onnx', 'vision_model.onnx'), encodeModel(buildVisionModel(config, pv)));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
  writeFileSync(
    join(out, 'config.json'),
    JSON.stringify(hfConfig(config, tokenizer.sotId, tokenizer.eotId, demoProvenance(logitScale)), null, 2) + '\n',
  );
  writeFileSync(
    join(out, 'preprocessor_config.json'),
    JSON.stringify(preprocessorConfig(config.imageSize), null, 2) + '\n',
  );

  // 4. Verification: ONNX Runtime vs tfjs on held-out captions and scenes.
  const checkRng = new Rng(seed).fork(4);
  const checkScenes = Array.from({ length: 16 }, () => randomScene(checkRng));
  const checkTexts = checkScenes
    .map((s) => captionScene(s, checkRng))
    .concat(['a photo of a striped.', 'a photo of a zebra!']);
  const verification = await verifyWithOrt(
    out,
    params,
    config,
    tokenizer,
    checkTexts,
    checkScenes.map((s) => renderScene(s, config.imageSize)),
  );
  log(
    `ONNX Runtime vs tfjs: text max |diff| ${verification.textMaxDiff.toExponential(2)}, image ${verification.imageMaxDiff.toExponential(2)}`,
  );
  if (verification.textMaxDiff > 1e-4 || verification.imageMaxDiff > 1e-4)
    throw new Error('The ONNX export does not match the tfjs model within 1e-4.');

  // 5. Samples and zero-shot accuracy.
  rmSync(values.samples, { recursive: true, force: true });
  const zeroShot: Record<string, { overall: number; perClass: Record<string, number> }> = {};
  for (const task of SAMPLE_TASKS) {
    const byClass = taskScenes(task, seed);
    const images: Uint8Array[] = [];
    const labels: number[] = [];
    for (const [ci, { className, scenes }] of byClass.entries()) {
      const dir = join(values.samples, task.name, className);
      mkdirSync(dir, { recursive: true });
      for (const [i, scene] of scenes.entries()) {
        const rgb = renderScene(scene, config.imageSize, task.style);
        const png = await sharp(Buffer.from(rgb), {
          raw: { width: config.imageSize, height: config.imageSize, channels: 3 },
        })
          .png({ compressionLevel: 9, adaptiveFiltering: false })
          .toBuffer();
        writeFileSync(join(dir, `${className}-${String(i + 1).padStart(3, '0')}.png`), png);
        images.push(rgb);
        labels.push(ci);
      }
    }
    const prompts = task.classes.map((c) => ZERO_SHOT_TEMPLATE.replace('{}', c.name.replace(/[_-]/g, ' ')));
    const textEmb = tfTextEmbeds(params, config, tokenizer, prompts);
    const imageEmb = tfImageEmbeds(params, config, images);
    zeroShot[task.name] = zeroShotAccuracy(
      imageEmb,
      textEmb,
      labels,
      task.classes.map((c) => c.name),
    );
    log(
      `zero-shot "${ZERO_SHOT_TEMPLATE}" on ${task.name}: ${(100 * (zeroShot[task.name]?.overall ?? 0)).toFixed(1)}%`,
    );
  }
  const report = {
    seed,
    steps,
    batchSize,
    finalLoss: lastLoss,
    trainedLogitScale: logitScale,
    config,
    merges: bpe.merges.length,
    verification,
    zeroShotTemplate: ZERO_SHOT_TEMPLATE,
    zeroShot,
    backend: tf.getBackend(),
  };
  writeFileSync(join(out, 'build-report.json'), JSON.stringify(report, null, 2) + '\n');
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
