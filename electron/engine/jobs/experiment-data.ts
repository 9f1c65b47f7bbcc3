/**
 * @file The data steps every experiment shares: open the model and the dataset, draw one split per seed, embed every
 * image once, and hand each run the few-shot features of its split (engine worker, plain Node).
 *
 * [Note: one split per seed] An experiment draws `fewShotSplit(K, seed)` once per seed, exactly as `learn` does (with a
 * project's pinned images, as `learn` pins them), and every cell of the experiment trains and tests on that split:
 * the cells of a table differ by their setting only. Images are embedded once for the whole experiment (the plain
 * centre crop of every image, plus the seeded augmented views of each split's training shots, drawn from the stream
 * `learn` uses), through the engine's feature cache and, for a project, the persistent embedding store.
 */
import type { JobContext } from '../../../shared/contract/define';
import type { ExperimentProgress, ExperimentSplit } from '../../../shared/contract/experiments';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { readFolderDataset } from '../data/folder-dataset';
import { embedAll, trainingViews, type EmbedRequest } from '../features/features';
import type { FewShotFeatures, LabelledFeatures } from '../methods/evaluate';
import { normalizeRows, stack } from '../methods/matrix';
import { fillTemplate } from '../methods/templates';
import { resolveModel } from '../models/model-store';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { embeddingStore } from '../store/embeddings-repo';
import { fewShotSplit, Rng, type FewShotSplit, type SplitItem } from '../train/splits';
import type { TrainImage } from '../train/trainer';
import { loadRunSource, testFilesByClass, type RunSource } from './run-source';

/** What an experiment reads its data from (the shared part of its arguments). */
export interface ExperimentSourceArgs {
  model?: string | undefined;
  data?: string | undefined;
  project?: number | undefined;
  test?: string | undefined;
  prompts?: Record<string, string> | undefined;
}

/** The opened dataset of an experiment. */
export interface ExperimentSource {
  src: RunSource;
  classNames: string[];
  prompts: string[];
  /** Files of a separate test folder per class, or undefined. */
  testFiles: string[][] | undefined;
  testRoot: string | null;
}

/**
 * The model folder of `model` (an installed id or a folder); the active model, as `learn`, when absent (see [Note: one
 * model resolver] in models/model-store.ts).
 */
export function experimentModelDir(dataDir: string, model: string | undefined): string {
  return resolveModel(dataDir, model).dir;
}

/** Opens a model of an experiment (as every operation opens the model it names). */
export async function openExperimentModel(dataDir: string, model: string | undefined): Promise<ClipModel> {
  return openModel(dataDir, model);
}

/** Reads the dataset (folder or project) and the optional separate test folder. */
export async function openExperimentSource(args: ExperimentSourceArgs, dataDir: string): Promise<ExperimentSource> {
  const src = await loadRunSource(args, dataDir);
  if (src.classes.length < 2)
    throw new AppError(
      'invalid_data',
      `${src.project ? `Project "${src.project.name}"` : src.root} needs at least two classes with images; found ${src.classes.length}.`,
    );
  const testDs = args.test ? await readFolderDataset(args.test) : null;
  return {
    src,
    classNames: src.classes.map((c) => c.name),
    prompts: src.classes.map((c) => args.prompts?.[c.name] ?? c.prompt),
    testFiles: testDs ? testFilesByClass(src, testDs) : undefined,
    testRoot: testDs?.root ?? null,
  };
}

/** One seed's split. */
export interface SeedSplit {
  seed: number;
  split: FewShotSplit;
}

/** The split of every seed (see [Note: one split per seed]); refuses a split that leaves nothing to test. */
export function experimentSplits(source: ExperimentSource, shots: number, seeds: readonly number[]): SeedSplit[] {
  const { src, testFiles } = source;
  return seeds.map((seed) => {
    const split = fewShotSplit(
      src.classes.map((c) => c.files),
      {
        shots,
        seed,
        ...(testFiles ? { testFiles } : {}),
        ...(src.project ? { pinned: src.classes.map((c) => c.pinned ?? {}) } : {}),
      },
    );
    if (split.test.length === 0)
      throw new AppError(
        'invalid_data',
        `No image is left for testing after taking ${shots} shots and up to 4 validation images per class; add images, lower the shots or give a test folder.`,
      );
    return { seed, split };
  });
}

/** The split as the report records it. */
export function splitRecord(source: ExperimentSource, shots: number, splits: readonly SeedSplit[]): ExperimentSplit {
  return {
    rule: `${shots} training images per class drawn with the seed (all of a smaller class), then min(${shots}, 4) validation images per class; the rest is the test set${source.testRoot ? ' (here: the separate test folder)' : ''}. The same split for every cell of a seed.`,
    shots,
    perSeed: splits.map(({ seed, split }) => ({
      seed,
      train: split.train.length,
      val: split.val.length,
      test: split.test.length,
    })),
    testFolder: source.testRoot,
  };
}

/** Every image's features of one model: the plain crops by path, and the training views per seed. */
export interface ExperimentFeatures {
  plain: Map<string, Float32Array>;
  /** Per seed, per training item of the split, the normalised features of its views (none: the plain image). */
  views: Map<number, Float32Array[][]>;
  errors: { path: string; reason: string }[];
  computed: number;
  cached: number;
}

