/**
 * @file A whole learning run from a folder or a project, in steps: plan (dataset, split), embed (features, zero-shot
 * prompts), train (CoOp where the backend choice says), save (learn-save.ts: context, curve, the run's record in
 * the store) (engine worker, plain Node).
 *
 * This is the glue between the CLIP runtime (ONNX Runtime image/text encoders, tokenizer, datasets), the
 * differentiable text encoder and prompt learner, and the pure training loop of `trainer.ts`. Evaluation of a saved
 * context lives in `evaluate-run.ts`.
 */
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import {
  defaultEpochs,
  KGCOOP_LAMBDA,
  ZERO_SHOT_TEMPLATE,
  type LearnProgress,
  type LearnResult,
  type RunNote,
  type learnArgs,
} from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { readFolderDataset, type FolderDataset } from '../data/folder-dataset';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { RunRecorder } from '../store/run-recorder';
import type { BackendChoice } from '../backends/backend-choice';
import { prepareRunBackend, trainWhereChosen } from '../backends/training-backend';
import { embedAll, trainingViews, type EmbedAllResult, type EmbedRequest } from '../features/features';
import { fillTemplate } from '../methods/templates';
import { PromptLearner } from '../train/prompt-learner';
import { noTestImages, splitRows, testPredictions } from './learn-outputs';
import { saveLearn } from './learn-save';
import { loadRunSource, testFilesByClass, toFeatureSet, type RunSource } from './run-source';
import { textEncoderFor } from '../train/text-encoder';
import { planShots, shotNotes } from '../train/shot-plan';
import { Rng, type FewShotSplit } from '../train/splits';
import { throwIfCancelled, type FeatureSet, type TrainImage } from '../train/trainer';

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

/** A learning run once its dataset and model are known (what every step reads). */
interface LearnRun {
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
}

/** Step 1's output: the separate test folder, the split (and the shots it has), its notes, how long loading took. */
interface LearnPlan {
  testDs: FolderDataset | null;
  /** The class names as people know them (see [Note: class display names]). */
  classNames: string[];
  split: FewShotSplit;
  /** The shots of the split (fewer than asked on a small dataset, see [Note: small datasets]). */
  shots: number;
  notes: RunNote[];
  loadS: number;
}

/** Step 2's output: the features of the split's images and of the class prompts. */
interface LearnFeatures {
  train: TrainImage[];
  val: FeatureSet & { items: FewShotSplit['val'] };
  test: FeatureSet & { items: FewShotSplit['test'] };
  zeroShotText: Float32Array[];
  skipped: { path: string; reason: string }[];
  emb: EmbedAllResult;
  featuresS: number;
}

const phase = (run: LearnRun, p: Extract<LearnProgress, { kind: 'phase' }>['phase'], message: string) =>
  run.job.progress({ kind: 'phase', phase: p, message });

/** Step 1: the split of the run (small datasets, a separate test folder, pinned images), recorded for a project. */
async function planLearn(run: LearnRun): Promise<LearnPlan> {
  const { args, src, recorder } = run;
  const testDs = args.test ? await readFolderDataset(args.test) : null;
  // Reports name the classes as people know them (see [Note: class display names]).
  const classNames = src.classes.map((c) => c.label);
  const shotPlan = planShots(
    src.classes.map((c) => c.files),
    {
      shots: args.shots,
      seed: args.seed,
      ...(testDs ? { testFiles: testFilesByClass(src, testDs) } : {}),
      ...(src.project ? { pinned: src.classes.map((c) => c.pinned ?? {}) } : {}),
    },
  );
  const { split, shots } = shotPlan;
  if (split.test.length === 0) throw noTestImages(src, shots, testDs !== null);
  const notes = shotNotes(
    shotPlan,
    classNames,
    src.classes.map((c) => c.files.length),
  );
  for (const n of notes) run.env.log(`learn: ${n.message}`);
  recorder?.start(splitRows(split, src), shots);
  const plan = { testDs, classNames, split, shots, notes, loadS: secs(run.tStart) };
  throwIfCancelled(run.job.signal);
  return plan;
}

