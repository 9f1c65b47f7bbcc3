/**
 * @file CLI commands of the experiment bench: `sweep`, `base-to-new`, `domain-shift` (Node).
 */
import { resolve } from 'node:path';
import {
  CLASS_POSITIONS,
  DEFAULT_CONTEXT_LENGTHS,
  DEFAULT_INIT_WORDS,
  DEFAULT_NOISE_RATES,
  DEFAULT_SHIFT_METHODS,
  EXPERIMENT_METHOD_LABELS,
  GENERALIZATION_METHODS,
  SWEEP_KINDS,
  ZERO_SHOT_TEMPLATE,
  DEFAULT_EPOCHS_TEXT,
  N_CTX_DEFAULT,
  N_CTX_MAX,
  type ExperimentCommon,
  type ExperimentProgress,
  type GeneralizationMethod,
  type OpArgs,
  type OpResult,
  type SweepKind,
} from '../../../../shared/contract';
import { AppError, unwrap } from '../../../../shared/result';
import { formatExperimentTable } from '../../../../shared/experiment-report';
import {
  int,
  MODEL_OPT,
  modelArg,
  modelOpt,
  pathOpt,
  str,
  type CommandContext,
  type CommandSpec,
  type OptionSpec,
} from '../command';
import { backendOf, intList, KG_COCOOP_OPTIONS, kgCocoopArgs, withCancel } from './methods';
import { dataSource, PROJECT_OPT } from './train';

/** A comma-separated list option, trimmed, empty items dropped. */
export const list = (ctx: CommandContext, name: string) =>
  str(ctx, name)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function oneOf<T extends string>(ctx: CommandContext, name: string, allowed: readonly T[]): T | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new AppError('bad_args', `--${name} must be one of ${allowed.join(', ')}, got "${v}".`);
  return v as T;
}

function methodsOf(ctx: CommandContext): GeneralizationMethod[] | undefined {
  const v = list(ctx, 'methods');
  if (!v) return undefined;
  const bad = v.filter((m) => !(GENERALIZATION_METHODS as readonly string[]).includes(m));
  if (bad.length > 0)
    throw new AppError(
      'bad_args',
      `Unknown method ${bad.join(', ')}: --methods takes ${GENERALIZATION_METHODS.join(', ')}.`,
    );
  return v as GeneralizationMethod[];
}

function rates(ctx: CommandContext): number[] | undefined {
  const v = list(ctx, 'noise');
  if (!v) return undefined;
  const out = v.map(Number);
  if (out.some((r) => !(r >= 0 && r < 1)))
    throw new AppError(
      'bad_args',
      `--noise takes fractions in [0, 1) such as 0,0.125,0.25,0.5; got "${str(ctx, 'noise')}".`,
    );
  return out;
}

/** Options every experiment command has. */
const EXPERIMENT_OPTIONS: Record<string, OptionSpec> = {
  data: {
    type: 'string',
    valueName: 'DIR',
    description: 'Dataset folder: one sub-folder per class (this or --project).',
  },
  project: {
    ...PROJECT_OPT,
    description: 'Project (id or exact name): its classes and usable images (this or --data).',
  },
  model: { ...MODEL_OPT, description: 'CLIP model folder or installed model id.' },
  seeds: { type: 'string', valueName: 'LIST', description: 'Seeds (one split per seed).', defaultText: '1,2,3' },
  shots: { type: 'string', valueName: 'K', description: 'Training images per class.', defaultText: '16' },
  epochs: {
    type: 'string',
    valueName: 'N',
    description: 'CoOp/KgCoOp epochs.',
    defaultText: DEFAULT_EPOCHS_TEXT,
  },
  'aug-views': {
    type: 'string',
    valueName: 'N',
    description: 'Cached augmented views per training image.',
    defaultText: '0',
  },
  template: {
    type: 'string',
    valueName: 'TEXT',
    description: 'The hand-written prompt.',
    defaultText: ZERO_SHOT_TEMPLATE,
  },
  backend: { type: 'string', valueName: 'NAME', description: 'tfjs backend of the learned prompts.' },
  out: {
    type: 'string',
    valueName: 'DIR',
    description: 'Write the reports here: JSON, CSV, chart (SVG, PNG) and a self-contained HTML page.',
  },
};

