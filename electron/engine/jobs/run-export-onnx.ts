/**
 * @file `exportRun --format onnx`: the learned classifier as one ONNX file, verified with ONNX Runtime against the
 * app's own predictions on the run's test images (engine worker, plain Node).
 *
 * [Note: no partial export] The test images are known before anything is written (a run whose images cannot be
 * found fails first), and when anything fails after the first file was written (verification, a disagreement,
 * cancellation) the files this export wrote (`classifier.onnx`, `preprocessor_config.json`) are removed before the
 * error is returned, so a folder never holds an export that was not checked.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExportResult, MethodsProgress } from '../../../shared/contract/methods';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { preprocessImage } from '../clip/preprocess';
import { embedAll } from '../features/features';
import { matmulT, stack, type Matrix } from '../methods/matrix';
import { writeOnnxClassifier } from '../onnx/onnx-classifier';
import { contextWeights } from './predict';
import { modelFor, runTestImages, type ExportArgs, type RunFolder } from './run-folder';

const toRows = (m: Matrix): Float32Array[] =>
  Array.from({ length: m.rows }, (_, i) => m.data.slice(i * m.cols, (i + 1) * m.cols));

/** Runs the written classifier on the test images and compares its top-1 with the app's. */
async function verify(
  path: string,
  model: ClipModel,
  weights: Matrix,
  test: { path: string; label: number }[],
  progress: (e: MethodsProgress) => void,
  signal: AbortSignal,
): Promise<{ images: number; agree: number; maxLogitDiff: number; mismatches: string[] }> {
  const emb = await embedAll(
    model,
    test.map((t) => ({ path: t.path })),
    { signal, onProgress: (done, total) => progress({ kind: 'features', done, total }) },
  );
  const session = await ort.InferenceSession.create(path);
  const { cropHeight: h, cropWidth: w } = model.info.preprocess;
  const c = weights.rows;
  let agree = 0;
  let images = 0;
  let maxLogitDiff = 0;
  const mismatches: string[] = [];
  try {
    for (let start = 0; start < test.length; start += 32) {
      signal.throwIfAborted();
      const batch = test
        .slice(start, start + 32)
        .map((t, j) => ({ ...t, feature: emb.features[start + j] }))
        .filter((t): t is typeof t & { feature: Float32Array } => !!t.feature);
      if (batch.length === 0) continue;
      const pixels = new Float32Array(batch.length * 3 * h * w);
      const per = pixels.length / batch.length;
      for (const [j, t] of batch.entries()) pixels.set(await preprocessImage(t.path, model.info.preprocess), j * per);
      const res = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [batch.length, 3, h, w]) });
      const ortLogits = res['logits']?.data as Float32Array;
      const app = matmulT(stack(batch.map((t) => t.feature)), weights);
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
  return { images, agree, maxLogitDiff, mismatches };
}

/** Writes and verifies the ONNX classifier of a run (see [Note: no partial export]). */
export async function exportOnnx(
  args: ExportArgs,
  dataDir: string,
  run: RunFolder,
  out: string,
  progress: (e: MethodsProgress) => void,
  signal: AbortSignal,
): Promise<ExportResult> {
  const test = await runTestImages(run, dataDir);
  const model = await modelFor(args, run, dataDir);
  progress({ kind: 'phase', message: 'Computing the learned class features' });
  const { classNames, prompts, weights } = await contextWeights(run.contextPath, model, args.backend);
  const path = join(out, 'classifier.onnx');
  const written: string[] = [];
  try {
    const files = writeOnnxClassifier(
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
      (file) => written.push(file),
    );
    progress({ kind: 'phase', message: "Verifying the classifier with ONNX Runtime against the app's predictions" });
    const v = await verify(path, model, weights, test, progress, signal);
    if (v.images === 0)
      throw new AppError(
        'not_found',
        `None of the run's ${test.length} test images can be read now (moved or deleted?), so the exported classifier cannot be checked.`,
      );
    if (v.agree !== v.images)
      throw new AppError(
        'internal',
        `The exported classifier disagrees with the app on ${v.images - v.agree} of ${v.images} test images (largest logit difference ${v.maxLogitDiff.toExponential(2)}), so it was not kept.`,
        v.mismatches.slice(0, 10).join('\n'),
      );
    return {
      format: 'onnx',
      run: run.dir,
      files: [files.model, ...(files.preprocessor ? [files.preprocessor] : [])],
      verification: { images: v.images, agree: v.agree, maxLogitDiff: v.maxLogitDiff },
    };
  } catch (e) {
    await Promise.all(written.map((f) => rm(f, { force: true })));
    throw e;
  }
}
