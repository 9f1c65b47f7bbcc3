/**
 * @file What an import says to the user: upload sessions routed into the import like the desktop's drops, files named
 * as the user dropped them, plain reasons, and a warning when nothing came in (engine worker, plain Node).
 *
 * [Note: upload sessions] In web mode a drop is streamed into `<dataFolder>/uploads/<session>/` (see [Note: web
 * uploads] in electron/hosts/server/file-routes.ts), so the session folder holds exactly what was dropped. When an
 * import is given a session folder itself, each thing in it is imported as its own source, as the desktop app
 * imports each dropped path: a dropped .zip is read as a dataset and a .csv as a list (they come first, so images
 * a list names get its labels), a folder by its layout, an image as a loose image. Without this a dropped zip was one
 * file inside a folder, and was skipped as "not an image (.zip)".
 *
 * [Note: import labels] Every skipped or unreadable file is listed by the user's own name for it (relative to what
 * was dropped: `Shapes/circle/notes.txt`, `ds.zip:circle/a.png`; never an upload or temp path) with a plain reason
 * ("not an image", "damaged file", "too large", ...) and a `problem` code a front end can phrase; the message of the
 * library or file system that found it stays in `detail`, for logs. An import that imported nothing carries a
 * `warning`: it is not a success.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import { count } from '../../../shared/words';
import type { ImportFileIssue, ImportProblem, ImportReport, ImportWarning } from '../../../shared/contract/projects';
import { UPLOADS_FOLDER } from '../../../shared/files';

/** An import report as the import job builds it: engine paths and the raw reasons of the scan and the decoder. */
export type RawImportReport = Omit<ImportReport, 'skippedFiles' | 'failedFiles' | 'duplicateFiles' | 'warning'> & {
  skippedFiles: { path: string; reason: string }[];
  failedFiles: { path: string; reason: string }[];
  duplicateFiles: { path: string; sameAs: string }[];
};

const uploadsOf = (dataDir: string) => resolve(dataDir, UPLOADS_FOLDER);

/** The sources of an import with every upload session folder replaced by what it holds (see [Note: upload sessions]). */
export function expandUploadSessions(sources: readonly string[], dataDir: string): string[] {
  const uploads = uploadsOf(dataDir);
  return sources.flatMap((src) => {
    const full = resolve(src);
    if (dirname(full) !== uploads || !statSync(full, { throwIfNoEntry: false })?.isDirectory()) return [src];
    const rank = (name: string) => (['.csv', '.zip'].includes(extname(name).toLowerCase()) ? 0 : 1);
    return readdirSync(full)
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
      .map((name) => resolve(full, name));
  });
}

const slashes = (p: string) => p.split(sep).join('/');

/** The user's own name for a file an import met (see [Note: import labels]). */
export function userFileName(origin: string, sources: readonly string[], dataDir: string): string {
  const uploads = uploadsOf(dataDir);
  const bySpecificity = [...sources].sort((a, b) => b.length - a.length);
  for (const src of bySpecificity) {
    const full = resolve(src);
    // What was dropped is named from its parent folder (for a session's items: the session).
    const base = dirname(full);
    for (const s of new Set([src, full])) {
      if (origin === s) return slashes(relative(base, full)) || basename(full);
      if (origin.startsWith(`${s}:`)) return `${basename(full)}:${origin.slice(s.length + 1)}`;
      if (origin.startsWith(s + sep)) return slashes(relative(base, origin));
    }
    // A list names its images relative to its own folder.
    if (extname(full).toLowerCase() === '.csv' && origin.startsWith(dirname(full) + sep))
      return slashes(relative(dirname(full), origin));
  }
  if (origin.startsWith(uploads + sep)) return slashes(relative(uploads, origin)).split('/').slice(1).join('/');
  return origin;
}

const PLAIN: Record<ImportProblem, string> = {
  not_an_image: 'not an image',
  hidden: 'hidden or system file',
  damaged: 'damaged file',
  truncated: 'truncated file (cut off)',
  too_large: 'too large',
  empty: 'empty file',
  not_a_file: 'not a regular file (a folder, device or pipe)',
  missing: 'not found (a list names it, but there is no such file)',
  unreadable: 'cannot be read',
};

