/**
 * @file `baseToNew`: the CoCoOp paper's base-to-new generalization protocol (engine worker, plain Node).
 *
 * [Note: base-to-new protocol] Classes in label order (sorted folder names, or a project's class order), base = the
 * first ceil(n/2), new = the rest, unless base classes are given (the choice is recorded either way). The seed's split
 * is drawn over all classes (see [Note: one split per seed]), so each class's test images are the same whichever side
 * it is on. Every method learns on the base classes' training shots only (validation: base classes only), then is
 * tested twice: base test images among the base classes only, and new test images among the new classes only; the
 * harmonic mean 2bn/(b+n) summarises both. A learned unified context is applied to the new class names through the
 * same text encoder; CoCoOp keeps its context and meta-net and swaps the class prompts; zero-shot is the hand-written
 * prompt on each side.
 */
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import { EXPERIMENT_METHOD_LABELS } from '../../../shared/contract/experiments';
import type {
  BaseToNewResult,
  BaseToNewRow,
  ClassSplitRecord,
  ExperimentProgress,
  GeneralizationMethod,
  baseToNewArgs,
} from '../../../shared/contract/experiments';
import { baseToNewCommand } from '../../../shared/contract/experiment-plan';
import { defaultEpochs } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { runCocoopMethod, runPromptMethod } from '../methods/coop-method';
import type { FewShotFeatures, LabelledFeatures } from '../methods/evaluate';
import type { Matrix } from '../methods/matrix';
import { contextWeightsFor, scoreCocoop, scoreWeights } from '../methods/transfer';
import { useBackend } from '../tf/backends';
import { baseNewClasses, harmonicMean, type BaseNewClasses } from '../train/class-split';
import { throwIfCancelled, type TrainImage } from '../train/trainer';
import { buildTable, environment, maybeWriteReports, RunCounter, summarise } from './experiment-common';
import {
  embedExperiment,
  experimentSplits,
  handWrittenText,
  openExperimentModel,
  openExperimentSource,
  runInputs,
  splitRecord,
  type RunInputs,
} from './experiment-data';

type BaseToNewArgs = z.output<typeof baseToNewArgs>;
const now = () => performance.now();

/** The class split by name and by index (see [Note: base-to-new protocol]). */
function classSplitOf(
  classNames: string[],
  given: string[] | undefined,
): { record: ClassSplitRecord; indices: BaseNewClasses } {
  let chosen: number[] | undefined;
  if (given) {
    const unknown = given.filter((g) => !classNames.includes(g));
    if (unknown.length > 0)
      throw new AppError(
        'bad_args',
        `Unknown base class ${unknown.join(', ')}; the classes are ${classNames.join(', ')}.`,
      );
    chosen = given.map((g) => classNames.indexOf(g));
  }
  let indices: BaseNewClasses;
  try {
    indices = baseNewClasses(classNames.length, chosen);
  } catch (e) {
    throw new AppError('bad_args', e instanceof Error ? e.message : String(e));
  }
  const names = (ids: number[]) => ids.map((i) => classNames[i] ?? '');
  return {
    record: { rule: given ? 'given' : 'first-half', base: names(indices.base), new: names(indices.new) },
    indices,
  };
}

/** Labelled features of the given classes only, relabelled 0..k-1 in that order. */
function restrictSet(set: LabelledFeatures, classes: readonly number[]): LabelledFeatures {
  const map = new Map(classes.map((c, i) => [c, i]));
  const keep = set.labels.flatMap((y, i) => (map.has(y) ? [i] : []));
  const d = set.features.cols;
  const data = new Float32Array(keep.length * d);
  keep.forEach((i, r) => data.set(set.features.data.subarray(i * d, (i + 1) * d), r * d));
  return {
    features: { rows: keep.length, cols: d, data },
    labels: keep.map((i) => map.get(set.labels[i] ?? -1) ?? -1),
  };
}

function restrictRows(m: Matrix, classes: readonly number[]): Matrix {
  const data = new Float32Array(classes.length * m.cols);
  classes.forEach((c, r) => data.set(m.data.subarray(c * m.cols, (c + 1) * m.cols), r * m.cols));
  return { rows: classes.length, cols: m.cols, data };
}

/** One side (base or new) of a seed's run: its features, training images and hand-written prompt. */
interface Side {
  data: FewShotFeatures;
  trainImages: TrainImage[];
  prompts: string[];
  names: string[];
  zeroShotText: Float32Array[];
}

