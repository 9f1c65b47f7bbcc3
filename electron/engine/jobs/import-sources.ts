/**
 * @file Turns what a user drops (folders, images, .zip, .csv) into a flat list of candidate files with
 * their class (engine, plain Node).
 *
 * [Note: import layouts] A dropped folder that has sub-folders is a dataset root: each first-level
 * sub-folder is a class (everything below it, however deep, belongs to it) and images directly in
 * the root go to "Unassigned". A root holding nothing but one folder that itself has sub-folders is
 * a wrapper (as zips often are) and is looked through. A dropped folder without sub-folders is one
 * class folder named after it, so several class folders can be dropped at once. A dropped image is
 * loose ("Unassigned"). A .zip is read like a dataset root (a zip of bare images goes to
 * "Unassigned": a zip is a container, not a class). A .csv lists `path,label` (relative paths are
 * resolved against the CSV's folder; an optional header row is recognised).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { UNASSIGNED_CLASS } from '../../../shared/contract/projects';
import { isImageFile } from '../../../shared/image-files';
import { AppError } from '../../../shared/result';
import { ZipArchive, type ZipEntry } from '../formats/zip-archive';

/** Largest image file (or CSV listing) read from disk: far above any photo, far below what fills memory. */
export const MAX_SOURCE_FILE_BYTES = 1024 * 2 ** 20;

/**
 * Reads a file the user's dataset names, refusing anything that is not a regular file: a FIFO would block the read
 * forever and a device such as `/dev/zero` never ends, and either can hide behind a name like `cat.png`.
 */
export async function readSourceFile(path: string): Promise<Buffer> {
  const s = await stat(path);
  if (!s.isFile()) throw new Error('not a regular file (a folder, device or pipe)');
  if (s.size > MAX_SOURCE_FILE_BYTES)
    throw new Error(
      `the file is ${(s.size / 2 ** 20).toFixed(0)} MiB, more than the ${MAX_SOURCE_FILE_BYTES / 2 ** 20} MiB this app reads`,
    );
  return readFile(path);
}

/** One candidate image. */
export interface Candidate {
  /** What the user would recognise: a path, or `archive.zip:inner/path`. */
  origin: string;
  className: string;
  /** The file on disk, or null for a zip entry. */
  path: string | null;
  ext: string;
  read(): Promise<Uint8Array>;
}

/** What scanning found. */
export interface ScanResult {
  candidates: Candidate[];
  skipped: { path: string; reason: string }[];
}

/** Why a file name is not imported, or null when it is a candidate image. */
export function skipReason(name: string): string | null {
  if (name.startsWith('.') || name === '__MACOSX' || name === 'Thumbs.db' || name === 'desktop.ini')
    return 'hidden or system file';
  if (!isImageFile(name)) return `not an image (${extname(name) || 'no extension'})`;
  return null;
}

interface Tree {
  files: { name: string; origin: string; path: string | null; read: () => Promise<Uint8Array> }[];
  dirs: Map<string, Tree>;
  hidden: string[];
}

function emptyTree(): Tree {
  return { files: [], dirs: new Map(), hidden: [] };
}

async function diskTree(dir: string, signal: AbortSignal): Promise<Tree> {
  signal.throwIfAborted();
  const tree = emptyTree();
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.name.startsWith('.') || e.name === '__MACOSX') {
      tree.hidden.push(full);
      continue;
    }
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      // Symlinked files are followed; symlinked folders are not, so a link cycle cannot loop forever.
      const s = await stat(full).catch(() => null);
      isFile = s?.isFile() ?? false;
      isDir = false;
      if (!s) tree.hidden.push(full);
    }
    if (isDir) tree.dirs.set(e.name, await diskTree(full, signal));
    else if (isFile) tree.files.push({ name: e.name, origin: full, path: full, read: () => readSourceFile(full) });
  }
  return tree;
}

/** A zip read like a dataset root; entries are listed now and expanded one at a time when read. */
async function zipTree(file: string): Promise<Tree> {
  const archive = await ZipArchive.open(file);
  const root = emptyTree();
  const wanted: ZipEntry[] = [];
  for (const entry of archive.entries) {
    const name = entry.name;
    if (entry.isDirectory) continue;
    const parts = name.split('/').filter((p) => p.length > 0);
    const fileName = parts.pop();
    if (!fileName) continue;
    const origin = `${file}:${name}`;
    if ([...parts, fileName].some((p) => p.startsWith('.') || p === '__MACOSX')) {
      root.hidden.push(origin);
      continue;
    }
    let node = root;
    for (const p of parts) {
      let next = node.dirs.get(p);
      if (!next) node.dirs.set(p, (next = emptyTree()));
      node = next;
    }
    if (skipReason(fileName) === null) wanted.push(entry);
    node.files.push({ name: fileName, origin, path: null, read: () => archive.read(entry) });
  }
  // Only the entries that will be read count against the limits: a big video beside the images is skipped anyway.
  archive.checkLimits(wanted);
  return root;
}

