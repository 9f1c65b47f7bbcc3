/**
 * @file `domainShift`: learn on a dataset, test the same learned prompt on other folders with the same class names
 * (CoOp/CoCoOp's ImageNet -> -V2/-Sketch/-A/-R protocol) (engine worker, plain Node).
 *
 * [Note: domain shift protocol] Each seed learns once on the source split (see [Note: one split per seed]) and is
 * scored on the source's own test images ("in-domain") and on every image of each target folder. A target's class
 * folders are matched to the source's by name; a target may lack some classes (recorded), but a class the source does
 * not have is an error. Every method classifies among all source classes. With zero-shot among the methods, every
 * (domain, learned method) whose mean falls below the hand-written prompt's is listed in `losses`: a learned context
 * can lose to zero-shot on a target where the hand-written prompt was already strong, and the report says so.
 */
import { basename } from 'node:path';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import { EXPERIMENT_METHOD_LABELS } from '../../../shared/contract/experiments';
import type {
  DomainShiftResult,
  ExperimentProgress,
  GeneralizationMethod,
  ShiftDomain,
  domainShiftArgs,
} from '../../../shared/contract/experiments';
import { domainShiftCommand } from '../../../shared/contract/experiment-plan';
import { defaultEpochs } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { readFolderDataset } from '../data/folder-dataset';
import { runCocoopMethod, runPromptMethod } from '../methods/coop-method';
import type { LabelledFeatures } from '../methods/evaluate';
import { learnedWeights, scoreCocoop, scoreWeights } from '../methods/transfer';
import { useBackend } from '../tf/backends';
import { meanStd } from '../train/metrics';
import type { SplitItem } from '../train/splits';
import { throwIfCancelled } from '../train/trainer';
import { buildTable, environment, maybeWriteReports, RunCounter } from './experiment-common';
import {
  embedExperiment,
  experimentSplits,
  handWrittenText,
  labelledFeatures,
  openExperimentModel,
  openExperimentSource,
  runInputs,
  splitRecord,
  type RunInputs,
} from './experiment-data';

type DomainShiftArgs = z.output<typeof domainShiftArgs>;
const now = () => performance.now();
/** The name of the source's own test split among the domains. */
export const IN_DOMAIN = 'in-domain';

/** A target folder read and matched to the source classes by name. */
interface Target {
  domain: ShiftDomain;
  items: SplitItem[];
}

async function readTargets(paths: string[], classNames: string[]): Promise<Target[]> {
  const names = new Map<string, number>();
  return Promise.all(
    paths.map(async (p) => {
      const ds = await readFolderDataset(p);
      const unknown = ds.classes.filter((c) => !classNames.includes(c.name)).map((c) => c.name);
      if (unknown.length > 0)
        throw new AppError(
          'invalid_data',
          `The target ${ds.root} has classes the dataset lacks: ${unknown.join(', ')}. A target's class folders must be named as the dataset's.`,
        );
      const items = ds.classes.flatMap((c) => c.files.map((path) => ({ path, label: classNames.indexOf(c.name) })));
      if (items.length === 0) throw new AppError('invalid_data', `The target ${ds.root} has no images.`);
      let name = basename(ds.root);
      const seen = names.get(name) ?? 0;
      names.set(name, seen + 1);
      if (seen > 0) name = `${name} (${seen + 1})`;
      const have = new Set(ds.classes.map((c) => c.name));
      return {
        domain: { name, root: ds.root, images: items.length, missingClasses: classNames.filter((c) => !have.has(c)) },
        items,
      };
    }),
  );
}

