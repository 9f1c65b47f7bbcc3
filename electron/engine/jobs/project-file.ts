/**
 * @file The `project.json` document of a project file: its zod schema and the checks across its parts, run before
 * anything is written (engine, plain Node).
 *
 * [Note: project file validation] A project file is shared between people, so `project.json` is untrusted input.
 * The whole document is parsed with the schema below and cross-checked (ids unique, every reference resolvable,
 * every named entry present) before the import creates a project or writes a file; a malformed document is an
 * `invalid_data` error that names the field, never an `internal` one. Nothing in it is used as a path: image and
 * context entries are looked up by name only, images are stored under the sha256 of their verified bytes, and the
 * paths the exporting machine recorded (context files, run folders, image origins) are dropped or kept as labels.
 */
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { classColour, JOB_STATUSES, projectDescription, projectName, SPLITS } from '../../../shared/contract/projects';
import { AppError } from '../../../shared/result';
import { describeIssues, issuePath, quoted } from '../../../shared/describe-input';
import { IMAGE_EXTENSIONS } from '../../../shared/image-files';

/** Format tag and version of project files. */
export const PROJECT_FILE_FORMAT = { format: 'coop-studio-project', version: 1 } as const;

const int = z.number().int();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 (64 lower-case hex digits)');
const jsonObjectText = z.string().refine((s) => {
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}, 'expected a JSON object as text');
const shapeText = z.string().refine((s) => {
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && (d as number) > 0);
  } catch {
    return false;
  }
}, 'expected a shape: a JSON list of positive whole numbers');
const num = z.number().nullable();

/** Schema of `project.json` (columns as the store names them; see [Note: project file validation]). */
export const projectFileSchema = z.object({
  format: z.string(),
  version: int.min(1),
  project: z.object({ name: projectName, description: projectDescription }),
  classes: z.array(
    z.object({
      id: int,
      folder_name: z.string().min(1).max(1000),
      prompt: z.string().max(2000),
      sort_order: int,
      colour: classColour,
    }),
  ),
  images: z.array(
    z.object({
      class_id: int.nullable(),
      origin: z.string().max(4096),
      sha256,
      bytes: int.min(0),
      width: int.min(0),
      height: int.min(0),
      format: z.string().max(32),
      split: z.enum(SPLITS),
      excluded: z.union([z.literal(0), z.literal(1)]),
      file: z.string().min(1).max(4096).nullable(),
    }),
  ),
  runs: z.array(
    z.object({
      id: int,
      model_id: z.string(),
      method: z.string().min(1).max(100),
      options_json: jsonObjectText,
      seed: int,
      shots: int.min(0),
      status: z.enum(JOB_STATUSES),
      backend: z.string().max(100),
      error: z.string().nullable(),
      result_json: jsonObjectText.nullable(),
      created_at: int,
      started_at: int.nullable(),
      finished_at: int.nullable(),
      duration_ms: num,
    }),
  ),
  metrics: z.array(
    z.object({
      run_id: int,
      epoch: int,
      step: int,
      loss: num,
      train_acc: num,
      val_acc: num,
      test_acc: num,
      lr: num,
      // Files written before epoch durations were recorded have no `seconds`.
      seconds: num.optional(),
      at: int,
    }),
  ),
  /** Absent in files written before runs recorded their split (see [Note: run images]). */
  run_images: z
    .array(
      z.object({
        run_id: int,
        sha256: sha256.nullable(),
        path: z.string().min(1).max(4096),
        label: int.min(0),
        split: z.enum(['train', 'val', 'test']),
        predicted: int.min(0).nullable(),
        confidence: num,
      }),
    )
    .optional(),
  contexts: z.array(
    z.object({
      run_id: int,
      name: z.string().min(1).max(200),
      shape_json: shapeText,
      meta_json: jsonObjectText,
      file: z.string().min(1).max(4096),
    }),
  ),
});

/** A validated `project.json`. */
export type ProjectFile = z.infer<typeof projectFileSchema>;

const SHARP_FORMAT_EXT: Record<string, string> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  gif: '.gif',
  tiff: '.tif',
  avif: '.avif',
  heif: '.heic',
};

/** The extension an image is stored with: its name's when that is an image extension, else its format's, else null. */
export function imageExtension(name: string, format: string): string | null {
  const ext = extname(name).toLowerCase();
  if (IMAGE_EXTENSIONS.has(ext)) return ext;
  return SHARP_FORMAT_EXT[format] ?? null;
}