/** CoOp's context options, as `learn` has them. */
const CONTEXT_OPTIONS: Record<string, OptionSpec> = {
  'n-ctx': {
    type: 'string',
    valueName: 'M',
    description: `Context vectors (1-${N_CTX_MAX}).`,
    defaultText: String(N_CTX_DEFAULT),
  },
  csc: { type: 'boolean', description: 'Class-specific context.' },
  position: {
    type: 'string',
    valueName: 'P',
    description: 'Class token position: end, middle or front.',
    defaultText: 'end',
  },
  'ctx-init': { type: 'string', valueName: 'TEXT', description: 'Initialise the context from these words.' },
};

async function commonArgs(ctx: CommandContext, command: string) {
  const model = modelOpt(ctx);
  const out = pathOpt(ctx, 'out');
  const template = str(ctx, 'template');
  const backend = backendOf(ctx);
  const seeds = intList(ctx, 'seeds');
  return {
    ...(await dataSource(ctx, command)),
    ...(model ? { model } : {}),
    ...(seeds ? { seeds } : {}),
    shots: int(ctx, 'shots', 16),
    ...(str(ctx, 'epochs') !== undefined ? { epochs: int(ctx, 'epochs', 0) } : {}),
    augViews: int(ctx, 'aug-views', 0),
    ...(template ? { template } : {}),
    ...(backend ? { backend } : {}),
    ...(out ? { out } : {}),
  };
}

function contextArgs(ctx: CommandContext) {
  const position = oneOf(ctx, 'position', CLASS_POSITIONS);
  const ctxInit = str(ctx, 'ctx-init');
  return {
    nCtx: int(ctx, 'n-ctx', N_CTX_DEFAULT),
    csc: ctx.values['csc'] === true,
    ...(position ? { position } : {}),
    ...(ctxInit ? { ctxInit } : {}),
  };
}

function experimentProgress(ctx: CommandContext): (e: ExperimentProgress) => void {
  let last = 0;
  return (e) => {
    if (e.kind === 'phase') ctx.log(`${e.message}...`);
    else if (e.kind === 'estimate') ctx.log(e.message);
    else if (e.kind === 'features') {
      if (e.done === e.total || Date.now() - last > 2000) {
        last = Date.now();
        ctx.log(`  embedding ${e.done}/${e.total}`);
      }
    } else if (e.kind === 'epoch') {
      if (Date.now() - last > 5000) {
        last = Date.now();
        ctx.log(`  ${e.run} seed ${e.seed}: epoch ${e.epoch}/${e.epochs}`);
      }
    } else
      ctx.log(
        `  [${e.done}/${e.total}] ${e.run} seed ${e.seed}: ${(e.accuracy * 100).toFixed(1)}% (${e.seconds.toFixed(1)} s)`,
      );
  };
}

function printCommon(ctx: CommandContext, r: ExperimentCommon): void {
  for (const w of r.warnings) ctx.log(`Warning: ${w}`);
  ctx.print(`${r.table.title}`);
  ctx.print(
    `${r.table.metric} (%, mean ± std over seeds ${r.seeds.join(', ')}) with ${r.models.map((m) => m.id).join(', ')}:`,
  );
  for (const line of formatExperimentTable(r.table)) ctx.print(line);
  ctx.print(`${r.timings.runs} runs in ${r.timings.totalS.toFixed(1)} s. Reproduce: ${r.command}`);
  if (r.files.length) ctx.print(`Written: ${r.files.join(', ')}`);
}