function allFiles(tree: Tree, out: Tree['files'], hidden: string[]): void {
  out.push(...tree.files);
  hidden.push(...tree.hidden);
  for (const sub of tree.dirs.values()) allFiles(sub, out, hidden);
}

function addFiles(files: Tree['files'], className: string, result: ScanResult): void {
  for (const f of files) {
    const reason = skipReason(f.name);
    if (reason) result.skipped.push({ path: f.origin, reason });
    else
      result.candidates.push({
        origin: f.origin,
        className,
        path: f.path,
        ext: extname(f.name).toLowerCase(),
        read: f.read,
      });
  }
}

function addTree(tree: Tree, ownName: string | null, result: ScanResult): void {
  for (const h of tree.hidden) result.skipped.push({ path: h, reason: 'hidden or system file' });
  const images = tree.files.filter((f) => skipReason(f.name) === null);
  const wrapper = images.length === 0 && tree.dirs.size === 1 ? [...tree.dirs.values()][0] : undefined;
  if (wrapper && wrapper.dirs.size > 0) {
    addFiles(tree.files, UNASSIGNED_CLASS, result);
    addTree(wrapper, null, result);
    return;
  }
  if (tree.dirs.size === 0) {
    addFiles(tree.files, ownName ?? UNASSIGNED_CLASS, result);
    return;
  }
  addFiles(tree.files, UNASSIGNED_CLASS, result);
  for (const [name, sub] of tree.dirs) {
    const files: Tree['files'] = [];
    const hidden: string[] = [];
    allFiles(sub, files, hidden);
    for (const h of hidden) result.skipped.push({ path: h, reason: 'hidden or system file' });
    addFiles(files, name, result);
  }
}

/** Splits one CSV line (RFC 4180 quotes). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

async function addCsv(file: string, result: ScanResult): Promise<void> {
  let text: string;
  try {
    text = (await readSourceFile(file)).toString('utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new AppError('invalid_data', `Cannot read the list ${file}: ${e instanceof Error ? e.message : String(e)}.`);
  }
  const base = dirname(file);
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const [p = '', label = ''] = parseCsvLine(line);
    if (i === 0 && p.toLowerCase() === 'path' && ['label', 'class'].includes(label.toLowerCase())) return;
    const full = isAbsolute(p) ? p : resolve(base, p);
    const reason = skipReason(basename(full));
    if (reason) result.skipped.push({ path: full, reason: `${reason} (${basename(file)} line ${i + 1})` });
    else
      result.candidates.push({
        origin: full,
        className: label || UNASSIGNED_CLASS,
        path: full,
        ext: extname(full).toLowerCase(),
        read: () => readSourceFile(full),
      });
  });
}

/** Scans dropped sources into candidates (with classes) and skipped files (with reasons). */
export async function scanSources(sources: readonly string[], signal: AbortSignal): Promise<ScanResult> {
  const result: ScanResult = { candidates: [], skipped: [] };
  for (const src of sources) {
    signal.throwIfAborted();
    const s = await stat(src).catch(() => null);
    if (!s) throw new AppError('not_found', `Cannot find ${src}.`);
    if (s.isDirectory()) addTree(await diskTree(src, signal), basename(resolve(src)), result);
    else if (extname(src).toLowerCase() === '.zip') addTree(await zipTree(src), null, result);
    else if (extname(src).toLowerCase() === '.csv') await addCsv(src, result);
    else
      addFiles(
        [{ name: basename(src), origin: src, path: src, read: () => readSourceFile(src) }],
        UNASSIGNED_CLASS,
        result,
      );
  }
  return { ...result, candidates: firstOfEachPath(result.candidates) };
}

/**
 * The first candidate of each file: a dropped list names images that are dropped beside it too, and the list's labels
 * must win whichever worker reaches the file first (sources are ordered so lists come first; see [Note: upload
 * sessions]).
 */
function firstOfEachPath(candidates: readonly Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => c.path === null || (!seen.has(c.path) && Boolean(seen.add(c.path))));
}
