/**
 * @file Handlers of CoOp prompt learning: `learn`, `estimateLearn`, `evaluate` (engine worker, plain Node).
 */
import type { HandlersFor } from '../../../shared/contract/define';
import type { trainOps } from '../../../shared/contract/train';
import type { EngineEnv } from './env';
import { estimateLearn } from '../jobs/estimate-learn';
import { runEvaluate } from '../jobs/evaluate-run';
import { runLearn } from '../jobs/trainer-run';

/** Handlers for {@link trainOps}. */
export function trainHandlers(env: EngineEnv): HandlersFor<typeof trainOps> {
  return {
    learn: (args, ctx) => runLearn(args, env, ctx),
    estimateLearn: (args, ctx) => estimateLearn(args, env, ctx),
    evaluate: (args, ctx) => runEvaluate(args, env, ctx),
  };
}
