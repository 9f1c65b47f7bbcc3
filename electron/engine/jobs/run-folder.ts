/**
 * @file A learning run as the exports read it: its context file, result and test images, from a run folder or from
 * the store by run id, and the model it needs (engine worker, plain Node).
 *
 * [Note: run folders] A run is the output folder of `learn --out` (or the folder a project run writes under the data
 * folder): `context.safetensors` (the context with its metadata) and `result.json` (the `learn` result: curve,
 * reports, split sizes, settings). The test images of a run are not listed in it. For a project run (the result names
 * its project and run id) the store recorded them: they are read from there, so the export is checked on the
 * project's own images whatever folder the server runs in. For a folder run the split is a pure function of the
 * dataset folder, the shots and the seed (see [Note: seeded randomness]), so it is recomputed. A project run can also
 * be named by its id in the store.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { exportRunArgs } from '../../../shared/contract/methods';
import type { LearnResult } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { openClipModel, type ClipModel } from '../clip/clip-model';
import { readFolderDataset } from '../data/folder-dataset';
import { readContextFile, type ContextFile } from '../formats/context-file';
import { openModel } from '../models/open-model';
import { storeDb } from '../store/db';
import { getRunDetail } from '../store/runs-repo';
import { fewShotSplit } from '../train/splits';

/** Arguments of `exportRun` after parsing. */
export type ExportArgs = z.output<typeof exportRunArgs>;

/** A run's files, read and checked. */
export interface RunFolder {
  dir: string;
  contextPath: string;
  context: ContextFile;
  result: LearnResult | null;
  /** The run's test images when the store recorded them (project runs). */
  testImages?: { path: string; label: number }[];
}

/** The test images the store recorded for a project run. */
function storedTestImages(dataDir: string, runId: number): { path: string; label: number }[] {
  return getRunDetail(storeDb(dataDir), runId)
    .images.filter((im) => im.split === 'test')
    .map((im) => ({ path: im.path, label: im.label }));
}

/** A project run of the store by id: its recorded context file, result and test images. */
async function readStoreRun(id: number, dataDir: string): Promise<RunFolder> {
  const detail = getRunDetail(storeDb(dataDir), id);
  const contextPath = detail.context?.path;
  if (!contextPath)
    throw new AppError('not_found', `Run ${id} has no learned context file recorded (status: ${detail.status}).`);
  return {
    dir: dirname(contextPath),
    contextPath,
    context: await readContextFile(contextPath),
    result: detail.result,
    testImages: storedTestImages(dataDir, id),
  };
}

/** Reads a run folder, or a project run by its id (see [Note: run folders]). */
export async function readRunFolder(run: string, dataDir: string): Promise<RunFolder> {
  if (/^\d+$/.test(run) && !existsSync(run)) return readStoreRun(Number(run), dataDir);
  const dir = resolve(run);
  const contextPath = join(dir, 'context.safetensors');
  const context = await readContextFile(contextPath).catch((e: unknown) => {
    if (e instanceof AppError && e.code === 'not_found')
      throw new AppError(
        'not_found',
        `${dir} is not a run folder: it has no context.safetensors (a run folder is what \`learn --out DIR\` writes).`,
      );
    throw e;
  });
  let result: LearnResult | null = null;
  try {
    result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as LearnResult;
  } catch {
    result = null;
  }
  return { dir, contextPath, context, result };
}

/** The run's test images (see [Note: run folders]); for a project run, the ones the store recorded. */
export async function runTestImages(run: RunFolder, dataDir: string): Promise<{ path: string; label: number }[]> {
  if (run.testImages) return run.testImages;
  const r = run.result;
  if (!r) throw new AppError('not_found', `${run.dir} has no result.json, so its test images are unknown.`);
  if (r.project) {
    const { id, name, runId } = r.project;
    let stored: { path: string; label: number }[] | null = null;
    try {
      const detail = getRunDetail(storeDb(dataDir), runId);
      if (detail.projectId === id) stored = storedTestImages(dataDir, runId);
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'not_found')) throw e;
    }
    if (!stored)
      throw new AppError(
        'not_found',
        `${run.dir} was learned in project "${name}" (run ${runId}), and this data folder's store does not have that run, so its test images are unknown. Export it from the data folder it was learned in.`,
      );
    return stored;
  }
  const ds = await readFolderDataset(r.data.root);
  const testDs = r.data.test ? await readFolderDataset(r.data.test) : null;
  const byName = new Map(testDs?.classes.map((c) => [c.name, c.files]) ?? []);
  return fewShotSplit(
    ds.classes.map((c) => c.files),
    {
      shots: r.settings.shots,
      seed: r.settings.seed,
      ...(testDs ? { testFiles: ds.classes.map((c) => byName.get(c.name) ?? []) } : {}),
    },
  ).test;
}

/** The model an export needs: the one given (folder or installed id), else the run's own model folder. */
export async function modelFor(args: ExportArgs, run: RunFolder, dataDir: string): Promise<ClipModel> {
  if (args.model) return openModel(dataDir, args.model);
  const dir = run.result?.model.dir ?? run.context.meta.model.dir;
  try {
    return await openClipModel(dir);
  } catch (e) {
    throw new AppError(
      'not_found',
      `The run's model folder ${dir} cannot be opened; give the folder or installed id of model "${run.context.meta.model.id}".`,
      e instanceof Error ? e.message : String(e),
    );
  }
}
