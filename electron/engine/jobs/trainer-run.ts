/**
 * @file A whole learning run from a folder or a project: dataset, split, features, zero-shot, CoOp, outputs, and
 * the run's record in the store (engine worker, plain Node).
 *
 * This is the glue between the CLIP runtime (ONNX Runtime image/text encoders, tokenizer, datasets), the
 * differentiable text encoder and prompt learner, and the pure training loop of `trainer.ts`. Evaluation of a saved
 * context lives in `evaluate-run.ts`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import {
  defaultEpochs,
  KGCOOP_LAMBDA,
  ZERO_SHOT_TEMPLATE,
  type LearnProgress,
  type LearnResult,
  type SplitSummary,
  type learnArgs,
} from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { readFolderDataset } from '../data/folder-dataset';
import { appVersion } from '../settings/paths';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { RunRecorder } from '../store/run-recorder';
import type { BackendChoice } from '../backends/backend-choice';
import { prepareRunBackend, trainWhereChosen } from '../backends/training-backend';
import { writeContextFile, CONTEXT_FORMAT_VERSION, type ContextMetadata } from '../formats/context-file';
import { curvePng } from '../reports/curve';
import { embedAll, trainingViews, type EmbedRequest } from '../features/features';
import { fillTemplate } from '../methods/templates';
import { PromptLearner } from '../train/prompt-learner';
import { loadRunSource, testFilesByClass, toFeatureSet, type RunSource } from './run-source';
import { textEncoderFor } from '../train/text-encoder';
import { Rng } from '../train/splits';
import { planShots, shotNotes } from '../train/shot-plan';
import { throwIfCancelled, type TrainImage } from '../train/trainer';
import { noTestImages, runFolderName, sha256File, splitRows, testPredictions } from './learn-outputs';

type LearnArgs = z.output<typeof learnArgs>;

const now = () => performance.now();
const secs = (t0: number) => (now() - t0) / 1000;

/** Runs `learn`: see the contract in shared/contract/train.ts and [Note: recording a run]. */
export async function runLearn(
  args: LearnArgs,
  env: { dataDir: string; log(message: string): void },
  job: JobContext<LearnProgress>,
): Promise<LearnResult> {
  const tStart = now();
  job.progress({ kind: 'phase', phase: 'load', message: 'Reading the model and the dataset' });
  // Where to train (engine or the desktop app's GPU compute window) and the engine backend for the local tensors.
  const { choice, engineBackend } = await prepareRunBackend(env.dataDir, args.backend);
  const backend = choice.backend;
  const model = await openModel(env.dataDir, args.model);
  const src = await loadRunSource(args, env.dataDir);
  if (src.classes.length < 2)
    throw new AppError(
      'invalid_data',
      src.project
        ? `Project "${src.project.name}" needs at least two classes with usable images; found ${src.classes.length}.`
        : `${src.root} needs at least two class folders with images; found ${src.classes.length}.`,
      undefined,
      { reason: 'too_few_classes', facts: { classes: src.classes.length } },
    );
  const prompts = src.classes.map((c) => args.prompts?.[c.name] ?? c.prompt);
  const recorder = src.project
    ? RunRecorder.create(storeDb(env.dataDir), {
        projectId: src.project.id,
        modelId: model.info.id,
        method: args.method,
        options: {
          ...args,
          classes: src.classes.map((c, i) => ({ name: c.label, folder: c.name, prompt: prompts[i] ?? c.prompt })),
        },
        seed: args.seed,
        shots: args.shots,
        backend,
      })
    : null;
  try {
    return await learnOn({ args, env, job, tStart, backend, choice, engineBackend, model, src, prompts, recorder });
  } catch (e) {
    recorder?.fail(e, job.signal.aborted);
    throw e;
  }
}

