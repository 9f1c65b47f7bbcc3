/**
 * @file Contract of the few-shot methods side by side (`compare`), single-image prediction (`predict`) and the
 * exports of a run (`exportRun`) (pure TypeScript).
 *
 * Accuracies are fractions in [0, 1]. Every method of one `compare` sees the same cached image features, the same
 * seeded split and the same class prompts; hyper-parameters are chosen on the validation split only.
 */
import { z } from 'zod';
import { job } from './define';
import {
  cocoopEpochsArg,
  kgLambdaArg,
  nCtxArg,
  oneDataSource,
  seedArg,
  templateArg,
  TRAIN_BACKENDS,
  TRAIN_SCHEDULES,
  type RunNote,
  type TrainSchedule,
} from './train';

/**
 * What the UI, the CLI help and the compare job know about a few-shot method.
 *
 * [Note: methods registry] A method is declared once: its metadata here (id, label, cost hint, whether it trains on
 * the cached views, whether it needs tfjs), in the order of the compare table, and its engine side (`run`) in the map
 * of electron/engine/methods/registry.ts, keyed by the same ids (a missing or extra entry fails `tsc`, and a test
 * checks both ways). The compare job looks methods up there; the CLI help and the Compare panel list them from here.
 * Adding a method is one file under electron/engine/methods/ plus one entry in each of the two maps.
 */
export interface MethodInfo {
  id: string;
  /** Human name (table rows, chart legends, the Compare panel). */
  label: string;
  /** What one run costs, in a few words (shown next to the method's choice and in the CLI help). */
  cost: string;
  /**
   * Chosen when no method is given: training-free or closed-form, cheap enough for every shot count and seed (the
   * 7-template ensemble is cheap too but adds little next to the 80, so it is not chosen by default).
   */
  byDefault: boolean;
  /** Trains on the cached augmented views of the training shots (`augViews`). */
  needsViews: boolean;
  /** Trains with tfjs (the job activates a tfjs backend for it). */
  needsTfjs: boolean;
}

/** Every few-shot method of `compare`, in table order (see [Note: methods registry]). */
export const METHOD_INFOS = [
  {
    id: 'zs',
    label: 'Zero-shot',
    cost: 'one template per class, no training.',
    byDefault: true,
    needsViews: false,
    needsTfjs: false,
  },
  {
    id: 'ensemble',
    label: 'Ensemble (80)',
    cost: "CLIP's 80 templates per class, no training.",
    byDefault: true,
    needsViews: false,
    needsTfjs: false,
  },
  {
    id: 'ensemble7',
    label: 'Ensemble (7)',
    cost: 'a 7-template subset per class, no training.',
    byDefault: false,
    needsViews: false,
    needsTfjs: false,
  },
  {
    id: 'linear',
    label: 'Linear probe',
    cost: 'logistic regression on the image features (seconds).',
    byDefault: true,
    needsViews: false,
    needsTfjs: false,
  },
  {
    id: 'tip',
    label: 'Tip-Adapter',
    cost: 'a cache of the training features, no training.',
    byDefault: true,
    needsViews: false,
    needsTfjs: false,
  },
  {
    id: 'tipf',
    label: 'Tip-Adapter-F',
    cost: 'trains a small adapter per run (seconds).',
    byDefault: false,
    needsViews: true,
    needsTfjs: false,
  },
  {
    id: 'clip-adapter',
    label: 'CLIP-Adapter',
    cost: 'trains a residual MLP on the image features per run (seconds to a minute on CPU).',
    byDefault: false,
    needsViews: true,
    needsTfjs: true,
  },
  {
    id: 'coop',
    label: 'CoOp',
    cost: 'trains a prompt per shot count and seed (minutes each on CPU).',
    byDefault: false,
    needsViews: true,
    needsTfjs: true,
  },
  {
    id: 'kgcoop',
    label: 'KgCoOp',
    cost: 'about the cost of CoOp per run.',
    byDefault: false,
    needsViews: true,
    needsTfjs: true,
  },
  {
    id: 'cocoop',
    label: 'CoCoOp',
    cost: 'about 3.6x CoOp per run (batch 1, the text encoder runs for every image).',
    byDefault: false,
    needsViews: true,
    needsTfjs: true,
  },
] as const satisfies readonly MethodInfo[];
/** One method id. */
export type CompareMethod = (typeof METHOD_INFOS)[number]['id'];
/**
 * Method ids of `compare`: zero-shot (one template), prompt ensembles (CLIP's 80 templates, the 7-template subset),
 * linear probe, Tip-Adapter, Tip-Adapter-F, CLIP-Adapter, CoOp, KgCoOp and CoCoOp (expensive: batch 1, one
 * text-encoder pass per image; the job estimates its time before the bulk of it runs).
 */
