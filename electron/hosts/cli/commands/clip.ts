/**
 * @file CLI commands of the CLIP runtime: `tokenize`, `embed-text`, `embed-images`, `zero-shot` (Node).
 *
 * Paths are resolved against the user's working directory here, before they reach the engine worker.
 * Progress goes to stderr (at most one line every 2 s when stderr is not a terminal); see [Note: CLI output].
 */
import { resolve } from 'node:path';
import type { ClipProgress } from '../../../../shared/contract/clip';
import { ZERO_SHOT_TEMPLATE } from '../../../../shared/contract/train';
import { AppError, unwrap } from '../../../../shared/result';
import { int, MODEL_OPT, modelOpt, str, type CommandContext, type CommandSpec, type OptionSpec } from '../command';

const MODEL_OPTIONS: Record<string, OptionSpec> = {
  model: MODEL_OPT,
  variant: {
    type: 'string',
    valueName: 'NAME',
    description: 'Weights: fp32, fp16 or quantized.',
    defaultText: 'the first present',
  },
  provider: {
    type: 'string',
    valueName: 'NAME',
    description: 'ONNX Runtime execution provider: cpu, cuda, dml, coreml.',
    defaultText: 'the best available',
  },
};

const BATCH_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'N',
  description: 'Images per inference batch.',
  defaultText: '16',
};

function modelArgs(ctx: CommandContext): {
  model?: string;
  variant?: 'fp32' | 'fp16' | 'quantized';
  provider?: string;
} {
  const model = modelOpt(ctx);
  const variant = str(ctx, 'variant');
  const provider = str(ctx, 'provider');
  if (variant !== undefined && !['fp32', 'fp16', 'quantized'].includes(variant))
    throw new AppError('bad_args', `--variant must be fp32, fp16 or quantized, got "${variant}".`);
  return {
    ...(model !== undefined ? { model } : {}),
    ...(variant !== undefined ? { variant: variant as 'fp32' | 'fp16' | 'quantized' } : {}),
    ...(provider !== undefined ? { provider } : {}),
  };
}

function needPositionals(ctx: CommandContext, what: string, cmd: string): string[] {
  if (ctx.positionals.length === 0)
    throw new AppError('bad_args', `Give at least one ${what}. See \`coop-studio ${cmd} --help\`.`);
  return ctx.positionals;
}

function batchSize(ctx: CommandContext): { batchSize?: number } {
  const n = int(ctx, 'batch-size', 0);
  if (n === 0) return {};
  if (n < 1 || n > 512) throw new AppError('bad_args', `--batch-size must be between 1 and 512, got ${n}.`);
  return { batchSize: n };
}

/** Progress lines on stderr, throttled when stderr is not a terminal. */
function progressLogger(ctx: CommandContext): (e: ClipProgress) => void {
  let last = 0;
  return (e) => {
    const now = Date.now();
    if (e.done === e.total || now - last > 2000 || process.stderr.isTTY) {
      last = now;
      ctx.log(`${e.phase === 'text' ? 'embedding prompts' : 'embedding images'} ${e.done}/${e.total}`);
    }
  };
}

const fmt = (v: number[]) =>
  `[${v
    .slice(0, 4)
    .map((x) => x.toFixed(4))
    .join(', ')}${v.length > 4 ? `, ... (${v.length})` : ''}]`;

/** `coop-studio tokenize`. */
export const tokenizeCommand: CommandSpec = {
  name: 'tokenize',
  summary: "Tokenize texts with the model's CLIP BPE tokenizer.",
  args: 'TEXT...',
  options: {
    model: MODEL_OPTIONS['model'] as OptionSpec,
    unpadded: { type: 'boolean', description: 'Print ids up to the EOT instead of padding to the context length.' },
  },
  details: 'Example: coop-studio tokenize --json "a photo of a dog."',
  async run(ctx) {
    const texts = needPositionals(ctx, 'text', 'tokenize');
    const model = modelOpt(ctx);
    const r = unwrap(
      await (
        await ctx.engine()
      ).call('tokenize', { texts, pad: ctx.values['unpadded'] !== true, ...(model ? { model } : {}) }),
    );
    r.ids.forEach((row, i) =>
      ctx.print(`${texts[i] ?? ''}\n  ${JSON.stringify(row)}${r.truncated[i] ? ' (truncated)' : ''}`),
    );
    return r;
  },
};

