/**
 * @file `compare`: every few-shot method on the same cached features, splits and seeds, as one job in steps (plan,
 * embed, encode the prompts, run the methods, summarise, save) (engine worker, plain Node).
 *
 * [Note: compare protocol] For each shot count K and seed s, the split is the one `learn` takes with K shots and seed s
 * (small datasets and pinned images included, see [Note: compare splits]), so a CoOp row of `compare` and a
 * `learn --shots K --seed s` run train and test on the same images. Image features are embedded once for the whole sweep (the plain centre crop of every image, plus the seeded augmented views of the
 * training shots for the methods that train on views), through the engine's features pipeline (a project's images
 * also through the store's embedding cache). Class text features are computed once. Every hyper-parameter (linear
 * probe C, Tip-Adapter alpha/beta, CLIP-Adapter's learning rate and epoch) is searched on the split's validation
 * images; test images are only scored. The table is the mean and sample standard deviation over seeds. Each method is
 * looked up in the methods registry (methods/registry.ts, see [Note: methods registry]).
 *
 * [Note: compare views] By default (`augViews` 0) the trained methods see the plain centre-cropped training images,
 * the very features the linear probe and Tip-Adapter fit, so the table compares methods and nothing else. Measured
 * on the demo model's `backgrounds` task (16 shots, seeds 1-3, CoOp's full recipe): CoOp 99.1 ± 1.0 % with no views
 * (the lead's `learn` numbers exactly) but 72.9 ± 17.5 % with 2 random-resized-crop views (scale 0.08-1 of a 48 px
 * image changes the pattern's scale), so views are an option here, not the default.
 */
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import {
  METHODS,
  type CompareMethod,
  type CompareProgress,
  type CompareResult,
  type CompareRow,
  type compareArgs,
} from '../../../shared/contract/methods';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { readFolderDataset, type FolderDataset } from '../data/folder-dataset';
import { engineBackendFromSetting } from '../backends/training-backend';
import { embedAll, trainingViews, type EmbedAllResult, type EmbedRequest } from '../features/features';
import { classWeights } from '../methods/ensemble';
import type { FewShotFeatures, LabelledFeatures } from '../methods/evaluate';
import { normalizeRows, stack, type Matrix } from '../methods/matrix';
import { METHOD_RUNNERS, type CompareSetup } from '../methods/registry';
import { fillTemplate } from '../methods/templates';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { useBackend } from '../tf/backends';
import { Rng } from '../train/splits';
import { throwIfCancelled, type TrainImage } from '../train/trainer';
import { CompareEstimator } from './compare-estimate';
import { summariseCompare, writeCompareFiles } from './compare-output';
import { sweepSplits, type SweepPlan, type SweepSplit } from './compare-splits';
import { labelledFeatures } from './experiment-data';
import { loadRunSource, testFilesByClass, type RunSource } from './run-source';

type CompareArgs = z.output<typeof compareArgs>;
type Progress = JobContext<CompareProgress>['progress'];

const now = () => performance.now();

/** What the sweep runs on, known before any image is embedded. */
interface ComparePlan {
  methods: CompareMethod[];
  shotsList: number[];
  seeds: number[];
  model: ClipModel;
  /** The classes with the names people know them by (see [Note: class display names]) and a project's pins. */
  ds: CompareSource;
  /** Content hashes of a project's images (for the store's embedding cache); empty for a folder. */
  hashes: RunSource['images'];
  testDs: FolderDataset | null;
  testFiles: string[][] | undefined;
  /** The tfjs backend when a chosen method needs tfjs, else null. */
  backend: string | null;
  classNames: string[];
  prompts: string[];
  /** The sweep's splits, what was skipped and why, and what was decided for the user (see [Note: compare splits]). */
  sweep: SweepPlan;
  splits: SweepSplit[];
  warnings: string[];
}

/** The dataset as `compare` reads it: a folder's classes (labelled by folder name) or a project's. */
type CompareSource = Pick<RunSource, 'root' | 'classes'> & { images?: RunSource['images'] };

/** Reads the dataset: a folder, or a project read like one (its usable classes, prompts as edited, its pins). */
async function readSource(args: CompareArgs, dataDir: string): Promise<CompareSource> {
  if (args.project !== undefined) return loadRunSource({ project: args.project }, dataDir);
  const f = await readFolderDataset(args.data ?? '');
  return { root: f.root, classes: f.classes.map((c) => ({ ...c, label: c.name })) };
}

/** Every split of the sweep, up front (see [Note: compare splits]); no split at all is an error that says why. */
function planSplits(plan: Pick<ComparePlan, 'ds' | 'testFiles' | 'shotsList' | 'seeds' | 'warnings'>, pinned: boolean) {
  const { ds, testFiles } = plan;
  const sweep = sweepSplits(ds.classes, { shotsList: plan.shotsList, seeds: plan.seeds, testFiles, pinned });
  for (const shots of sweep.shots) {
    const small = ds.classes.filter((c) => c.files.length < shots + Math.min(shots, 4) + 1).map((c) => c.label);
    if (small.length > 0 && testFiles)
      plan.warnings.push(
        `${shots} shots: ${small.join(', ')} ${small.length > 1 ? 'have' : 'has'} too few images for a full split; those classes train on what there is.`,
      );
  }
  if (sweep.splits.length === 0)
    throw new AppError(
      'invalid_data',
      `No shot count leaves images for testing: ${sweep.skipped.map((s) => s.shots).join(', ')}.`,
      undefined,
      {
        reason: 'no_test_images',
        facts: {
          shots: plan.shotsList,
          perClass: ds.classes.map((c) => ({ name: c.label, images: c.files.length })),
        },
      },
    );
  return sweep;
}

