/**
 * @file `sweep`: one of the CoOp paper's ablations (context length, initialisation, context layout, backbone, label
 * noise) as a grid of cells over seeds, on one split per seed (engine worker, plain Node).
 *
 * [Note: sweep cells are learn runs] A CoOp cell trains with `runPromptMethod` (methods/coop-method.ts), the loop,
 * learner options, split, views and seed `learn` uses, so a cell's numbers are those of `learn` with the cell's
 * options and seed (tests/unit/experiments-sweep.test.ts checks it). Zero-shot and the linear probe are `compare`'s
 * methods on the same features. Label noise flips the cell's training labels only (see [Note: label noise]).
 */
import { basename } from 'node:path';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import { EXPERIMENT_METHOD_LABELS, SWEEP_LABELS } from '../../../shared/contract/experiments';
import type {
  ExperimentProgress,
  SweepCell,
  SweepResult,
  SweepRow,
  sweepArgs,
} from '../../../shared/contract/experiments';
import { planSweep, plannedRuns, sweepCommand } from '../../../shared/contract/experiment-plan';
import { defaultEpochs } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { runPromptMethod } from '../methods/coop-method';
import { evaluateWeights } from '../methods/ensemble';
import type { MethodOutcome } from '../methods/evaluate';
import { linearProbe } from '../methods/linear-probe';
import { listInstalled } from '../models/model-store';
import { useBackend } from '../tf/backends';
import { flipLabels } from '../train/label-noise';
import { throwIfCancelled } from '../train/trainer';
import { buildTable, environment, maybeWriteReports, RunCounter } from './experiment-common';
import {
  embedExperiment,
  experimentModelDir,
  experimentSplits,
  handWrittenText,
  openExperimentModel,
  openExperimentSource,
  runInputs,
  splitRecord,
  withTrainLabels,
  type ExperimentSource,
  type RunInputs,
  type SeedSplit,
} from './experiment-data';

type SweepArgs = z.output<typeof sweepArgs>;
const now = () => performance.now();

/** The models a sweep runs on: the backbone list (or every installed model), else the one model. */
function sweepModels(args: SweepArgs, dataDir: string): (string | undefined)[] {
  if (args.kind !== 'backbone') return [args.model];
  if (args.models) return args.models;
  const usable = listInstalled(dataDir).filter((m) => !m.problem);
  if (usable.length === 0) throw new AppError('not_found', 'No installed model can be used for the backbone sweep.');
  return usable.map((m) => m.dir);
}

/** Everything one model's cells share: its features, the hand-written prompt, each seed's run inputs. */
interface ModelStage {
  model: ClipModel;
  zeroShotText: Float32Array[];
  runs: Map<number, RunInputs>;
}

async function prepareModel(
  modelDir: string | undefined,
  args: SweepArgs,
  source: ExperimentSource,
  splits: SeedSplit[],
  dataDir: string,
  job: JobContext<ExperimentProgress>,
): Promise<ModelStage & { embedded: number; cached: number; errors: string[] }> {
  const model = await openExperimentModel(dataDir, modelDir);
  job.progress({ kind: 'phase', message: `Embedding the images with ${model.info.id}` });
  const feats = await embedExperiment(model, source, splits, args.augViews, dataDir, job);
  const text = await handWrittenText(model, source.prompts, args.template);
  const runs = new Map<number, RunInputs>();
  for (const s of splits) runs.set(s.seed, runInputs(s, feats, source.classNames, text.weights, model.info.logitScale));
  return {
    model,
    zeroShotText: text.raw,
    runs,
    embedded: feats.computed,
    cached: feats.cached,
    errors: feats.errors.map((e) => `Skipped ${e.path}: ${e.reason}`),
  };
}

