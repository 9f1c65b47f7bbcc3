/**
 * @file CLI commands `compare`, `predict` and `export`: few-shot methods side by side, top-k prediction with a
 * learned context, and the exports of a run (Node).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CHEAP_METHODS,
  COMPARE_METHODS,
  EXPORT_FORMATS,
  METHOD_INFOS,
  METHOD_LABELS,
  type CompareMethod,
  type CompareProgress,
  type CompareResult,
  type ExportResult,
  type MethodsProgress,
  type PredictResult,
} from '../../../../shared/contract/methods';
import {
  COCOOP_EPOCHS_DEFAULT,
  DEFAULT_EPOCHS_TEXT,
  DEFAULT_SCHEDULE_RULE,
  KGCOOP_LAMBDA,
  N_CTX_DEFAULT,
  N_CTX_MAX,
  TRAIN_BACKENDS,
  TRAIN_SCHEDULES,
  ZERO_SHOT_TEMPLATE,
} from '../../../../shared/contract/train';
import { AppError, unwrap } from '../../../../shared/result';
import { formatCompareTable } from '../../../engine/reports/compare-report';
import {
  int,
  MODEL_OPT,
  modelOpt,
  nonNegative,
  pathOpt,
  str,
  type CommandContext,
  type CommandSpec,
  type OptionSpec,
} from '../command';
import { dataSource, PROJECT_OPT } from './train';

const BACKEND_OPT: OptionSpec = {
  type: 'string',
  valueName: 'NAME',
  description: `tfjs backend for the learned prompt: ${TRAIN_BACKENDS.join(', ')}.`,
  defaultText: 'tensorflow when installed, else wasm',
};

/** `--backend NAME`, checked against the Node engine's backends. */
export function backendOf(ctx: CommandContext): (typeof TRAIN_BACKENDS)[number] | undefined {
  const v = str(ctx, 'backend');
  if (v === undefined) return undefined;
  if (!(TRAIN_BACKENDS as readonly string[]).includes(v))
    throw new AppError('bad_args', `--backend must be one of ${TRAIN_BACKENDS.join(', ')}, got "${v}".`);
  return v as (typeof TRAIN_BACKENDS)[number];
}

/** KgCoOp's and CoCoOp's options, shared by `compare` and the generalization experiments. */
export const KG_COCOOP_OPTIONS: Record<'kg-lambda' | 'lambda' | 'cocoop-epochs', OptionSpec> = {
  'kg-lambda': {
    type: 'string',
    valueName: 'X',
    description: "KgCoOp's weight of 1 - cos(learned, hand-written class features), as in the official code.",
    defaultText: String(KGCOOP_LAMBDA),
  },
  lambda: { type: 'string', valueName: 'X', description: 'The same as --kg-lambda (older name).' },
  'cocoop-epochs': {
    type: 'string',
    valueName: 'N',
    description: 'CoCoOp epochs (batch 1: expensive).',
    defaultText: String(COCOOP_EPOCHS_DEFAULT),
  },
};

/** `--kg-lambda` (or `--lambda`) and `--cocoop-epochs` as arguments; absent flags leave the contract's defaults. */
export function kgCocoopArgs(ctx: CommandContext): { kgLambda?: number; cocoopEpochs?: number } {
  const kgLambda = nonNegative(ctx, 'kg-lambda') ?? nonNegative(ctx, 'lambda');
  return {
    ...(kgLambda !== undefined ? { kgLambda } : {}),
    ...(str(ctx, 'cocoop-epochs') !== undefined
      ? { cocoopEpochs: int(ctx, 'cocoop-epochs', COCOOP_EPOCHS_DEFAULT) }
      : {}),
  };
}

/** A comma-separated list of whole numbers >= 0. */
export function intList(ctx: CommandContext, name: string): number[] | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 0))
    throw new AppError('bad_args', `--${name} must be a comma-separated list of whole numbers, got "${v}".`);
  return out;
}

function methodList(ctx: CommandContext): CompareMethod[] | undefined {
  const v = str(ctx, 'methods');
  if (v === undefined) return undefined;
  const out = v.split(',').map((s) => s.trim());
  const bad = out.filter((m) => !(COMPARE_METHODS as readonly string[]).includes(m));
  if (bad.length > 0)
    throw new AppError('bad_args', `Unknown method ${bad.join(', ')}: --methods takes ${COMPARE_METHODS.join(', ')}.`);
  return out as CompareMethod[];
}

