/**
 * @file Contract of CoOp prompt learning: `learn` (a job) and `evaluate` (pure TypeScript).
 *
 * Accuracies are fractions in [0, 1]. Epoch 0 of every curve is the hand-written prompt ("a photo of a {}.") before
 * training, so a curve always starts from the zero-shot baseline.
 */
import { z } from 'zod';
import { job, op } from './define';
import { MAX_BATCH, TRAIN_SCHEDULES, type ScheduleSettings, type TrainSchedule } from './schedule';

export * from './schedule';

/** CoOp's context length M when none is given (the paper's default). */
export const N_CTX_DEFAULT = 16;
/** The largest context length M a run may ask for (a prompt holds 77 tokens with SOS, EOS and the class name). */
export const N_CTX_MAX = 64;
/** A seed of a split and of the training's random draws (a 31-bit whole number). */
export const seedArg = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);
/** The `nCtx` argument of every operation that learns a prompt. */
export const nCtxArg = z.number().int().min(1).max(N_CTX_MAX).default(N_CTX_DEFAULT);
/** Where the class name sits in the prompt. */
export const CLASS_POSITIONS = ['end', 'middle', 'front'] as const;
/**
 * tfjs backends of the desktop app's hidden compute window (browser GPU), best first.
 *
 * [Note: one list of training backends] Every tfjs backend that can train is declared here once, best first: the
 * compute window's GPU backends, then the Node engine's (tfjs-node, wasm, and the plain-JS reference `cpu`, which is
 * used only when asked for). The run argument `backend`, the training-backend setting, the Settings screen's choices
 * and the engine's automatic order (electron/engine/backends/backend-choice.ts) are all derived from these two lists.
 */
export const COMPUTE_WINDOW_BACKENDS = ['webgpu', 'webgl'] as const;
/** tfjs backends of the Node engine, best first: what a run's `backend` argument can ask for. */
export const TRAIN_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
/** A backend of the Node engine. */
export type EngineBackend = (typeof TRAIN_BACKENDS)[number];
/** Every backend a run can train on, best first (see [Note: one list of training backends]). */
export const TRAINING_BACKENDS = [...COMPUTE_WINDOW_BACKENDS, ...TRAIN_BACKENDS] as const;
/** A backend a run can train on. */
export type TrainingBackend = (typeof TRAINING_BACKENDS)[number];
/** Values of the training-backend setting: `auto` or one backend. */
export const TRAINING_BACKEND_SETTINGS = ['auto', ...TRAINING_BACKENDS] as const;
/** The training-backend setting. */
export type TrainingBackendSetting = (typeof TRAINING_BACKEND_SETTINGS)[number];
/** The two implementations of the text encoder's forward+backward (results must agree). */
export const ENCODER_PATHS = ['optimised', 'plain'] as const;
/** How training threads share a step (see electron/engine/train/sharded-learner.ts). */
export const THREAD_SPLITS = ['classes', 'heads'] as const;
/**
 * Fewest classes per thread when `learn` chooses its thread count (split by classes; measured in
 * electron/engine/train/sharded-learner.ts): 10 classes already pay on two cores.
 */
export const MIN_CLASSES_PER_THREAD = 5;
/** The shot counts `learn` and `compare` fall back to when a dataset is too small for the one asked for (the paper's). */
export const SHOT_STEPS = [16, 8, 4, 2, 1] as const;
/** The fewest usable images a class needs to be learned and tested: one to learn from, one to validate, one to test. */
export const MIN_IMAGES_PER_CLASS = 3;
/**
 * The test images a class of `n` usable images keeps at least when the shots are chosen: a quarter of them, and one
 * at least. See [Note: small datasets] in electron/engine/train/shot-plan.ts.
 */
export function minTestImages(n: number): number {
  return Math.max(1, Math.ceil(n / 4));
}

/** The hand-written prompt of the zero-shot baseline. */
export const ZERO_SHOT_TEMPLATE = 'a photo of a {}.';
/** A prompt template argument: `{}` marks where the class name goes; the zero-shot baseline's when omitted. */
export const templateArg = z
  .string()
  .default(ZERO_SHOT_TEMPLATE)
  .refine((t) => t.includes('{}'), 'The template must contain {} where the class name goes.');

/**
 * KgCoOp's default weight lambda of its knowledge-guided term `lambda * (1 - mean_c cos(w_c, w_c^clip))`.
 *
 * [Note: KgCoOp weight] The official code (htyao89/KgCoOp, `trainers/kgcoop.py`) adds `self.w * score` to the
 * cross-entropy with `score = 1.0 - torch.mean(cos(text_features, text_features_old))` and `TRAINER.COOP.W = 8.0` in
 * its scripts. The app used to weigh the paper's `||w - w_clip||^2`, which is 2 (1 - cos) for unit vectors, by 8:
 * twice the official effective weight (measured on a held-out task at 16 shots: 76.7% against 79.2% at the official
 * weight). The term is now the code's `1 - mean cos`, so lambda means what it means there, and 8 is its default.
 */
