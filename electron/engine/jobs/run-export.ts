/**
 * @file `exportRun`: a learning run's context (with a README), ONNX classifier (verified with ONNX Runtime), class
 * text features, or results (CSV, JSON, SVG, PNG) (engine worker, plain Node).
 *
 * [Note: run folders] A run is the output folder of `learn --out`: `context.safetensors` (the context with its
 * metadata) and `result.json` (the `learn` result: curve, reports, split sizes, settings). The test images of a run
 * are not listed in it, but the split is a pure function of the dataset folder, the shots and the seed (see
 * [Note: seeded randomness]), so the export recomputes it to verify the ONNX classifier on exactly the run's test set.
 * A project run of the store is named by its id instead: its context path, result and test images come from the store.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import type { ExportResult, MethodsProgress, exportRunArgs } from '../../../shared/contract/methods';
import type { LearnResult } from '../../../shared/contract/train';
import { csvTable } from '../../../shared/csv';
import { AppError } from '../../../shared/result';
import { openClipModel, type ClipModel } from '../clip/clip-model';
import { preprocessImage } from '../clip/preprocess';
import { readFolderDataset } from '../data/folder-dataset';
import { storeDb } from '../store/db';
import { openModel } from '../models/open-model';
import { getRunDetail } from '../store/runs-repo';
import { contextWeights } from './predict';
import { matmulT, normalizeRows, stack, type Matrix } from '../methods/matrix';
import { fillTemplate } from '../methods/templates';
import { readContextFile, type ContextFile } from '../formats/context-file';
import { curvePng, curveSvg } from '../reports/curve';
import { embedAll } from '../features/features';
import { fewShotSplit } from '../train/splits';
import { contextReadme } from '../reports/context-readme';
import { confusionSvg, perClassSvg } from '../reports/export-charts';
import { writeOnnxClassifier } from '../onnx/onnx-classifier';
import { encodeNpy, encodeSafetensors } from '../formats/tensor-files';
import sharp from 'sharp';

type ExportArgs = z.output<typeof exportRunArgs>;

/** A run folder's files, read and checked. */
interface RunFolder {
  dir: string;
  contextPath: string;
  context: ContextFile;
  result: LearnResult | null;
  /** The run's test images when the store recorded them (project runs). */
  testImages?: { path: string; label: number }[];
}

/** A project run of the store by id: its recorded context file, result and test images. */
async function readStoreRun(id: number, dataDir: string): Promise<RunFolder> {
  const detail = getRunDetail(storeDb(dataDir), id);
  const contextPath = detail.context?.path;
  if (!contextPath)
    throw new AppError('not_found', `Run ${id} has no learned context file recorded (status: ${detail.status}).`);
  return {
    dir: dirname(contextPath),
    contextPath,
    context: await readContextFile(contextPath),
    result: detail.result,
    testImages: detail.images.filter((im) => im.split === 'test').map((im) => ({ path: im.path, label: im.label })),
  };
}

async function readRunFolder(run: string, dataDir: string): Promise<RunFolder> {
  if (/^\d+$/.test(run) && !existsSync(run)) return readStoreRun(Number(run), dataDir);
  const dir = resolve(run);
  const contextPath = join(dir, 'context.safetensors');
  const context = await readContextFile(contextPath).catch((e: unknown) => {
    if (e instanceof AppError && e.code === 'not_found')
      throw new AppError(
        'not_found',
        `${dir} is not a run folder: it has no context.safetensors (a run folder is what \`learn --out DIR\` writes).`,
      );
    throw e;
  });
  let result: LearnResult | null = null;
  try {
    result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as LearnResult;
  } catch {
    result = null;
  }
  return { dir, contextPath, context, result };
}

async function modelFor(args: ExportArgs, run: RunFolder, dataDir: string): Promise<ClipModel> {
  if (args.model) return openModel(dataDir, args.model);
  const dir = run.result?.model.dir ?? run.context.meta.model.dir;
  try {
    return await openClipModel(dir);
  } catch (e) {
    throw new AppError(
      'not_found',
      `The run's model folder ${dir} cannot be opened (${e instanceof Error ? e.message : String(e)}); give the folder or installed id of model "${run.context.meta.model.id}".`,
      e instanceof Error ? e.message : String(e),
    );
  }
}

const toRows = (m: Matrix): Float32Array[] =>
  Array.from({ length: m.rows }, (_, i) => m.data.slice(i * m.cols, (i + 1) * m.cols));

