/**
 * @file Contract of projects: create, list, show, import data, class editing, embedding cache, runs,
 * missing files, export/import (pure TypeScript).
 *
 * [Note: projects] A project is a set of classes and images (referenced in place by content sha256,
 * or copied into the data folder) plus its runs. Everything lives in the engine's SQLite store.
 */
import { z } from 'zod';
import { job, op } from './define';
import type { EpochPoint, LearnResult, RunNote } from './train';

/** Statuses of a job or run. `interrupted` means its process died (see [Note: interrupted jobs]). */
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
/** One of {@link JOB_STATUSES}. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Image splits; `auto` lets the trainer sample shots by seed. */
export const SPLITS = ['auto', 'train', 'val', 'test'] as const;
/** One of {@link SPLITS}. */
export type Split = (typeof SPLITS)[number];

/** Name of the class that receives images without a class folder. */
export const UNASSIGNED_CLASS = 'Unassigned';

/** The finished run of a project with the best test accuracy: which run the projects list's "best accuracy" is. */
export interface BestRun {
  runId: number;
  testAccuracy: number;
  method: string;
  shots: number;
  seed: number;
  createdAt: number;
  modelId: string;
  /** The folder of the model it ran with (what people know a model by), when recorded. */
  modelDir: string | null;
}

/** A project in lists. */
export interface ProjectSummary {
  id: number;
  name: string;
  description: string;
  copyImages: boolean;
  classes: number;
  images: number;
  createdAt: number;
  updatedAt: number;
  /** Runs of the project (any status), and when the latest started. */
  runCount: number;
  lastRunAt: number | null;
  /** The finished run with the best test accuracy, or null. */
  bestRun: BestRun | null;
}

/** One class of a project. */
export interface ClassInfo {
  id: number;
  folderName: string;
  prompt: string;
  order: number;
  colour: string;
  images: number;
  excluded: number;
}

/** One image of a project. */
export interface ImageInfo {
  id: number;
  classId: number | null;
  path: string;
  origin: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  format: string;
  split: Split;
  excluded: boolean;
  missing: boolean;
  thumbnail: string | null;
}

/** A run in lists. */
export interface RunSummary {
  id: number;
  modelId: string;
  method: string;
  seed: number;
  shots: number;
  status: JobStatus;
  backend: string;
  createdAt: number;
  durationMs: number | null;
  error: string | null;
  /** Test accuracy of the learned prompt and of the hand-written one (finished learning runs), else null. */
  testAccuracy: number | null;
  zeroShotAccuracy: number | null;
  /** The learning curve, with `projectRuns({ curves: true })` (to overlay runs), else absent. */
  curve?: EpochPoint[];
}

/** One image of a run's split (see [Note: run images]); test images carry the learned prompt's prediction. */
export interface RunImage {
  /** The project's image id; null once the image was deleted from the project. */
  imageId: number | null;
  path: string;
  sha256: string | null;
  /** True class index into {@link RunDetail.classes}. */
  label: number;
  split: 'train' | 'val' | 'test';
  /** Predicted class index (test images of a finished run), else null. */
  predicted: number | null;
  /** Softmax probability of the predicted class, else null. */
  confidence: number | null;
}

/** A learned tensor of a run: its shape and metadata (the values stay in the store and the context file). */
export interface RunContextInfo {
  name: string;
  shape: number[];
  /** The context file written by the run (safetensors with metadata), null when not recorded. */
  path: string | null;
  meta: Record<string, unknown>;
}

/**
 * A run in full, as stored: enough to show it again exactly as when it finished. For a finished run, `result` is
 * the `learn` result itself (curve and predictions rebuilt from the store); while a run is running, or after it
 * was interrupted, `curve` and `images` hold what was recorded so far and `result` is null.
 */
export interface RunDetail extends RunSummary {
  projectId: number;
  /** The `learn` arguments of the run. */
  options: Record<string, unknown>;
  startedAt: number | null;
  finishedAt: number | null;
  /** Classes in label order: the name people know them by, the prompt text the run used, the folder (newer runs). */
  classes: { name: string; prompt: string; folder?: string }[];
  curve: EpochPoint[];
  images: RunImage[];
  context: RunContextInfo | null;
  result: LearnResult | null;
}

