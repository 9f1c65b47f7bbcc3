/**
 * @file Handlers of the experiment bench: `sweep`, `baseToNew`, `domainShift`, `similarityMap` (engine worker,
 * plain Node).
 */
import type { HandlersFor } from '../../../shared/contract/define';
import type { experimentsOps } from '../../../shared/contract/experiments';
import type { similarityMapOps } from '../../../shared/contract/similarity-map';
import type { EngineEnv } from './env';
import { runBaseToNew } from '../jobs/base-to-new';
import { runDomainShift } from '../jobs/domain-shift';
import { runSimilarityMap } from '../jobs/similarity-map';
import { runSweep } from '../jobs/sweep';

/** Handlers for {@link experimentsOps} and {@link similarityMapOps}. */
export function experimentsHandlers(env: EngineEnv): HandlersFor<typeof experimentsOps & typeof similarityMapOps> {
  return {
    sweep: (args, ctx) => runSweep(args, ctx, env.dataDir),
    baseToNew: (args, ctx) => runBaseToNew(args, ctx, env.dataDir),
    domainShift: (args, ctx) => runDomainShift(args, ctx, env.dataDir),
    similarityMap: (args, ctx) => runSimilarityMap(args, env, ctx),
  };
}