function sideOf(full: RunInputs, classes: number[], prompts: string[], names: string[], raw: Float32Array[]): Side {
  const map = new Map(classes.map((c, i) => [c, i]));
  const d = full.data;
  return {
    data: {
      ...d,
      numClasses: classes.length,
      classNames: classes.map((c) => names[c] ?? ''),
      zeroShotWeights: restrictRows(d.zeroShotWeights, classes),
      train: restrictSet(d.train, classes),
      trainAugmented: restrictSet(d.trainAugmented ?? d.train, classes),
      val: restrictSet(d.val, classes),
      test: restrictSet(d.test, classes),
    },
    trainImages: full.trainImages.flatMap((t) => (map.has(t.label) ? [{ ...t, label: map.get(t.label) ?? 0 }] : [])),
    prompts: classes.map((c) => prompts[c] ?? ''),
    names: classes.map((c) => names[c] ?? ''),
    zeroShotText: classes.map((c) => raw[c] ?? new Float32Array(0)),
  };
}

/** Runs one method on one seed: learns on `base`, scores base and new. */
async function runMethod(
  method: GeneralizationMethod,
  base: Side,
  fresh: Side,
  o: { model: ClipModel; backend: string; args: BaseToNewArgs; seed: number; job: JobContext<ExperimentProgress> },
): Promise<{ base: number; new: number }> {
  if (method === 'zs')
    return {
      base: scoreWeights(base.data.zeroShotWeights, base.data.test, base.names).accuracy,
      new: scoreWeights(fresh.data.zeroShotWeights, fresh.data.test, fresh.names).accuracy,
    };
  let newAcc = 0;
  const common = {
    model: o.model,
    backend: o.backend,
    prompts: base.prompts,
    zeroShotText: base.zeroShotText,
    trainImages: base.trainImages,
    seed: o.seed,
    signal: o.job.signal,
  };
  if (method === 'cocoop') {
    const out = await runCocoopMethod(base.data, {
      ...common,
      epochs: o.args.cocoopEpochs,
      afterTraining: async (learner) => {
        learner.setClasses(o.model.tokenizer, fresh.prompts);
        newAcc = (await scoreCocoop(learner, fresh.data.test, fresh.names, o.job.signal)).accuracy;
      },
    });
    return { base: out.test.accuracy, new: newAcc };
  }
  const out = await runPromptMethod(base.data, {
    ...common,
    method,
    epochs: o.args.epochs ?? defaultEpochs(o.args.shots),
    nCtx: o.args.nCtx,
    kgLambda: o.args.kgLambda,
    onEpoch: (epoch, epochs) => o.job.progress({ kind: 'epoch', run: method, seed: o.seed, epoch, epochs }),
    afterTraining: async (learner) => {
      const weights = await contextWeightsFor(o.model, o.backend, learner, fresh.prompts);
      newAcc = scoreWeights(weights, fresh.data.test, fresh.names).accuracy;
    },
  });
  return { base: out.test.accuracy, new: newAcc };
}

/** Runs `baseToNew`: see [Note: base-to-new protocol]. */
export async function runBaseToNew(
  args: BaseToNewArgs,
  job: JobContext<ExperimentProgress>,
  dataDir: string,
): Promise<BaseToNewResult> {
  const t0 = now();
  job.progress({ kind: 'phase', message: 'Reading the dataset and drawing the splits' });
  const source = await openExperimentSource(args, dataDir);
  const classSplit = classSplitOf(source.classNames, args.baseClasses);
  const splits = experimentSplits(source, args.shots, args.seeds);
  const model = await openExperimentModel(dataDir, args.model);
  const methods = [...new Set(args.methods)];
  const backend = methods.some((m) => m !== 'zs') ? await useBackend(args.backend) : null;
  job.progress({ kind: 'phase', message: 'Embedding the images with ONNX Runtime' });
  const tf = now();
  const feats = await embedExperiment(model, source, splits, args.augViews, dataDir, job);
  const text = await handWrittenText(model, source.prompts, args.template);
  const featuresS = (now() - tf) / 1000;
  const counter = new RunCounter(methods.length * splits.length, job);
  let trainedLeft = methods.filter((m) => m !== 'zs').length * splits.length;
  const rows: BaseToNewRow[] = [];
  for (const s of splits) {
    const full = runInputs(s, feats, source.classNames, text.weights, model.info.logitScale);
    const base = sideOf(full, classSplit.indices.base, source.prompts, source.classNames, text.raw);
    const fresh = sideOf(full, classSplit.indices.new, source.prompts, source.classNames, text.raw);
    for (const method of methods) {
      throwIfCancelled(job.signal);
      const tm = now();
      const r = await runMethod(method, base, fresh, { model, backend: backend ?? 'cpu', args, seed: s.seed, job });
      const row: BaseToNewRow = {
        method,
        seed: s.seed,
        ...r,
        harmonic: harmonicMean(r.base, r.new),
        seconds: (now() - tm) / 1000,
      };
      rows.push(row);
      if (method !== 'zs') trainedLeft--;
      counter.finished(method, s.seed, row.harmonic, row.seconds, method !== 'zs' ? trainedLeft : undefined);
    }
  }
  return finishBaseToNew(args, {
    source,
    splits,
    model,
    backend,
    classSplit: classSplit.record,
    rows,
    featuresS,
    t0,
    feats,
  });
}