/** The part of a run after its dataset and model are known. */
async function learnOn(run: {
  args: LearnArgs;
  env: { dataDir: string; log(message: string): void };
  job: JobContext<LearnProgress>;
  tStart: number;
  backend: string;
  choice: BackendChoice;
  engineBackend: string;
  model: ClipModel;
  src: RunSource;
  prompts: string[];
  recorder: RunRecorder | null;
}): Promise<LearnResult> {
  const { args, model, src, prompts, recorder, backend, choice, engineBackend, tStart } = run;
  const { progress, signal } = run.job;
  const phase = (p: Extract<LearnProgress, { kind: 'phase' }>['phase'], message: string) =>
    progress({ kind: 'phase', phase: p, message });
  const testDs = args.test ? await readFolderDataset(args.test) : null;
  // Reports name the classes as people know them (see [Note: class display names]).
  const classNames = src.classes.map((c) => c.label);
  const plan = planShots(
    src.classes.map((c) => c.files),
    {
      shots: args.shots,
      seed: args.seed,
      ...(testDs ? { testFiles: testFilesByClass(src, testDs) } : {}),
      ...(src.project ? { pinned: src.classes.map((c) => c.pinned ?? {}) } : {}),
    },
  );
  const split = plan.split;
  const shots = plan.shots;
  if (split.test.length === 0) throw noTestImages(src, shots, testDs !== null);
  const notes = shotNotes(
    plan,
    classNames,
    src.classes.map((c) => c.files.length),
  );
  for (const n of notes) run.env.log(`learn: ${n.message}`);
  recorder?.start(splitRows(split, src), shots);
  const loadS = secs(tStart);
  throwIfCancelled(signal);

  phase('features', 'Embedding the images with ONNX Runtime');
  const tFeat = now();
  const rng = new Rng(args.seed);
  const views = await trainingViews(
    split.train.map((t) => t.path),
    args.augViews,
    rng.fork('views'),
  );
  const withHash = (path: string): EmbedRequest => {
    const sha256 = src.images.get(path)?.sha256;
    return sha256 ? { path, sha256 } : { path };
  };
  const trainReqs: EmbedRequest[] = split.train.flatMap((t, i) =>
    (views[i] ?? [undefined]).map((view) => (view ? { ...withHash(t.path), view } : withHash(t.path))),
  );
  const evalReqs: EmbedRequest[] = [...split.val, ...split.test].map((t) => withHash(t.path));
  const emb = await embedAll(model, [...trainReqs, ...evalReqs], {
    signal,
    ...(src.project ? { store: embeddingStore(storeDb(run.env.dataDir)) } : {}),
    onProgress: (done, total) => progress({ kind: 'features', done, total }),
  });
  const skipped = [...src.skipped, ...(testDs?.skipped ?? []), ...emb.errors];
  const dim = model.info.config.projectionDim;
  const train: TrainImage[] = [];
  let k = 0;
  split.train.forEach((t, i) => {
    const vs = (views[i] ?? [undefined]).map(() => emb.features[k++]).filter((f): f is Float32Array => !!f);
    if (vs.length > 0) train.push({ label: t.label, views: vs });
  });
  const evalFeats = emb.features.slice(trainReqs.length);
  const val = toFeatureSet(split.val, evalFeats.slice(0, split.val.length), dim);
  const test = toFeatureSet(split.test, evalFeats.slice(split.val.length), dim);
  const zeroShotText = await model.embedText(prompts.map((p) => fillTemplate(ZERO_SHOT_TEMPLATE, p)));
  const featuresS = secs(tFeat);
  throwIfCancelled(signal);

  phase('text-encoder', 'Loading the text encoder for training (verified against ONNX Runtime)');
  const tEnc = now();
  const encoder = await textEncoderFor(model, engineBackend);
  const learnerOptions = {
    nCtx: args.nCtx,
    csc: args.csc,
    position: args.position,
    ...(args.ctxInit ? { ctxInit: args.ctxInit } : {}),
    seed: args.seed,
    path: args.path,
  };
  const learner = new PromptLearner(encoder, model.tokenizer, prompts, learnerOptions);
  const textEncoderS = secs(tEnc);
  try {
    const epochs = args.epochs ?? defaultEpochs(shots);
    const kgLambda = args.method === 'kgcoop' ? (args.kgLambda ?? KGCOOP_LAMBDA) : null;
    phase(
      'train',
      `Learning ${learner.nCtx} context vectors${kgLambda !== null ? ` with KgCoOp (lambda ${kgLambda})` : ''} for ${epochs} epochs on ${backend}`,
    );
    const source = {
      modelDir: model.info.dir,
      heads: encoder.heads,
      tokenizer: model.tokenizer,
      prompts,
      options: learnerOptions,
      ...(args.threads !== undefined ? { threads: args.threads } : {}),
      split: args.split,
    };
    const result = await trainWhereChosen(
      choice,
      source,
      { classNames, dim, train, val, test, zeroShotText },
      learner,
      {
        epochs,
        seed: args.seed,
        batchSize: args.batchSize,
        logitScale: model.info.logitScale,
        ...(kgLambda !== null ? { kgLambda } : {}),
        backend,
        signal,
        onProgress: (e) => {
          if (e.kind === 'step') recorder?.step();
          else recorder?.epoch(e.point);
          progress(e);
        },
      },
    );
    const predictions = testPredictions(learner, test, dim, model.info.logitScale, src);
    phase('save', 'Saving the context and the curve');
    const outDir = resolve(
      args.out ??
        (src.project && recorder
          ? join(
              run.env.dataDir,
              'projects',
              String(src.project.id),
              'runs',
              runFolderName(src.title, args.seed, recorder.runId),
            )
          : join(run.env.dataDir, 'runs', runFolderName(src.title, args.seed))),
    );
    await mkdir(outDir, { recursive: true });
    const nearestTokens = learner.nearestTokens(5);
    const ctxData = Float32Array.from((await learner.ctx.data()) as Float32Array);
    const contextPath = join(outDir, 'context.safetensors');
    const curvePath = join(outDir, 'curve.png');
    const files = await Promise.all(
      [model.info.textModelPath, model.info.visionModelPath].map(async (p) => ({
        path: p.startsWith(model.info.dir) ? p.slice(model.info.dir.length + 1) : p,
        ...(await sha256File(p)),
      })),
    );
    const meta: ContextMetadata = {
      formatVersion: CONTEXT_FORMAT_VERSION,
      method: args.method,
      ...(kgLambda !== null ? { kgLambda } : {}),
      model: { id: model.info.id, dir: model.info.dir, files },
      tokenizer: {
        kind: 'clip-bpe',
        vocabSize: model.tokenizer.vocabSize,
        contextLength: model.tokenizer.contextLength,
      },
      classNames: src.classes.map((c) => c.name),
      classLabels: classNames,
      prompts,
      nCtx: learner.nCtx,
      csc: args.csc,
      position: args.position,
      init: args.ctxInit ?? 'random N(0, 0.02^2)',
      seed: args.seed,
      shots,
      epochs,
      augViews: args.augViews,
      backend,
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
    await writeContextFile(contextPath, { ctx: ctxData, shape: learner.ctx.shape, meta });
    await writeFile(
      curvePath,
      await curvePng(result.curve, {
        title: `${args.method === 'kgcoop' ? 'KgCoOp' : 'CoOp'} on ${basename(resolve(src.title))}: ${shots} shots, seed ${args.seed}, ${backend}`,
      }),
    );
    const summary = (name: string, i: number): SplitSummary => ({
      name,
      folder: src.classes[i]?.name ?? name,
      prompt: prompts[i] ?? name,
      train: split.train.filter((t) => t.label === i).length,
      val: split.val.filter((t) => t.label === i).length,
      test: split.test.filter((t) => t.label === i).length,
    });
    const out: LearnResult = {
      project: src.project && recorder ? { ...src.project, runId: recorder.runId } : null,
      model: { id: model.info.id, dir: model.info.dir },
      data: { root: src.root, test: testDs?.root ?? null, classes: classNames.map(summary), skipped },
      settings: {
        method: args.method,
        kgLambda,
        shots,
        requestedShots: args.shots,
        seed: args.seed,
        nCtx: learner.nCtx,
        csc: args.csc,
        position: args.position,
        ctxInit: args.ctxInit ?? null,
        epochs,
        augViews: args.augViews,
        batchSize: args.batchSize,
        path: args.path,
      },
      backend,
      notes,
      zeroShot: {
        template: ZERO_SHOT_TEMPLATE,
        test: result.zeroShot.test,
        valAccuracy: result.zeroShot.val?.accuracy ?? null,
      },
      curve: result.curve,
      test: result.test,
      predictions,
      valAccuracy: result.val?.accuracy ?? null,
      nearestTokens,
      timings: {
        loadS,
        featuresS,
        imagesEmbedded: emb.computed,
        imagesFromCache: emb.cached,
        textEncoderS,
        trainS: result.trainSeconds,
        steps: result.steps,
        msPerStep: result.msPerStep,
        threads: result.threads,
        split: result.split,
        totalS: secs(tStart),
      },
      contextPath,
      curvePath,
      outDir,
    };
    await writeFile(join(outDir, 'result.json'), JSON.stringify(out, null, 2));
    recorder?.finish(
      { name: 'ctx', shape: learner.ctx.shape, data: ctxData, meta: { ...meta, path: contextPath } },
      out,
    );
    return out;
  } finally {
    learner.dispose();
  }
}