/** Runs one cell on one seed's inputs. */
async function runCell(
  cell: SweepCell,
  seed: number,
  stage: ModelStage,
  args: SweepArgs,
  backend: string,
  prompts: string[],
  job: JobContext<ExperimentProgress>,
): Promise<{ out: MethodOutcome; flipped: number }> {
  let inputs = stage.runs.get(seed);
  if (!inputs) throw new AppError('internal', `No inputs for seed ${seed}.`);
  let flipped = 0;
  if (cell.noiseRate > 0) {
    const noisy = flipLabels(
      inputs.trainImages.map((t) => t.label),
      inputs.data.numClasses,
      cell.noiseRate,
      seed,
    );
    inputs = withTrainLabels(inputs, noisy.labels);
    flipped = noisy.flipped.length;
  }
  if (cell.method === 'zs') return { out: evaluateWeights('zs', inputs.data, inputs.data.zeroShotWeights), flipped };
  if (cell.method === 'linear') return { out: linearProbe(inputs.data), flipped };
  const out = await runPromptMethod(inputs.data, {
    method: 'coop',
    model: stage.model,
    backend,
    prompts,
    zeroShotText: stage.zeroShotText,
    trainImages: inputs.trainImages,
    epochs: args.epochs ?? defaultEpochs(args.shots),
    nCtx: cell.learn.nCtx,
    csc: cell.learn.csc,
    position: cell.learn.position,
    ...(cell.learn.ctxInit ? { ctxInit: cell.learn.ctxInit } : {}),
    kgLambda: 0,
    seed,
    signal: job.signal,
    onEpoch: (epoch, epochs) => job.progress({ kind: 'epoch', run: cell.key, seed, epoch, epochs }),
  });
  return { out, flipped };
}

function toRow(cell: SweepCell, seed: number, modelId: string, r: { out: MethodOutcome; flipped: number }, s: number) {
  const last = r.out.curve?.[r.out.curve.length - 1];
  const row: SweepRow = {
    cell: cell.key,
    seed,
    model: modelId,
    valAccuracy: r.out.val.count > 0 ? r.out.val.accuracy : null,
    testAccuracy: r.out.test.accuracy,
    perClass: r.out.test.perClass.map((c) => c.accuracy),
    finalTrainLoss: cell.method === 'coop' ? (last?.loss ?? null) : null,
    flippedLabels: r.flipped,
    chosen: r.out.chosen,
    seconds: s,
  };
  return row;
}

/** What a sweep will run: the data, one split per seed, the models and the cells. */
interface SweepPlan {
  source: ExperimentSource;
  splits: SeedSplit[];
  /** Per model: what the user gave (id, folder or nothing) and the folder it resolves to. */
  models: { given: string | undefined; dir: string }[];
  cells: SweepCell[];
  backend: string | null;
}

async function planRun(args: SweepArgs, job: JobContext<ExperimentProgress>, dataDir: string): Promise<SweepPlan> {
  job.progress({ kind: 'phase', message: 'Reading the dataset and drawing the splits' });
  const source = await openExperimentSource(args, dataDir);
  const splits = experimentSplits(source, args.shots, args.seeds);
  const models = sweepModels(args, dataDir).map((given) => ({ given, dir: experimentModelDir(dataDir, given) }));
  // The init sweep gives random init as many vectors as the words have tokens (see [Note: init sweep]).
  const tok = (await openExperimentModel(dataDir, models[0]?.given)).tokenizer;
  const initTokens = tok.encode(args.initWords).filter((id) => id !== tok.sotId && id !== tok.eotId).length;
  const cells = planSweep(args, { models: models.map((m) => m.dir), initTokens });
  const backend = cells.some((c) => c.method === 'coop') ? await useBackend(args.backend) : null;
  return { source, splits, models, cells, backend };
}