/** Accuracy of one method on every domain of one seed: in-domain first, then the targets in order. */
async function runMethod(
  method: GeneralizationMethod,
  run: RunInputs,
  sets: LabelledFeatures[],
  o: {
    model: ClipModel;
    backend: string;
    args: DomainShiftArgs;
    prompts: string[];
    classNames: string[];
    zeroShotText: Float32Array[];
    seed: number;
    job: JobContext<ExperimentProgress>;
  },
): Promise<number[]> {
  if (method === 'zs') return sets.map((s) => scoreWeights(run.data.zeroShotWeights, s, o.classNames).accuracy);
  let scores: number[] = [];
  const common = {
    model: o.model,
    backend: o.backend,
    prompts: o.prompts,
    zeroShotText: o.zeroShotText,
    trainImages: run.trainImages,
    seed: o.seed,
    signal: o.job.signal,
  };
  if (method === 'cocoop') {
    await runCocoopMethod(run.data, {
      ...common,
      epochs: o.args.cocoopEpochs,
      afterTraining: async (learner) => {
        scores = [];
        for (const s of sets) scores.push((await scoreCocoop(learner, s, o.classNames, o.job.signal)).accuracy);
      },
    });
    return scores;
  }
  await runPromptMethod(run.data, {
    ...common,
    method,
    epochs: o.args.epochs ?? defaultEpochs(o.args.shots),
    nCtx: o.args.nCtx,
    csc: o.args.csc,
    position: o.args.position,
    ...(o.args.ctxInit ? { ctxInit: o.args.ctxInit } : {}),
    kgLambda: o.args.kgLambda,
    onEpoch: (epoch, epochs) => o.job.progress({ kind: 'epoch', run: method, seed: o.seed, epoch, epochs }),
    afterTraining: async (learner) => {
      const w = await learnedWeights(learner);
      scores = sets.map((s) => scoreWeights(w, s, o.classNames).accuracy);
    },
  });
  return scores;
}

/** Runs `domainShift`: see [Note: domain shift protocol]. */
export async function runDomainShift(
  args: DomainShiftArgs,
  job: JobContext<ExperimentProgress>,
  dataDir: string,
): Promise<DomainShiftResult> {
  const t0 = now();
  job.progress({ kind: 'phase', message: 'Reading the dataset, the targets and drawing the splits' });
  const source = await openExperimentSource(args, dataDir);
  const targets = await readTargets(args.targets, source.classNames);
  const splits = experimentSplits(source, args.shots, args.seeds);
  const model = await openExperimentModel(dataDir, args.model);
  const methods = [...new Set(args.methods)];
  const backend = methods.some((m) => m !== 'zs') ? await useBackend(args.backend) : null;
  job.progress({ kind: 'phase', message: 'Embedding the images with ONNX Runtime' });
  const tf = now();
  const extra = targets.flatMap((t) => t.items.map((i) => i.path));
  const feats = await embedExperiment(model, source, splits, args.augViews, dataDir, job, extra);
  const text = await handWrittenText(model, source.prompts, args.template);
  const dim = model.info.config.projectionDim;
  const targetSets = targets.map((t) => labelledFeatures(t.items, feats.plain, dim));
  const featuresS = (now() - tf) / 1000;
  const counter = new RunCounter(methods.length * splits.length, job);
  let trainedLeft = methods.filter((m) => m !== 'zs').length * splits.length;
  const rows: DomainShiftResult['rows'] = [];
  const domains = [IN_DOMAIN, ...targets.map((t) => t.domain.name)];
  for (const s of splits) {
    const run = runInputs(s, feats, source.classNames, text.weights, model.info.logitScale);
    for (const method of methods) {
      throwIfCancelled(job.signal);
      const tm = now();
      const acc = await runMethod(method, run, [run.data.test, ...targetSets], {
        model,
        backend: backend ?? 'cpu',
        args,
        prompts: source.prompts,
        classNames: source.classNames,
        zeroShotText: text.raw,
        seed: s.seed,
        job,
      });
      acc.forEach((accuracy, i) => rows.push({ method, seed: s.seed, domain: domains[i] ?? '', accuracy }));
      if (method !== 'zs') trainedLeft--;
      counter.finished(method, s.seed, acc[0] ?? 0, (now() - tm) / 1000, method !== 'zs' ? trainedLeft : undefined);
    }
  }
  const result = shiftResult(
    args,
    { source, splits, targets, model, backend, rows, methods, domains },
    {
      featuresS,
      totalS: (now() - t0) / 1000,
      runs: splits.length * methods.length,
    },
  );
  result.warnings = feats.errors.map((e) => `Skipped ${e.path}: ${e.reason}`);
  result.notes = shiftNotes(result);
  result.files = await maybeWriteReports(args.out, result);
  return result;
}

