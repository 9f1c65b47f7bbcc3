/**
 * @file CLI commands `learn`, `eval` and `demo`: CoOp prompt learning from the terminal (Node).
 *
 * [Note: demo settings] `coop-studio demo` is the app's main job without a window: CoOp for 16 shots (M = 16, unified
 * context, class at the end, 200 epochs) on the first sample task, under the default schedule for its 5 classes
 * (`fast`; `--schedule paper` for the paper's SGD with batches of 32). On the demo model a step costs milliseconds, so
 * the whole run takes seconds.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EvaluateResult, LearnProgress, LearnResult } from '../../../../shared/contract/train';
import {
  CLASS_POSITIONS,
  dataSourceProblem,
  DEFAULT_AUG_VIEWS,
  DEFAULT_EPOCHS_TEXT,
  DEFAULT_SCHEDULE_RULE,
  KGCOOP_LAMBDA,
  LEARN_METHODS,
  MIN_CLASSES_PER_THREAD,
  N_CTX_DEFAULT,
  N_CTX_MAX,
  SCHEDULE_DESCRIPTIONS,
  THREAD_SPLITS,
  TRAIN_BACKENDS,
  TRAIN_SCHEDULES,
  ZERO_SHOT_TEMPLATE,
} from '../../../../shared/contract/train';
import { AppError, unwrap } from '../../../../shared/result';
import { resourcesDir } from '../../../engine/settings/paths';
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
import { resolveProject } from './project';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '  -  ' : `${(x * 100).toFixed(1)}%`);

function formatEta(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${Math.ceil(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** Turns learn/evaluate progress into stderr lines (one redrawn line on a terminal). */
function learnReporter(ctx: CommandContext): { update(e: LearnProgress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let drawn = false;
  let lastLog = 0;
  const transient = (line: string) => {
    const now = Date.now();
    if (tty) {
      const cols = process.stderr.columns || 100;
      process.stderr.write(`\r${line.slice(0, cols - 1).padEnd(cols - 1)}`);
      drawn = true;
    } else if (now - lastLog > 5000) {
      ctx.log(line);
      lastLog = now;
    }
  };
  const permanent = (line: string) => {
    if (drawn) process.stderr.write('\r' + ' '.repeat((process.stderr.columns || 100) - 1) + '\r');
    drawn = false;
    ctx.log(line);
  };
  return {
    update(e) {
      if (e.kind === 'phase') permanent(`${e.message}...`);
      else if (e.kind === 'features') transient(`  embedding images ${e.done}/${e.total}`);
      else if (e.kind === 'step')
        transient(
          `  epoch ${e.epoch}/${e.epochs} step ${e.step}/${e.stepsPerEpoch} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} [${e.backend}] ETA ${formatEta(e.etaS)}`,
        );
      else {
        const p = e.point;
        const head =
          p.epoch === 0
            ? `  zero-shot ("${ZERO_SHOT_TEMPLATE}")`
            : `  epoch ${String(p.epoch).padStart(3)}/${e.epochs}`;
        const line = `${head}: loss ${p.trainLoss.toFixed(4)} train ${pct(p.trainAccuracy)} val ${pct(p.valAccuracy)} test ${pct(p.testAccuracy)}${p.epoch > 0 ? ` ETA ${formatEta(e.etaS)}` : ''}`;
        // Every epoch on a pipe would flood logs for 200 epochs: print the first ones, every tenth and the last.
        if (tty || p.epoch <= 2 || p.epoch % 10 === 0 || p.epoch === e.epochs) permanent(line);
      }
    },
    done() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

/** Runs an engine job with the reporter and Ctrl-C cancellation. */
async function runJob<T>(
  ctx: CommandContext,
  call: (opts: { onProgress: (e: LearnProgress) => void; signal: AbortSignal }) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    ctx.log('\nCancelling...');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  const reporter = learnReporter(ctx);
  try {
    return await call({ onProgress: (e) => reporter.update(e), signal: controller.signal });
  } finally {
    reporter.done();
    process.removeListener('SIGINT', onSigint);
  }
}

function oneOf<T extends string>(ctx: CommandContext, name: string, allowed: readonly T[]): T | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new AppError('bad_args', `--${name} must be one of ${allowed.join(', ')}, got "${v}".`);
  return v as T;
}

/** `--project ID|NAME` (learn, eval, compare). */
export const PROJECT_OPT: OptionSpec = {
  type: 'string',
  valueName: 'ID|NAME',
  description:
    'Project (id or exact name, see `coop-studio project list`): learn on its classes and images (this or --data).',
};

/**
 * `--data DIR` or `--project ID|NAME`, exactly one, and `--test DIR` only with `--data`: the contract's rule
 * (`dataSourceProblem`, see [Note: data source]) phrased with the CLI's flags; starts the engine for a project.
 */
export async function dataSource(
  ctx: CommandContext,
  command: string,
): Promise<{ data: string } | { project: number }> {
  const data = pathOpt(ctx, 'data');
  const project = str(ctx, 'project');
  const problem = dataSourceProblem({ data, project, test: pathOpt(ctx, 'test') });
  if (problem === 'two_sources') throw new AppError('bad_args', 'Give --data DIR or --project ID|NAME, not both.');
  if (problem === 'no_source')
    throw new AppError(
      'bad_args',
      `--data DIR or --project ID|NAME is required. See \`coop-studio ${command} --help\`.`,
    );
  if (problem === 'test_with_project')
    throw new AppError('bad_args', '--test DIR goes with --data DIR, not with --project.');
  return project !== undefined ? { project: (await resolveProject(await ctx.engine(), ctx)).id } : { data: data ?? '' };
}

/** Prints the summary of a learning run. */
function printLearnSummary(ctx: CommandContext, r: LearnResult): void {
  const on = r.project ? `project "${r.project.name}" (run ${r.project.runId})` : r.data.root;
  const method = r.settings.method === 'kgcoop' ? `KgCoOp (lambda ${r.settings.kgLambda ?? KGCOOP_LAMBDA})` : 'CoOp';
  ctx.print(
    `${method} on ${on} with ${r.model.id} (${r.backend}): ${r.settings.shots} shots, seed ${r.settings.seed}, M=${r.settings.nCtx}${r.settings.csc ? ', class-specific' : ''}, class ${r.settings.position}, ${r.settings.schedule} schedule (${r.settings.epochs} epochs, batch ${r.settings.batchSize}, lr ${r.settings.lr}), ${r.settings.augViews} views`,
  );
  for (const n of r.notes) ctx.print(`Note: ${n.message}`);
  ctx.print(`Zero-shot ("${r.zeroShot.template}") test accuracy: ${pct(r.zeroShot.test.accuracy)}`);
  ctx.print(`Learned prompt test accuracy:              ${pct(r.test.accuracy)} on ${r.test.count} images`);
  ctx.print('Per class (zero-shot -> learned prompt):');
  r.test.perClass.forEach((c, i) =>
    ctx.print(
      `  ${c.name.padEnd(24)} ${pct(r.zeroShot.test.perClass[i]?.accuracy)} -> ${pct(c.accuracy)}  (${c.count} images)`,
    ),
  );
  ctx.print(
    `Time: ${r.timings.totalS.toFixed(1)} s (features ${r.timings.featuresS.toFixed(1)} s, ${r.timings.imagesEmbedded} embedded / ${r.timings.imagesFromCache} cached; training ${r.timings.trainS.toFixed(1)} s, ${r.timings.steps} steps, ${r.timings.msPerStep.toFixed(0)} ms/step on ${r.timings.threads} thread(s)${r.timings.threads > 1 ? ` by ${r.timings.split}` : ''})`,
  );
  const nearest = r.nearestTokens
    .slice(0, 4)
    .map((n) => n.tokens[0]?.token ?? '?')
    .join(' ');
  if (nearest) ctx.print(`Closest words to the first context vectors: ${nearest} ...`);
  ctx.print(`Learned context: ${r.contextPath}`);
  ctx.print(`Accuracy curve:  ${r.curvePath}`);
}

const BACKEND_OPT: OptionSpec = {
  type: 'string',
  valueName: 'NAME',
  description: `tfjs backend: ${TRAIN_BACKENDS.join(', ')}.`,
  defaultText: 'tensorflow when installed, else wasm',
};

/** Options shared by `learn` and `demo`. */
const RUN_OPTIONS: Record<string, OptionSpec> = {
  model: MODEL_OPT,
  seed: {
    type: 'string',
    valueName: 'S',
    description: 'Seed of the split, views, batches and context init.',
    defaultText: '1',
  },
  'aug-views': { type: 'string', valueName: 'N', description: 'Cached augmented views per training image (0 = none).' },
  schedule: {
    type: 'string',
    valueName: 'S',
    description: `Training schedule, ${TRAIN_SCHEDULES.join(' or ')}. ${TRAIN_SCHEDULES.map((s) => `${s}: ${SCHEDULE_DESCRIPTIONS[s]}.`).join(' ')}`,
    defaultText: DEFAULT_SCHEDULE_RULE,
  },
  epochs: {
    type: 'string',
    valueName: 'N',
    description: 'Training epochs.',
    defaultText: `the schedule's: ${DEFAULT_EPOCHS_TEXT}`,
  },
  backend: BACKEND_OPT,
  out: {
    type: 'string',
    valueName: 'DIR',
    description: 'Where to write the context and the curve.',
    defaultText: '<data folder>/runs/<time>-...',
  },
  path: {
    type: 'string',
    valueName: 'P',
    description: 'Text encoder implementation: optimised or plain (reference).',
    defaultText: 'optimised',
  },
  threads: {
    type: 'string',
    valueName: 'N',
    description: 'Threads that share each wasm training step (see --split).',
    defaultText: `one per core (at most 4) when every thread gets ${MIN_CLASSES_PER_THREAD}+ classes, else 1`,
  },
  split: {
    type: 'string',
    valueName: 'S',
    description:
      'How training threads share a step: classes (each a range of classes) or heads (each a slice of the encoder).',
    defaultText: 'classes',
  },
};

function learnArgsFrom(ctx: CommandContext, defaults: { epochs?: number; augViews: number }) {
  const epochs = str(ctx, 'epochs') === undefined ? defaults.epochs : int(ctx, 'epochs', 0);
  const backend = oneOf(ctx, 'backend', TRAIN_BACKENDS);
  const path = oneOf(ctx, 'path', ['optimised', 'plain'] as const);
  const model = modelOpt(ctx);
  const out = pathOpt(ctx, 'out');
  const threads = str(ctx, 'threads') === undefined ? undefined : int(ctx, 'threads', 0);
  const split = oneOf(ctx, 'split', THREAD_SPLITS);
  const schedule = oneOf(ctx, 'schedule', TRAIN_SCHEDULES);
  return {
    seed: int(ctx, 'seed', 1),
    augViews: int(ctx, 'aug-views', defaults.augViews),
    ...(epochs !== undefined ? { epochs } : {}),
    ...(backend ? { backend } : {}),
    ...(path ? { path } : {}),
    ...(model ? { model } : {}),
    ...(out ? { out } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(split ? { split } : {}),
    ...(schedule ? { schedule } : {}),
  };
}

/** `coop-studio learn`. */
export const learnCommand: CommandSpec = {
  name: 'learn',
  summary:
    'Learn a prompt with CoOp on a folder dataset (one sub-folder per class) or a project, and save the learned context.',
  options: {
    data: {
      type: 'string',
      valueName: 'DIR',
      description: 'Dataset folder: one sub-folder of images per class (this or --project).',
    },
    project: PROJECT_OPT,
    test: { type: 'string', valueName: 'DIR', description: 'Separate test folder with the same class folders.' },
    shots: { type: 'string', valueName: 'K', description: 'Training images per class.', defaultText: '16' },
    'n-ctx': {
      type: 'string',
      valueName: 'M',
      description: `Number of context vectors (1-${N_CTX_MAX}).`,
      defaultText: String(N_CTX_DEFAULT),
    },
    csc: { type: 'boolean', description: 'Class-specific context (one context per class).' },
    position: {
      type: 'string',
      valueName: 'P',
      description: 'Class token position: end, middle or front.',
      defaultText: 'end',
    },
    'ctx-init': {
      type: 'string',
      valueName: 'TEXT',
      description: 'Initialise the context from words, e.g. "a photo of a".',
    },
    method: {
      type: 'string',
      valueName: 'M',
      description: `Prompt-learning method: ${LEARN_METHODS.join(' or ')} (CoOp plus a pull towards the hand-written prompt).`,
      defaultText: 'coop, or kgcoop with --kg-lambda',
    },
    'kg-lambda': {
      type: 'string',
      valueName: 'X',
      description: "KgCoOp's weight of 1 - cos(learned, hand-written class features), as in the official code.",
      defaultText: String(KGCOOP_LAMBDA),
    },
    ...RUN_OPTIONS,
    epochs: {
      type: 'string',
      valueName: 'N',
      description: 'Training epochs.',
      defaultText: `the schedule's: ${DEFAULT_EPOCHS_TEXT}`,
    },
    'aug-views': { ...(RUN_OPTIONS['aug-views'] as OptionSpec), defaultText: String(DEFAULT_AUG_VIEWS) },
  },
  details:
    'Example: coop-studio learn --data ./flowers --shots 16 --seed 1 --json\n' +
    'Example: coop-studio learn --project 3 --shots 8 (the run, its curve, split and context are recorded in the project)\n' +
    'Example: coop-studio learn --data ./flowers --method kgcoop --kg-lambda 8\n' +
    'The JSON summary holds the zero-shot and CoOp test accuracies (fractions), the per-epoch curve, per-class results, timings and the context path.',
  async run(ctx) {
    const test = pathOpt(ctx, 'test');
    const position = oneOf(ctx, 'position', CLASS_POSITIONS);
    const ctxInit = str(ctx, 'ctx-init');
    const kgLambda = nonNegative(ctx, 'kg-lambda');
    const method = oneOf(ctx, 'method', LEARN_METHODS) ?? (kgLambda !== undefined ? 'kgcoop' : undefined);
    if (kgLambda !== undefined && method !== 'kgcoop')
      throw new AppError('bad_args', '--kg-lambda goes with --method kgcoop.');
    const options = {
      ...(method ? { method } : {}),
      ...(kgLambda !== undefined ? { kgLambda } : {}),
      ...(test ? { test } : {}),
      shots: int(ctx, 'shots', 16),
      nCtx: int(ctx, 'n-ctx', N_CTX_DEFAULT),
      csc: ctx.values['csc'] === true,
      ...(position ? { position } : {}),
      ...(ctxInit ? { ctxInit } : {}),
      ...learnArgsFrom(ctx, { augViews: DEFAULT_AUG_VIEWS }),
    };
    const args = { ...(await dataSource(ctx, 'learn')), ...options };
    const engine = await ctx.engine();
    const r = await runJob(ctx, async (o) => unwrap(await engine.call('learn', args, o)));
    printLearnSummary(ctx, r);
    return r;
  },
};

/** `coop-studio eval`. */
export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Evaluate a learned context file on a folder dataset or a project, next to the hand-written prompt.',
  options: {
    model: MODEL_OPT,
    data: {
      type: 'string',
      valueName: 'DIR',
      description: 'Folder with one sub-folder of images per class (this or --project).',
    },
    project: { ...PROJECT_OPT, description: 'Project id: every usable image of the project (this or --data).' },
    context: { type: 'string', valueName: 'FILE', description: 'A context.safetensors written by `learn` (required).' },
    backend: BACKEND_OPT,
  },
  async run(ctx) {
    const context = pathOpt(ctx, 'context');
    if (!context) throw new AppError('bad_args', '--context FILE is required. See `coop-studio eval --help`.');
    const backend = oneOf(ctx, 'backend', TRAIN_BACKENDS);
    const model = modelOpt(ctx);
    const source = await dataSource(ctx, 'eval');
    const engine = await ctx.engine();
    const r: EvaluateResult = await runJob(ctx, async (o) =>
      unwrap(
        await engine.call(
          'evaluate',
          { ...source, context, ...(model ? { model } : {}), ...(backend ? { backend } : {}) },
          o,
        ),
      ),
    );
    for (const w of r.warnings) ctx.log(`Warning: ${w}`);
    ctx.print(
      `Context ${r.context.path} (${r.context.shots} shots, seed ${r.context.seed}) on ${r.test.count} images:`,
    );
    ctx.print(`  zero-shot ("${r.zeroShot.template}"): ${pct(r.zeroShot.test.accuracy)}`);
    ctx.print(`  learned context:             ${pct(r.test.accuracy)}`);
    r.test.perClass.forEach((c, i) =>
      ctx.print(
        `  ${c.name.padEnd(24)} ${pct(r.zeroShot.test.perClass[i]?.accuracy)} -> ${pct(c.accuracy)}  (${c.count} images)`,
      ),
    );
    return r;
  },
};

/** The first sample task folder under resources/samples (sorted by name). */
export function firstSampleTask(): string {
  const root = join(resourcesDir(), 'samples');
  let tasks: string[] = [];
  try {
    tasks = readdirSync(root)
      .filter((n) => !n.startsWith('.') && statSync(join(root, n)).isDirectory())
      .sort();
  } catch {
    tasks = [];
  }
  const first = tasks[0];
  if (!first) throw new AppError('not_found', `The sample dataset is missing: no task folder under ${root}.`);
  return join(root, first);
}

/** `coop-studio demo`. */
export const demoCommand: CommandSpec = {
  name: 'demo',
  summary:
    'Run the main job without a window: CoOp (16 shots) on the bundled sample task with the active model (the embedded demo model unless another was chosen).',
  options: {
    ...RUN_OPTIONS,
    'aug-views': { ...(RUN_OPTIONS['aug-views'] as OptionSpec), defaultText: String(DEFAULT_AUG_VIEWS) },
    data: {
      type: 'string',
      valueName: 'DIR',
      description: 'Task folder.',
      defaultText: 'the first task in resources/samples',
    },
  },
  details: `CoOp with 16 shots (no augmented views: see \`learn --help\`) on the active model (--model picks another); the schedule is ${DEFAULT_SCHEDULE_RULE} unless --schedule says otherwise.`,
  async run(ctx) {
    const data = pathOpt(ctx, 'data') ?? firstSampleTask();
    const args = { data, shots: 16, ...learnArgsFrom(ctx, { augViews: DEFAULT_AUG_VIEWS }) };
    ctx.log(`Demo: CoOp with 16 shots on ${data}`);
    const engine = await ctx.engine();
    const r = await runJob(ctx, async (o) => unwrap(await engine.call('learn', args, o)));
    printLearnSummary(ctx, r);
    return r;
  },
};

/** The commands of this file, in help order. */
export const trainCommands: CommandSpec[] = [learnCommand, evalCommand, demoCommand];