const TOO_LARGE = /pixel limit|too large|more than the .*MiB|exceeds|looks like a zip bomb/i;
/** The image checks' word for a file that stops before its end (see [Note: image problems] in clip/image-problem.ts). */
const TRUNCATED = /\btruncated\b/i;
/** A file (or zip entry) whose bytes are there but wrong: the archive's and the image checks' words for it. */
const DAMAGED = /corrupt|damaged|checksum does not match/i;

/** Node's words for a path with nothing behind it. */
const MISSING = /\bENOENT\b|no such file or directory/i;

/** The problem of a failure that is neither a scan's skip nor a decoder's. */
const otherProblem = (detail: string): ImportProblem =>
  /^not a regular file/.test(detail)
    ? 'not_a_file'
    : MISSING.test(detail)
      ? 'missing'
      : TOO_LARGE.test(detail)
        ? 'too_large'
        : TRUNCATED.test(detail)
          ? 'truncated'
          : DAMAGED.test(detail)
            ? 'damaged'
            : 'unreadable';

/** The problem behind a raw reason of the scan or the decoder, with the raw text as detail. */
export function plainProblem(raw: string): { problem: ImportProblem; reason: string; detail?: string } {
  const after = (prefix: string) => raw.slice(prefix.length).trim();
  let problem: ImportProblem;
  let detail: string | undefined = raw;
  if (raw.startsWith('hidden or system file')) {
    problem = 'hidden';
    detail = undefined;
  } else if (raw.startsWith('not an image')) problem = 'not_an_image';
  else if (raw.startsWith('empty file')) problem = 'empty';
  else if (raw.startsWith('unreadable image:')) {
    detail = after('unreadable image:');
    // The image checks say "not an image ..." for bytes of no image format, whatever the file's name.
    problem = detail.startsWith('not an image')
      ? 'not_an_image'
      : detail.startsWith('the file is empty')
        ? 'empty'
        : TOO_LARGE.test(detail)
          ? 'too_large'
          : TRUNCATED.test(detail)
            ? 'truncated'
            : 'damaged';
  } else if (raw.startsWith('cannot read the file:')) {
    detail = after('cannot read the file:');
    problem = otherProblem(detail);
  } else problem = otherProblem(raw);
  return { problem, reason: PLAIN[problem], ...(detail ? { detail } : {}) };
}

/** The warning of an import that imported nothing, or null; `failedFiles` are the report's, with their problems. */
function nothingImported(r: RawImportReport, failedFiles: readonly ImportFileIssue[]): ImportWarning | null {
  if (r.imported > 0) return null;
  const images = r.total - r.skipped;
  if (images <= 0)
    return {
      code: 'nothing_imported',
      why: 'no_images',
      message:
        r.total === 0
          ? 'Nothing was imported: no files were found.'
          : `Nothing was imported: none of the ${count(r.skipped, 'file')} is an image.`,
    };
  if (r.duplicates === images)
    return {
      code: 'nothing_imported',
      why: 'all_duplicates',
      message: `Nothing new was imported: ${images === 1 ? 'the image is' : `all ${images} images are`} already in the project.`,
    };
  const missing = failedFiles.filter((f) => f.problem === 'missing').length;
  if (r.failed === images && missing === images)
    return {
      code: 'nothing_imported',
      why: 'all_failed',
      message: `Nothing was imported: ${images === 1 ? 'the file the list names was' : `none of the ${images} files the list names was`} found.`,
    };
  if (r.failed === images)
    return {
      code: 'nothing_imported',
      why: 'all_failed',
      message: `Nothing was imported: ${images === 1 ? 'the image' : `none of the ${images} images`} could be read.`,
    };
  return {
    code: 'nothing_imported',
    why: 'mixed',
    message: `Nothing was imported: ${count(r.duplicates, 'image')} already in the project, ${r.failed} could not be read, ${r.skipped} skipped.`,
  };
}

/** The report the user gets (see [Note: import labels]). */
export function userReport(r: RawImportReport, sources: readonly string[], dataDir: string): ImportReport {
  const name = (p: string) => userFileName(p, sources, dataDir);
  const issue = (f: { path: string; reason: string }): ImportFileIssue => ({
    path: f.path,
    name: name(f.path),
    ...plainProblem(f.reason),
  });
  const failedFiles = r.failedFiles.map(issue);
  return {
    ...r,
    skippedFiles: r.skippedFiles.map(issue),
    failedFiles,
    duplicateFiles: r.duplicateFiles.map((d) => ({ ...d, name: name(d.path), sameAsName: name(d.sameAs) })),
    warning: nothingImported(r, failedFiles),
  };
}