function invalid(file: string, why: string): AppError {
  return new AppError('invalid_data', `${basename(file)} is not a valid CoOp Studio project file: ${why}.`);
}

const where = (path: readonly PropertyKey[]) => issuePath('project.json', path);

function unique<T>(items: readonly T[], key: (t: T) => string, what: (k: string) => string, file: string): void {
  const seen = new Set<string>();
  for (const t of items) {
    const k = key(t);
    if (seen.has(k)) throw invalid(file, what(k));
    seen.add(k);
  }
}

/**
 * Parses and validates `project.json` (see [Note: project file validation]); `entries` are the archive's entry
 * names, so references to missing entries are caught here too. Throws `invalid_data` or `unsupported`.
 */
export function parseProjectFile(bytes: Uint8Array, file: string, entries: ReadonlySet<string>): ProjectFile {
  const raw = readProjectJson(bytes, file);
  const parsed = projectFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw invalid(file, describeIssues(parsed.error.issues, 'project.json'));
  }
  const doc = parsed.data;
  checkUnique(doc, file);
  checkReferences(doc, file, entries);
  return doc;
}

/** Step 1: the document as JSON, refused early when it is not this app's format or is from a newer version. */
function readProjectJson(bytes: Uint8Array, file: string): unknown {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw invalid(file, `project.json is not JSON text (${e instanceof Error ? e.message : String(e)})`);
  }
  const head = raw as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null) throw invalid(file, 'project.json is not a JSON object');
  if (head.format !== PROJECT_FILE_FORMAT.format)
    throw new AppError(
      'unsupported',
      `${basename(file)} is not a CoOp Studio project file (its format is ${quoted(head.format)}).`,
    );
  if (typeof head.version === 'number' && head.version > PROJECT_FILE_FORMAT.version)
    throw new AppError(
      'unsupported',
      `${basename(file)} was written by a newer version of the app (project file version ${head.version}; this app reads ${PROJECT_FILE_FORMAT.version}).`,
    );
  return raw;
}

/** Step 2: no id, name or (run, step) given twice. */
function checkUnique(doc: ProjectFile, file: string): void {
  unique(
    doc.classes,
    (c) => String(c.id),
    (k) => `two classes have the id ${k}`,
    file,
  );
  unique(
    doc.classes,
    (c) => c.folder_name,
    (k) => `two classes are named ${quoted(k)}`,
    file,
  );
  unique(
    doc.runs,
    (r) => String(r.id),
    (k) => `two runs have the id ${k}`,
    file,
  );
  unique(
    doc.metrics,
    (m) => `${m.run_id}/${m.step}`,
    (k) => `a curve point is given twice (run/step ${k})`,
    file,
  );
  unique(
    doc.contexts,
    (c) => `${c.run_id}/${c.name}`,
    (k) => `a context is given twice (run/name ${quoted(k)})`,
    file,
  );
  unique(
    doc.run_images ?? [],
    (r) => `${r.run_id}\n${r.path}`,
    () => 'a run lists one image twice',
    file,
  );
}

/** Step 3: every class, run and archive entry the rows name exists, and every image file is named as an image. */
function checkReferences(doc: ProjectFile, file: string, entries: ReadonlySet<string>): void {
  const classIds = new Set(doc.classes.map((c) => c.id));
  const runIds = new Set(doc.runs.map((r) => r.id));
  for (const [i, img] of doc.images.entries()) {
    if (img.class_id !== null && !classIds.has(img.class_id))
      throw invalid(file, `${where(['images', i, 'class_id'])} names class ${img.class_id}, which it does not list`);
    if (img.file === null) continue;
    if (!entries.has(img.file))
      throw invalid(file, `${where(['images', i, 'file'])} names ${quoted(img.file)}, which the file does not hold`);
    if (imageExtension(img.file, img.format) === null)
      throw invalid(file, `${where(['images', i, 'file'])} ${quoted(img.file)} is not named or described as an image`);
  }
  for (const [part, rows] of [
    ['metrics', doc.metrics],
    ['run_images', doc.run_images ?? []],
    ['contexts', doc.contexts],
  ] as const) {
    for (const [i, r] of rows.entries())
      if (!runIds.has(r.run_id))
        throw invalid(file, `${where([part, i, 'run_id'])} names run ${r.run_id}, which it does not list`);
  }
  for (const [i, c] of doc.contexts.entries())
    if (!entries.has(c.file))
      throw invalid(file, `${where(['contexts', i, 'file'])} names ${quoted(c.file)}, which the file does not hold`);
}