/** A job (import, embedding) as recorded in the store. */
export interface JobRecord {
  id: number;
  kind: string;
  status: JobStatus;
  detail: Record<string, unknown>;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/** Everything `project show` prints. */
export interface ProjectDetail extends ProjectSummary {
  classList: ClassInfo[];
  /** What Undo would undo, in words ("rename class \"cat\" to \"kitten\""); null when there is nothing to undo. */
  undo: string | null;
  splits: Record<Split, number>;
  missing: number;
  runs: RunSummary[];
  jobs: JobRecord[];
}

/** Why a class is not ready to learn (see [Note: small datasets] in electron/engine/train/shot-plan.ts). */
export type ClassProblem = 'no_images' | 'too_few_images' | 'no_test_images';

/** One class of a project as the next learning run would split it. */
export interface ClassReadiness {
  classId: number;
  /** The class's name for people (as edited on the Dataset screen). */
  name: string;
  folderName: string;
  /** Usable images: not excluded, not missing. */
  images: number;
  /** Training images (the shots this class gets), validation and test images. */
  train: number;
  val: number;
  test: number;
  ready: boolean;
  problem: ClassProblem | null;
}

/** What `projectReadiness` reports: the split a Learn run with these settings would take, before it runs. */
export interface ProjectReadiness {
  projectId: number;
  /** The shots asked for, and the shots the run will take (fewer on a small dataset; see `notes`). */
  requestedShots: number;
  shots: number;
  seed: number;
  /** CoOp's epochs for those shots (when the run does not set its own). */
  epochs: number;
  /** Images a class needs at least: one to learn from, one to validate, one to test. */
  minImagesPerClass: number;
  /** Every class in display order (the unassigned bucket is not a class: see `unassigned`). */
  classes: ClassReadiness[];
  /** Images not sorted into a class yet (left out of runs). */
  unassigned: number;
  /** A run can start and be tested (two classes or more with images, at least one test image). */
  canLearn: boolean;
  /** `canLearn`, and every class has training, validation and test images. */
  ready: boolean;
  /** What the run will decide (fewer shots, classes without test images), as `learn` will report it. */
  notes: RunNote[];
  /** Why it cannot learn (reasons as in errors: see [Note: error reasons] in shared/result.ts). */
  problems: { reason: 'too_few_classes' | 'no_test_images'; message: string }[];
}

/** Progress of a data import. */
export interface ImportProgress {
  scanned: number;
  imported: number;
  skipped: number;
  failed: number;
  duplicates: number;
  /** Files the scan found (images and skipped files); known once scanning ends. */
  total: number;
}

/** Why a file was not imported, for a front end to phrase (see [Note: import labels] in electron/engine/jobs/import-report.ts). */
export const IMPORT_PROBLEMS = [
  'not_an_image',
  'hidden',
  'damaged',
  'truncated',
  'too_large',
  'empty',
  'not_a_file',
  'missing',
  'unreadable',
] as const;
/** One of {@link IMPORT_PROBLEMS}. */
export type ImportProblem = (typeof IMPORT_PROBLEMS)[number];

/** A file an import skipped or could not read. */
export interface ImportFileIssue {
  /** Where the engine read it (a path on the engine's disk, `archive.zip:inner/path` for a zip entry): for logs. */
  path: string;
  /** The user's own name for it: relative to what was dropped (`Shapes/circle/notes.txt`, `ds.zip:circle/a.png`). */
  name: string;
  problem: ImportProblem;
  /** A plain reason: "not an image", "damaged file", "too large", ... */
  reason: string;
  /** The underlying message (a library's, the file system's), for logs; never for the user's eyes first. */
  detail?: string;
}

/** An import that brought nothing in: a warning, not a success (see [Note: import labels]). */
export interface ImportWarning {
  code: 'nothing_imported';
  /** Nothing was an image; every image was already in the project; none could be read; a mix of these. */
  why: 'no_images' | 'all_duplicates' | 'all_failed' | 'mixed';
  message: string;
}

/** What an import did, with reasons for everything it did not import. */
export interface ImportReport extends ImportProgress {
  jobId: number;
  projectId: number;
  classesCreated: string[];
  skippedFiles: ImportFileIssue[];
  failedFiles: ImportFileIssue[];
  duplicateFiles: { path: string; name: string; sameAs: string; sameAsName: string }[];
  /** Set when nothing was imported. */
  warning: ImportWarning | null;
  durationMs: number;
}

/** Progress of an embedding job. */
export interface EmbedProgress {
  done: number;
  total: number;
  cached: number;
}

/** What an embedding job did. */
export interface EmbedReport {
  jobId: number;
  modelId: string;
  views: string[];
  total: number;
  cached: number;
  computed: number;
  failed: { path: string; reason: string }[];
}

const projectId = z.number().int().positive();
/** A project's name: one rule for creating, renaming and importing projects. */
export const projectName = z.string().trim().min(1).max(200);
/**
 * Whether two project names are the same to a person (trimmed, case and Unicode form ignored): the studio refuses a
 * new or renamed project whose name another project already has. The engine keeps projects by id and accepts any
 * name, so scripts and imported project files never fail on a name.
 */
export function sameProjectName(a: string, b: string): boolean {
  const key = (s: string) => s.trim().normalize('NFC').toLocaleLowerCase();
  return key(a) === key(b);
}
/** A project's description. */
export const projectDescription = z.string().max(2000);
/** A class colour (`#rrggbb`): one rule for editing classes and importing project files. */
export const classColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'expected a colour like #a1b2c3');

