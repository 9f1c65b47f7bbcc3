/**
 * @file Handler of `prepareDownload`: an export prepared as one file to download (engine, plain Node).
 */
import type { HandlersFor } from '../../../shared/contract/define';
import type { downloadsOps } from '../../../shared/contract/downloads';
import type { EngineEnv } from './env';
import { prepareDownload } from '../jobs/downloads';

/** Handlers for {@link downloadsOps}. */
export function downloadsHandlers(env: EngineEnv): HandlersFor<typeof downloadsOps> {
  return {
    prepareDownload: (args, ctx) => prepareDownload(args, env, ctx),
  };
}