export const COMPARE_METHODS: readonly CompareMethod[] = METHOD_INFOS.map((m) => m.id);
/** The metadata of every method by id. */
export const METHODS = Object.fromEntries(METHOD_INFOS.map((m) => [m.id, m])) as Readonly<
  Record<CompareMethod, MethodInfo & { id: CompareMethod }>
>;
/** The methods chosen by default: training-free or closed-form, cheap enough for every shot count and seed. */
export const CHEAP_METHODS: readonly CompareMethod[] = COMPARE_METHODS.filter((m) => METHODS[m].byDefault);
/** Human names of the methods. */
export const METHOD_LABELS = Object.fromEntries(METHOD_INFOS.map((m) => [m.id, m.label])) as Readonly<
  Record<CompareMethod, string>
>;

/** Arguments of `compare`: exactly one data source, a dataset folder (`data`) or a stored project (`project`). */
export const compareArgs = z
  .object({
    /** Model folder or installed model id; the active model when omitted (see [Note: one model resolver]). */
    model: z.string().min(1).optional(),
    /** Dataset folder: one sub-folder of images per class (or `project`). */
    data: z.string().min(1).optional(),
    /** Stored project id (or `data`): its usable classes, prompt texts as edited, excluded images left out. */
    project: z.number().int().positive().optional(),
    /** Separate test folder with the same class folders (with `data` only); otherwise what each split leaves. */
    test: z.string().min(1).optional(),
    methods: z
      .array(z.enum(COMPARE_METHODS))
      .min(1)
      .default([...CHEAP_METHODS]),
    shots: z.array(z.number().int().min(1).max(10_000)).min(1).default([1, 2, 4, 8, 16]),
    seeds: z.array(seedArg).min(1).default([1, 2, 3]),
    /** The zero-shot template (also the hand-written prompt of CoOp's epoch 0 and of KgCoOp's guidance). */
    template: templateArg,
    /**
     * Cached augmented views per training image for Tip-Adapter-F, CoOp, KgCoOp and CoCoOp (0 = the plain image, so
     * every method trains on exactly the features the baselines see; see [Note: compare views] in methods/compare.ts).
     */
    augViews: z.number().int().min(0).max(64).default(0),
    /** CoOp/KgCoOp training schedule, as `learn`'s (see [Note: schedules] in ./schedule.ts); omitted: the default. */
    schedule: z.enum(TRAIN_SCHEDULES).optional(),
    /** CoOp/KgCoOp epochs; the schedule's count for the shot number when omitted (`scheduleEpochs`). */
    epochs: z.number().int().min(0).max(10_000).optional(),
    nCtx: nCtxArg,
    /** KgCoOp's lambda (see [Note: KgCoOp weight] in shared/contract/train.ts). */
    kgLambda: kgLambdaArg,
    tipfEpochs: z.number().int().min(0).max(1000).default(20),
    cocoopEpochs: cocoopEpochsArg,
    backend: z.enum(TRAIN_BACKENDS).optional(),
    /** Prompt text per class folder name, overriding the folder-derived text. */
    prompts: z.record(z.string(), z.string().min(1)).optional(),
    /** Folder to write compare.json, compare.csv and the accuracy-vs-shots chart (SVG and PNG) into. */
    out: z.string().min(1).optional(),
  })
  .superRefine(oneDataSource);

/** One method on one (shots, seed) split. */
export interface CompareRow {
  method: CompareMethod;
  shots: number;
  seed: number;
  valAccuracy: number;
  testAccuracy: number;
  /** Per-class test accuracy (null for a class without test images), in class order. */
  perClass: (number | null)[];
  /** Hyper-parameters the method chose on the validation split (C, alpha, beta, ...). */
  chosen: Record<string, number>;
  seconds: number;
}

/** One cell of the table: a method at one shot count over the seeds. */
export interface CompareCell {
  method: CompareMethod;
  shots: number;
  mean: number;
  std: number;
  seeds: number;
}

/**
 * One split of a `compare` sweep: which images the numbers of its shot count and seed come from (see [Note: compare
 * splits] in electron/engine/jobs/compare-splits.ts).
 */
export interface CompareSplit {
  /** The shots the split took, and the shot count of the sweep it stands for (more on a small dataset). */
  shots: number;
  requestedShots: number;
  seed: number;
  /** Images in the split (all classes). */
  train: number;
  val: number;
  test: number;
  /** True when a project's pinned images were kept where they are pinned (as `learn` does). */
  pinned: boolean;
}

