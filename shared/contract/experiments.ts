/**
 * @file Contract of the experiment bench: ablation sweeps (`sweep`) and the CoCoOp generalization protocols
 * (`baseToNew`, `domainShift`) (pure TypeScript). The similarity map is in similarity-map.ts.
 *
 * Accuracies are fractions in [0, 1]. Every experiment reports mean and sample standard deviation over seeds (default
 * 1, 2, 3), and every cell of one experiment trains and tests on the same seeded split (see [Note: one split per seed]
 * in electron/engine/jobs/experiment-data.ts). Every result carries one `ExperimentTable` (rows of mean ± std), the
 * shape the reports and the charts are drawn from.
 */
import { z } from 'zod';
import { job } from './define';
import {
  CLASS_POSITIONS,
  cocoopEpochsArg,
  kgLambdaArg,
  N_CTX_MAX,
  nCtxArg,
  oneDataSource,
  seedArg,
  templateArg,
  TRAIN_BACKENDS,
} from './train';

/** What a sweep varies. */
export const SWEEP_KINDS = ['context-length', 'init', 'layout', 'backbone', 'label-noise'] as const;
/** One sweep kind. */
export type SweepKind = (typeof SWEEP_KINDS)[number];
/** Human names of the sweep kinds. */
export const SWEEP_LABELS: Record<SweepKind, string> = {
  'context-length': 'Context length M',
  init: 'Context initialisation',
  layout: 'Unified vs class-specific context x class-token position',
  backbone: 'Backbone',
  'label-noise': 'Label noise',
};
/** The context lengths the paper sweeps. */
export const DEFAULT_CONTEXT_LENGTHS = [1, 2, 4, 8, 16] as const;
/** The words of the "words" initialisation (the paper's manual init). */
export const DEFAULT_INIT_WORDS = 'a photo of a';
/** Training-label flip rates of the label-noise sweep (the paper's robustness study). */
export const DEFAULT_NOISE_RATES = [0, 0.125, 0.25, 0.5] as const;
/** Seeds of every experiment unless given: the papers report mean and std over these three. */
export const DEFAULT_EXPERIMENT_SEEDS = [1, 2, 3] as const;
/** Shots of every experiment unless given (the papers' generalization protocols use 16). */
export const DEFAULT_EXPERIMENT_SHOTS = 16;
/** Methods a sweep cell can run: the hand-written prompt, the linear probe, CoOp. */
export const SWEEP_METHODS = ['zs', 'linear', 'coop'] as const;
/** One sweep method. */
export type SweepMethod = (typeof SWEEP_METHODS)[number];
/** Methods of the generalization protocols (the CoCoOp and KgCoOp papers' comparison). */
export const GENERALIZATION_METHODS = ['zs', 'coop', 'kgcoop', 'cocoop'] as const;
/** One generalization method. */
export type GeneralizationMethod = (typeof GENERALIZATION_METHODS)[number];
/** Domain shift's methods unless given: the learned context next to the hand-written prompt. */
export const DEFAULT_SHIFT_METHODS: readonly GeneralizationMethod[] = ['zs', 'coop'];
/** Human names of the experiment methods. */
export const EXPERIMENT_METHOD_LABELS: Record<SweepMethod | GeneralizationMethod, string> = {
  zs: 'Zero-shot',
  linear: 'Linear probe',
  coop: 'CoOp',
  kgcoop: 'KgCoOp',
  cocoop: 'CoCoOp',
};

const seedsArg = z
  .array(seedArg)
  .min(1)
  .max(20)
  .default([...DEFAULT_EXPERIMENT_SEEDS]);
const shotsArg = z.number().int().min(1).max(10_000).default(DEFAULT_EXPERIMENT_SHOTS);
/** The inputs every experiment shares. */
const experimentBase = {
  /** Model folder or installed model id; the active model when omitted (see [Note: one model resolver]). */
  model: z.string().min(1).optional(),
  /** Dataset folder: one sub-folder of images per class (or `project`). */
  data: z.string().min(1).optional(),
  /** Stored project id (or `data`). */
  project: z.number().int().positive().optional(),
  seeds: seedsArg,
  shots: shotsArg,
  /** CoOp/KgCoOp epochs; CoOp's count for the shot number when omitted (`defaultEpochs`). */
  epochs: z.number().int().min(0).max(10_000).optional(),
  /** Cached augmented views per training image (0: the plain image, as `learn` by default). */
  augViews: z.number().int().min(0).max(64).default(0),
  /** The hand-written prompt of zero-shot (and of KgCoOp's guidance). */
  template: templateArg,
  backend: z.enum(TRAIN_BACKENDS).optional(),
  /** Prompt text per class folder name, overriding the folder-derived text. */
  prompts: z.record(z.string(), z.string().min(1)).optional(),
  /** Folder for the reports: JSON, CSV, chart (SVG, PNG) and a self-contained HTML page. */
  out: z.string().min(1).optional(),
};
/** CoOp's context settings, as `learn` takes them. */
const contextBase = {
  nCtx: nCtxArg,
  csc: z.boolean().default(false),
  position: z.enum(CLASS_POSITIONS).default('end'),
  ctxInit: z.string().min(1).optional(),
};

