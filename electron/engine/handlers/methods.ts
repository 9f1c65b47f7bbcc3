/**
 * @file Handlers of the few-shot methods, prediction and exports: `compare`, `predict`, `exportRun` (engine worker,
 * plain Node).
 */
import type { HandlersFor } from '../../../shared/contract/define';
import type { methodsOps } from '../../../shared/contract/methods';
import type { EngineEnv } from './env';
import { runExport } from '../jobs/run-export';
import { runCompare } from '../jobs/compare';
import { runPredict } from '../jobs/predict';

/** Handlers for {@link methodsOps}. */
export function methodsHandlers(env: EngineEnv): HandlersFor<typeof methodsOps> {
  return {
    compare: (args, ctx) => runCompare(args, ctx, env.dataDir),
    predict: (args, ctx) => runPredict(args, env, ctx),
    exportRun: (args, ctx) => runExport(args, env, ctx),
  };
}
