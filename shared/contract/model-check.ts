/**
 * @file Contract of `checkModel`: the numerical verification of the trainer's tfjs text encoder against ONNX Runtime
 * (pure TypeScript).
 *
 * [Note: check-model result] A model whose graph cannot be matched (or an int8-quantized file, which the trainer
 * cannot differentiate) fails the call with `invalid_model`. A model that was matched but computes different text
 * features returns `ok: false` with the numbers, so the UI can show them; the CLI turns that into a non-zero exit.
 */
import { z } from 'zod';
import { op } from './define';
import { TRAIN_BACKENDS } from './train';

/** Weight files `checkModel` can verify. */
export const CHECK_VARIANTS = ['fp32', 'fp16', 'quantized'] as const;

/** What `checkModel` reports. */
export interface ModelCheckReport {
  /** True when both tfjs paths match ONNX Runtime within `tolerance`. */
  ok: boolean;
  modelDir: string;
  /** The text model file that was verified. */
  file: string;
  sha256: string;
  variant: 'fp32' | 'fp16';
  /** Largest |tfjs - ONNX Runtime| over all text features, the plain reference path. */
  maxAbsDiff: number;
  /** The same for the optimised path the trainer uses (shared-prefix layout off: full prompts). */
  maxAbsDiffOptimised: number;
  /** Allowed difference: 1e-4 for fp32 weights, 5e-2 for fp16 (ONNX Runtime computes in half precision). */
  tolerance: number;
  /** Number of verification token sequences (content lengths 1 to 40). */
  prompts: number;
  /** The tfjs backend the encoder ran on. */
  backend: string;
  width: number;
  layers: number;
  heads: number;
  contextLength: number;
  projectionDim: number;
  vocabSize: number;
  seconds: number;
}

/** Model verification operations. */
export const modelCheckOps = {
  checkModel: op<ModelCheckReport>()(
    z.object({
      model: z.string().optional(),
      variant: z.enum(CHECK_VARIANTS).optional(),
      backend: z.enum(TRAIN_BACKENDS).optional(),
    }),
    "Verify the trainer's tfjs text encoder of a model folder against ONNX Runtime (max abs difference of text features).",
  ),
};
