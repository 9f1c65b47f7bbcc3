/**
 * @file `prepareDownload`: an export of a run or a project as one file in the data folder, for the browser to save
 * (engine worker, plain Node).
 *
 * [Note: downloads] The export runs into a fresh folder `<dataFolder>/ready-downloads/<id>/` (the id is 128 random
 * bits); one file is renamed after the project and run, several are packed into one zip named after them (stored, not
 * compressed: ONNX weights do not compress and the zip is streamed, never held in memory). The web server serves
 * `/download/<id>/<name>` from there behind its token (electron/hosts/server/file-routes.ts); the desktop app copies
 * `path` where its save dialog says. Prepared files are kept a day and removed by the next preparation after that; a
 * failed or cancelled preparation leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { Zip, ZipPassThrough } from 'fflate';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import type { PreparedDownload, prepareDownloadArgs } from '../../../shared/contract/downloads';
import type { ExportResult, MethodsProgress } from '../../../shared/contract/methods';
import { DOWNLOADS_FOLDER, downloadUrl, safeDownloadName } from '../../../shared/files';
import { storeDb } from '../store/db';
import { getProject } from '../store/projects-repo';
import { exportProject } from './portable';
import { runExport } from './run-export';
import { readRunFolder } from './run-folder';

type DownloadArgs = z.output<typeof prepareDownloadArgs>;

/** How long a prepared download is kept. */
export const DOWNLOAD_TTL_MS = 24 * 60 * 60 * 1000;

/** Removes prepared downloads older than {@link DOWNLOAD_TTL_MS} (best effort). */
async function pruneOld(root: string): Promise<void> {
  if (!existsSync(root)) return;
  const now = Date.now();
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    const s = statSync(dir, { throwIfNoEntry: false });
    if (s && now - s.mtimeMs > DOWNLOAD_TTL_MS) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Writes `files` into one zip at `out`, streamed (stored entries; see [Note: downloads]). */
export async function writeZip(out: string, files: { name: string; path: string }[]): Promise<void> {
  const stream = createWriteStream(out);
  const zip = new Zip();
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    zip.ondata = (err, chunk, final) => {
      if (err) {
        reject(err);
        return;
      }
      stream.write(chunk);
      if (final) stream.end(() => resolve());
    };
  });
  for (const f of files) {
    const entry = new ZipPassThrough(f.name);
    entry.mtime = (await stat(f.path)).mtime;
    zip.add(entry);
    for await (const chunk of createReadStream(f.path)) {
      entry.push(new Uint8Array(chunk as Buffer));
      if (stream.writableNeedDrain) await once(stream, 'drain');
    }
    entry.push(new Uint8Array(0), true);
  }
  zip.end();
  await finished;
}

/** What a run's download is named after: its project and run, or its folder. */
async function runTitle(run: string, dataDir: string): Promise<string> {
  const r = await readRunFolder(run, dataDir);
  const p = r.result?.project;
  return p ? `${p.name}-run${p.runId}` : basename(r.dir);
}

/** Runs `prepareDownload` (see [Note: downloads]). */
export async function prepareDownload(
  args: DownloadArgs,
  env: { dataDir: string },
  job: JobContext<MethodsProgress>,
): Promise<PreparedDownload> {
  const root = join(env.dataDir, DOWNLOADS_FOLDER);
  await pruneOld(root);
  const id = randomBytes(16).toString('hex');
  const dir = join(root, id);
  const work = join(dir, '.export');
  await mkdir(work, { recursive: true });
  try {
    let files: string[];
    let title: string;
    let exported: ExportResult | null = null;
    let zipName: string;
    if (args.kind === 'run') {
      title = await runTitle(args.run, env.dataDir);
      const { kind: _kind, ...exportArgs } = args;
      exported = await runExport({ ...exportArgs, out: work }, env, job);
      files = exported.files;
      zipName = `${title}-${args.format}.zip`;
    } else {
      const project = getProject(storeDb(env.dataDir), args.projectId);
      title = project.name;
      job.progress({ kind: 'phase', message: `Exporting project "${project.name}"` });
      const file = join(work, `${safeDownloadName(project.name)}.coopproj`);
      await exportProject(storeDb(env.dataDir), args.projectId, file, args.includeImages);
      files = [file];
      zipName = `${title}.zip`;
    }
    job.signal.throwIfAborted();
    const contents = files.map((f) => basename(f));
    const single = files.length === 1 ? files[0] : undefined;
    const fileName = safeDownloadName(
      single ? (args.kind === 'project' ? basename(single) : `${title}-${basename(single)}`) : zipName,
    );
    const path = join(dir, fileName);
    if (single) await rename(single, path);
    else {
      job.progress({ kind: 'phase', message: `Packing ${files.length} files into ${fileName}` });
      await writeZip(
        path,
        files.map((f) => ({ name: basename(f), path: f })),
      );
    }
    await rm(work, { recursive: true, force: true });
    return {
      fileName,
      url: downloadUrl(id, fileName),
      path,
      bytes: (await stat(path)).size,
      contents,
      export: exported,
      expiresAt: Date.now() + DOWNLOAD_TTL_MS,
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}
