/**
 * @file Installed models on disk: ids, manifests, listing, the active model, removal (engine, plain Node).
 *
 * Layout of the data folder (see [Note: model ids]):
 * - `models/<id>/model.json` + the model files: an installed model (or only `model.json` for a
 *   referenced import, whose files stay where they were);
 * - `downloads/<id>/`: a download or import in progress, with its `.part` files; never listed.
 *
 * [Note: atomic install] A model is assembled in `downloads/<id>/` and appears in `models/` by one
 * `rename` of the whole folder, and disappears the same way (renamed into `downloads/` first, then
 * deleted), so neither a failure nor a crash leaves a half-installed model in the list.
 */
import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DEMO_MODEL_ID,
  MODEL_VARIANTS,
  type InstalledModel,
  type ModelManifest,
  type PartialDownload,
  type ModelVariant,
} from '../../../shared/contract/models';
import { AppError } from '../../../shared/result';
import { demoModelDir } from '../settings/paths';
import { downloadBusy } from './download-lock';
import { readSettings, updateSettings } from '../settings/settings';

/** Name of the manifest file in an installed model folder. */
export const MANIFEST_FILE = 'model.json';

/** Folder of installed models. */
export function modelsDir(dataDir: string): string {
  return join(dataDir, 'models');
}

/** Folder of downloads and imports in progress. */
export function stagingRoot(dataDir: string): string {
  return join(dataDir, 'downloads');
}

/** The id (and folder name) of a downloaded model. */
export function downloadId(repo: string, revision: string, variant: ModelVariant): string {
  const [owner = '', name = ''] = repo.split('/');
  return [owner, name, revision, variant].map(safePart).join('--');
}

/** The id (and folder name) of an imported model. */
export function importId(name: string, variant: ModelVariant): string {
  return ['local', safePart(name), variant].join('--');
}

function safePart(s: string): string {
  return s.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_');
}

/** Reads the manifest of an installed model folder; throws `invalid_data` when it is unreadable. */
export function readManifest(folder: string): ModelManifest {
  const file = join(folder, MANIFEST_FILE);
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as ModelManifest;
    if (m.schema !== 1 || typeof m.id !== 'string' || !MODEL_VARIANTS.includes(m.variant)) throw new Error('bad shape');
    return m;
  } catch (e) {
    throw new AppError('invalid_data', `The model manifest ${file} is missing or unreadable.`, String(e));
  }
}