/** Step 1: the model, the dataset and every split of the sweep. */
async function planCompare(args: CompareArgs, dataDir: string, progress: Progress): Promise<ComparePlan> {
  progress({ kind: 'phase', message: 'Reading the model and the dataset' });
  const model = await openModel(dataDir, args.model);
  const ds = await readSource(args, dataDir);
  const source = args.project !== undefined ? `Project ${args.project}` : (args.data ?? '');
  if (ds.classes.length < 2)
    throw new AppError('invalid_data', `${source} needs at least two classes with images; found ${ds.classes.length}.`);
  const testDs = args.test ? await readFolderDataset(args.test) : null;
  const methods = [...new Set(args.methods)];
  const plan: ComparePlan = {
    methods,
    shotsList: [...new Set(args.shots)].sort((a, b) => a - b),
    seeds: [...new Set(args.seeds)],
    model,
    ds,
    hashes: ds.images ?? new Map(),
    testDs,
    testFiles: testDs ? testFilesByClass(ds, testDs) : undefined,
    // The caller's backend, else the training-backend setting (the UI sends none: the engine reads its own settings).
    backend: methods.some((m) => METHODS[m].needsTfjs)
      ? await useBackend(args.backend ?? engineBackendFromSetting(dataDir))
      : null,
    classNames: ds.classes.map((c) => c.label),
    prompts: ds.classes.map((c) => args.prompts?.[c.name] ?? c.prompt),
    sweep: { splits: [], described: [], shots: [], skipped: [], notes: [], splitNote: '' },
    splits: [],
    warnings: [],
  };
  plan.sweep = planSplits(plan, args.project !== undefined);
  plan.splits = plan.sweep.splits;
  return plan;
}

/** The image features of the sweep: every image's plain feature, and each split's training views in order. */
interface SweepFeatures {
  plain: Map<string, Float32Array>;
  /** Per split (same order as the plan's), per training image, the features of its views (none: use the plain). */
  views: Float32Array[][][];
  emb: EmbedAllResult;
  seconds: number;
}

/** Step 2: embeds every image once, plus the seeded training views when a chosen method trains on views. */
async function embedSweep(
  plan: ComparePlan,
  args: CompareArgs,
  { progress, signal }: JobContext<CompareProgress>,
  dataDir: string,
): Promise<SweepFeatures> {
  progress({ kind: 'phase', message: 'Embedding the images with ONNX Runtime' });
  const t0 = now();
  const withHash = (path: string, view?: EmbedRequest['view']): EmbedRequest => {
    const sha256 = plan.hashes.get(path)?.sha256;
    return { path, ...(sha256 ? { sha256 } : {}), ...(view ? { view } : {}) };
  };
  const allPaths = [...new Set([...plan.ds.classes.flatMap((c) => c.files), ...(plan.testFiles ?? []).flat()])];
  const requests = allPaths.map((p) => withHash(p));
  const viewCounts: number[][] = [];
  const needViews = plan.methods.some((m) => METHODS[m].needsViews) && args.augViews > 0;
  for (const s of needViews ? plan.splits : []) {
    // The same stream `learn` uses for its views, so a compare CoOp row sees the views a `learn` run would.
    const paths = s.split.train.map((t) => t.path);
    const v = await trainingViews(paths, args.augViews, new Rng(s.seed).fork('views'));
    viewCounts.push(v.map((views) => views.filter((x) => x !== undefined).length));
    paths.forEach((p, i) => {
      for (const view of v[i] ?? []) if (view) requests.push(withHash(p, view));
    });
  }
  const emb = await embedAll(plan.model, requests, {
    signal,
    ...(plan.hashes.size > 0 && dataDir ? { store: embeddingStore(storeDb(dataDir)) } : {}),
    onProgress: (done, total) => progress({ kind: 'features', done, total }),
  });
  const plain = new Map<string, Float32Array>();
  allPaths.forEach((p, i) => {
    const f = emb.features[i];
    if (f) plain.set(p, f);
  });
  let cursor = allPaths.length;
  const views = viewCounts.map((counts) =>
    counts.map((n) => emb.features.slice(cursor, (cursor += n)).filter((f): f is Float32Array => !!f)),
  );
  for (const e of emb.errors) plan.warnings.push(`Skipped ${e.path}: ${e.reason}`);
  return { plain, views, emb, seconds: (now() - t0) / 1000 };
}