/** Runs an experiment job with progress on stderr and Ctrl-C cancellation. */
async function runExperiment<N extends 'sweep' | 'baseToNew' | 'domainShift'>(
  ctx: CommandContext,
  op: N,
  args: OpArgs<N>,
): Promise<OpResult<N>> {
  const engine = await ctx.engine();
  const onProgress = experimentProgress(ctx);
  return withCancel(ctx, async (signal) => unwrap(await engine.call(op, args, { onProgress, signal })));
}

/** `coop-studio sweep`. */
export const sweepCommand: CommandSpec = {
  name: 'sweep',
  summary:
    "One of the CoOp paper's ablations over seeds, the same split per seed for every cell: context length, initialisation, context layout, backbone or label noise.",
  options: {
    kind: { type: 'string', valueName: 'KIND', description: `What to vary: ${SWEEP_KINDS.join(', ')} (required).` },
    ...EXPERIMENT_OPTIONS,
    test: { type: 'string', valueName: 'DIR', description: 'Separate test folder with the same class folders.' },
    ...CONTEXT_OPTIONS,
    lengths: {
      type: 'string',
      valueName: 'LIST',
      description: 'context-length: the values of M.',
      defaultText: DEFAULT_CONTEXT_LENGTHS.join(','),
    },
    'init-words': {
      type: 'string',
      valueName: 'TEXT',
      description: 'init: the words of the word initialisation (random init gets as many vectors).',
      defaultText: DEFAULT_INIT_WORDS,
    },
    models: {
      type: 'string',
      valueName: 'LIST',
      description: 'backbone: model folders or installed ids, comma-separated.',
      defaultText: 'every installed model',
    },
    noise: {
      type: 'string',
      valueName: 'LIST',
      description: "label-noise: fractions of each class's training labels flipped.",
      defaultText: DEFAULT_NOISE_RATES.join(','),
    },
  },
  details:
    'Example: coop-studio sweep --kind context-length --data ./flowers --seeds 1,2,3 --out ./sweep --json\n' +
    'context-length: CoOp with M in --lengths (random init). init: random vs --init-words with the same M. layout: unified vs class-specific x class token end/middle/front. backbone: zero-shot and CoOp on each model. label-noise: zero-shot, linear probe and CoOp with flipped training labels (evaluation labels stay clean).\n' +
    'Every kind also reports the hand-written prompt. A CoOp cell is exactly `learn` with its options and seed.',
  async run(ctx) {
    const kind = oneOf(ctx, 'kind', SWEEP_KINDS);
    if (!kind)
      throw new AppError(
        'bad_args',
        `--kind is required: ${SWEEP_KINDS.join(', ')}. See \`coop-studio sweep --help\`.`,
      );
    const test = pathOpt(ctx, 'test');
    const lengths = intList(ctx, 'lengths');
    const initWords = str(ctx, 'init-words');
    const models = list(ctx, 'models')?.map(modelArg);
    const noise = rates(ctx);
    const only = (flag: string, k: SweepKind, given: unknown) => {
      if (given !== undefined && kind !== k) throw new AppError('bad_args', `--${flag} goes with --kind ${k}.`);
    };
    only('lengths', 'context-length', lengths);
    only('init-words', 'init', initWords);
    only('models', 'backbone', models);
    only('noise', 'label-noise', noise);
    const args = {
      kind,
      ...(await commonArgs(ctx, 'sweep')),
      ...contextArgs(ctx),
      ...(test ? { test } : {}),
      ...(lengths ? { contextLengths: lengths } : {}),
      ...(initWords ? { initWords } : {}),
      ...(models ? { models } : {}),
      ...(noise ? { noiseRates: noise } : {}),
    };
    const r = await runExperiment(ctx, 'sweep', args);
    printCommon(ctx, r);
    return r;
  },
};

