/**
 * @file Contract of the sample datasets that ship with the app, offered to a new user on the first screen (pure
 * TypeScript).
 *
 * [Note: samples by name] The UI names a sample, never a path: the engine resolves the name inside its own
 * resources/samples folder, so the web page needs no path on the engine's disk and cannot point the import anywhere
 * else.
 */
import { z } from 'zod';
import { job, op } from './define';
import type { ImportProgress, ImportReport } from './projects';

/** One bundled sample: a folder of class folders. */
export interface SampleDataset {
  /** The folder's name (`patterns`): what `sampleImport` takes. */
  name: string;
  /** Its class folders, sorted. */
  classes: string[];
  /** Images in all its classes. */
  images: number;
}

/** Sample-dataset operations (see [Note: samples by name]). */
export const samplesOps = {
  sampleList: op<{ samples: SampleDataset[] }>()(
    z.object({}),
    'List the sample datasets bundled with the app (one folder of class folders each), sorted by name.',
  ),
  sampleImport: job<ImportReport, ImportProgress>()(
    z.object({ projectId: z.number().int().positive(), sample: z.string().min(1).max(200) }),
    'Import a bundled sample dataset (by its name, as sampleList gives it) into a project.',
  ),
};
