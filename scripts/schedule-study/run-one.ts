/**
 * @file One training run of the schedule study: a task's few-shot split, the app's prompt learner and `trainCoop`
 * on cached features (study script, plain Node with tsx; tfjs wasm backend).
 */
import type { ClipModel } from '../../electron/engine/clip/clip-model';
import { PromptLearner } from '../../electron/engine/train/prompt-learner';
import { fewShotSplit } from '../../electron/engine/train/splits';
import type { TfTextEncoder } from '../../electron/engine/train/text-encoder';
import { trainCoop, type FeatureSet, type TrainData, type TrainOptions } from '../../electron/engine/train/trainer';
import { ZERO_SHOT_TEMPLATE } from '../../shared/contract/train';
import type { StudyTask } from './tasks';

/** What the trainer is told besides the data: everything a schedule decides. */
export type ScheduleRun = Pick<TrainOptions, 'epochs' | 'batchSize' | 'schedule' | 'sgd' | 'optimizer' | 'adam'>;

/** The result of one run. */
export interface RunOutcome {
  test: number;
  val: number | null;
  zeroShot: number;
  steps: number;
  seconds: number;
}

const zeroShotCache = new Map<string, Float32Array[]>();

/** Trains CoOp (M = 16, unified context, class at the end) on `task` with `shots` and `seed` and `run`. */
export async function runOne(
  model: ClipModel,
  encoder: TfTextEncoder,
  task: StudyTask,
  shots: number,
  seed: number,
  run: ScheduleRun,
): Promise<RunOutcome> {
  const files = task.classes.map((c, ci) => c.features.map((_, i) => `${ci}/${String(i).padStart(4, '0')}`));
  const split = fewShotSplit(files, { shots, seed });
  const featureOf = (path: string) => {
    const [c, i] = path.split('/').map(Number);
    return task.classes[c ?? 0]?.features[i ?? 0] as Float32Array;
  };
  const dim = task.classes[0]?.features[0]?.length ?? 0;
  const set = (items: { path: string; label: number }[]): FeatureSet => {
    const features = new Float32Array(items.length * dim);
    items.forEach((it, r) => features.set(featureOf(it.path), r * dim));
    return { features, labels: items.map((it) => it.label) };
  };
  const names = task.classes.map((c) => c.name);
  let zeroShotText = zeroShotCache.get(task.id);
  if (!zeroShotText) {
    zeroShotText = await model.embedText(names.map((n) => ZERO_SHOT_TEMPLATE.replace('{}', n)));
    zeroShotCache.set(task.id, zeroShotText);
  }
  const data: TrainData = {
    classNames: names,
    dim,
    train: split.train.map((t) => ({ label: t.label, views: [featureOf(t.path)] })),
    val: set(split.val),
    test: set(split.test),
    zeroShotText,
  };
  const learner = new PromptLearner(encoder, model.tokenizer, names, {
    nCtx: 16,
    csc: false,
    position: 'end',
    seed,
    chunkSize: Number(process.env.STUDY_CHUNK ?? 64),
  });
  try {
    const t0 = performance.now();
    const r = await trainCoop(data, learner, {
      ...run,
      seed,
      backend: process.env.STUDY_BACKEND ?? 'wasm',
      logitScale: model.info.logitScale,
    });
    return {
      test: r.test.accuracy,
      val: r.val?.accuracy ?? null,
      zeroShot: r.zeroShot.test.accuracy,
      steps: r.steps,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    learner.dispose();
  }
}
