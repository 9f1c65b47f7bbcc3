/**
 * @file The last step of a learning run: the context file with its metadata, the curve, `result.json` and the run's
 * record in the store (engine worker, plain Node).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import {
  ZERO_SHOT_TEMPLATE,
  type LearnResult,
  type RunNote,
  type SplitSummary,
  type TestPrediction,
  type learnArgs,
  type ScheduleSettings,
} from '../../../shared/contract/train';
import type { ClipModel } from '../clip/clip-model';
import type { FolderDataset } from '../data/folder-dataset';
import type { EmbedAllResult } from '../features/features';
import { CONTEXT_FORMAT_VERSION, writeContextFile, type ContextMetadata } from '../formats/context-file';
import { curvePng } from '../reports/curve';
import { appVersion } from '../settings/paths';
import type { RunRecorder } from '../store/run-recorder';
import type { PromptLearner } from '../train/prompt-learner';
import type { FewShotSplit } from '../train/splits';
import type { TrainResult } from '../train/trainer';
import { runFolderName, sha256File } from './learn-outputs';
import type { RunSource } from './run-source';

/** Everything the save step writes about a finished run. */
export interface LearnOutcome {
  args: z.output<typeof learnArgs>;
  env: { dataDir: string };
  tStart: number;
  backend: string;
  model: ClipModel;
  src: RunSource;
  prompts: string[];
  recorder: RunRecorder | null;
  testDs: FolderDataset | null;
  /** The class names as people know them (see [Note: class display names]). */
  classNames: string[];
  split: FewShotSplit;
  /** The shots of the split (may be fewer than asked, see [Note: small datasets]). */
  shots: number;
  notes: RunNote[];
  skipped: { path: string; reason: string }[];
  emb: EmbedAllResult;
  loadS: number;
  featuresS: number;
  textEncoderS: number;
  learner: PromptLearner;
  epochs: number;
  /** What the run's schedule decided (see [Note: schedules]). */
  schedule: ScheduleSettings;
  /** KgCoOp's lambda, null for CoOp. */
  kgLambda: number | null;
  result: TrainResult & { threads: number; split: LearnResult['timings']['split'] };
  predictions: TestPrediction[];
}

const secs = (t0: number) => (performance.now() - t0) / 1000;

/** Where the run's files go: `--out`, the project's runs folder, or `<dataDir>/runs`. */
function outDirOf(o: LearnOutcome): string {
  const { args, src, recorder } = o;
  return resolve(
    args.out ??
      (src.project && recorder
        ? join(
            o.env.dataDir,
            'projects',
            String(src.project.id),
            'runs',
            runFolderName(src.title, args.seed, recorder.runId),
          )
        : join(o.env.dataDir, 'runs', runFolderName(src.title, args.seed))),
  );
}

/** The metadata the context file carries (see [Note: context file] in formats/context-file.ts). */
async function contextMetadata(o: LearnOutcome, nearestTokens: LearnResult['nearestTokens']): Promise<ContextMetadata> {
  const { args, model, learner, result } = o;
  const files = await Promise.all(
    [model.info.textModelPath, model.info.visionModelPath].map(async (p) => ({
      path: p.startsWith(model.info.dir) ? p.slice(model.info.dir.length + 1) : p,
      ...(await sha256File(p)),
    })),
  );
  return {
    formatVersion: CONTEXT_FORMAT_VERSION,
    method: args.method,
    ...(o.kgLambda !== null ? { kgLambda: o.kgLambda } : {}),
    model: { id: model.info.id, dir: model.info.dir, files },
    tokenizer: { kind: 'clip-bpe', vocabSize: model.tokenizer.vocabSize, contextLength: model.tokenizer.contextLength },
    classNames: o.src.classes.map((c) => c.name),
    classLabels: o.classNames,
    prompts: o.prompts,
    nCtx: learner.nCtx,
    csc: args.csc,
    position: args.position,
    init: args.ctxInit ?? 'random N(0, 0.02^2)',
    seed: args.seed,
    shots: o.shots,
    epochs: o.epochs,
    schedule: o.schedule.schedule,
    augViews: args.augViews,
    backend: o.backend,
    metrics: {
      zeroShotTestAccuracy: result.zeroShot.test.accuracy,
      testAccuracy: result.test.accuracy,
      valAccuracy: result.val?.accuracy ?? null,
      finalTrainLoss: result.curve[result.curve.length - 1]?.trainLoss ?? null,
    },
    appVersion: appVersion(),
    nearestTokens,
    createdAt: new Date().toISOString(),
  };
}

