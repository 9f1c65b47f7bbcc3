/**
 * @file Imports a model folder from disk, by copy or by reference (engine, plain Node).
 *
 * [Note: import modes] `copy` copies only the files the chosen variant needs (the root files and the
 * two ONNX files of that variant, not every variant or stray file of the source) into
 * `downloads/`, validates the copy and installs it with one rename (see [Note: atomic install]).
 * `reference` validates the folder where it is and installs a manifest that points at it, which
 * saves the disk space of a copy; the model shows a `problem` in the list if that folder goes away.
 * Both record every file's size and sha256 in the manifest.
 */
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { InstalledModel, ManifestFile, ModelVariant } from '../../../shared/contract/models';
import { AppError } from '../../../shared/result';
import { variantFiles } from './catalogue';
import { sha256File } from './http-download';
import {
  assertInstallable,
  commitInstall,
  findInstalled,
  importId,
  setActiveModel,
  stagingRoot,
  writeManifest,
} from './model-store';
import { validateModelFolder } from './validate';

/** What to import. */
export interface ImportRequest {
  path: string;
  mode: 'copy' | 'reference';
  variant: ModelVariant;
  name?: string | undefined;
  force: boolean;
  activate: boolean;
}

/** Imports a model folder; resolves with the installed model. */
export async function importModel(dataDir: string, req: ImportRequest, signal?: AbortSignal): Promise<InstalledModel> {
  const source = resolve(req.path);
  if (!existsSync(source) || !statSync(source).isDirectory())
    throw new AppError('not_found', `There is no folder at ${source}.`);
  const id = importId(req.name ?? basename(source), req.variant);
  assertInstallable(dataDir, id, req.force);
  await validateModelFolder(source, req.variant);
  const present = variantFiles(req.variant)
    .map((f) => f.path)
    .filter((p) => existsSync(join(source, p)));

  const work = join(stagingRoot(dataDir), `.import-${id}-${process.pid}-${Date.now()}`);
  await mkdir(work, { recursive: true });
  try {
    const files: ManifestFile[] = [];
    for (const p of present) {
      signal?.throwIfAborted();
      if (req.mode === 'copy') {
        await mkdir(dirname(join(work, p)), { recursive: true });
        await copyFile(join(source, p), join(work, p));
      }
      const from = req.mode === 'copy' ? join(work, p) : join(source, p);
      files.push({ path: p, bytes: statSync(from).size, sha256: await sha256File(from, signal) });
    }
    if (req.mode === 'copy') await validateModelFolder(work, req.variant);
    await writeManifest(work, {
      schema: 1,
      id,
      source: req.mode === 'copy' ? 'import-copy' : 'import-reference',
      repo: null,
      revision: null,
      variant: req.variant,
      origin: source,
      path: req.mode === 'reference' ? source : null,
      files,
      installedAt: new Date().toISOString(),
    });
    await commitInstall(dataDir, work, id, req.force);
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  return req.activate ? setActiveModel(dataDir, id) : findInstalled(dataDir, id);
}