/** Arguments of `sweep`. */
export const sweepArgs = z
  .object({
    kind: z.enum(SWEEP_KINDS),
    ...experimentBase,
    ...contextBase,
    /** Separate test folder with the same class folders (with `data` only). */
    test: z.string().min(1).optional(),
    /** Backbone sweep: model folders or installed ids; every installed model when omitted. */
    models: z.array(z.string().min(1)).min(1).max(32).optional(),
    /** Context-length sweep: the values of M. */
    contextLengths: z
      .array(z.number().int().min(1).max(N_CTX_MAX))
      .min(1)
      .max(16)
      .default([...DEFAULT_CONTEXT_LENGTHS]),
    /** Initialisation sweep: the words of the "words" initialisation (random init uses as many vectors). */
    initWords: z.string().trim().min(1).default(DEFAULT_INIT_WORDS),
    /** Label-noise sweep: fractions of each class's training labels flipped to another class, in [0, 1). */
    noiseRates: z
      .array(z.number().min(0).lt(1))
      .min(1)
      .max(16)
      .default([...DEFAULT_NOISE_RATES]),
  })
  .superRefine((v, ctx) => {
    oneDataSource(v, ctx);
    if (v.models !== undefined && v.kind !== 'backbone')
      ctx.addIssue({ code: 'custom', path: ['models'], message: 'models go with the backbone sweep; use model' });
  });

/** Arguments of `baseToNew`. */
export const baseToNewArgs = z
  .object({
    ...experimentBase,
    nCtx: contextBase.nCtx,
    methods: z
      .array(z.enum(GENERALIZATION_METHODS))
      .min(1)
      .default([...GENERALIZATION_METHODS]),
    /** An explicit choice of base classes (folder names); the others are new. Default: the first half in label order. */
    baseClasses: z.array(z.string().min(1)).min(1).optional(),
    kgLambda: kgLambdaArg,
    cocoopEpochs: cocoopEpochsArg,
  })
  .superRefine(oneDataSource);

/** Arguments of `domainShift`. */
export const domainShiftArgs = z
  .object({
    ...experimentBase,
    ...contextBase,
    /** Target folders with (some of) the same class folders, e.g. sketches or noisy copies of the classes. */
    targets: z.array(z.string().min(1)).min(1).max(16),
    methods: z
      .array(z.enum(GENERALIZATION_METHODS))
      .min(1)
      .default([...DEFAULT_SHIFT_METHODS]),
    kgLambda: kgLambdaArg,
    cocoopEpochs: cocoopEpochsArg,
  })
  .superRefine(oneDataSource);

/** One number summarised over seeds. */
export interface MeanStd {
  mean: number;
  std: number;
  /** The per-seed values, in seed order. */
  values: number[];
}

/**
 * [Note: experiment table] The one shape every experiment's numbers are reported and drawn from: `groups` along the
 * x axis (settings, methods or domains), `series` as the bars of each group (methods, or base/new/H), each cell the
 * mean ± std over seeds. CSV, charts, HTML report and the studio's Experiments card read only this.
 */
export interface ExperimentTable {
  title: string;
  /** What the groups are (x axis), e.g. "context length M". */
  groupAxis: string;
  groups: string[];
  series: string[];
  /** What the numbers are, e.g. "test accuracy". */
  metric: string;
  cells: ({ group: string; series: string } & MeanStd)[];
}

/** How the images were split, the same for every cell (see [Note: one split per seed]). */
export interface ExperimentSplit {
  rule: string;
  shots: number;
  /** Images per part for each seed (summed over classes). */
  perSeed: { seed: number; train: number; val: number; test: number }[];
  testFolder: string | null;
}

/** Where and with what an experiment ran (for the report). */
export interface ExperimentEnvironment {
  appVersion: string;
  node: string;
  platform: string;
  arch: string;
  /** tfjs backend of the learned prompts (null when nothing was trained). */
  backend: string | null;
  /** ONNX Runtime execution provider of the encoders. */
  provider: string;
  createdAt: string;
}

/** What every experiment reports besides its own numbers. */
export interface ExperimentCommon {
  models: { id: string; dir: string }[];
  data: { root: string; classes: string[]; prompts: string[] };
  split: ExperimentSplit;
  seeds: number[];
  table: ExperimentTable;
  environment: ExperimentEnvironment;
  /** The CLI command that reproduces this experiment. */
  command: string;
  warnings: string[];
  /**
   * Sentences that belong with the table: how the cells were trained, the class split, where a learned prompt loses to
   * the hand-written one. The report and the studio show them under the table.
   */
  notes: string[];
  timings: { featuresS: number; totalS: number; runs: number };
  /** Report files written with `out`. */
  files: string[];
}