/** The rows of every cell on every seed, model by model. */
async function runPlan(plan: SweepPlan, args: SweepArgs, job: JobContext<ExperimentProgress>, dataDir: string) {
  const counter = new RunCounter(plan.cells.length * plan.splits.length, job);
  let trainedLeft = plannedRuns(plan.cells, plan.splits.length);
  const out = { rows: [] as SweepRow[], warnings: [] as string[], models: [] as { id: string; dir: string }[] };
  let featuresS = 0;
  let provider = '';
  for (const m of plan.models) {
    const own = plan.cells.filter((c) => c.model === null || c.model === m.dir);
    const tf = now();
    const stage = await prepareModel(m.given, args, plan.source, plan.splits, dataDir, job);
    featuresS += (now() - tf) / 1000;
    out.warnings.push(...stage.errors);
    out.models.push({ id: stage.model.info.id, dir: stage.model.info.dir });
    provider = stage.model.provider;
    for (const { seed } of plan.splits)
      for (const cell of own) {
        throwIfCancelled(job.signal);
        const tc = now();
        const r = await runCell(cell, seed, stage, args, plan.backend ?? 'cpu', plan.source.prompts, job);
        const row = toRow(cell, seed, stage.model.info.id, r, (now() - tc) / 1000);
        out.rows.push(row);
        const trained = cell.method === 'coop';
        if (trained) trainedLeft--;
        counter.finished(cell.key, seed, row.testAccuracy, row.seconds, trained ? trainedLeft : undefined);
      }
  }
  return { ...out, featuresS, provider };
}

/** Runs `sweep`: see [Note: sweep cells are learn runs] and [Note: one split per seed]. */
export async function runSweep(
  args: SweepArgs,
  job: JobContext<ExperimentProgress>,
  dataDir: string,
): Promise<SweepResult> {
  const t0 = now();
  const plan = await planRun(args, job, dataDir);
  const run = await runPlan(plan, args, job, dataDir);
  const { source, splits, cells } = plan;
  const table = buildTable(
    {
      title: `${SWEEP_LABELS[args.kind]}: ${basename(source.src.title)}, ${args.shots} shots`,
      groupAxis: args.kind === 'backbone' ? 'model' : 'setting',
      metric: 'test accuracy',
    },
    run.rows.map((r) => {
      const cell = cells.find((c) => c.key === r.cell) as SweepCell;
      return { group: cell.setting, series: EXPERIMENT_METHOD_LABELS[cell.method], value: r.testAccuracy };
    }),
  );
  const result: SweepResult = {
    kind: args.kind,
    models: run.models,
    data: { root: source.src.root, classes: source.classNames, prompts: source.prompts },
    split: splitRecord(source, args.shots, splits),
    seeds: splits.map((s) => s.seed),
    settings: {
      shots: args.shots,
      epochs: args.epochs ?? null,
      nCtx: args.nCtx,
      csc: args.csc,
      position: args.position,
      ctxInit: args.ctxInit ?? null,
      augViews: args.augViews,
      template: args.template,
      contextLengths: args.contextLengths,
      initWords: args.initWords,
      noiseRates: args.noiseRates,
    },
    cells,
    rows: run.rows,
    table,
    environment: environment(plan.backend, run.provider),
    command: sweepCommand(args),
    warnings: run.warnings,
    notes: cellNotes(cells),
    timings: { featuresS: run.featuresS, totalS: (now() - t0) / 1000, runs: run.rows.length },
    files: [],
  };
  result.files = await maybeWriteReports(args.out, result);
  return result;
}

/** One line per trained cell: the `learn` options it ran with. */
function cellNotes(cells: SweepCell[]): string[] {
  return cells
    .filter((c) => c.method === 'coop')
    .map(
      (c) =>
        `${c.setting}: CoOp with M = ${c.learn.nCtx}, ${c.learn.csc ? 'class-specific' : 'unified'} context, class token ${c.learn.position}, ${c.learn.ctxInit ? `initialised from "${c.learn.ctxInit}"` : 'random init'}${c.noiseRate > 0 ? `, ${c.noiseRate * 100}% of the training labels flipped` : ''}.`,
    );
}