/** The run's test images (see [Note: run folders]). */
async function runTestImages(run: RunFolder): Promise<{ path: string; label: number }[]> {
  if (run.testImages) return run.testImages;
  const r = run.result;
  if (!r) throw new AppError('not_found', `${run.dir} has no result.json, so its test images are unknown.`);
  const ds = await readFolderDataset(r.data.root);
  const testDs = r.data.test ? await readFolderDataset(r.data.test) : null;
  const byName = new Map(testDs?.classes.map((c) => [c.name, c.files]) ?? []);
  return fewShotSplit(
    ds.classes.map((c) => c.files),
    {
      shots: r.settings.shots,
      seed: r.settings.seed,
      ...(testDs ? { testFiles: ds.classes.map((c) => byName.get(c.name) ?? []) } : {}),
    },
  ).test;
}

async function exportOnnx(
  args: ExportArgs,
  dataDir: string,
  run: RunFolder,
  out: string,
  progress: (e: MethodsProgress) => void,
  signal: AbortSignal,
): Promise<ExportResult> {
  const model = await modelFor(args, run, dataDir);
  progress({ kind: 'phase', message: 'Computing the learned class features' });
  const { classNames, prompts, weights } = await contextWeights(run.contextPath, model, args.backend);
  const path = join(out, 'classifier.onnx');
  const written = writeOnnxClassifier(
    {
      visionModelPath: model.info.visionModelPath,
      classNames,
      classFeatures: toRows(weights),
      logitScale: model.info.logitScale,
      metadata: {
        method: run.context.meta.method,
        model_id: model.info.id,
        prompts: JSON.stringify(prompts),
        app_version: run.context.meta.appVersion,
      },
    },
    path,
  );
  progress({ kind: 'phase', message: "Verifying the classifier with ONNX Runtime against the app's predictions" });
  const test = await runTestImages(run);
  const emb = await embedAll(
    model,
    test.map((t) => ({ path: t.path })),
    { signal, onProgress: (done, total) => progress({ kind: 'features', done, total }) },
  );
  const session = await ort.InferenceSession.create(path);
  const size = model.info.preprocess.cropHeight;
  const c = classNames.length;
  let agree = 0;
  let images = 0;
  let maxLogitDiff = 0;
  const mismatches: string[] = [];
  try {
    for (let start = 0; start < test.length; start += 32) {
      signal.throwIfAborted();
      const batch = test.slice(start, start + 32).filter((_, j) => emb.features[start + j]);
      if (batch.length === 0) continue;
      const pixels = new Float32Array(batch.length * 3 * size * model.info.preprocess.cropWidth);
      const per = pixels.length / batch.length;
      for (const [j, t] of batch.entries()) pixels.set(await preprocessImage(t.path, model.info.preprocess), j * per);
      const res = await session.run({
        pixel_values: new ort.Tensor('float32', pixels, [batch.length, 3, size, model.info.preprocess.cropWidth]),
      });
      const ortLogits = res['logits']?.data as Float32Array;
      const feats = batch.map((t) => emb.features[test.indexOf(t)] as Float32Array);
      const app = matmulT(stack(feats), weights);
      for (let j = 0; j < batch.length; j++) {
        let a = 0;
        let o = 0;
        for (let k = 0; k < c; k++) {
          const appLogit = app.data[j * c + k]! * model.info.logitScale;
          maxLogitDiff = Math.max(maxLogitDiff, Math.abs(appLogit - ortLogits[j * c + k]!));
          if (app.data[j * c + k]! > app.data[j * c + a]!) a = k;
          if (ortLogits[j * c + k]! > ortLogits[j * c + o]!) o = k;
        }
        images++;
        if (a === o) agree++;
        else mismatches.push(batch[j]!.path);
      }
    }
  } finally {
    await session.release();
  }
  if (agree !== images)
    throw new AppError(
      'internal',
      `The exported classifier disagrees with the app on ${images - agree} of ${images} test images (largest logit difference ${maxLogitDiff.toExponential(2)}); it was written to ${path} but should not be trusted.`,
      mismatches.slice(0, 10).join('\n'),
    );
  return {
    format: 'onnx',
    run: run.dir,
    files: [written.model, ...(written.preprocessor ? [written.preprocessor] : [])],
    verification: { images, agree, maxLogitDiff },
  };
}