/** Writes a manifest into a folder. */
export async function writeManifest(folder: string, manifest: ModelManifest): Promise<void> {
  await writeFile(join(folder, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
}

function demoModel(activeId: string, dir: string): InstalledModel | null {
  if (!existsSync(dir)) return null;
  return {
    id: DEMO_MODEL_ID,
    source: 'embedded',
    repo: null,
    revision: null,
    variant: 'fp32',
    dir,
    bytes: folderBytes(dir),
    fileCount: countFiles(dir),
    installedAt: null,
    active: activeId === DEMO_MODEL_ID,
    problem: null,
  };
}

function fromManifest(folder: string, activeId: string): InstalledModel {
  const id = folder.split(/[\\/]/).pop() ?? '';
  try {
    const m = readManifest(folder);
    const dir = m.source === 'import-reference' && m.path ? m.path : folder;
    const missing = m.files.filter((f) => !existsSync(join(dir, f.path))).map((f) => f.path);
    return {
      id,
      source: m.source,
      repo: m.repo,
      revision: m.revision,
      variant: m.variant,
      dir,
      bytes: m.files.reduce((sum, f) => sum + f.bytes, 0),
      fileCount: m.files.length,
      installedAt: m.installedAt,
      active: activeId === id,
      problem: missing.length ? `missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}` : null,
    };
  } catch (e) {
    return {
      id,
      source: 'download',
      repo: null,
      revision: null,
      variant: 'fp32',
      dir: folder,
      bytes: 0,
      fileCount: 0,
      installedAt: null,
      active: activeId === id,
      problem: e instanceof Error ? e.message : String(e),
    };
  }
}

/** Every installed model, the embedded demo model first (when the app ships it; tests may name another folder). */
export function listInstalled(dataDir: string, demoDir: string = demoModelDir()): InstalledModel[] {
  const activeId = activeModelId(dataDir);
  const root = modelsDir(dataDir);
  const folders = existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort()
    : [];
  const demo = demoModel(activeId, demoDir);
  return [...(demo ? [demo] : []), ...folders.map((name) => fromManifest(join(root, name), activeId))];
}

/** Unfinished downloads in `downloads/` (see [Note: atomic install]). */
export function listPartial(dataDir: string): PartialDownload[] {
  const root = stagingRoot(dataDir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .flatMap((d) => {
      const work = join(root, d.name);
      if (!existsSync(work)) return [];
      const files = walk(work);
      // A running download renames files under our feet: a file that vanished counts as nothing.
      const stats = files
        .filter((f) => !/[\\/](\.lock|files\.json)$/.test(f) && !f.endsWith('.part.json'))
        .map((f) => statSync(f, { throwIfNoEntry: false }));
      const bytes = stats.reduce((sum, st) => sum + (st?.size ?? 0), 0);
      const updatedAt = Math.max(statSync(work).mtimeMs, ...stats.map((st) => st?.mtimeMs ?? 0));
      return [{ id: d.name, bytes, updatedAt: new Date(updatedAt).toISOString(), running: downloadBusy(work, d.name) }];
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** One installed model by id; `not_found` names the installed ones. */
export function findInstalled(dataDir: string, id: string): InstalledModel {
  const all = listInstalled(dataDir);
  const found = all.find((m) => m.id === id);
  if (!found) {
    const ids = all.map((m) => m.id).join(', ') || 'none';
    throw new AppError('not_found', `No installed model "${id}" (installed: ${ids}).`);
  }
  return found;
}

/** The id of the active model: the setting when it names an installed model, else the demo model. */
export function activeModelId(dataDir: string): string {
  const chosen = readSettings(dataDir).activeModel;
  if (typeof chosen === 'string' && chosen !== DEMO_MODEL_ID && existsSync(join(modelsDir(dataDir), chosen)))
    return chosen;
  return DEMO_MODEL_ID;
}

/** A model a request names, resolved to the folder and weights to open (see [Note: one model resolver]). */
export interface ResolvedModel {
  /** The folder holding the model files. */
  dir: string;
  /** The installed model's id, or null for a folder given by path. */
  id: string | null;
  /** The installed model's weight variant (a referenced folder may hold several), or undefined for a path. */
  variant: ModelVariant | undefined;
}

/**
 * The model a request names: an installed model's id, a model folder, or (nothing given) the active model.
 *
 * [Note: one model resolver] Every operation that takes `model` (embedText, embedImages, zeroShot, tokenize,
 * checkModel, learn, evaluate, compare, predict, exportRun, projectEmbed) resolves it here and nowhere else: an
 * installed model's id (`coop-studio models list`) wins, then a folder (relative paths against the engine's working
 * folder; the CLI resolves them against the user's before sending), and no model means the active model (the embedded
 * demo model unless one was made active). A word that is neither an installed id nor a folder is `not_found`, naming
 * the installed ids.
 */
export function resolveModel(dataDir: string, idOrPath?: string): ResolvedModel {
  const id = idOrPath ?? activeModelId(dataDir);
  const installed = listInstalled(dataDir).find((m) => m.id === id);
  if (installed) {
    if (installed.problem)
      throw new AppError('invalid_model', `The model "${id}" cannot be used: ${installed.problem}.`);
    return {
      dir: installed.dir,
      id: installed.id,
      variant: installed.source === 'embedded' ? undefined : installed.variant,
    };
  }
  if (idOrPath === undefined) {
    if (id === DEMO_MODEL_ID)
      throw new AppError(
        'invalid_model',
        `No model was chosen and the embedded demo model is not installed (expected at ${demoModelDir()}): choose a CLIP model folder or install a model.`,
      );
    throw new AppError('not_found', `The active model "${id}" is not installed.`);
  }
  const dir = resolve(idOrPath);
  const pathLike = /[\\/]/.test(idOrPath) || idOrPath.startsWith('.') || idOrPath.startsWith('~');
  if (!pathLike && !existsSync(dir)) {
    const ids = listInstalled(dataDir)
      .map((m) => m.id)
      .join(', ');
    throw new AppError(
      'not_found',
      `There is no installed model "${idOrPath}" (installed: ${ids || 'none'}) and no model folder ${dir}.`,
    );
  }
  return { dir, id: null, variant: undefined };
}

/** Makes an installed model the active one. */
export function setActiveModel(dataDir: string, id: string): InstalledModel {
  const model = findInstalled(dataDir, id);
  if (model.problem) throw new AppError('invalid_model', `The model "${id}" cannot be used: ${model.problem}.`);
  updateSettings(dataDir, { activeModel: id === DEMO_MODEL_ID ? undefined : id });
  return { ...model, active: true };
}

/** Removes an installed model (see [Note: atomic install]); the active model falls back to the demo. */
export async function removeModel(dataDir: string, id: string): Promise<{ removed: string; activeId: string }> {
  if (id === DEMO_MODEL_ID)
    throw new AppError('unsupported', 'The demo model is part of the app and cannot be removed.');
  const partial = join(stagingRoot(dataDir), id);
  if (!listInstalled(dataDir).some((m) => m.id === id) && !id.startsWith('.') && existsSync(partial)) {
    if (downloadBusy(partial, id)) throw new AppError('conflict', `"${id}" is being downloaded; cancel it first.`);
    await rm(partial, { recursive: true, force: true });
    return { removed: id, activeId: activeModelId(dataDir) };
  }
  const model = findInstalled(dataDir, id);
  const folder = join(modelsDir(dataDir), model.id);
  const trash = join(stagingRoot(dataDir), `.removing-${model.id}-${process.pid}-${Date.now()}`);
  await mkdir(stagingRoot(dataDir), { recursive: true });
  await rename(folder, trash);
  if (readSettings(dataDir).activeModel === id) updateSettings(dataDir, { activeModel: undefined });
  await rm(trash, { recursive: true, force: true });
  return { removed: id, activeId: activeModelId(dataDir) };
}

/**
 * Moves a finished folder from `downloads/` into `models/<id>` (see [Note: atomic install]); with
 * `force` an installed copy is replaced, otherwise it is a `conflict`.
 */
export async function commitInstall(dataDir: string, staged: string, id: string, force: boolean): Promise<string> {
  const target = join(modelsDir(dataDir), id);
  await mkdir(modelsDir(dataDir), { recursive: true });
  let old: string | null = null;
  if (existsSync(target)) {
    if (!force) throw new AppError('conflict', `The model "${id}" is already installed; remove it or use force.`);
    old = join(stagingRoot(dataDir), `.replacing-${id}-${process.pid}-${Date.now()}`);
    await rename(target, old);
  }
  await rename(staged, target);
  if (old) await rm(old, { recursive: true, force: true });
  return target;
}

/** Throws `conflict` when `id` is installed and `force` is off (checked before any work starts). */
export function assertInstallable(dataDir: string, id: string, force: boolean): void {
  if (!force && existsSync(join(modelsDir(dataDir), id)))
    throw new AppError('conflict', `The model "${id}" is already installed; remove it first or use force.`);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out; // removed meanwhile (a download finishing, a removal)
  }
  for (const d of entries) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...walk(p));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

function countFiles(dir: string): number {
  return walk(dir).length;
}

function folderBytes(dir: string): number {
  let sum = 0;
  for (const f of walk(dir)) sum += statSync(f).size;
  return sum;
}