/** `coop-studio base-to-new`. */
export const baseToNewCommand: CommandSpec = {
  name: 'base-to-new',
  summary:
    'Base-to-new generalization (the CoCoOp protocol): learn on the base classes, test base among base and new among new classes, report the harmonic mean.',
  options: {
    ...EXPERIMENT_OPTIONS,
    'n-ctx': CONTEXT_OPTIONS['n-ctx'] as OptionSpec,
    methods: {
      type: 'string',
      valueName: 'LIST',
      description: `Methods: ${GENERALIZATION_METHODS.join(', ')}.`,
      defaultText: GENERALIZATION_METHODS.join(','),
    },
    base: {
      type: 'string',
      valueName: 'LIST',
      description: 'Base classes (folder names); the others are new.',
      defaultText: 'the first half in label order, rounded up',
    },
    ...KG_COCOOP_OPTIONS,
  },
  details: 'Example: coop-studio base-to-new --data ./flowers --seeds 1,2,3 --out ./b2n',
  async run(ctx) {
    const methods = methodsOf(ctx);
    const base = list(ctx, 'base');
    const kgCocoop = kgCocoopArgs(ctx);
    const args = {
      ...(await commonArgs(ctx, 'base-to-new')),
      nCtx: int(ctx, 'n-ctx', N_CTX_DEFAULT),
      ...(methods ? { methods } : {}),
      ...(base ? { baseClasses: base } : {}),
      ...kgCocoop,
    };
    const r = await runExperiment(ctx, 'baseToNew', args);
    printCommon(ctx, r);
    ctx.print(
      `Base classes: ${r.classSplit.base.join(', ')}; new: ${r.classSplit.new.join(', ')} (${r.classSplit.rule}).`,
    );
    for (const s of r.summary)
      ctx.print(`  ${EXPERIMENT_METHOD_LABELS[s.method].padEnd(12)} H of the means: ${(s.harmonic * 100).toFixed(1)}`);
    return r;
  },
};

/** `coop-studio domain-shift`. */
export const domainShiftCommand: CommandSpec = {
  name: 'domain-shift',
  summary:
    'Domain shift: learn on the dataset, test the learned prompt on other folders with the same class names, next to in-domain and zero-shot accuracy.',
  options: {
    ...EXPERIMENT_OPTIONS,
    targets: {
      type: 'string',
      valueName: 'LIST',
      description: 'Target folders (comma-separated) with the same class folder names (required).',
    },
    ...CONTEXT_OPTIONS,
    methods: {
      type: 'string',
      valueName: 'LIST',
      description: `Methods: ${GENERALIZATION_METHODS.join(', ')}.`,
      defaultText: DEFAULT_SHIFT_METHODS.join(','),
    },
    ...KG_COCOOP_OPTIONS,
  },
  details:
    'Example: coop-studio domain-shift --data resources/samples/backgrounds --targets resources/samples/backgrounds-sketch,resources/samples/backgrounds-noisy',
  async run(ctx) {
    const targets = list(ctx, 'targets')?.map((t) => resolve(t));
    if (!targets?.length)
      throw new AppError('bad_args', '--targets DIR[,DIR...] is required. See `coop-studio domain-shift --help`.');
    const methods = methodsOf(ctx);
    const kgCocoop = kgCocoopArgs(ctx);
    const args = {
      ...(await commonArgs(ctx, 'domain-shift')),
      ...contextArgs(ctx),
      targets,
      ...(methods ? { methods } : {}),
      ...kgCocoop,
    };
    const r = await runExperiment(ctx, 'domainShift', args);
    printCommon(ctx, r);
    for (const l of r.losses)
      ctx.print(
        `  On ${l.domain}, ${EXPERIMENT_METHOD_LABELS[l.method]} (${(l.learned * 100).toFixed(1)}%) loses to the hand-written prompt (${(l.zeroShot * 100).toFixed(1)}%).`,
      );
    return r;
  },
};

/** The commands of this file, in help order. */
export const experimentsCommands: CommandSpec[] = [sweepCommand, baseToNewCommand, domainShiftCommand];
