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
  KGCOOP_LAMBDA,
  resolveSchedule,
  ZERO_SHOT_TEMPLATE,
  type LearnProgress,
  type LearnResult,
  type RunNote,
  type learnArgs,
} from '../../../shared/contract/train';
import type { ClipModel } from '../clip/clip-model';
import { readFolderDataset, type FolderDataset } from '../data/folder-dataset';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { RunRecorder } from '../store/run-recorder';
import type { BackendChoice } from '../backends/backend-choice';
import { prepareRunBackend, trainWhereChosen } from '../backends/training-backend';
import { embedAll, type EmbedAllResult } from '../features/features';
import { fillTemplate } from '../methods/templates';
import { PromptLearner } from '../train/prompt-learner';
import { splitRows, testPredictions } from './learn-outputs';
import { saveLearn } from './learn-save';
import { learnerOptionsOf, planRequests, planSplit, promptsOf, requireTwoClasses } from './run-plan';
import { loadRunSource, toFeatureSet, type RunSource } from './run-source';
import { textEncoderFor } from '../train/text-encoder';
import { trainerSchedule } from '../train/schedule';
import { shotNotes } from '../train/shot-plan';
import type { FewShotSplit } from '../train/splits';
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
  const src = requireTwoClasses(await loadRunSource(args, env.dataDir));
  const prompts = promptsOf(args, src);
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
  // The split `estimateLearn` plans too (jobs/run-plan.ts).
  const shotPlan = planSplit(args, src, testDs);
  const { split, shots } = shotPlan;
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
  const { views, trainReqs, evalReqs } = await planRequests(args, src, split);
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
  const options = learnerOptionsOf(args);
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
  const schedule = resolveSchedule({
    schedule: args.schedule,
    classes: plan.classNames.length,
    shots: plan.shots,
    trainImages: feats.train.length,
    epochs: args.epochs,
    batchSize: args.batchSize,
  });
  const { epochs } = schedule;
  const kgLambda = args.method === 'kgcoop' ? (args.kgLambda ?? KGCOOP_LAMBDA) : null;
  phase(
    run,
    'train',
    `Learning ${learner.nCtx} context vectors${kgLambda !== null ? ` with KgCoOp (lambda ${kgLambda})` : ''} on ${backend}: ${schedule.schedule} schedule, ${epochs} epochs of ${schedule.stepsPerEpoch} step(s) of ${Math.min(schedule.batchSize, feats.train.length)} images`,
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
    ...trainerSchedule(schedule),
    seed: args.seed,
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
  return { result, predictions, epochs, schedule, kgLambda };
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
