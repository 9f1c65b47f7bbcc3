/**
 * @file `exportRun`: a learning run's context (with a README), ONNX classifier (verified with ONNX Runtime), class
 * text features, or results (CSV, JSON, SVG, PNG) (engine worker, plain Node).
 *
 * Which run and which test images: see [Note: run folders] in run-folder.ts; the ONNX classifier: run-export-onnx.ts.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JobContext } from '../../../shared/contract/define';
import type { ExportResult, MethodsProgress } from '../../../shared/contract/methods';
import { ZERO_SHOT_TEMPLATE } from '../../../shared/contract/train';
import { csvTable } from '../../../shared/csv';
import { AppError } from '../../../shared/result';
import { contextWeights } from './predict';
import { normalizeRows, stack } from '../methods/matrix';
import { fillTemplate } from '../methods/templates';
import { curvePng, curveSvg } from '../reports/curve';
import { contextReadme } from '../reports/context-readme';
import { confusionSvg, perClassSvg } from '../reports/export-charts';
import { encodeNpy, encodeSafetensors } from '../formats/tensor-files';
import sharp from 'sharp';
import { exportOnnx } from './run-export-onnx';
import { modelFor, readRunFolder, type ExportArgs, type RunFolder } from './run-folder';

async function exportFeatures(args: ExportArgs, dataDir: string, run: RunFolder, out: string): Promise<ExportResult> {
  const model = await modelFor(args, run, dataDir);
  const { classNames, prompts, weights } = await contextWeights(run.contextPath, model, args.backend);
  const zs = normalizeRows(stack(await model.embedText(prompts.map((p) => fillTemplate(ZERO_SHOT_TEMPLATE, p)))));
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
          zero_shot_template: ZERO_SHOT_TEMPLATE,
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
