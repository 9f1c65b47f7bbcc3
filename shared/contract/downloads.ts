/**
 * @file Contract of downloads: an export of a run or a project prepared as one file the browser can save (pure
 * TypeScript).
 *
 * In web mode the engine's disk is not the browser's: `prepareDownload` runs the export into the data folder, packs
 * several files into one zip named after the project and run, and answers with the URL path of the file (served by
 * `coop-studio serve` behind its token; the page adds its token as for thumbnails) and its path on disk (for "copy
 * path", and for the desktop app's save dialog). See [Note: downloads] in electron/engine/jobs/downloads.ts.
 */
import { z } from 'zod';
import { job } from './define';
import { EXPORT_FORMATS, type ExportResult, type MethodsProgress } from './methods';
import { TRAIN_BACKENDS } from './train';

/** Arguments of `prepareDownload`: a run's export (the formats of `exportRun`), or a whole project (.coopproj). */
export const prepareDownloadArgs = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('run'),
    /** A run folder, or a project run's id in the store (as `exportRun` takes it). */
    run: z.string().min(1),
    format: z.enum(EXPORT_FORMATS),
    model: z.string().min(1).optional(),
    backend: z.enum(TRAIN_BACKENDS).optional(),
  }),
  z.object({
    kind: z.literal('project'),
    projectId: z.number().int().positive(),
    includeImages: z.boolean().default(true),
  }),
]);

/** A file ready to download. */
export interface PreparedDownload {
  /** The name the browser saves it under, e.g. `Shapes-run3-onnx.zip` or `Shapes.coopproj`. */
  fileName: string;
  /** URL path of the file on `coop-studio serve` (`/download/<id>/<name>`); add the page's token to fetch it. */
  url: string;
  /** The file on the engine's disk. */
  path: string;
  bytes: number;
  /** The exported files it holds (their names inside the zip, or the one file). */
  contents: string[];
  /** The run export's own report (the ONNX classifier's verification, ...); null for a project. */
  export: ExportResult | null;
  /** When the prepared file may be removed (prepared files are kept a day). */
  expiresAt: number;
}

/** Download operations. */
export const downloadsOps = {
  prepareDownload: job<PreparedDownload, MethodsProgress>()(
    prepareDownloadArgs,
    'Prepare an export (a run as context, ONNX classifier, features or results; or a whole project) as one file to download: its URL path and its path on disk.',
  ),
};
