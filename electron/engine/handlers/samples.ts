/**
 * @file Handlers of the sample datasets under resources/samples: list them, import one into a project by name
 * (engine, plain Node). See [Note: samples by name] in shared/contract/samples.ts.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { HandlersFor } from '../../../shared/contract';
import type { SampleDataset, samplesOps } from '../../../shared/contract/samples';
import { IMAGE_EXTENSIONS } from '../../../shared/image-files';
import { AppError } from '../../../shared/result';
import { importData } from '../jobs/import-data';
import { resourcesDir } from '../settings/paths';
import { storeDb } from '../store/db';
import type { EngineEnv } from './env';

/** Sub-folders of `dir`, sorted; none when it cannot be read. */
async function folders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The samples in `root`: every folder with at least two class folders holding images. */
export async function listSamples(root = join(resourcesDir(), 'samples')): Promise<SampleDataset[]> {
  const samples: SampleDataset[] = [];
  for (const name of await folders(root)) {
    const classes = await folders(join(root, name));
    let images = 0;
    for (const c of classes) {
      const files = await readdir(join(root, name, c)).catch(() => []);
      images += files.filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).length;
    }
    if (classes.length >= 2 && images > 0) samples.push({ name, classes, images });
  }
  return samples;
}

/** Handlers for {@link samplesOps}. */
export function samplesHandlers(env: EngineEnv): HandlersFor<typeof samplesOps> {
  const root = join(resourcesDir(), 'samples');
  return {
    async sampleList() {
      return { samples: await listSamples(root) };
    },
    async sampleImport({ projectId, sample }, { progress, signal }) {
      // Only a name the list gives: never a path the caller made up.
      if (!(await listSamples(root)).some((s) => s.name === sample)) {
        throw new AppError('not_found', `There is no sample dataset called "${sample}".`);
      }
      const sources = [join(root, sample)];
      // Copied into the project, so that it keeps working when the app is updated or moved.
      return importData(storeDb(env.dataDir), {
        projectId,
        sources,
        copy: true,
        dataDir: env.dataDir,
        progress,
        signal,
      });
    },
  };
}
