/**
 * @file Contract of the few-shot methods side by side (`compare`), single-image prediction (`predict`) and the
 * exports of a run (`exportRun`) (pure TypeScript).
 *
 * Accuracies are fractions in [0, 1]. Every method of one `compare` sees the same cached image features, the same
 * seeded split and the same class prompts; hyper-parameters are chosen on the validation split only.
 */
import { z } from 'zod';
import { job } from './define';
import { KGCOOP_LAMBDA, nCtxArg, oneDataSourceWithTest, seedArg, TRAIN_BACKENDS, type RunNote } from './train';

/**
 * Method ids of `compare`: zero-shot (one template), prompt ensembles (CLIP's 80 templates, the 7-template subset),
 * linear probe, Tip-Adapter, Tip-Adapter-F, CoOp, KgCoOp and CoCoOp (expensive: batch 1, one text-encoder pass per
 * image; the job estimates its time before the bulk of it runs).
 */
export const COMPARE_METHODS = [
  'zs',
  'ensemble',
  'ensemble7',
  'linear',
  'tip',
  'tipf',
  'coop',
  'kgcoop',
  'cocoop',
] as const;
/** One method id. */
export type CompareMethod = (typeof COMPARE_METHODS)[number];
/** The training-free or closed-form methods: cheap enough for every shot count and seed. */
export const CHEAP_METHODS: readonly CompareMethod[] = ['zs', 'ensemble', 'linear', 'tip'];
/** Human names of the methods. */
export const METHOD_LABELS: Record<CompareMethod, string> = {
  zs: 'Zero-shot',
  ensemble: 'Ensemble (80)',
  ensemble7: 'Ensemble (7)',
  linear: 'Linear probe',
  tip: 'Tip-Adapter',
  tipf: 'Tip-Adapter-F',
  coop: 'CoOp',
  kgcoop: 'KgCoOp',
  cocoop: 'CoCoOp',
};

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
    template: z
      .string()
      .default('a photo of a {}.')
      .refine((t) => t.includes('{}'), 'The template must contain {} where the class name goes.'),
    /**
     * Cached augmented views per training image for Tip-Adapter-F, CoOp, KgCoOp and CoCoOp (0 = the plain image, so
     * every method trains on exactly the features the baselines see; see [Note: compare views] in methods/compare.ts).
     */
    augViews: z.number().int().min(0).max(64).default(0),
    /** CoOp/KgCoOp epochs; CoOp's count for the shot number when omitted (1: 50, 2-4: 100, 8+: 200). */
    epochs: z.number().int().min(0).max(10_000).optional(),
    nCtx: nCtxArg,
    /** KgCoOp's lambda (see [Note: KgCoOp weight] in shared/contract/train.ts). */
    kgLambda: z.number().min(0).max(1000).default(KGCOOP_LAMBDA),
    tipfEpochs: z.number().int().min(0).max(1000).default(20),
    /** CoCoOp epochs (the paper: 10; batch 1, M = 4 initialised from "a photo of a"). */
    cocoopEpochs: z.number().int().min(0).max(1000).default(10),
    backend: z.enum(TRAIN_BACKENDS).optional(),
    /** Prompt text per class folder name, overriding the folder-derived text. */
    prompts: z.record(z.string(), z.string().min(1)).optional(),
    /** Folder to write compare.json, compare.csv and the accuracy-vs-shots chart (SVG and PNG) into. */
    out: z.string().min(1).optional(),
  })
  .superRefine(oneDataSourceWithTest);

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
  template: z
    .string()
    .default('a photo of a {}.')
    .refine((t) => t.includes('{}'), 'The template must contain {} where the class name goes.'),
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