async function exportFeatures(args: ExportArgs, dataDir: string, run: RunFolder, out: string): Promise<ExportResult> {
  const model = await modelFor(args, run, dataDir);
  const { classNames, prompts, weights } = await contextWeights(run.contextPath, model, args.backend);
  const zs = normalizeRows(stack(await model.embedText(prompts.map((p) => fillTemplate('a photo of a {}.', p)))));
  const shape = [weights.rows, weights.cols];
  const files: [string, Uint8Array | string][] = [
    ['class_features.npy', encodeNpy(shape, weights.data)],
    ['zero_shot_features.npy', encodeNpy(shape, zs.data)],
    [
      'class_features.safetensors',
      encodeSafetensors(
        [
          { name: 'class_features', shape, data: weights.data },
          { name: 'zero_shot_features', shape, data: zs.data },
        ],
        {
          format: 'coop-studio-class-features',
          class_names: JSON.stringify(classNames),
          prompts: JSON.stringify(prompts),
          model_id: model.info.id,
          normalized: 'true',
          logit_scale: String(model.info.logitScale),
          zero_shot_template: 'a photo of a {}.',
        },
      ),
    ],
    ['class_names.json', JSON.stringify(classNames, null, 2) + '\n'],
  ];
  for (const [name, body] of files) await writeFile(join(out, name), body);
  return { format: 'features', run: run.dir, files: files.map(([n]) => join(out, n)) };
}

async function exportResults(run: RunFolder, out: string): Promise<ExportResult> {
  const r = run.result;
  if (!r) throw new AppError('not_found', `${run.dir} has no result.json to export results from.`);
  const title = `${r.settings.shots} shots, seed ${r.settings.seed}`;
  const names = r.test.perClass.map((c) => c.name);
  const files: [string, string | Buffer][] = [
    [
      'curve.csv',
      csvTable([
        ['epoch', 'lr', 'train_loss', 'train_accuracy', 'val_accuracy', 'test_accuracy', 'seconds'],
        ...r.curve.map((p) => [p.epoch, p.lr, p.trainLoss, p.trainAccuracy, p.valAccuracy, p.testAccuracy, p.seconds]),
      ]),
    ],
    ['curve.json', JSON.stringify(r.curve, null, 2) + '\n'],
    [
      'per-class.csv',
      csvTable([
        ['class', 'test_images', 'zero_shot_accuracy', 'learned_accuracy'],
        ...r.test.perClass.map((c, i) => [c.name, c.count, r.zeroShot.test.perClass[i]?.accuracy, c.accuracy]),
      ]),
    ],
    [
      'confusion.csv',
      csvTable([['true \\ predicted', ...names], ...r.test.confusion.map((row, i) => [names[i], ...row])]),
    ],
    [
      'confusion-zero-shot.csv',
      csvTable([['true \\ predicted', ...names], ...r.zeroShot.test.confusion.map((row, i) => [names[i], ...row])]),
    ],
    [
      'results.json',
      JSON.stringify(
        {
          settings: r.settings,
          model: r.model,
          data: r.data,
          zeroShot: r.zeroShot,
          test: r.test,
          valAccuracy: r.valAccuracy,
          curve: r.curve,
        },
        null,
        2,
      ) + '\n',
    ],
  ];
  const svgs: [string, string][] = [
    ['curve', curveSvg(r.curve, { title: `Learning curve: ${title}` })],
    ['confusion', confusionSvg(r.test, `Confusion matrix of the learned prompt: ${title}`)],
    ['per-class', perClassSvg(r.test, r.zeroShot.test, `Per-class test accuracy: ${title}`)],
  ];
  for (const [name, svg] of svgs) {
    files.push([`${name}.svg`, svg]);
    files.push([
      `${name}.png`,
      name === 'curve'
        ? await curvePng(r.curve, { title: `Learning curve: ${title}` })
        : await sharp(Buffer.from(svg)).png().toBuffer(),
    ]);
  }
  for (const [name, body] of files) await writeFile(join(out, name), body);
  return { format: 'results', run: run.dir, files: files.map(([n]) => join(out, n)) };
}

/** Runs `exportRun`. */
export async function runExport(
  args: ExportArgs,
  env: { dataDir: string },
  { progress, signal }: JobContext<MethodsProgress>,
): Promise<ExportResult> {
  progress({ kind: 'phase', message: `Reading the run ${args.run}` });
  const run = await readRunFolder(args.run, env.dataDir);
  const out = resolve(args.out);
  await mkdir(out, { recursive: true });
  if (args.format === 'context') {
    const file = join(out, 'context.safetensors');
    if (resolve(file) !== run.contextPath) await copyFile(run.contextPath, file);
    const readme = join(out, 'README.md');
    await writeFile(readme, contextReadme(run.context.meta, 'context.safetensors', run.context.shape));
    return { format: 'context', run: run.dir, files: [file, readme] };
  }
  if (args.format === 'onnx') return exportOnnx(args, env.dataDir, run, out, progress, signal);
  if (args.format === 'features') return exportFeatures(args, env.dataDir, run, out);
  return exportResults(run, out);
}
