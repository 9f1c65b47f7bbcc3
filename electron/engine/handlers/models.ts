/**
 * @file Handlers of the model manager operations (engine, plain Node).
 */
import type { HandlersFor } from '../../../shared/contract';
import type { modelsOps } from '../../../shared/contract/models';
import type { EngineEnv } from './env';
import { CATALOGUE } from '../models/catalogue';
import { downloadModel } from '../models/download-model';
import { importModel } from '../models/import-model';
import { activeModelId, listInstalled, listPartial, removeModel, setActiveModel } from '../models/model-store';
import { resolveEndpoint } from '../settings/settings';

/** Handlers for {@link modelsOps}. */
export function modelsHandlers(env: EngineEnv): HandlersFor<typeof modelsOps> {
  return {
    async modelsList() {
      const { endpoint, source } = resolveEndpoint(env.dataDir);
      return {
        activeId: activeModelId(env.dataDir),
        installed: listInstalled(env.dataDir),
        partial: listPartial(env.dataDir),
        catalogue: [...CATALOGUE],
        endpoint,
        endpointSource: source,
      };
    },
    async modelsDownload(args, ctx) {
      env.log(`models: downloading ${args.repo}@${args.revision} (${args.variant})`);
      return await downloadModel(env.dataDir, args, ctx);
    },
    async modelsImport(args) {
      return await importModel(env.dataDir, args);
    },
    async modelsRemove({ id }) {
      return await removeModel(env.dataDir, id);
    },
    async modelsSetActive({ id }) {
      return setActiveModel(env.dataDir, id);
    },
  };
}
