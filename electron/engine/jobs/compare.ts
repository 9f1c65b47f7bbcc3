/**
 * @file `compare`: every few-shot method on the same cached features, splits and seeds, as one job (engine worker,
 * plain Node).
 *
 * [Note: compare protocol] For each shot count K and seed s, the split is the one `learn` takes with K shots and seed s
 * (small datasets and pinned images included, see [Note: compare splits]), so a CoOp row of `compare` and a
 * `learn --shots K --seed s` run train and test on the same images. Image features are
 * embedded once for the whole sweep (the plain centre crop of every image, plus the seeded augmented views of the
 * training shots for Tip-Adapter-F, CoOp and KgCoOp), through the engine's feature cache. Class text features are
 * computed once. Every hyper-parameter (linear probe C, Tip-Adapter alpha/beta) is searched on the split's validation
 * images; test images are only scored. The table is the mean and sample standard deviation over seeds.
 *
 * [Note: compare views] By default (`augViews` 0) the trained methods see the plain centre-cropped training images,
 * the very features the linear probe and Tip-Adapter fit, so the table compares methods and nothing else. Measured
 * on the demo model's `backgrounds` task (16 shots, seeds 1-3, CoOp's full recipe): CoOp 99.1 ± 1.0 % with no views
 * (the lead's `learn` numbers exactly) but 72.9 ± 17.5 % with 2 random-resized-crop views (scale 0.08-1 of a 48 px
 * image changes the pattern's scale), so views are an option here, not the default.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import { defaultEpochs } from '../../../shared/contract/train';
import {
  type CompareCell,
  type CompareMethod,
  type CompareProgress,
  type CompareResult,
  type CompareRow,
  type compareArgs,
} from '../../../shared/contract/methods';
import { AppError } from '../../../shared/result';
import { readFolderDataset } from '../data/folder-dataset';
import { loadRunSource, testFilesByClass, type RunSource } from './run-source';
import { sweepSplits } from './compare-splits';
import { openModel } from '../models/open-model';
import { useBackend } from '../tf/backends';
import { engineBackendFromSetting } from '../backends/training-backend';
import { embedAll, trainingViews, type EmbedRequest } from '../features/features';
import { Rng, type SplitItem } from '../train/splits';
import { throwIfCancelled, type TrainImage } from '../train/trainer';
import { compareCsv, comparePng, compareSvg, formatCompareTable } from '../reports/compare-report';
import { runCocoopMethod, runPromptMethod } from '../methods/coop-method';
import { classWeights, evaluateWeights } from '../methods/ensemble';
import type { FewShotFeatures, LabelledFeatures, MethodOutcome } from '../methods/evaluate';
import { meanStd } from '../train/metrics';
import { linearProbe } from '../methods/linear-probe';
import { normalizeRows, stack, type Matrix } from '../methods/matrix';
import { CLIP_7_TEMPLATES, CLIP_80_TEMPLATES, fillTemplate } from '../methods/templates';
import { tipAdapter, tipAdapterF } from '../methods/tip-adapter';

type CompareArgs = z.output<typeof compareArgs>;

const TRAINED: readonly CompareMethod[] = ['tipf', 'coop', 'kgcoop', 'cocoop'];
const PROMPT_METHODS: readonly CompareMethod[] = ['coop', 'kgcoop'];
const TF_METHODS: readonly CompareMethod[] = ['coop', 'kgcoop', 'cocoop'];
const now = () => performance.now();

function labelled(
  items: readonly SplitItem[],
  feats: ReadonlyMap<string, Float32Array>,
  dim: number,
): LabelledFeatures {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (const it of items) {
    const f = feats.get(it.path);
    if (f) {
      rows.push(f);
      labels.push(it.label);
    }
  }
  return { features: rows.length ? stack(rows) : { rows: 0, cols: dim, data: new Float32Array(0) }, labels };
}

/** CoOp's optimiser steps of one run (batch 32, the last incomplete batch dropped; see the trainer). */
function coopSteps(trainImages: number, epochs: number): number {
  return (trainImages >= 32 ? Math.floor(trainImages / 32) : 1) * epochs;
}

