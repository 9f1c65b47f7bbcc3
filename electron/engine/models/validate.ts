/**
 * @file Validation of a model folder before it is installed (engine, plain Node).
 *
 * [Note: validate before install] A downloaded or imported folder becomes visible under
 * `<dataDir>/models/` only after the CLIP model-folder loader accepted it, so the list never shows
 * a model that cannot run. The loader's `invalid_model` error (which names the missing file, the
 * truncated graph, the wrong input, the dimension mismatch...) is passed on unchanged. The loader
 * reads headers only and opens no inference session, so validating the staging folder leaves no
 * state tied to a path that is about to be renamed.
 */
import type { ModelVariant } from '../../../shared/contract/models';
import { loadModelFolder, type ClipModelInfo } from '../clip/model-folder';

/** Checks that `dir` holds a usable CLIP model of `variant`; throws `invalid_model` otherwise. */
export async function validateModelFolder(dir: string, variant: ModelVariant): Promise<ClipModelInfo> {
  return await loadModelFolder(dir, { variant });
}