/** One class-editing operation. Every one is a transaction and can be undone. */
export const classEditSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('rename'), classId: z.number().int(), prompt: z.string().min(1).max(300) }),
  z.object({ kind: z.literal('merge'), from: z.array(z.number().int()).min(1), into: z.number().int() }),
  z.object({
    kind: z.literal('split'),
    classId: z.number().int(),
    imageIds: z.array(z.number().int()).min(1),
    folderName: z.string().min(1).max(200),
    prompt: z.string().min(1).max(300).optional(),
  }),
  z.object({ kind: z.literal('delete'), classId: z.number().int() }),
  z.object({ kind: z.literal('reorder'), classIds: z.array(z.number().int()).min(1) }),
  z.object({ kind: z.literal('move'), imageIds: z.array(z.number().int()).min(1), toClassId: z.number().int() }),
  z.object({ kind: z.literal('exclude'), imageIds: z.array(z.number().int()).min(1), excluded: z.boolean() }),
  z.object({ kind: z.literal('colour'), classId: z.number().int(), colour: classColour }),
  /** A new, empty class (filled by moving images into it or by a drop). */
  z.object({
    kind: z.literal('create'),
    folderName: z.string().trim().min(1).max(200),
    prompt: z.string().trim().min(1).max(300).optional(),
  }),
]);
/** One class-editing operation. */
export type ClassEdit = z.infer<typeof classEditSchema>;

/** Project operations. */
export const projectsOps = {
  projectCreate: op<ProjectSummary>()(
    z.object({
      name: projectName,
      description: projectDescription.default(''),
      copyImages: z.boolean().default(false),
    }),
    'Create an empty project.',
  ),
  projectList: op<{ projects: ProjectSummary[] }>()(z.object({}), 'List the projects.'),
  projectShow: op<ProjectDetail>()(
    z.object({ projectId, checkFiles: z.boolean().default(false) }),
    'Show a project: classes, splits, missing files, runs and jobs.',
  ),
  projectDelete: op<{ deleted: boolean }>()(z.object({ projectId }), 'Delete a project and its runs.'),
  projectImages: op<{ images: ImageInfo[]; total: number }>()(
    z.object({
      projectId,
      classId: z.number().int().optional(),
      missingOnly: z.boolean().default(false),
      limit: z.number().int().min(1).max(100_000).default(500),
      offset: z.number().int().min(0).default(0),
    }),
    "List a project's images.",
  ),
  projectImportData: job<ImportReport, ImportProgress>()(
    z.object({
      projectId,
      /** Folders (of class folders, or one class folder each), image files, .zip files or .csv (path,label). */
      sources: z.array(z.string().min(1)).min(1),
      /** Copy images into the project instead of referencing them in place (default: the project's setting). */
      copy: z.boolean().optional(),
      thumbnails: z.boolean().default(true),
    }),
    'Import images: folders of class folders, class folders, loose images, .zip, or a CSV of path,label.',
  ),
  projectEditClasses: op<{ classes: ClassInfo[]; undo: string | null }>()(
    z.object({ projectId, edit: classEditSchema }),
    'Edit classes: create, rename, merge, split out, delete, reorder, move or exclude images (undoable); answers the classes and what Undo would now undo.',
  ),
  projectUndo: op<{ undone: string | null; classes: ClassInfo[]; undo: string | null }>()(
    z.object({ projectId }),
    'Undo the last class edit of a project; answers what it undid and what Undo would undo next.',
  ),
  projectEmbed: job<EmbedReport, EmbedProgress>()(
    z.object({
      projectId,
      /** Model folder or installed model id; the active model when omitted. */
      modelDir: z.string().min(1).optional(),
      views: z.array(z.string().min(1)).default(['center']),
      batchSize: z.number().int().min(1).max(256).default(16),
    }),
    'Compute the image embeddings a project is missing (cached by image hash, model id and view).',
  ),
  projectRelink: op<{ relinked: number; stillMissing: number }>()(
    z.object({ projectId, folder: z.string().min(1) }),
    'Find moved images in a folder by content hash and point the project at them.',
  ),
  projectReadiness: op<ProjectReadiness>()(
    z.object({
      projectId,
      shots: z.number().int().min(1).max(10_000).default(16),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .default(1),
    }),
    'Whether a project is ready to learn: per class its usable images and the training, validation and test images a run with these shots would take, with the shots it will use.',
  ),
  projectRuns: op<{ runs: RunSummary[] }>()(
    z.object({ projectId, curves: z.boolean().default(false) }),
    "List a project's runs, newest first: method, shots, seed, date, accuracies (and each run's curve with `curves`).",
  ),
  projectRun: op<RunDetail>()(
    z.object({ runId: z.number().int().positive() }),
    'One run in full: classes, curve, split with test predictions, learned context and final report.',
  ),
  projectExport: op<{ file: string; bytes: number; images: number }>()(
    z.object({ projectId, file: z.string().min(1), includeImages: z.boolean().default(true) }),
    'Export a project as one .coopproj file (rows, images, runs, curves, contexts).',
  ),
  projectImportFile: op<ProjectSummary>()(
    z.object({ file: z.string().min(1), name: projectName.optional() }),
    'Import a project exported with projectExport.',
  ),
  projectRename: op<ProjectSummary>()(
    z.object({ projectId: z.number().int().positive(), name: projectName }),
    'Rename a project.',
  ),
};