/** One planned cell of a sweep: a method with one setting. */
export interface SweepCell {
  /** Stable key within the sweep, e.g. `coop M=4`. */
  key: string;
  /** The setting (the group of the table), e.g. `M=4`, `class-specific, middle`, `25% noise`. */
  setting: string;
  method: SweepMethod;
  /** The model of a backbone cell (folder); null: the sweep's model. */
  model: string | null;
  /** `learn`'s context options this cell trains with (CoOp), or the settings' values. */
  learn: { nCtx: number; csc: boolean; position: (typeof CLASS_POSITIONS)[number]; ctxInit: string | null };
  /** Fraction of each class's training labels flipped. */
  noiseRate: number;
}

/** One cell on one seed. */
export interface SweepRow {
  cell: string;
  seed: number;
  /** Model id of the run. */
  model: string;
  valAccuracy: number | null;
  testAccuracy: number;
  /** Per-class test accuracy in class order (null: a class without test images). */
  perClass: (number | null)[];
  /** CoOp's training loss in its last epoch (null for the other methods). */
  finalTrainLoss: number | null;
  /** Training labels flipped in this run (label-noise sweep). */
  flippedLabels: number;
  chosen: Record<string, number>;
  seconds: number;
}

/** What `sweep` reports. */
export interface SweepResult extends ExperimentCommon {
  kind: SweepKind;
  settings: {
    shots: number;
    epochs: number | null;
    nCtx: number;
    csc: boolean;
    position: (typeof CLASS_POSITIONS)[number];
    ctxInit: string | null;
    augViews: number;
    template: string;
    contextLengths: number[];
    initWords: string;
    noiseRates: number[];
  };
  cells: SweepCell[];
  rows: SweepRow[];
}

/** Which classes were base and which new. */
export interface ClassSplitRecord {
  /** `first-half`: classes in label order, base = the first ceil(n/2) (Dassl's subsample_classes); `given`: chosen. */
  rule: 'first-half' | 'given';
  base: string[];
  new: string[];
}

/** One method on one seed of base-to-new. */
export interface BaseToNewRow {
  method: GeneralizationMethod;
  seed: number;
  /** Base test images among the base classes. */
  base: number;
  /** New test images among the new classes. */
  new: number;
  /** Harmonic mean 2bn/(b+n) of this seed. */
  harmonic: number;
  seconds: number;
}

/** What `baseToNew` reports. */
export interface BaseToNewResult extends ExperimentCommon {
  classSplit: ClassSplitRecord;
  settings: {
    shots: number;
    epochs: number | null;
    nCtx: number;
    kgLambda: number;
    cocoopEpochs: number;
    augViews: number;
    template: string;
  };
  rows: BaseToNewRow[];
  /** Per method: base and new mean ± std over seeds, and H of the two means (as the papers report it). */
  summary: { method: GeneralizationMethod; base: MeanStd; new: MeanStd; harmonic: number }[];
}

/** One evaluated domain: the source's own test split, or a target folder. */
export interface ShiftDomain {
  /** `in-domain` or the target folder's name. */
  name: string;
  root: string;
  images: number;
  /** Source classes the domain has no images of. */
  missingClasses: string[];
}

/** What `domainShift` reports. */
export interface DomainShiftResult extends ExperimentCommon {
  domains: ShiftDomain[];
  settings: {
    shots: number;
    epochs: number | null;
    nCtx: number;
    csc: boolean;
    position: (typeof CLASS_POSITIONS)[number];
    ctxInit: string | null;
    kgLambda: number;
    cocoopEpochs: number;
    augViews: number;
    template: string;
  };
  rows: { method: GeneralizationMethod; seed: number; domain: string; accuracy: number }[];
  /**
   * Every (domain, learned method) whose mean is below the hand-written prompt's on that domain (needs `zs` among
   * the methods): a learned context can lose to zero-shot under a shift, and the report says so.
   */
  losses: { domain: string; method: GeneralizationMethod; learned: number; zeroShot: number }[];
}

/** Progress of every experiment job. */
export type ExperimentProgress =
  | { kind: 'phase'; message: string }
  | { kind: 'features'; done: number; total: number }
  | { kind: 'estimate'; message: string; seconds: number }
  | { kind: 'epoch'; run: string; seed: number; epoch: number; epochs: number }
  | { kind: 'run'; done: number; total: number; run: string; seed: number; accuracy: number; seconds: number };

/** Experiment operations. */
export const experimentsOps = {
  sweep: job<SweepResult, ExperimentProgress>()(
    sweepArgs,
    "One of the CoOp paper's ablations over seeds on one split per seed: context length, initialisation, context layout, backbone or label noise (mean ± std, chart, reports).",
  ),
  baseToNew: job<BaseToNewResult, ExperimentProgress>()(
    baseToNewArgs,
    'Base-to-new generalization (the CoCoOp protocol): learn on the base classes, test base among base and new among new classes, with the harmonic mean.',
  ),
  domainShift: job<DomainShiftResult, ExperimentProgress>()(
    domainShiftArgs,
    'Domain shift: learn on the dataset, test the learned prompt on other folders with the same class names, next to in-domain and zero-shot accuracy.',
  ),
};
