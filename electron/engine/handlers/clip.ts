/**
 * @file Handlers of the CLIP runtime operations: tokenize, embedText, embedImages, zeroShot (engine, plain Node).
 */
import { resolve } from 'node:path';
import type { HandlersFor } from '../../../shared/contract';
import type { ClipRunInfo, clipOps, ZeroShotClass } from '../../../shared/contract/clip';
import type { ClipModel } from '../clip/clip-model';
import { ClipTokenizer } from '../clip/tokenizer';
import { l2normalize } from '../clip/vec';
import { loadRunSource } from '../jobs/run-source';
import type { EngineEnv } from './env';
import { openModel } from '../models/open-model';
import { resolveModel } from '../models/model-store';

async function open(
  dataDir: string,
  args: {
    model?: string | undefined;
    variant?: ClipModel['info']['variant'] | undefined;
    provider?: string | undefined;
  },
) {
  const model = await openModel(dataDir, args.model, { variant: args.variant, provider: args.provider });
  const run: ClipRunInfo = {
    modelId: model.info.id,
    modelDir: model.info.dir,
    variant: model.info.variant,
    provider: model.provider,
  };
  return { model, run };
}

const toArray = (v: Float32Array, normalize: boolean): number[] => Array.from(normalize ? l2normalize(v) : v);

/**
 * Counts each image as correct or not under the zero-shot classifier (the class whose normalised text feature gives
 * the highest logit) into its class's row, then sets every class's accuracy. Unreadable images (null) count nowhere.
 */
function tallyZeroShot(
  classes: ZeroShotClass[],
  files: readonly { label: number }[],
  embeddings: readonly (Float32Array | null)[],
  textFeats: readonly Float32Array[],
  scale: number,
): void {
  embeddings.forEach((emb, i) => {
    const item = files[i];
    const cls = item ? classes[item.label] : undefined;
    if (!emb || !item || !cls) return;
    const img = l2normalize(emb);
    let best = -1;
    let bestLogit = -Infinity;
    textFeats.forEach((t, k) => {
      let d = 0;
      for (let j = 0; j < t.length; j++) d += (t[j] ?? 0) * (img[j] ?? 0);
      const logit = scale * d;
      if (logit > bestLogit) {
        bestLogit = logit;
        best = k;
      }
    });
    cls.total++;
    if (best === item.label) cls.correct++;
  });
  for (const c of classes) c.accuracy = c.total > 0 ? c.correct / c.total : 0;
}

type ClipHandlers = HandlersFor<typeof clipOps>;

/** Tokens and embeddings: tokenize texts, embed texts, embed image files. */
function encodeHandlers(env: EngineEnv): Pick<ClipHandlers, 'tokenize' | 'embedText' | 'embedImages'> {
  return {
    async tokenize({ model, texts, pad }) {
      const tok = await ClipTokenizer.fromModelDir(resolveModel(env.dataDir, model).dir);
      const r = tok.encodeBatch(texts);
      const ids = pad ? r.ids : r.ids.map((row, i) => row.slice(0, (r.eotIndex[i] ?? row.length - 1) + 1));
      return { ids, eotIndex: r.eotIndex, truncated: r.truncated, padId: tok.padId, contextLength: tok.contextLength };
    },

    async embedText(args) {
      const { model, run } = await open(env.dataDir, args);
      const embs = await model.embedText(args.texts);
      return {
        ...run,
        embeddings: embs.map((e) => toArray(e, args.normalize)),
        dim: model.info.config.projectionDim,
        normalized: args.normalize,
      };
    },

    async embedImages(args, { progress, signal }) {
      const { model, run } = await open(env.dataDir, args);
      const files = args.files.map((f) => resolve(f));
      const r = await model.embedImages(files, {
        signal,
        ...(args.batchSize ? { batchSize: args.batchSize } : {}),
        onProgress: (done, total) => progress({ phase: 'images', done, total }),
      });
      return {
        ...run,
        embeddings: r.embeddings.map((e) => (e ? toArray(e, args.normalize) : null)),
        errors: r.errors.map((e) => ({ file: e.path, reason: e.reason })),
        dim: model.info.config.projectionDim,
        normalized: args.normalize,
      };
    },
  };
}

/** Zero-shot classification of a labelled image set by prompt template, scored per class. */
function zeroShotHandlers(env: EngineEnv): Pick<ClipHandlers, 'zeroShot'> {
  return {
    async zeroShot(args, { progress, signal }) {
      const dataset = await loadRunSource(args, env.dataDir);
      const { model, run } = await open(env.dataDir, args);
      const prompts = dataset.classes.map((c) => args.template.split('{}').join(c.prompt));
      progress({ phase: 'text', done: 0, total: prompts.length });
      const textFeats = (await model.embedText(prompts)).map(l2normalize);
      progress({ phase: 'text', done: prompts.length, total: prompts.length });
      const files = dataset.classes.flatMap((c, label) => c.files.map((f) => ({ f, label })));
      env.log(`zero-shot: ${dataset.classes.length} classes, ${files.length} images, provider ${model.provider}`);
      const r = await model.embedImages(
        files.map((x) => x.f),
        {
          signal,
          ...(args.batchSize ? { batchSize: args.batchSize } : {}),
          onProgress: (done, total) => progress({ phase: 'images', done, total }),
        },
      );
      const classes: ZeroShotClass[] = dataset.classes.map((c) => ({
        name: c.label,
        prompt: c.prompt,
        correct: 0,
        total: 0,
        accuracy: 0,
      }));
      const scale = model.info.logitScale;
      tallyZeroShot(classes, files, r.embeddings, textFeats, scale);
      const correct = classes.reduce((n, c) => n + c.correct, 0);
      const total = classes.reduce((n, c) => n + c.total, 0);
      return {
        ...run,
        template: args.template,
        logitScale: scale,
        classes,
        correct,
        total,
        accuracy: total > 0 ? correct / total : 0,
        meanClassAccuracy: classes.reduce((s, c) => s + c.accuracy, 0) / classes.length,
        errors: r.errors.map((e) => ({ file: e.path, reason: e.reason })),
        skipped: dataset.skipped,
      };
    },
  };
}

/** Handlers for {@link clipOps}. */
export function clipHandlers(env: EngineEnv): ClipHandlers {
  return { ...encodeHandlers(env), ...zeroShotHandlers(env) };
}
