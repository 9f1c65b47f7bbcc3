/**
 * @file CLI command `similarity-map`: where the model looks in one image, hand-written and learned prompt side by side
 * (Node).
 */
import { resolve } from 'node:path';
import { SIMILARITY_MAP_NOTE, ZERO_SHOT_TEMPLATE, type SimilarityMapResult } from '../../../../shared/contract';
import { AppError, unwrap } from '../../../../shared/result';
import { int, MODEL_OPT, modelOpt, pathOpt, str, type CommandSpec } from '../command';
import { list } from './experiments';
import { backendOf, intList, withCancel } from './methods';

/** `coop-studio similarity-map`. */
export const similarityMapCommand: CommandSpec = {
  name: 'similarity-map',
  summary:
    "Where the model looks: the cosine of each image patch with each class's text feature, hand-written and learned prompt side by side (numbers and PNG overlays).",
  args: 'IMAGE',
  options: {
    model: MODEL_OPT,
    context: {
      type: 'string',
      valueName: 'FILE',
      description: 'A learned context.safetensors: its map beside the hand-written one.',
    },
    classes: {
      type: 'string',
      valueName: 'LIST',
      description: 'Class names (required without --context; with a unified context, classes to apply it to).',
    },
    template: {
      type: 'string',
      valueName: 'TEXT',
      description: 'The hand-written prompt.',
      defaultText: ZERO_SHOT_TEMPLATE,
    },
    show: {
      type: 'string',
      valueName: 'LIST',
      description: 'Class indices to draw.',
      defaultText: 'the top 3 classes of the learned (else hand-written) prompt',
    },
    size: { type: 'string', valueName: 'PX', description: 'Side of the overlay PNGs.', defaultText: '224' },
    out: {
      type: 'string',
      valueName: 'DIR',
      description: 'Write the overlays, a side-by-side PNG per class and the map as JSON here.',
    },
    backend: { type: 'string', valueName: 'NAME', description: 'tfjs backend of the learned prompt.' },
  },
  details: `${SIMILARITY_MAP_NOTE}\nWith --json the overlays come as base64 PNG strings.`,
  async run(ctx) {
    const image = ctx.positionals[0];
    if (!image || ctx.positionals.length > 1)
      throw new AppError('bad_args', 'Give exactly one image file. See `coop-studio similarity-map --help`.');
    const context = pathOpt(ctx, 'context');
    const classes = list(ctx, 'classes');
    if (!context && !classes?.length) throw new AppError('bad_args', 'Give --context FILE or --classes a,b,c.');
    const model = modelOpt(ctx);
    const out = pathOpt(ctx, 'out');
    const template = str(ctx, 'template');
    const show = intList(ctx, 'show');
    const backend = backendOf(ctx);
    const engine = await ctx.engine();
    const r: SimilarityMapResult = await withCancel(ctx, async (signal) =>
      unwrap(
        await engine.call(
          'similarityMap',
          {
            image: resolve(image),
            size: int(ctx, 'size', 224),
            ...(context ? { context } : {}),
            ...(classes?.length ? { classes } : {}),
            ...(model ? { model } : {}),
            ...(out ? { out } : {}),
            ...(template ? { template } : {}),
            ...(show ? { classIndices: show } : {}),
            ...(backend ? { backend } : {}),
          },
          { onProgress: (e) => ctx.log(`${e.message}...`), signal },
        ),
      ),
    );
    ctx.print(
      `${r.image.path}: ${r.grid.rows}x${r.grid.cols} patches (path check ${r.check.clsMaxAbsDiff.toExponential(1)}).`,
    );
    for (const p of r.prompts) {
      const top = p.probabilities
        .map((pr, i) => ({ pr, i }))
        .sort((a, b) => b.pr - a.pr)
        .slice(0, 3)
        .map((x) => `${r.classNames[x.i] ?? x.i} ${(x.pr * 100).toFixed(1)}%`);
      ctx.print(`  ${p.prompt.padEnd(12)} ${top.join(', ')}`);
    }
    ctx.print(r.note);
    if (r.files.length) ctx.print(`Written: ${r.files.join(', ')}`);
    return r;
  },
};
