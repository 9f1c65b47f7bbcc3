/**
 * @file Contract of the CLIP runtime operations: tokenize, embed text and images, zero-shot evaluation (pure TypeScript).
 *
 * Every operation takes an optional `model`: a folder (Hugging Face layout) or an installed model's id; the engine
 * uses the active model when it is omitted (see [Note: one model resolver] in electron/engine/models/model-store.ts). Embeddings are raw encoder outputs unless `normalize` is set.
 * Accuracies are fractions in [0, 1].
 */
import { z } from 'zod';
import { job, op } from './define';
import { oneDataSource, templateArg } from './train';

const modelArgs = {
  /** Model folder or installed model id; the active model when omitted. */
  model: z.string().min(1).optional(),
  variant: z.enum(['fp32', 'fp16', 'quantized']).optional(),
  /** ONNX Runtime execution provider (`cpu`, `cuda`, `dml`, `coreml`); chosen automatically when omitted. */
  provider: z.string().min(1).optional(),
};

/** Which model ran, for every CLIP result. */
export interface ClipRunInfo {
  modelId: string;
  modelDir: string;
  variant: 'fp32' | 'fp16' | 'quantized';
  provider: string;
}

/** Result of `tokenize`. */
export interface TokenizeResult {
  /** One row per text: `[SOT, ..., EOT]`, padded to the context length with `padId` unless `pad` was false. */
  ids: number[][];
  eotIndex: number[];
  truncated: boolean[];
  padId: number;
  contextLength: number;
}

/** Result of `embedText`. */
export interface EmbedTextResult extends ClipRunInfo {
  embeddings: number[][];
  dim: number;
  normalized: boolean;
}

/** Result of `embedImages`: `null` embeddings for the files listed in `errors`. */
export interface EmbedImagesResult extends ClipRunInfo {
  embeddings: (number[] | null)[];
  errors: { file: string; reason: string }[];
  dim: number;
  normalized: boolean;
}

/** Progress of image embedding. */
export interface ClipProgress {
  phase: 'text' | 'images';
  done: number;
  total: number;
}

/** Per-class zero-shot result. */
export interface ZeroShotClass {
  name: string;
  prompt: string;
  correct: number;
  total: number;
  /** Fraction in [0, 1]; 0 when the class has no usable image. */
  accuracy: number;
}

/** Result of `zeroShot`. */
export interface ZeroShotResult extends ClipRunInfo {
  template: string;
  logitScale: number;
  classes: ZeroShotClass[];
  correct: number;
  total: number;
  /** Overall accuracy over every usable image, a fraction in [0, 1]. */
  accuracy: number;
  /** Mean of the per-class accuracies. */
  meanClassAccuracy: number;
  errors: { file: string; reason: string }[];
  skipped: { path: string; reason: string }[];
}

/** CLIP runtime operations. */
export const clipOps = {
  tokenize: op<TokenizeResult>()(
    z.object({ model: modelArgs.model, texts: z.array(z.string()).min(1), pad: z.boolean().default(true) }),
    "Tokenize texts with the model's CLIP BPE tokenizer.",
  ),
  embedText: op<EmbedTextResult>()(
    z.object({ ...modelArgs, texts: z.array(z.string()).min(1), normalize: z.boolean().default(false) }),
    'Text embeddings (text_embeds) of texts.',
  ),
  embedImages: job<EmbedImagesResult, ClipProgress>()(
    z.object({
      ...modelArgs,
      files: z.array(z.string().min(1)).min(1),
      normalize: z.boolean().default(false),
      batchSize: z.number().int().min(1).max(512).optional(),
    }),
    'Image embeddings (image_embeds) of image files; unreadable files are reported, not fatal.',
  ),
  zeroShot: job<ZeroShotResult, ClipProgress>()(
    z
      .object({
        ...modelArgs,
        /** Folder-per-class dataset (or give `project`). */
        data: z.string().min(1).optional(),
        /** A project of the store: its classes' prompt texts and every usable image (the Learn screen's estimate). */
        project: z.number().int().positive().optional(),
        template: templateArg,
        batchSize: z.number().int().min(1).max(512).optional(),
      })
      .superRefine(oneDataSource),
    'Zero-shot accuracy of a folder-per-class dataset or a project with one prompt template (logit scale * cosine).',
  ),
};