/** `coop-studio embed-text`. */
export const embedTextCommand: CommandSpec = {
  name: 'embed-text',
  summary: 'Print CLIP text embeddings (text_embeds) of texts.',
  args: 'TEXT...',
  options: { ...MODEL_OPTIONS, normalize: { type: 'boolean', description: 'L2-normalise each embedding.' } },
  async run(ctx) {
    const texts = needPositionals(ctx, 'text', 'embed-text');
    const r = unwrap(
      await (
        await ctx.engine()
      ).call('embedText', { ...modelArgs(ctx), texts, normalize: ctx.values['normalize'] === true }),
    );
    ctx.print(`model ${r.modelId} (${r.variant}, ${r.provider}), ${r.dim} dimensions`);
    r.embeddings.forEach((e, i) => ctx.print(`${texts[i] ?? ''}: ${fmt(e)}`));
    return r;
  },
};

/** `coop-studio embed-images`. */
export const embedImagesCommand: CommandSpec = {
  name: 'embed-images',
  summary: 'Print CLIP image embeddings (image_embeds) of image files; unreadable files are listed with a reason.',
  args: 'FILE...',
  options: {
    ...MODEL_OPTIONS,
    normalize: { type: 'boolean', description: 'L2-normalise each embedding.' },
    'batch-size': BATCH_OPTION,
  },
  async run(ctx) {
    const files = needPositionals(ctx, 'image file', 'embed-images').map((f) => resolve(f));
    const r = unwrap(
      await (
        await ctx.engine()
      ).call(
        'embedImages',
        { ...modelArgs(ctx), files, normalize: ctx.values['normalize'] === true, ...batchSize(ctx) },
        { onProgress: progressLogger(ctx) },
      ),
    );
    ctx.print(`model ${r.modelId} (${r.variant}, ${r.provider}), ${r.dim} dimensions`);
    r.embeddings.forEach((e, i) => {
      if (e) ctx.print(`${files[i] ?? ''}: ${fmt(e)}`);
    });
    for (const e of r.errors) ctx.log(`skipped ${e.file}: ${e.reason}`);
    return r;
  },
};

/** `coop-studio zero-shot`. */
export const zeroShotCommand: CommandSpec = {
  name: 'zero-shot',
  summary: 'Zero-shot accuracy of a folder-per-class dataset with one prompt template.',
  options: {
    data: {
      type: 'string',
      valueName: 'DIR',
      description: 'Dataset folder: one sub-folder of images per class (required).',
    },
    ...MODEL_OPTIONS,
    template: {
      type: 'string',
      valueName: 'TEXT',
      description: 'Prompt template; {} is replaced by the class name.',
      defaultText: `"${ZERO_SHOT_TEMPLATE}"`,
    },
    'batch-size': BATCH_OPTION,
  },
  details: `Class names come from the folder names (_ and - become spaces). Logits are logit scale (100) x cosine.\nWithout --model the active model is used (coop-studio models list marks it).`,
  async run(ctx) {
    const data = str(ctx, 'data');
    if (!data)
      throw new AppError('bad_args', 'Give the dataset folder with --data DIR. See `coop-studio zero-shot --help`.');
    const template = str(ctx, 'template');
    const r = unwrap(
      await (
        await ctx.engine()
      ).call(
        'zeroShot',
        { ...modelArgs(ctx), data: resolve(data), ...(template !== undefined ? { template } : {}), ...batchSize(ctx) },
        { onProgress: progressLogger(ctx) },
      ),
    );
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    ctx.print(`model ${r.modelId} (${r.variant}, ${r.provider}), template "${r.template}"`);
    const width = Math.max(5, ...r.classes.map((c) => c.name.length));
    for (const c of r.classes)
      ctx.print(`  ${c.name.padEnd(width)}  ${pct(c.accuracy).padStart(6)}  (${c.correct}/${c.total})`);
    ctx.print(
      `  ${'all'.padEnd(width)}  ${pct(r.accuracy).padStart(6)}  (${r.correct}/${r.total}), mean per class ${pct(r.meanClassAccuracy)}`,
    );
    for (const e of r.errors) ctx.log(`skipped ${e.file}: ${e.reason}`);
    if (r.skipped.length > 0)
      ctx.log(`${r.skipped.length} entries of the data folder are not images (see --json "skipped").`);
    return r;
  },
};

/** Every CLIP runtime command. */
export const clipCommands: CommandSpec[] = [tokenizeCommand, embedTextCommand, embedImagesCommand, zeroShotCommand];