/** Runs `compare`: see [Note: compare protocol]. */
export async function runCompare(
  args: CompareArgs,
  { progress, signal }: JobContext<CompareProgress>,
  dataDir: string,
): Promise<CompareResult> {
  const t0 = now();
  const methods = [...new Set(args.methods)];
  const shotsList = [...new Set(args.shots)].sort((a, b) => a - b);
  const seeds = [...new Set(args.seeds)];
  progress({ kind: 'phase', message: 'Reading the model and the dataset' });
  const model = await openModel(dataDir, args.model);
  // A project reads like a folder (its usable classes, prompts as edited); only the FolderDataset fields are used.
  // Classes with the names people know them by (see [Note: class display names]) and a project's pins.
  const ds: Pick<RunSource, 'root' | 'classes'> =
    args.project !== undefined
      ? await loadRunSource({ project: args.project }, dataDir)
      : await readFolderDataset(args.data ?? '').then((f) => ({
          root: f.root,
          classes: f.classes.map((c) => ({ ...c, label: c.name })),
        }));
  const source = args.project !== undefined ? `Project ${args.project}` : (args.data ?? '');
  if (ds.classes.length < 2)
    throw new AppError('invalid_data', `${source} needs at least two classes with images; found ${ds.classes.length}.`);
  const testDs = args.test ? await readFolderDataset(args.test) : null;
  const testFiles = testDs ? testFilesByClass(ds, testDs) : undefined;
  const classNames = ds.classes.map((c) => c.label);
  const prompts = ds.classes.map((c) => args.prompts?.[c.name] ?? c.prompt);
  const needViews = methods.some((m) => TRAINED.includes(m));
  const needTf = methods.some((m) => TF_METHODS.includes(m));
  // The caller's backend, else the training-backend setting (the UI sends none: the engine reads its own settings).
  const backend = needTf
    ? await useBackend(args.backend ?? (dataDir !== undefined ? engineBackendFromSetting(dataDir) : undefined))
    : null;
  const dim = model.info.config.projectionDim;
  const warnings: string[] = [];

  // Every split of the sweep, up front: the training views and the embedding work are known before any method runs.
  const sweep = sweepSplits(ds.classes, { shotsList, seeds, testFiles, pinned: args.project !== undefined });
  const { splits, skipped } = sweep;
  for (const shots of sweep.shots) {
    const small = ds.classes.filter((c) => c.files.length < shots + Math.min(shots, 4) + 1).map((c) => c.label);
    if (small.length > 0 && testFiles)
      warnings.push(
        `${shots} shots: ${small.join(', ')} ${small.length > 1 ? 'have' : 'has'} too few images for a full split; those classes train on what there is.`,
      );
  }
  if (splits.length === 0)
    throw new AppError(
      'invalid_data',
      `No shot count leaves images for testing: ${skipped.map((s) => s.shots).join(', ')}.`,
      undefined,
      {
        reason: 'no_test_images',
        facts: { shots: shotsList, perClass: ds.classes.map((c) => ({ name: c.label, images: c.files.length })) },
      },
    );

  progress({ kind: 'phase', message: 'Embedding the images with ONNX Runtime' });
  const tFeat = now();
  const views = new Map<string, Awaited<ReturnType<typeof trainingViews>>>();
  const requests: EmbedRequest[] = [];
  const allPaths = [...new Set([...ds.classes.flatMap((c) => c.files), ...(testFiles ?? []).flat()])];
  for (const path of allPaths) requests.push({ path });
  if (needViews && args.augViews > 0) {
    for (const s of splits) {
      // The same stream `learn` uses for its views, so a compare CoOp row sees the views a `learn` run would.
      const v = await trainingViews(
        s.split.train.map((t) => t.path),
        args.augViews,
        new Rng(s.seed).fork('views'),
      );
      views.set(`${s.shots}/${s.seed}`, v);
      s.split.train.forEach((t, i) => {
        for (const view of v[i] ?? []) if (view) requests.push({ path: t.path, view });
      });
    }
  }
  const emb = await embedAll(model, requests, {
    signal,
    onProgress: (done, total) => progress({ kind: 'features', done, total }),
  });
  const plain = new Map<string, Float32Array>();
  allPaths.forEach((p, i) => {
    const f = emb.features[i];
    if (f) plain.set(p, f);
  });
  const viewFeats = emb.features.slice(allPaths.length);
  for (const e of emb.errors) warnings.push(`Skipped ${e.path}: ${e.reason}`);

  progress({ kind: 'phase', message: 'Encoding the class prompts' });
  const zeroShotText = await model.embedText(prompts.map((p) => fillTemplate(args.template, p)));
  const zeroShotWeights = normalizeRows(stack(zeroShotText));
  const weightsOf = new Map<CompareMethod, Matrix>([['zs', zeroShotWeights]]);
  const embed = (texts: string[]) => model.embedText(texts);
  if (methods.includes('ensemble')) weightsOf.set('ensemble', await classWeights(embed, prompts, CLIP_80_TEMPLATES));
  if (methods.includes('ensemble7')) weightsOf.set('ensemble7', await classWeights(embed, prompts, CLIP_7_TEMPLATES));
  const featuresS = (now() - tFeat) / 1000;
  throwIfCancelled(signal);

  const rows: CompareRow[] = [];
  const total = splits.length * methods.length;
  let viewCursor = 0;
  let coopMsPerStep: number | null = null;
  let cocoopEstimated = false;
  let cocoopMark: { at: number; done: number } | null = null;
  const remainingCoopSteps = (from: number) =>
    splits
      .slice(from)
      .reduce(
        (a, s) =>
          a +
          methods.filter((m) => PROMPT_METHODS.includes(m)).length *
            coopSteps(s.split.train.length, args.epochs ?? defaultEpochs(s.shots)),
        0,
      );
  if (needTf)
    progress({
      kind: 'estimate',
      seconds: NaN,
      message: `CoOp/KgCoOp: ${remainingCoopSteps(0)} optimiser steps in all; the time estimate follows the first run.`,
    });
  for (const [si, s] of splits.entries()) {
    const { split, shots, seed } = s;
    const train = labelled(split.train, plain, dim);
    const v = views.get(`${shots}/${seed}`);
    const trainImages: TrainImage[] = [];
    const augRows: Float32Array[] = [];
    const augLabels: number[] = [];
    split.train.forEach((t, i) => {
      const own = (v?.[i] ?? []).map(() => viewFeats[viewCursor++]).filter((f): f is Float32Array => !!f);
      const p = plain.get(t.path);
      const all = own.length > 0 ? own : p ? [p] : [];
      if (all.length === 0) return;
      trainImages.push({ label: t.label, views: all });
      for (const f of all) {
        augRows.push(f);
        augLabels.push(t.label);
      }
    });
    const data: FewShotFeatures = {
      numClasses: classNames.length,
      classNames,
      zeroShotWeights,
      train,
      trainAugmented: augRows.length ? { features: stack(augRows), labels: augLabels } : train,
      val: labelled(split.val, plain, dim),
      test: labelled(split.test, plain, dim),
      logitScale: model.info.logitScale,
    };
    for (const method of methods) {
      throwIfCancelled(signal);
      const tm = now();
      let out: MethodOutcome;
      if (method === 'zs' || method === 'ensemble' || method === 'ensemble7')
        out = evaluateWeights(method, data, weightsOf.get(method) ?? zeroShotWeights);
      else if (method === 'linear') out = linearProbe(data);
      else if (method === 'tip') out = tipAdapter(data);
      else if (method === 'tipf') {
        const rng = new Rng(seed).fork('tipf');
        out = tipAdapterF(data, { epochs: args.tipfEpochs, random: () => rng.next() });
      } else if (method === 'cocoop') {
        out = await runCocoopMethod(data, {
          model,
          backend: backend ?? 'cpu',
          prompts,
          zeroShotText,
          trainImages,
          epochs: args.cocoopEpochs,
          seed,
          signal,
          onStep: (done, stepsTotal, meanPerStep) => {
            // The first steps pay for kernel set-up (measured: an estimate from them was 2-4x too long), so time the
            // steps between the 10th and the 30th (or the run's last), then estimate every CoCoOp run left.
            if (cocoopEstimated) return;
            if (done === 10) cocoopMark = { at: now(), done };
            const last = Math.min(30, stepsTotal);
            if (done < last) return;
            cocoopEstimated = true;
            const perStep =
              cocoopMark && done > cocoopMark.done
                ? (now() - cocoopMark.at) / 1000 / (done - cocoopMark.done)
                : meanPerStep;
            const rest = splits.slice(si);
            const trainSteps = rest.reduce((a, x) => a + x.split.train.length * args.cocoopEpochs, 0);
            // Evaluation is one forward pass per image, about a third of a training step (forward + backward).
            const evalPasses = rest.reduce((a, x) => a + x.split.val.length + x.split.test.length, 0);
            const seconds = (trainSteps + evalPasses / 3) * perStep;
            const message = `CoCoOp is expensive (batch 1: the text encoder runs on every class prompt for every image): about ${seconds < 90 ? `${Math.ceil(seconds)} s` : `${Math.round(seconds / 60)} min`} for ${trainSteps} training steps at ${(perStep * 1000).toFixed(0)} ms and ${evalPasses} evaluated images.`;
            warnings.push(message);
            progress({ kind: 'estimate', seconds, message });
          },
        });
      } else {
        const epochs = args.epochs ?? defaultEpochs(shots);
        out = await runPromptMethod(data, {
          method,
          model,
          backend: backend ?? 'cpu',
          prompts,
          zeroShotText,
          trainImages,
          epochs,
          nCtx: args.nCtx,
          kgLambda: args.kgLambda,
          seed,
          signal,
          onEpoch: (epoch, epochs) => progress({ kind: 'epoch', method, shots, seed, epoch, epochs }),
        });
        const steps = coopSteps(trainImages.length, epochs);
        if (coopMsPerStep === null && steps > 0 && remainingCoopSteps(si) - steps > 0) {
          coopMsPerStep = (now() - tm) / steps;
          const left = remainingCoopSteps(si) - steps;
          progress({
            kind: 'estimate',
            seconds: (left * coopMsPerStep) / 1000,
            message: `CoOp/KgCoOp: ${coopMsPerStep.toFixed(1)} ms per step, about ${Math.ceil((left * coopMsPerStep) / 60_000)} min for the remaining ${left} steps.`,
          });
        }
      }
      const row: CompareRow = {
        method,
        shots,
        seed,
        valAccuracy: out.val.accuracy,
        testAccuracy: out.test.accuracy,
        perClass: out.test.perClass.map((c) => c.accuracy),
        chosen: out.chosen,
        seconds: (now() - tm) / 1000,
      };
      rows.push(row);
      progress({ kind: 'row', done: rows.length, total, row });
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  const table: CompareCell[] = [];
  for (const method of methods)
    for (const shots of sweep.shots) {
      const acc = rows.filter((r) => r.method === method && r.shots === shots).map((r) => r.testAccuracy);
      if (acc.length > 0) table.push({ method, shots, ...meanStd(acc), seeds: acc.length });
    }
  const result: CompareResult = {
    model: { id: model.info.id, dir: model.info.dir },
    data: {
      root: ds.root,
      test: testDs?.root ?? null,
      classes: classNames,
      folders: ds.classes.map((c) => c.name),
      prompts,
    },
    settings: {
      methods,
      shots: shotsList,
      seeds,
      template: args.template,
      augViews: args.augViews,
      epochs: args.epochs ?? null,
      nCtx: args.nCtx,
      kgLambda: args.kgLambda,
      tipfEpochs: args.tipfEpochs,
      cocoopEpochs: args.cocoopEpochs,
    },
    backend,
    table,
    rows,
    skipped,
    splits: sweep.described,
    splitNote: sweep.splitNote,
    notes: sweep.notes,
    warnings,
    timings: {
      featuresS,
      totalS: (now() - t0) / 1000,
      imagesEmbedded: emb.computed,
      imagesFromCache: emb.cached,
    },
    files: [],
  };
  if (args.out) {
    const dir = resolve(args.out);
    await mkdir(dir, { recursive: true });
    const title = `Few-shot methods on ${basename(ds.root)} (${seeds.length} seed${seeds.length > 1 ? 's' : ''})`;
    const files: [string, string | Buffer][] = [
      ['compare.csv', compareCsv(result)],
      ['compare-table.txt', formatCompareTable(result).join('\n') + '\n'],
      ['compare.svg', compareSvg(result, title)],
      ['compare.png', await comparePng(result, title)],
    ];
    for (const [name, body] of files) {
      await writeFile(join(dir, name), body);
      result.files.push(join(dir, name));
    }
    result.files.push(join(dir, 'compare.json'));
    await writeFile(join(dir, 'compare.json'), JSON.stringify(result, null, 2));
  }
  return result;
}