async function finishBaseToNew(
  args: BaseToNewArgs,
  r: {
    source: Awaited<ReturnType<typeof openExperimentSource>>;
    splits: ReturnType<typeof experimentSplits>;
    model: ClipModel;
    backend: string | null;
    classSplit: ClassSplitRecord;
    rows: BaseToNewRow[];
    featuresS: number;
    t0: number;
    feats: { errors: { path: string; reason: string }[] };
  },
): Promise<BaseToNewResult> {
  const methods = [...new Set(r.rows.map((x) => x.method))];
  const summary = methods.map((method) => {
    const mine = r.rows.filter((x) => x.method === method);
    const base = summarise(mine.map((x) => x.base));
    const fresh = summarise(mine.map((x) => x.new));
    return { method, base, new: fresh, harmonic: harmonicMean(base.mean, fresh.mean) };
  });
  const table = buildTable(
    {
      title: `Base-to-new: ${r.source.src.title.split(/[\\/]/).pop() ?? ''}, ${r.classSplit.base.length} base / ${r.classSplit.new.length} new classes, ${args.shots} shots`,
      groupAxis: 'method',
      metric: 'test accuracy',
    },
    r.rows.flatMap((x) => {
      const group = EXPERIMENT_METHOD_LABELS[x.method];
      return [
        { group, series: 'base', value: x.base },
        { group, series: 'new', value: x.new },
        { group, series: 'H', value: x.harmonic },
      ];
    }),
  );
  const result: BaseToNewResult = {
    models: [{ id: r.model.info.id, dir: r.model.info.dir }],
    data: { root: r.source.src.root, classes: r.source.classNames, prompts: r.source.prompts },
    split: splitRecord(r.source, args.shots, r.splits),
    seeds: r.splits.map((s) => s.seed),
    classSplit: { rule: r.classSplit.rule, base: r.classSplit.base, new: r.classSplit.new },
    settings: {
      shots: args.shots,
      epochs: args.epochs ?? null,
      nCtx: args.nCtx,
      kgLambda: args.kgLambda,
      cocoopEpochs: args.cocoopEpochs,
      augViews: args.augViews,
      template: args.template,
    },
    rows: r.rows,
    summary,
    table,
    environment: environment(r.backend, r.model.provider),
    command: baseToNewCommand(args),
    warnings: r.feats.errors.map((e) => `Skipped ${e.path}: ${e.reason}`),
    timings: { featuresS: r.featuresS, totalS: (now() - r.t0) / 1000, runs: r.rows.length },
    notes: [],
    files: [],
  };
  const baseIdx = new Set(result.classSplit.base.map((c) => r.source.classNames.indexOf(c)));
  const onBase = (items: { label: number }[]) => items.filter((t) => baseIdx.has(t.label)).length;
  const used = r.splits.map(({ seed, split }) => `seed ${seed}: ${onBase(split.train)} / ${onBase(split.val)}`);
  const notes = [
    `Class split (${result.classSplit.rule === 'first-half' ? 'classes in label order, base = the first half, rounded up' : 'base classes as given'}): base ${result.classSplit.base.join(', ')}; new ${result.classSplit.new.join(', ')}.`,
    `The split below is drawn over all classes; the methods learn on its base-class training / validation images only (${used.join(', ')}); the new classes' training images are never used.`,
    `H in the table is the mean over seeds of each seed's harmonic mean; the harmonic mean of the mean accuracies (the papers' figure): ${summary.map((s) => `${EXPERIMENT_METHOD_LABELS[s.method]} ${(s.harmonic * 100).toFixed(1)}`).join(', ')}.`,
  ];
  result.notes = notes;
  result.files = await maybeWriteReports(args.out, result);
  return result;
}
