/**
 * @file Opens the CLIP model a request names (an installed id, a folder, or the active model) (engine, plain Node).
 *
 * See [Note: one model resolver] in model-store.ts: this is the one way jobs and handlers turn a `model` argument into
 * an open model.
 */
import type { ModelVariant } from '../../../shared/contract/models';
import { openClipModel, type ClipModel } from '../clip/clip-model';
import { resolveModel } from './model-store';

/** Opens the model named by `idOrPath` (the active model when absent); an explicit `variant` wins over the install's. */
export function openModel(
  dataDir: string,
  idOrPath: string | undefined,
  opts: { variant?: ModelVariant | undefined; provider?: string | undefined } = {},
): Promise<ClipModel> {
  const m = resolveModel(dataDir, idOrPath);
  const variant = opts.variant ?? m.variant;
  return openClipModel(m.dir, {
    ...(variant ? { variant } : {}),
    ...(opts.provider ? { provider: opts.provider } : {}),
  });
}