/** The result of a finished domain-shift run (see [Note: domain shift protocol]). */
function shiftResult(
  args: DomainShiftArgs,
  r: {
    source: Awaited<ReturnType<typeof openExperimentSource>>;
    splits: ReturnType<typeof experimentSplits>;
    targets: Target[];
    model: ClipModel;
    backend: string | null;
    rows: DomainShiftResult['rows'];
    methods: GeneralizationMethod[];
    domains: string[];
  },
  timings: DomainShiftResult['timings'],
): DomainShiftResult {
  const { source, splits, model, rows } = r;
  const inDomain: ShiftDomain = {
    name: IN_DOMAIN,
    root: source.testRoot ?? source.src.root,
    images: splits[0]?.split.test.length ?? 0,
    missingClasses: [],
  };
  return {
    models: [{ id: model.info.id, dir: model.info.dir }],
    data: { root: source.src.root, classes: source.classNames, prompts: source.prompts },
    split: splitRecord(source, args.shots, splits),
    seeds: splits.map((s) => s.seed),
    domains: [inDomain, ...r.targets.map((t) => t.domain)],
    settings: {
      shots: args.shots,
      epochs: args.epochs ?? null,
      nCtx: args.nCtx,
      csc: args.csc,
      position: args.position,
      ctxInit: args.ctxInit ?? null,
      kgLambda: args.kgLambda,
      cocoopEpochs: args.cocoopEpochs,
      augViews: args.augViews,
      template: args.template,
    },
    rows,
    losses: shiftLosses(rows, r.domains, r.methods),
    table: buildTable(
      {
        title: `Domain shift: learned on ${basename(source.src.root)}, ${args.shots} shots`,
        groupAxis: 'test domain',
        metric: 'test accuracy',
      },
      rows.map((r) => ({ group: r.domain, series: EXPERIMENT_METHOD_LABELS[r.method], value: r.accuracy })),
    ),
    environment: environment(r.backend, model.provider),
    command: domainShiftCommand(args),
    warnings: [],
    notes: [],
    timings,
    files: [],
  };
}

/** Every (domain, learned method) whose mean is below zero-shot's on that domain. */
function shiftLosses(
  rows: DomainShiftResult['rows'],
  domains: string[],
  methods: GeneralizationMethod[],
): DomainShiftResult['losses'] {
  if (!methods.includes('zs')) return [];
  const mean = (method: GeneralizationMethod, domain: string) =>
    meanStd(rows.filter((r) => r.method === method && r.domain === domain).map((r) => r.accuracy)).mean;
  return domains.flatMap((domain) =>
    methods
      .filter((m) => m !== 'zs')
      .flatMap((method) => {
        const learned = mean(method, domain);
        const zeroShot = mean('zs', domain);
        return learned < zeroShot ? [{ domain, method, learned, zeroShot }] : [];
      }),
  );
}

function shiftNotes(r: DomainShiftResult): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const notes = r.domains
    .filter((d) => d.missingClasses.length > 0)
    .map((d) => `${d.name} has no images of ${d.missingClasses.join(', ')} (classified among all classes).`);
  if (r.losses.length === 0 && r.rows.some((x) => x.method === 'zs'))
    notes.push('The learned prompts beat or equal the hand-written prompt on every domain.');
  for (const l of r.losses)
    notes.push(
      `On ${l.domain}, ${EXPERIMENT_METHOD_LABELS[l.method]} (${pct(l.learned)}) loses to the hand-written prompt (${pct(l.zeroShot)}).`,
    );
  return notes;
}