/** What `compare` reports. */
export interface CompareResult {
  model: { id: string; dir: string };
  /** `classes`: the names people know the classes by (see [Note: class display names]); `folders`: their folders. */
  data: { root: string; test: string | null; classes: string[]; folders: string[]; prompts: string[] };
  settings: {
    methods: CompareMethod[];
    shots: number[];
    seeds: number[];
    template: string;
    augViews: number;
    schedule: TrainSchedule;
    epochs: number | null;
    nCtx: number;
    kgLambda: number;
    tipfEpochs: number;
    cocoopEpochs: number;
  };
  backend: string | null;
  /** Mean and sample std of the test accuracy over seeds, method x shots. */
  table: CompareCell[];
  rows: CompareRow[];
  /** Shot counts that could not be run (a class too small), with the reason. */
  skipped: { shots: number; reason: string }[];
  /** Every split of the sweep, per shot count and seed: where each row's numbers come from. */
  splits: CompareSplit[];
  /** One sentence on the splits and seeds behind the numbers, and why they can differ from a Learn run. */
  splitNote: string;
  /** What the sweep decided for the user (fewer shots than asked, classes without test images). */
  notes: RunNote[];
  warnings: string[];
  timings: { featuresS: number; totalS: number; imagesEmbedded: number; imagesFromCache: number };
  /** Files written with `out`. */
  files: string[];
}

/** Progress of `compare`. */
export type CompareProgress =
  | { kind: 'phase'; message: string }
  | { kind: 'features'; done: number; total: number }
  | { kind: 'estimate'; message: string; seconds: number }
  | {
      kind: 'row';
      done: number;
      total: number;
      row: CompareRow;
    }
  | { kind: 'epoch'; method: CompareMethod; shots: number; seed: number; epoch: number; epochs: number };

/** Arguments of `predict`. */
export const predictArgs = z.object({
  model: z.string().min(1).optional(),
  /** A learned context file; without it, zero-shot with `classes` and `template`. */
  context: z.string().min(1).optional(),
  /** Class prompt texts: for zero-shot (required without a context), or new classes for a unified context. */
  classes: z.array(z.string().min(1)).min(1).optional(),
  template: templateArg,
  images: z.array(z.string().min(1)).min(1),
  top: z.number().int().min(1).max(1000).default(5),
  backend: z.enum(TRAIN_BACKENDS).optional(),
});

/** Top-k classes of one image. */
export interface ImagePrediction {
  path: string;
  /** Highest probability first. */
  top: { label: number; name: string; probability: number; logit: number }[];
  /** Why the image could not be classified (then `top` is empty). */
  error?: string;
}

/** What `predict` reports. */
export interface PredictResult {
  model: { id: string; dir: string };
  /** `context` (learned prompt) or `zero-shot`. */
  mode: 'context' | 'zero-shot';
  context: string | null;
  classNames: string[];
  predictions: ImagePrediction[];
}

/** Progress of `predict` and `exportRun`. */
export type MethodsProgress = { kind: 'phase'; message: string } | { kind: 'features'; done: number; total: number };

/** What `exportRun` can write. */
export const EXPORT_FORMATS = ['context', 'onnx', 'features', 'results'] as const;

/** Arguments of `exportRun`. */
export const exportRunArgs = z.object({
  /** A run folder written by `learn --out` (context.safetensors + result.json), or a project run's id in the store. */
  run: z.string().min(1),
  format: z.enum(EXPORT_FORMATS),
  /** Output folder (created). */
  out: z.string().min(1),
  /** Model folder or installed id for `onnx` and `features`; the run's own model folder when omitted. */
  model: z.string().min(1).optional(),
  backend: z.enum(TRAIN_BACKENDS).optional(),
});

/** What `exportRun` reports. */
export interface ExportResult {
  format: (typeof EXPORT_FORMATS)[number];
  run: string;
  files: string[];
  /** For `onnx`: ONNX Runtime's top-1 against the app's on the run's test images. */
  verification?: { images: number; agree: number; maxLogitDiff: number };
}

/** Few-shot methods, prediction and export operations. */
export const methodsOps = {
  compare: job<CompareResult, CompareProgress>()(
    compareArgs,
    'Every few-shot method side by side on the same features, splits and seeds: test accuracy per method and shot count (mean and std over seeds).',
  ),
  predict: job<PredictResult, MethodsProgress>()(
    predictArgs,
    'Top-k classes with probabilities for image files, with a learned context file or zero-shot prompts.',
  ),
  exportRun: job<ExportResult, MethodsProgress>()(
    exportRunArgs,
    'Export a run: the context file with a README, an ONNX classifier (verified with ONNX Runtime), class text features, or results (CSV, JSON, SVG, PNG).',
  ),
};