export const KGCOOP_LAMBDA = 8;
/** The range of KgCoOp's lambda. */
const kgLambdaRange = z.number().min(0).max(1000);
/** The `kgLambda` argument of the operations that run KgCoOp beside other methods (compare, the experiments). */
export const kgLambdaArg = kgLambdaRange.default(KGCOOP_LAMBDA);
/** CoCoOp's epochs when none is given (the paper: 10; batch 1, M = 4 initialised from "a photo of a"). */
export const COCOOP_EPOCHS_DEFAULT = 10;
/** The `cocoopEpochs` argument of every operation that trains CoCoOp. */
export const cocoopEpochsArg = z.number().int().min(0).max(1000).default(COCOOP_EPOCHS_DEFAULT);
/** The prompt-learning methods `learn` runs: CoOp, or KgCoOp (CoOp plus the knowledge-guided term). */
export const LEARN_METHODS = ['coop', 'kgcoop'] as const;
/** One of {@link LEARN_METHODS}. */
export type LearnMethod = (typeof LEARN_METHODS)[number];

/** One point of the learning curve; epoch 0 is the hand-written prompt before training. */
export interface EpochPoint {
  epoch: number;
  /** Learning rate of this epoch (null for epoch 0). */
  lr: number | null;
  trainLoss: number;
  trainAccuracy: number;
  valAccuracy: number | null;
  testAccuracy: number | null;
  seconds: number;
}

/** Accuracy overall and per class, and the confusion matrix (`confusion[true][predicted]`). */
export interface ClassificationReport {
  accuracy: number;
  count: number;
  perClass: { name: string; accuracy: number | null; count: number }[];
  confusion: number[][];
}

/** Progress of the training loop. */
export type TrainProgress =
  | {
      kind: 'step';
      epoch: number;
      epochs: number;
      step: number;
      stepsPerEpoch: number;
      loss: number;
      lr: number;
      etaS: number;
      backend: string;
    }
  | { kind: 'epoch'; point: EpochPoint; epochs: number; etaS: number; backend: string };

/** Progress of `learn` and `evaluate`: phases, image embedding, then the training loop's events. */
export type LearnProgress =
  | { kind: 'phase'; phase: 'load' | 'features' | 'text-encoder' | 'train' | 'evaluate' | 'save'; message: string }
  | { kind: 'features'; done: number; total: number }
  | TrainProgress;

/**
 * What is wrong with a run's data source, or null: none given, both a folder and a project, or a separate test
 * folder with a project. The one rule behind the contract's refinements and the CLI's flag messages.
 *
 * [Note: data source] A folder run reads class folders and records nothing in the store; a project run reads the
 * project's classes (prompt text as edited, excluded and missing images left out) and its images' content hashes,
 * so the persistent embedding cache is used, and records the run (curve, split, context, report) in the store.
 */
export function dataSourceProblem(v: {
  data?: unknown;
  project?: unknown;
  test?: unknown;
}): 'no_source' | 'two_sources' | 'test_with_project' | null {
  if ((v.data === undefined) === (v.project === undefined)) return v.data === undefined ? 'no_source' : 'two_sources';
  return v.project !== undefined && v.test !== undefined ? 'test_with_project' : null;
}

const DATA_SOURCE_ISSUES = {
  no_source: { path: ['data'], message: 'give the data source: a dataset folder (data) or a project id (project)' },
  two_sources: {
    path: ['project'],
    message: 'give either a dataset folder (data) or a project id (project), not both',
  },
  test_with_project: {
    path: ['test'],
    message: 'a separate test folder goes with a dataset folder (data), not with a project',
  },
} as const;