/** Runs an engine job with Ctrl-C cancellation. */
export async function withCancel<T>(ctx: CommandContext, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    ctx.log('\nCancelling...');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return await call(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function simpleProgress(ctx: CommandContext): (e: MethodsProgress) => void {
  let last = 0;
  return (e) => {
    if (e.kind === 'phase') ctx.log(`${e.message}...`);
    else if (e.done === e.total || Date.now() - last > 2000) {
      last = Date.now();
      ctx.log(`  images ${e.done}/${e.total}`);
    }
  };
}

function compareProgress(ctx: CommandContext): (e: CompareProgress) => void {
  let last = 0;
  return (e) => {
    if (e.kind === 'phase' || e.kind === 'estimate') ctx.log(`${e.message}${e.kind === 'phase' ? '...' : ''}`);
    else if (e.kind === 'features') {
      if (e.done === e.total || Date.now() - last > 2000) {
        last = Date.now();
        ctx.log(`  embedding ${e.done}/${e.total}`);
      }
    } else if (e.kind === 'epoch') {
      if (Date.now() - last > 5000) {
        last = Date.now();
        ctx.log(`  ${METHOD_LABELS[e.method]} ${e.shots} shots seed ${e.seed}: epoch ${e.epoch}/${e.epochs}`);
      }
    } else
      ctx.log(
        `  [${e.done}/${e.total}] ${METHOD_LABELS[e.row.method].padEnd(14)} ${String(e.row.shots).padStart(3)} shots seed ${e.row.seed}: test ${(e.row.testAccuracy * 100).toFixed(1)}% (val ${(e.row.valAccuracy * 100).toFixed(1)}%, ${e.row.seconds.toFixed(1)} s)`,
      );
  };
}

/** `coop-studio compare`. */
export const compareCommand: CommandSpec = {
  name: 'compare',
  summary:
    'Every few-shot method side by side on the same features, splits and seeds: a method x shots table of test accuracy (mean ± std over seeds).',
  options: {
    model: MODEL_OPT,
    data: {
      type: 'string',
      valueName: 'DIR',
      description: 'Dataset folder: one sub-folder per class (this or --project).',
    },
    project: {
      ...PROJECT_OPT,
      description: 'Project (id or exact name): its classes and usable images (this or --data).',
    },
    test: { type: 'string', valueName: 'DIR', description: 'Separate test folder with the same class folders.' },
    methods: {
      type: 'string',
      valueName: 'LIST',
      description: 'Comma-separated method ids (the list below).',
      defaultText: CHEAP_METHODS.join(','),
    },
    shots: { type: 'string', valueName: 'LIST', description: 'Shot counts.', defaultText: '1,2,4,8,16' },
    seeds: { type: 'string', valueName: 'LIST', description: 'Seeds of the splits.', defaultText: '1,2,3' },
    template: {
      type: 'string',
      valueName: 'TEXT',
      description: 'Zero-shot template.',
      defaultText: ZERO_SHOT_TEMPLATE,
    },
    schedule: {
      type: 'string',
      valueName: 'S',
      description: `CoOp/KgCoOp training schedule, as in \`learn\`: ${TRAIN_SCHEDULES.join(' or ')}.`,
      defaultText: DEFAULT_SCHEDULE_RULE,
    },
    epochs: {
      type: 'string',
      valueName: 'N',
      description: 'CoOp/KgCoOp epochs.',
      defaultText: `the schedule's: ${DEFAULT_EPOCHS_TEXT}`,
    },
    'aug-views': {
      type: 'string',
      valueName: 'N',
      description: `Cached augmented views per training image (${METHOD_INFOS.filter((m) => m.needsViews)
        .map((m) => m.label)
        .join(', ')}).`,
      defaultText: '0',
    },
    'n-ctx': {
      type: 'string',
      valueName: 'M',
      description: `CoOp/KgCoOp context vectors (1-${N_CTX_MAX}).`,
      defaultText: String(N_CTX_DEFAULT),
    },
    ...KG_COCOOP_OPTIONS,
    'cocoop-epochs': {
      ...KG_COCOOP_OPTIONS['cocoop-epochs'],
      description: 'CoCoOp epochs (batch 1: expensive; an estimate is printed after its first steps).',
    },
    backend: BACKEND_OPT,
    out: {
      type: 'string',
      valueName: 'DIR',
      description: 'Also write compare.json, compare.csv and the accuracy-vs-shots chart (SVG, PNG) here.',
    },
  },
  details:
    `Methods:\n${METHOD_INFOS.map((m) => `  ${m.id.padEnd(14)} ${m.label}: ${m.cost}`).join('\n')}\n\n` +
    'Example: coop-studio compare --data ./flowers --methods zs,ensemble,linear,tip,tipf,clip-adapter,coop,kgcoop --shots 1,2,4,8,16 --seeds 1,2,3 --json\n' +
    "Hyper-parameters (linear probe C, Tip-Adapter alpha and beta, CLIP-Adapter's learning rate and epoch) are chosen on each split's validation images, never on test. CoOp and KgCoOp train for minutes per run on a CPU: the job prints an estimate after their first steps.",
  async run(ctx) {
    const source = await dataSource(ctx, 'compare');
    const kgCocoop = kgCocoopArgs(ctx);
    const methods = methodList(ctx);
    const shots = intList(ctx, 'shots');
    const seeds = intList(ctx, 'seeds');
    const model = modelOpt(ctx);
    const test = pathOpt(ctx, 'test');
    const out = pathOpt(ctx, 'out');
    const template = str(ctx, 'template');
    const backend = backendOf(ctx);
    const schedule = str(ctx, 'schedule');
    if (schedule !== undefined && !(TRAIN_SCHEDULES as readonly string[]).includes(schedule))
      throw new AppError('bad_args', `--schedule must be one of ${TRAIN_SCHEDULES.join(', ')}, got "${schedule}".`);
    const args = {
      ...source,
      ...(model ? { model } : {}),
      ...(test ? { test } : {}),
      ...(out ? { out } : {}),
      ...(methods ? { methods } : {}),
      ...(shots ? { shots } : {}),
      ...(seeds ? { seeds } : {}),
      ...(template ? { template } : {}),
      ...(schedule !== undefined ? { schedule: schedule as (typeof TRAIN_SCHEDULES)[number] } : {}),
      ...(str(ctx, 'epochs') !== undefined ? { epochs: int(ctx, 'epochs', 0) } : {}),
      augViews: int(ctx, 'aug-views', 0),
      nCtx: int(ctx, 'n-ctx', N_CTX_DEFAULT),
      ...kgCocoop,
      ...(backend ? { backend } : {}),
    };
    const engine = await ctx.engine();
    const onProgress = compareProgress(ctx);
    const r: CompareResult = await withCancel(ctx, async (signal) =>
      unwrap(await engine.call('compare', args, { onProgress, signal })),
    );
    for (const w of r.warnings) ctx.log(`Warning: ${w}`);
    for (const s of r.skipped) ctx.log(`Skipped ${s.shots} shots: ${s.reason}.`);
    for (const n of r.notes) ctx.print(`Note: ${n.message}`);
    ctx.print(
      `Test accuracy (%, mean ± std over seeds ${r.settings.seeds.join(', ')}) on ${r.data.root} with ${r.model.id}:`,
    );
    for (const line of formatCompareTable(r)) ctx.print(line);
    ctx.print(r.splitNote);
    ctx.print(
      `${r.rows.length} runs in ${r.timings.totalS.toFixed(1)} s (features ${r.timings.featuresS.toFixed(1)} s: ${r.timings.imagesEmbedded} embedded, ${r.timings.imagesFromCache} cached).`,
    );
    if (r.files.length) ctx.print(`Written: ${r.files.join(', ')}`);
    return r;
  },
};

/** `coop-studio predict`. */
export const predictCommand: CommandSpec = {
  name: 'predict',
  summary: 'Top-k classes with probabilities for images, with a learned context file (or zero-shot with --classes).',
  args: 'IMAGE...',
  options: {
    model: MODEL_OPT,
    context: { type: 'string', valueName: 'FILE', description: 'A context.safetensors written by `learn`.' },
    classes: {
      type: 'string',
      valueName: 'LIST',
      description:
        'Comma-separated class names: zero-shot without --context; with a unified context, new classes to apply it to.',
    },
    template: {
      type: 'string',
      valueName: 'TEXT',
      description: 'Zero-shot template.',
      defaultText: ZERO_SHOT_TEMPLATE,
    },
    top: { type: 'string', valueName: 'K', description: 'How many classes to show per image.', defaultText: '5' },
    backend: BACKEND_OPT,
  },
  details: 'Example: coop-studio predict --context runs/flowers/context.safetensors --top 3 rose.jpg tulip.png',
  async run(ctx) {
    if (ctx.positionals.length === 0)
      throw new AppError('bad_args', 'Give at least one image file. See `coop-studio predict --help`.');
    const context = pathOpt(ctx, 'context');
    const classes = str(ctx, 'classes')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!context && !classes?.length)
      throw new AppError('bad_args', 'Give --context FILE, or --classes a,b,c for zero-shot prediction.');
    const model = modelOpt(ctx);
    const template = str(ctx, 'template');
    const backend = backendOf(ctx);
    const engine = await ctx.engine();
    const r: PredictResult = await withCancel(ctx, async (signal) =>
      unwrap(
        await engine.call(
          'predict',
          {
            images: ctx.positionals.map((p) => resolve(p)),
            top: int(ctx, 'top', 5),
            ...(context ? { context } : {}),
            ...(classes?.length ? { classes } : {}),
            ...(model ? { model } : {}),
            ...(template ? { template } : {}),
            ...(backend ? { backend } : {}),
          },
          { onProgress: simpleProgress(ctx), signal },
        ),
      ),
    );
    for (const p of r.predictions) {
      if (p.error) {
        ctx.print(`${p.path}: cannot classify: ${p.error}`);
        continue;
      }
      ctx.print(`${p.path}:`);
      for (const t of p.top) ctx.print(`  ${(t.probability * 100).toFixed(1).padStart(5)}%  ${t.name}`);
    }
    return r;
  },
};

/** `coop-studio export`. */
export const exportCommand: CommandSpec = {
  name: 'export',
  summary:
    'Export a run: its context file with a README (context), an ONNX classifier (onnx), class text features (features) or results (results).',
  options: {
    run: {
      type: 'string',
      valueName: 'DIR|ID',
      description: 'A run folder written by `learn --out DIR`, or the id of a project run (required).',
    },
    format: { type: 'string', valueName: 'F', description: `What to export: ${EXPORT_FORMATS.join(', ')} (required).` },
    out: { type: 'string', valueName: 'DIR', description: 'Output folder (created; required).' },
    model: { ...MODEL_OPT, defaultText: "the run's model folder" },
    backend: BACKEND_OPT,
  },
  details:
    'context: context.safetensors + README.md (how to use it from Python with Hugging Face CLIP).\n' +
    "onnx: classifier.onnx (pixel_values -> logits, probs) + preprocessor_config.json, checked with ONNX Runtime against the app's predictions on the run's test images.\n" +
    'features: class_features.npy / zero_shot_features.npy / class_features.safetensors / class_names.json.\n' +
    'results: curve, per-class accuracy and confusion matrices as CSV and JSON; curve, confusion and per-class charts as SVG and PNG.',
  async run(ctx) {
    const runOpt = str(ctx, 'run');
    const run = runOpt && /^\d+$/.test(runOpt) && !existsSync(runOpt) ? runOpt : pathOpt(ctx, 'run');
    const out = pathOpt(ctx, 'out');
    const format = str(ctx, 'format');
    if (!run || !out || !format)
      throw new AppError(
        'bad_args',
        '--run DIR, --format F and --out DIR are required. See `coop-studio export --help`.',
      );
    if (!(EXPORT_FORMATS as readonly string[]).includes(format))
      throw new AppError('bad_args', `--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${format}".`);
    const model = modelOpt(ctx);
    const backend = backendOf(ctx);
    const engine = await ctx.engine();
    const r: ExportResult = await withCancel(ctx, async (signal) =>
      unwrap(
        await engine.call(
          'exportRun',
          {
            run,
            out,
            format: format as (typeof EXPORT_FORMATS)[number],
            ...(model ? { model } : {}),
            ...(backend ? { backend } : {}),
          },
          { onProgress: simpleProgress(ctx), signal },
        ),
      ),
    );
    if (r.verification)
      ctx.print(
        `Verified with ONNX Runtime: same top-1 as the app on ${r.verification.agree}/${r.verification.images} test images (largest logit difference ${r.verification.maxLogitDiff.toExponential(2)}).`,
      );
    ctx.print('Written:');
    for (const f of r.files) ctx.print(`  ${f}`);
    return r;
  },
};

/** The commands of this file, in help order. */
export const methodsCommands: CommandSpec[] = [compareCommand, predictCommand, exportCommand];