/** Step 2: embeds the training views and the evaluation images (see [Note: cached views]) and the class prompts. */
async function embedLearn(run: LearnRun, plan: LearnPlan): Promise<LearnFeatures> {
  const { args, src, model } = run;
  const { split } = plan;
  const { progress, signal } = run.job;
  phase(run, 'features', 'Embedding the images with ONNX Runtime');
  const tFeat = now();
  const views = await trainingViews(
    split.train.map((t) => t.path),
    args.augViews,
    new Rng(args.seed).fork('views'),
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
  const dim = model.info.config.projectionDim;
  const train: TrainImage[] = [];
  let k = 0;
  split.train.forEach((t, i) => {
    const vs = (views[i] ?? [undefined]).map(() => emb.features[k++]).filter((f): f is Float32Array => !!f);
    if (vs.length > 0) train.push({ label: t.label, views: vs });
  });
  const evalFeats = emb.features.slice(trainReqs.length);
  const feats: LearnFeatures = {
    train,
    val: toFeatureSet(split.val, evalFeats.slice(0, split.val.length), dim),
    test: toFeatureSet(split.test, evalFeats.slice(split.val.length), dim),
    zeroShotText: await model.embedText(run.prompts.map((p) => fillTemplate(ZERO_SHOT_TEMPLATE, p))),
    skipped: [...src.skipped, ...(plan.testDs?.skipped ?? []), ...emb.errors],
    emb,
    featuresS: secs(tFeat),
  };
  throwIfCancelled(signal);
  return feats;
}

/** Step 3a: the verified text encoder and the prompt learner of the run's options. */
async function makeLearner(run: LearnRun) {
  const { args, model } = run;
  phase(run, 'text-encoder', 'Loading the text encoder for training (verified against ONNX Runtime)');
  const tEnc = now();
  const encoder = await textEncoderFor(model, run.engineBackend);
  const options = {
    nCtx: args.nCtx,
    csc: args.csc,
    position: args.position,
    ...(args.ctxInit ? { ctxInit: args.ctxInit } : {}),
    seed: args.seed,
    path: args.path,
  };
  const learner = new PromptLearner(encoder, model.tokenizer, run.prompts, options);
  return { learner, heads: encoder.heads, options, textEncoderS: secs(tEnc) };
}

/** Step 3b: trains where the backend choice says (see [Note: training backend choice]); the test predictions. */
async function trainLearn(
  run: LearnRun,
  plan: LearnPlan,
  feats: LearnFeatures,
  made: Awaited<ReturnType<typeof makeLearner>>,
) {
  const { args, model, recorder, backend } = run;
  const { learner } = made;
  const epochs = args.epochs ?? defaultEpochs(plan.shots);
  const kgLambda = args.method === 'kgcoop' ? (args.kgLambda ?? KGCOOP_LAMBDA) : null;
  phase(
    run,
    'train',
    `Learning ${learner.nCtx} context vectors${kgLambda !== null ? ` with KgCoOp (lambda ${kgLambda})` : ''} for ${epochs} epochs on ${backend}`,
  );
  const source = {
    modelDir: model.info.dir,
    heads: made.heads,
    tokenizer: model.tokenizer,
    prompts: run.prompts,
    options: made.options,
    ...(args.threads !== undefined ? { threads: args.threads } : {}),
    split: args.split,
  };
  const dim = model.info.config.projectionDim;
  const { train, val, test, zeroShotText } = feats;
  const data = { classNames: plan.classNames, dim, train, val, test, zeroShotText };
  const result = await trainWhereChosen(run.choice, source, data, learner, {
    epochs,
    seed: args.seed,
    batchSize: args.batchSize,
    logitScale: model.info.logitScale,
    ...(kgLambda !== null ? { kgLambda } : {}),
    backend,
    signal: run.job.signal,
    onProgress: (e) => {
      if (e.kind === 'step') recorder?.step();
      else recorder?.epoch(e.point);
      run.job.progress(e);
    },
  });
  const predictions = testPredictions(learner, feats.test, dim, model.info.logitScale, run.src);
  return { result, predictions, epochs, kgLambda };
}

/** Runs `learn` on a known dataset and model: plan, embed, train, save (see the steps). */
async function learnOn(run: LearnRun): Promise<LearnResult> {
  const plan = await planLearn(run);
  const feats = await embedLearn(run, plan);
  const made = await makeLearner(run);
  try {
    const trained = await trainLearn(run, plan, feats, made);
    phase(run, 'save', 'Saving the context and the curve');
    return await saveLearn({
      ...run,
      ...plan,
      ...feats,
      ...trained,
      learner: made.learner,
      textEncoderS: made.textEncoderS,
    });
  } finally {
    made.learner.dispose();
  }
}
