/**
 * @file CLI command `check-model`: verifies the trainer's text encoder of a model folder against ONNX Runtime (Node).
 *
 * A numerical mismatch exits with code 1 and an `invalid_model` error whose detail is the full report (JSON), so
 * scripts can rely on the exit code; see [Note: check-model result].
 */
import { CHECK_VARIANTS, TRAIN_BACKENDS } from '../../../../shared/contract';
import { AppError, unwrap } from '../../../../shared/result';
import { MODEL_OPT, modelOpt, str, type CommandSpec } from '../command';

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new AppError('bad_args', `--${flag} must be ${allowed.join(', ')}; got "${value}".`);
  return value as T;
}

/** `coop-studio check-model`. */
export const checkModelCommand: CommandSpec = {
  name: 'check-model',
  summary:
    "Verify that the trainer's text encoder (tfjs) computes the same text features as ONNX Runtime for a model folder.",
  options: {
    model: MODEL_OPT,
    variant: {
      type: 'string',
      valueName: 'NAME',
      description: 'Text weights to verify: fp32, fp16 or quantized (refused: training needs fp32).',
      defaultText: 'fp32, else fp16',
    },
    backend: {
      type: 'string',
      valueName: 'NAME',
      description: `tfjs backend: ${TRAIN_BACKENDS.join(', ')}.`,
      defaultText: 'tensorflow when installed, else wasm',
    },
  },
  details:
    'Runs 8 token sequences (1 to 40 content tokens) through ONNX Runtime and through both tfjs paths (plain and\noptimised) and compares the projected text features. Tolerance: 1e-4 for fp32 weights, 5e-2 for fp16.\nExample: coop-studio check-model --model ~/models/clip-vit-base-patch32 --json',
  async run(ctx) {
    const model = modelOpt(ctx);
    const variant = oneOf(str(ctx, 'variant'), CHECK_VARIANTS, 'variant');
    const backend = oneOf(str(ctx, 'backend'), TRAIN_BACKENDS, 'backend');
    ctx.log('verifying the text encoder against ONNX Runtime...');
    const r = unwrap(
      await (
        await ctx.engine()
      ).call('checkModel', {
        ...(model !== undefined ? { model } : {}),
        ...(variant ? { variant } : {}),
        ...(backend ? { backend } : {}),
      }),
    );
    const sci = (x: number) => x.toExponential(2);
    ctx.print(`model      ${r.modelDir}`);
    ctx.print(`file       ${r.file} (${r.variant}, sha256 ${r.sha256.slice(0, 12)})`);
    ctx.print(
      `encoder    width ${r.width}, ${r.layers} layers, ${r.heads} heads, context ${r.contextLength}, projection ${r.projectionDim}, vocabulary ${r.vocabSize}`,
    );
    ctx.print(
      `difference plain ${sci(r.maxAbsDiff)}, optimised ${sci(r.maxAbsDiffOptimised)} (tolerance ${r.tolerance}, ${r.prompts} prompts, ${r.backend}, ${r.seconds.toFixed(1)} s)`,
    );
    if (!r.ok) {
      const worst = Math.max(r.maxAbsDiff, r.maxAbsDiffOptimised);
      throw new AppError(
        'invalid_model',
        `The text encoder of ${r.file} does not match ONNX Runtime: max abs difference ${sci(worst)} > tolerance ${r.tolerance}. This model cannot be used for training.`,
        JSON.stringify(r),
      );
    }
    ctx.print('ok: the text encoder matches ONNX Runtime');
    return r;
  },
};