/** Embeds the source's images (and `extra` files, e.g. target domains) once, with each split's training views. */
export async function embedExperiment(
  model: ClipModel,
  source: ExperimentSource,
  splits: readonly SeedSplit[],
  augViews: number,
  dataDir: string,
  { progress, signal }: Pick<JobContext<ExperimentProgress>, 'progress' | 'signal'>,
  extra: readonly string[] = [],
): Promise<ExperimentFeatures> {
  const { src } = source;
  const withHash = (path: string): EmbedRequest => {
    const sha256 = src.images.get(path)?.sha256;
    return sha256 ? { path, sha256 } : { path };
  };
  const paths = [...new Set([...src.classes.flatMap((c) => c.files), ...(source.testFiles ?? []).flat(), ...extra])];
  const requests: EmbedRequest[] = paths.map(withHash);
  const viewPlan: { seed: number; counts: number[] }[] = [];
  if (augViews > 0)
    for (const { seed, split } of splits) {
      // The stream `learn` draws its views from, so a cell sees the views a `learn` run with the seed would.
      const v = await trainingViews(
        split.train.map((t) => t.path),
        augViews,
        new Rng(seed).fork('views'),
      );
      viewPlan.push({ seed, counts: split.train.map((_, i) => (v[i] ?? []).filter(Boolean).length) });
      split.train.forEach((t, i) => {
        for (const view of v[i] ?? []) if (view) requests.push({ ...withHash(t.path), view });
      });
    }
  const emb = await embedAll(model, requests, {
    signal,
    ...(src.project ? { store: embeddingStore(storeDb(dataDir)) } : {}),
    onProgress: (done, total) => progress({ kind: 'features', done, total }),
  });
  const plain = new Map<string, Float32Array>();
  paths.forEach((p, i) => {
    const f = emb.features[i];
    if (f) plain.set(p, f);
  });
  const views = new Map<number, Float32Array[][]>();
  let k = paths.length;
  for (const { seed, counts } of viewPlan)
    views.set(
      seed,
      counts.map((n) => {
        const own = emb.features.slice(k, k + n).filter((f): f is Float32Array => !!f);
        k += n;
        return own;
      }),
    );
  return { plain, views, errors: emb.errors, computed: emb.computed, cached: emb.cached };
}

/** Labelled features of the items that have one (in item order). */
export function labelledFeatures(
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
  return { features: rows.length ? stack(rows, dim) : { rows: 0, cols: dim, data: new Float32Array(0) }, labels };
}

/** Raw text features of the hand-written prompt per class, and their normalised rows. */
export async function handWrittenText(
  model: ClipModel,
  prompts: readonly string[],
  template: string,
): Promise<{ raw: Float32Array[]; weights: ReturnType<typeof normalizeRows> }> {
  const raw = await model.embedText(prompts.map((p) => fillTemplate(template, p)));
  return { raw, weights: normalizeRows(stack(raw)) };
}

/** One run's inputs: the few-shot features of a split and CoOp's training images (same items, same order). */
export interface RunInputs {
  data: FewShotFeatures;
  trainImages: TrainImage[];
}

/**
 * The few-shot features of one seed's split, as `compare` builds them: training items with a feature, each with its
 * cached views (or the plain crop), validation and test sets, the hand-written prompt's weights.
 */
export function runInputs(
  seedSplit: SeedSplit,
  feats: ExperimentFeatures,
  classNames: string[],
  zeroShotWeights: FewShotFeatures['zeroShotWeights'],
  logitScale: number,
): RunInputs {
  const dim = zeroShotWeights.cols;
  const { seed, split } = seedSplit;
  const seedViews = feats.views.get(seed);
  const trainImages: TrainImage[] = [];
  const trainItems: SplitItem[] = [];
  split.train.forEach((t, i) => {
    const own = seedViews?.[i] ?? [];
    const p = feats.plain.get(t.path);
    const views = own.length > 0 ? own : p ? [p] : [];
    if (views.length === 0) return;
    trainImages.push({ label: t.label, views });
    trainItems.push(t);
  });
  const train = labelledFeatures(trainItems, feats.plain, dim);
  const augRows = trainImages.flatMap((t) => t.views);
  const augLabels = trainImages.flatMap((t) => t.views.map(() => t.label));
  return {
    data: {
      numClasses: classNames.length,
      classNames,
      zeroShotWeights,
      train,
      trainAugmented:
        augRows.length > train.labels.length ? { features: stack(augRows, dim), labels: augLabels } : train,
      val: labelledFeatures(split.val, feats.plain, dim),
      test: labelledFeatures(split.test, feats.plain, dim),
      logitScale,
    },
    trainImages,
  };
}

/** The same run with other training labels (label noise): `labels[i]` is the label of training item i. */
export function withTrainLabels(run: RunInputs, labels: readonly number[]): RunInputs {
  if (labels.length !== run.trainImages.length) throw new AppError('internal', 'One label per training image.');
  const trainImages = run.trainImages.map((t, i) => ({ ...t, label: labels[i] as number }));
  const aug = trainImages.flatMap((t) => t.views.map(() => t.label));
  const { data } = run;
  return {
    trainImages,
    data: {
      ...data,
      train: { ...data.train, labels: [...labels] },
      trainAugmented:
        data.trainAugmented && data.trainAugmented !== data.train
          ? { ...data.trainAugmented, labels: aug }
          : { ...data.train, labels: [...labels] },
    },
  };
}