/** Refinement of every operation that reads a dataset: exactly one data source (see {@link dataSourceProblem}). */
export function oneDataSource(
  v: { data?: string | undefined; project?: number | undefined; test?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const problem = dataSourceProblem(v);
  if (problem)
    ctx.addIssue({ code: 'custom', ...DATA_SOURCE_ISSUES[problem], path: [...DATA_SOURCE_ISSUES[problem].path] });
}

const projectIdArg = z.number().int().positive();

/**
 * Default cached augmented views per training image: none.
 *
 * [Note: augmentation off by default] CoOp's reference trains on random resized crops (scale 0.08-1) and flips. On
 * the demo task (48-pixel images whose class is a background texture) such crops remove or rescale the very texture
 * that defines the class. Measured on `resources/samples/backgrounds`, seeds 1/2/3, zero-shot 0.92/0.91/0.93: CoOp
 * with 4 views reached 0.88/0.64/0.80 test accuracy, with none 0.99/0.98/1.00 (views drawn at scale 0.5-1 instead:
 * 0.97/0.85/0.97; the plain image plus 4 views: 0.95/0.91/0.81). Views stay one option
 * away (`--aug-views 4`, the Learn screen) for photographs, where the reference recipe is the better default.
 */
export const DEFAULT_AUG_VIEWS = 0;

/** Arguments of `learn`. */
export const learnArgs = z
  .object({
    /** Model folder or installed model id; the active model when omitted (see [Note: one model resolver]). */
    model: z.string().min(1).optional(),
    /** Dataset folder: one sub-folder of images per class (or `project`; see [Note: data source]). */
    data: z.string().min(1).optional(),
    /** Stored project id (or `data`); the run is recorded in the project. */
    project: projectIdArg.optional(),
    /** Separate test folder with the same class folders (folder runs only); otherwise the test set is what the split leaves. */
    test: z.string().min(1).optional(),
    shots: z.number().int().min(1).max(10_000).default(16),
    seed: seedArg.default(1),
    nCtx: nCtxArg,
    csc: z.boolean().default(false),
    position: z.enum(CLASS_POSITIONS).default('end'),
    /** Initialise the context from these words (M becomes their token count). */
    ctxInit: z.string().min(1).optional(),
    /** Training schedule (see [Note: schedules]); omitted: the default for the class count (`defaultSchedule`). */
    schedule: z.enum(TRAIN_SCHEDULES).optional(),
    /** Epochs; the schedule's count for the shot number when omitted (`scheduleEpochs`). */
    epochs: z.number().int().min(0).max(10_000).optional(),
    /** Cached augmented views per training image (0 = the plain image only). */
    augViews: z.number().int().min(0).max(256).default(DEFAULT_AUG_VIEWS),
    backend: z.enum(TRAIN_BACKENDS).optional(),
    path: z.enum(ENCODER_PATHS).default('optimised'),
    /** Images per step; the schedule's when omitted (paper: 32, fast: see [Note: schedules]). */
    batchSize: z.number().int().min(1).max(MAX_BATCH).optional(),
    /** Threads that share the classes of a wasm training step (0 or absent: automatic, see defaultShardCount). */
    threads: z.number().int().min(0).max(64).optional(),
    /** How training threads share a step: each a range of classes (default), or each a slice of the heads. */
    split: z.enum(THREAD_SPLITS).default('classes'),
    /** Output folder for the context file and the curve; a new folder under `<dataDir>/runs` when omitted. */
    out: z.string().min(1).optional(),
    /** Prompt text per class folder name, overriding the folder-derived (or project's) text. */
    prompts: z.record(z.string(), z.string().min(1)).optional(),
    /** CoOp, or KgCoOp (see [Note: KgCoOp weight]). */
    method: z.enum(LEARN_METHODS).default('coop'),
    /** KgCoOp's lambda (method `kgcoop` only); {@link KGCOOP_LAMBDA} when omitted. */
    kgLambda: kgLambdaRange.optional(),
  })
  .superRefine((v, ctx) => {
    oneDataSource(v, ctx);
    if (v.kgLambda !== undefined && v.method !== 'kgcoop')
      ctx.addIssue({ code: 'custom', path: ['kgLambda'], message: 'kgLambda goes with method kgcoop' });
  });

/** Per-class sizes of a run's split. */
export interface SplitSummary {
  /** The class's name for people (see [Note: class display names] in electron/engine/jobs/run-source.ts). */
  name: string;
  /** Where its images came from: the class folder's name. */
  folder: string;
  prompt: string;
  train: number;
  val: number;
  test: number;
}

/** The learned prompt's answer for one test image (indices are into `data.classes`). */
export interface TestPrediction {
  /** The project's image id; null in folder runs. */
  imageId: number | null;
  path: string;
  /** True class index. */
  label: number;
  /** Predicted class index. */
  predicted: number;
  /** Softmax probability of the predicted class, in [0, 1]. */
  confidence: number;
}

/**
 * Something a run decided for the user that a front end should say (see [Note: small datasets]); `message` is a
 * sentence for any reader, the other fields let a front end phrase it itself.
 */
export type RunNote =
  | {
      code: 'shots_capped';
      message: string;
      requested: number;
      used: number;
      /** The class that limited the shots (display name) and its usable images. */
      smallestClass: string;
      smallestImages: number;
    }
  | { code: 'classes_without_test'; message: string; classes: string[]; minImagesPerClass: number };

/** What `learn` reports. */
export interface LearnResult {
  /** The project and the recorded run (null for folder runs). */
  project: { id: number; name: string; runId: number } | null;
  model: { id: string; dir: string };
  data: { root: string; test: string | null; classes: SplitSummary[]; skipped: { path: string; reason: string }[] };
  settings: {
    /** CoOp or KgCoOp. */
    method: LearnMethod;
    /** KgCoOp's lambda; null for CoOp. */
    kgLambda: number | null;
    /** Training images per class the split took (see `requestedShots` and `notes`). */
    shots: number;
    /** The shots asked for; more than `shots` when the dataset was too small for them (see [Note: small datasets]). */
    requestedShots: number;
    seed: number;
    nCtx: number;
    csc: boolean;
    position: (typeof CLASS_POSITIONS)[number];
    ctxInit: string | null;
    epochs: number;
    augViews: number;
    batchSize: number;
    path: (typeof ENCODER_PATHS)[number];
    /** The schedule the run used, and what it decided (see [Note: schedules]). */
    schedule: TrainSchedule;
    optimizer: ScheduleSettings['optimizer'];
    lr: number;
  };
  backend: string;
  /** What the run decided for the user (fewer shots than asked, classes without test images). */
  notes: RunNote[];
  zeroShot: { template: string; test: ClassificationReport; valAccuracy: number | null };
  curve: EpochPoint[];
  test: ClassificationReport;
  /** One entry per test image, in test-set order (for opening confusion cells and misclassified images). */
  predictions: TestPrediction[];
  valAccuracy: number | null;
  nearestTokens: { position: number; tokens: { token: string; id: number; distance: number }[] }[];
  timings: {
    loadS: number;
    featuresS: number;
    imagesEmbedded: number;
    imagesFromCache: number;
    textEncoderS: number;
    trainS: number;
    steps: number;
    msPerStep: number;
    /** Threads that computed the training steps (wasm shards; 1 on other backends). */
    threads: number;
    /** How they shared it (meaningful when threads > 1). */
    split: (typeof THREAD_SPLITS)[number];
    totalS: number;
  };
  contextPath: string;
  curvePath: string;
  outDir: string;
}

/**
 * What `estimateLearn` expects a `learn` with the same arguments to take on this machine, before it starts.
 *
 * [Note: learn estimate] The engine plans the run exactly as `learn` would (split, views, which images the caches
 * already hold), embeds a few of the images to time the image pipeline (they stay cached for the run), loads the text
 * encoder (kept for the run) and times training steps of the real prompt learner on a few of the classes, then scales
 * to the run: steps x time per step, one forward pass at the end, images left x time per image. A step's time grows
 * linearly with the classes (fitted from two class counts) and splits across the run's shard threads.
 */
export interface LearnEstimate {
  classes: number;
  /** Training images of the split, and validation + test images. */
  trainImages: number;
  evalImages: number;
  /** Images (and augmented views) the run has to embed, and those the caches already hold. */
  toEmbed: number;
  cached: number;
  schedule: ScheduleSettings;
  /** Threads the training steps will run on (wasm shard threads). */
  threads: number;
  msPerImage: number;
  /** Null where the estimate cannot time a step (training in the desktop app's GPU window). */
  msPerStep: number | null;
  seconds: { features: number; train: number | null; total: number | null };
  /** How the numbers were found, in one sentence. */
  basis: string;
}

/** Arguments of `evaluate`. */
export const evaluateArgs = z
  .object({
    model: z.string().min(1).optional(),
    /** Folder with one sub-folder per class (or `project`). */
    data: z.string().min(1).optional(),
    /** Stored project id (or `data`): every usable image of the project is evaluated. */
    project: projectIdArg.optional(),
    context: z.string().min(1),
    backend: z.enum(TRAIN_BACKENDS).optional(),
  })
  .superRefine(oneDataSource);

/** What `evaluate` reports: the learned prompt and the hand-written one on every image of the folder. */
export interface EvaluateResult {
  model: { id: string; dir: string };
  context: { path: string; modelId: string; nCtx: number; csc: boolean; position: string; shots: number; seed: number };
  backend: string;
  test: ClassificationReport;
  zeroShot: { template: string; test: ClassificationReport };
  skipped: { path: string; reason: string }[];
  warnings: string[];
}

/** CoOp prompt learning operations. */
export const trainOps = {
  learn: job<LearnResult, LearnProgress>()(
    learnArgs,
    'Learn a prompt with CoOp on a folder dataset or a project (few-shot split, cached features, SGD) and save the context; project runs are recorded in the store.',
  ),
  estimateLearn: op<LearnEstimate>()(
    learnArgs,
    'Estimate how long `learn` with these arguments takes here (see [Note: learn estimate]); loads and times what the run will reuse.',
  ),
  evaluate: job<EvaluateResult, LearnProgress>()(
    evaluateArgs,
    'Evaluate a saved context file on a folder dataset or a project, next to the zero-shot prompt.',
  ),
};