/** What `learn` reports (see the contract in shared/contract/train.ts). */
function learnResult(
  o: LearnOutcome,
  files: Pick<LearnResult, 'nearestTokens' | 'contextPath' | 'curvePath' | 'outDir'>,
): LearnResult {
  const { args, model, src, recorder, split, result } = o;
  const summary = (name: string, i: number): SplitSummary => ({
    name,
    folder: src.classes[i]?.name ?? name,
    prompt: o.prompts[i] ?? name,
    train: split.train.filter((t) => t.label === i).length,
    val: split.val.filter((t) => t.label === i).length,
    test: split.test.filter((t) => t.label === i).length,
  });
  return {
    project: src.project && recorder ? { ...src.project, runId: recorder.runId } : null,
    model: { id: model.info.id, dir: model.info.dir },
    data: { root: src.root, test: o.testDs?.root ?? null, classes: o.classNames.map(summary), skipped: o.skipped },
    settings: {
      method: args.method,
      kgLambda: o.kgLambda,
      shots: o.shots,
      requestedShots: args.shots,
      seed: args.seed,
      nCtx: o.learner.nCtx,
      csc: args.csc,
      position: args.position,
      ctxInit: args.ctxInit ?? null,
      epochs: o.epochs,
      augViews: args.augViews,
      batchSize: o.schedule.batchSize,
      path: args.path,
      schedule: o.schedule.schedule,
      optimizer: o.schedule.optimizer,
      lr: o.schedule.lr,
    },
    backend: o.backend,
    notes: o.notes,
    zeroShot: {
      template: ZERO_SHOT_TEMPLATE,
      test: result.zeroShot.test,
      valAccuracy: result.zeroShot.val?.accuracy ?? null,
    },
    curve: result.curve,
    test: result.test,
    predictions: o.predictions,
    valAccuracy: result.val?.accuracy ?? null,
    nearestTokens: files.nearestTokens,
    timings: {
      loadS: o.loadS,
      featuresS: o.featuresS,
      imagesEmbedded: o.emb.computed,
      imagesFromCache: o.emb.cached,
      textEncoderS: o.textEncoderS,
      trainS: result.trainSeconds,
      steps: result.steps,
      msPerStep: result.msPerStep,
      threads: result.threads,
      split: result.split,
      totalS: secs(o.tStart),
    },
    contextPath: files.contextPath,
    curvePath: files.curvePath,
    outDir: files.outDir,
  };
}

/** Step 4 of `learn`: writes the context file, the curve and result.json, and finishes the run's record. */
export async function saveLearn(o: LearnOutcome): Promise<LearnResult> {
  const { args, learner } = o;
  const outDir = outDirOf(o);
  await mkdir(outDir, { recursive: true });
  const nearestTokens = learner.nearestTokens(5);
  const ctxData = Float32Array.from((await learner.ctx.data()) as Float32Array);
  const contextPath = join(outDir, 'context.safetensors');
  const curvePath = join(outDir, 'curve.png');
  const meta = await contextMetadata(o, nearestTokens);
  await writeContextFile(contextPath, { ctx: ctxData, shape: learner.ctx.shape, meta });
  const method = args.method === 'kgcoop' ? 'KgCoOp' : 'CoOp';
  const title = `${method} on ${basename(resolve(o.src.title))}: ${o.shots} shots, seed ${args.seed}, ${o.backend}`;
  await writeFile(curvePath, await curvePng(o.result.curve, { title }));
  const out = learnResult(o, { nearestTokens, contextPath, curvePath, outDir });
  await writeFile(join(outDir, 'result.json'), JSON.stringify(out, null, 2));
  o.recorder?.finish(
    { name: 'ctx', shape: learner.ctx.shape, data: ctxData, meta: { ...meta, path: contextPath } },
    out,
  );
  return out;
}
