/**
 * @file Where a learning run's images come from: a folder of class folders or a stored project (engine, plain Node).
 *
 * See [Note: data source]. Both sources give the same shape, so the run code after loading does not care which it
 * got; a project source also knows each file's image id and content hash (for the run's recorded split and the
 * persistent embedding cache).
 *
 * [Note: class display names] A class has three names: its folder (where its images came from, and the key that
 * matches a context file's classes to a dataset's), its prompt text (what the text encoder reads) and its name for
 * people. In a project, the name for people is the class name as the user edited it on the Dataset screen (stored as
 * its prompt text; a folder `black_checker` starts as "black checker"); in a folder run it is the folder's name. Every
 * result of a run (split sizes, per-class report, confusion matrix, test predictions, the run's stored classes, the
 * context file's `classLabels`, the ONNX classifier's class names, `predict` with the context) carries the name for
 * people; `folder` keeps the folder.
 */
import { UNASSIGNED_CLASS } from '../../../shared/contract/projects';
import { AppError } from '../../../shared/result';
import { readFolderDataset, type FolderDataset } from '../data/folder-dataset';
import { checkFiles } from './missing-files';
import { storeDb } from '../store/db';
import { projectDataset, projectRow } from '../store/projects-repo';
import type { FeatureSet } from '../train/trainer';
import type { SplitItem } from '../train/splits';

/** One class of a run's dataset. */
export interface SourceClass {
  /** The folder name (see [Note: class display names]). */
  name: string;
  /** The name for people. */
  label: string;
  /** The project's class id (project sources only). */
  classId?: number;
  prompt: string;
  files: string[];
  /** Files the user pinned to a split (project sources only; see [Note: pinned splits]). */
  pinned?: { train: string[]; val: string[]; test: string[] };
}

/** A run's dataset, from a folder or a project. */
export interface RunSource {
  /** What `LearnResult.data.root` shows: the folder, or the project's image folder or name. */
  root: string;
  /** A short name for output folders and the curve title. */
  title: string;
  classes: SourceClass[];
  skipped: { path: string; reason: string }[];
  project: { id: number; name: string } | null;
  /** Image id and content hash per file path (project sources only). */
  images: Map<string, { imageId: number; sha256: string }>;
}

/** Reads the dataset named by `data` (folder) or `project` (store); see [Note: data source]. */
export async function loadRunSource(
  args: { data?: string | undefined; project?: number | undefined },
  dataDir: string,
): Promise<RunSource> {
  if (args.project === undefined) {
    if (args.data === undefined) throw new AppError('bad_args', 'Give a dataset folder or a project id.');
    const ds = await readFolderDataset(args.data);
    return {
      ...ds,
      classes: ds.classes.map((c) => ({ ...c, label: c.name })),
      title: ds.root,
      project: null,
      images: new Map(),
    };
  }
  const db = storeDb(dataDir);
  const project = projectRow(db, args.project);
  // Files may have moved since the last look: a missing image is left out instead of failing the run.
  await checkFiles(db, project.id);
  const ds = projectDataset(db, project.id);
  const images = new Map<string, { imageId: number; sha256: string }>();
  for (const c of ds.classes)
    c.files.forEach((path, i) => images.set(path, { imageId: c.ids[i] ?? 0, sha256: c.hashes[i] ?? '' }));
  // The unassigned bucket holds images still to be sorted, not a class; empty classes cannot be learned.
  const usable = (c: { name: string; files: string[] }) => c.name !== UNASSIGNED_CLASS && c.files.length > 0;
  return {
    root: ds.root,
    title: project.name,
    classes: ds.classes.filter(usable).map((c) => ({
      name: c.name,
      label: c.prompt,
      classId: c.id,
      prompt: c.prompt,
      files: c.files,
      pinned: {
        train: c.files.filter((_, i) => c.splits[i] === 'train'),
        val: c.files.filter((_, i) => c.splits[i] === 'val'),
        test: c.files.filter((_, i) => c.splits[i] === 'test'),
      },
    })),
    skipped: [
      ...ds.skipped,
      ...ds.classes
        .filter((c) => !usable(c))
        .flatMap((c) =>
          c.files.length === 0
            ? [{ path: c.name, reason: 'class without usable images (left out of the run)' }]
            : c.files.map((path) => ({ path, reason: `in "${UNASSIGNED_CLASS}": not sorted into a class yet` })),
        ),
    ],
    project: { id: project.id, name: project.name },
    images,
  };
}

/** The labelled items of a split with a feature, as a `FeatureSet`, and which items those are. */
export function toFeatureSet(
  items: readonly SplitItem[],
  feats: readonly (Float32Array | null)[],
  dim: number,
): FeatureSet & { items: SplitItem[] } {
  const kept: SplitItem[] = [];
  const rows: Float32Array[] = [];
  items.forEach((it, i) => {
    const f = feats[i];
    if (f) {
      rows.push(f);
      kept.push(it);
    }
  });
  const features = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => features.set(r, i * dim));
  return { features, labels: kept.map((k) => k.label), items: kept };
}

/**
 * The files of a separate test folder in the training classes' order (a class the test folder lacks gets none);
 * a test class the training data lacks is an error.
 */
export function testFilesByClass(train: { classes: readonly { name: string }[] }, test: FolderDataset): string[][] {
  const byName = new Map(test.classes.map((c) => [c.name, c.files]));
  const extra = test.classes.filter((c) => !train.classes.some((t) => t.name === c.name)).map((c) => c.name);
  if (extra.length > 0)
    throw new AppError(
      'invalid_data',
      `The test folder has classes the training folder lacks: ${extra.join(', ')}. Both folders need the same class folders.`,
    );
  return train.classes.map((c) => byName.get(c.name) ?? []);
}