/** Step 3: the class prompts' text features and the template weights the chosen methods read, encoded once. */
async function encodePrompts(
  plan: ComparePlan,
  args: CompareArgs,
  { progress, signal }: JobContext<CompareProgress>,
): Promise<{ setup: CompareSetup; zeroShotWeights: Matrix; seconds: number }> {
  progress({ kind: 'phase', message: 'Encoding the class prompts' });
  const t0 = now();
  const zeroShotText = await plan.model.embedText(plan.prompts.map((p) => fillTemplate(args.template, p)));
  const weights = new Map<readonly string[], Promise<Matrix>>();
  const setup: CompareSetup = {
    model: plan.model,
    backend: plan.backend ?? 'cpu',
    prompts: plan.prompts,
    zeroShotText,
    settings: args,
    ...(signal ? { signal } : {}),
    templateWeights(templates) {
      let w = weights.get(templates);
      if (!w) weights.set(templates, (w = classWeights((t) => plan.model.embedText(t), plan.prompts, templates)));
      return w;
    },
  };
  for (const m of plan.methods) {
    const templates = METHOD_RUNNERS[m].templates;
    if (templates) await setup.templateWeights(templates);
  }
  throwIfCancelled(signal);
  return { setup, zeroShotWeights: normalizeRows(stack(zeroShotText)), seconds: (now() - t0) / 1000 };
}

/** What every method sees on one split (see [Note: one split for all methods]), and the training views. */
function splitData(
  s: SweepSplit,
  views: Float32Array[][] | undefined,
  feats: SweepFeatures,
  plan: ComparePlan,
  zeroShotWeights: Matrix,
): { data: FewShotFeatures; trainImages: TrainImage[] } {
  const dim = plan.model.info.config.projectionDim;
  const trainImages: TrainImage[] = [];
  s.split.train.forEach((t, i) => {
    const own = views?.[i] ?? [];
    const p = feats.plain.get(t.path);
    const all = own.length > 0 ? own : p ? [p] : [];
    if (all.length > 0) trainImages.push({ label: t.label, views: all });
  });
  const train = labelledFeatures(s.split.train, feats.plain, dim);
  const augmented: LabelledFeatures = {
    features: stack(trainImages.flatMap((t) => t.views)),
    labels: trainImages.flatMap((t) => t.views.map(() => t.label)),
  };
  const data: FewShotFeatures = {
    numClasses: plan.classNames.length,
    classNames: plan.classNames,
    zeroShotWeights,
    train,
    trainAugmented: augmented.labels.length ? augmented : train,
    val: labelledFeatures(s.split.val, feats.plain, dim),
    test: labelledFeatures(s.split.test, feats.plain, dim),
    logitScale: plan.model.info.logitScale,
  };
  return { data, trainImages };
}

/** Step 4: every chosen method on every split, looked up in the registry; a progress row after each. */
async function runMethods(
  plan: ComparePlan,
  feats: SweepFeatures,
  text: { setup: CompareSetup; zeroShotWeights: Matrix },
  { progress, signal }: JobContext<CompareProgress>,
): Promise<CompareRow[]> {
  const rows: CompareRow[] = [];
  const total = plan.splits.length * plan.methods.length;
  const sizes = plan.splits.map((s) => ({
    classes: plan.classNames.length,
    shots: s.shots,
    train: s.split.train.length,
    val: s.split.val.length,
    test: s.split.test.length,
  }));
  const chosen = plan.methods.map((id) => ({ id, entry: METHOD_RUNNERS[id] }));
  const estimator = new CompareEstimator(chosen, sizes, text.setup.settings, (seconds, message) =>
    progress({ kind: 'estimate', seconds, message }),
  );
  estimator.announce();
  for (const [si, s] of plan.splits.entries()) {
    const { data, trainImages } = splitData(s, feats.views[si], feats, plan, text.zeroShotWeights);
    for (const { id: method, entry } of chosen) {
      throwIfCancelled(signal);
      const tm = now();
      const out = await entry.run(data, {
        setup: text.setup,
        shots: s.shots,
        seed: s.seed,
        trainImages,
        onEpoch: (epoch, epochs) => progress({ kind: 'epoch', method, shots: s.shots, seed: s.seed, epoch, epochs }),
        onStep: estimator.forRun(method, entry, si),
      });
      const row: CompareRow = {
        method,
        shots: s.shots,
        seed: s.seed,
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
  return rows;
}

/** Runs `compare`: see [Note: compare protocol]. */
export async function runCompare(
  args: CompareArgs,
  job: JobContext<CompareProgress>,
  dataDir: string,
): Promise<CompareResult> {
  const t0 = now();
  const plan = await planCompare(args, dataDir, job.progress);
  const feats = await embedSweep(plan, args, job, dataDir);
  const text = await encodePrompts(plan, args, job);
  const rows = await runMethods(plan, feats, text, job);
  const result = summariseCompare(plan, args, rows, {
    backend: plan.backend,
    featuresS: feats.seconds + text.seconds,
    totalS: (now() - t0) / 1000,
    emb: feats.emb,
  });
  if (args.out) result.files = await writeCompareFiles(result, args.out);
  return result;
}
