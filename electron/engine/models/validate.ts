/**
 * @file Validation of a model folder before it is installed (engine, plain Node).
 *
 * [Note: validate before install] A downloaded or imported folder becomes visible under
 * `<dataDir>/models/` only after the CLIP model-folder loader accepted it, so the list never shows
 * a model that cannot run. The loader's `invalid_model` error (which names the missing file, the
 * wrong input, the dimension mismatch...) is passed on unchanged.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelVariant } from '../../../shared/contract/models';
import { AppError } from '../../../shared/result';
import { VARIANT_SUFFIX } from './catalogue';

/** Checks that `dir` holds a usable CLIP model of `variant`; throws `invalid_model` otherwise. */
export async function validateModelFolder(dir: string, variant: ModelVariant): Promise<void> {
  const s = VARIANT_SUFFIX[variant];
  const needed = ['config.json', 'preprocessor_config.json', `onnx/text_model${s}.onnx`, `onnx/vision_model${s}.onnx`];
  const missing = needed.filter((f) => !existsSync(join(dir, f)));
  const hasTokenizer =
    existsSync(join(dir, 'tokenizer.json')) ||
    (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt')));
  if (!hasTokenizer) missing.push('tokenizer.json (or vocab.json + merges.txt)');
  if (missing.length > 0)
    throw new AppError(
      'invalid_model',
      `The model folder ${dir} lacks ${missing.join(', ')} for the ${variant} variant.`,
    );
}
