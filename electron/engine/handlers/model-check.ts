/**
 * @file Handler of `checkModel`: verifies the trainer's tfjs text encoder of a model folder against ONNX Runtime
 * (engine, plain Node). See [Note: verify before first use] and [Note: check-model result].
 */
import type { HandlersFor } from '../../../shared/contract';
import type { modelCheckOps } from '../../../shared/contract/model-check';
import type { EngineEnv } from './env';
import { useBackend } from '../tf/backends';
import { checkTextModelFile, textModelFile } from '../train/text-encoder';
import { resolveModel } from '../models/model-store';

/** Handlers for {@link modelCheckOps}. */
export function modelCheckHandlers(env: EngineEnv): HandlersFor<typeof modelCheckOps> {
  return {
    async checkModel(args) {
      const t0 = performance.now();
      const modelDir = resolveModel(env.dataDir, args.model).dir;
      const file = textModelFile(modelDir, args.variant);
      const backend = await useBackend(args.backend);
      const c = await checkTextModelFile(modelDir, file);
      return {
        ok: c.ok,
        modelDir,
        file: c.file,
        sha256: c.sha256,
        variant: c.weights,
        maxAbsDiff: c.maxAbsDiff,
        maxAbsDiffOptimised: c.maxAbsDiffOptimised,
        tolerance: c.tolerance,
        prompts: c.prompts,
        backend,
        width: c.width,
        layers: c.layers,
        heads: c.heads,
        contextLength: c.contextLength,
        projectionDim: c.projectionDim,
        vocabSize: c.vocabSize,
        seconds: (performance.now() - t0) / 1000,
      };
    },
  };
}
