/**
 * @file Contract of the model manager and the app settings: catalogue, download, import, remove, active model
 * (pure TypeScript).
 *
 * [Note: model ids] An installed model has a stable id that is also its folder name under `<dataDir>/models/`:
 * `<owner>--<name>--<revision>--<variant>` for downloads, `local--<name>--<variant>` for imports, and `demo-clip`
 * for the embedded demo model (which lives in the app's resources, is always listed, and is active by default).
 */
import { z } from 'zod';
import { job, op } from './define';

/** Weight formats of the Hugging Face CLIP exports (`onnx/text_model{,_fp16,_quantized}.onnx`). */
export const MODEL_VARIANTS = ['fp32', 'fp16', 'quantized'] as const;
/** One of {@link MODEL_VARIANTS}. */
export type ModelVariant = (typeof MODEL_VARIANTS)[number];

/** Id of the embedded demo model, the default active model. */
export const DEMO_MODEL_ID = 'demo-clip';

/** One file of a catalogue variant. */
export interface CatalogueFile {
  /** Path inside the repository, e.g. `onnx/text_model.onnx`. */
  path: string;
  bytes: number;
  /** True when `bytes` is an estimate (from parameter counts) rather than a published size. */
  approximate: boolean;
}

/** One downloadable weight format of a catalogue model. */
export interface CatalogueVariant {
  variant: ModelVariant;
  files: CatalogueFile[];
  totalBytes: number;
  approximate: boolean;
}

/** A model users can download. */
export interface CatalogueModel {
  repo: string;
  title: string;
  description: string;
  /** Parameters of the text and vision encoders, in millions. */
  paramsM: { text: number; vision: number };
  imageSize: number;
  embedDim: number;
  variants: CatalogueVariant[];
}

/** How a model came to be on this machine. */
export type ModelSource = 'embedded' | 'download' | 'import-copy' | 'import-reference';

/** One file recorded in a model manifest. */
export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** The `model.json` manifest written into every installed model folder. */
export interface ModelManifest {
  schema: 1;
  id: string;
  source: ModelSource;
  repo: string | null;
  revision: string | null;
  variant: ModelVariant;
  /** Where the files came from: the download endpoint, or the imported folder. */
  origin: string;
  /** For `import-reference`: the folder that holds the model files (they are not copied). */
  path: string | null;
  files: ManifestFile[];
  installedAt: string;
}

/** An installed model as listed. */
export interface InstalledModel {
  id: string;
  source: ModelSource;
  repo: string | null;
  revision: string | null;
  variant: ModelVariant;
  /** The folder holding the model files (what `loadModelFolder` takes). */
  dir: string;
  bytes: number;
  fileCount: number;
  installedAt: string | null;
  active: boolean;
  /** Set when the model cannot be used as is (referenced folder gone, manifest unreadable). */
  problem: string | null;
}

/** A download that stopped before the end (cancelled, failed, app quit): the same download resumes it. */
export interface PartialDownload {
  id: string;
  /** Bytes already on disk. */
  bytes: number;
  updatedAt: string;
  /** True while a download of it is running (in this or another process). */
  running: boolean;
}

/** Where the download endpoint in force comes from. */
export type EndpointSource = 'argument' | 'environment' | 'setting' | 'default';

/** Result of `modelsList`. */
export interface ModelsListing {
  activeId: string;
  installed: InstalledModel[];
  /** Unfinished downloads; `modelsRemove` with their id discards them. */
  partial: PartialDownload[];
  catalogue: CatalogueModel[];
  endpoint: string;
  endpointSource: EndpointSource;
}

/** Phases of a download job, in order. */
export type DownloadPhase = 'resolve' | 'download' | 'verify' | 'validate' | 'install';

/** Progress of `modelsDownload`. */
export interface DownloadProgress {
  phase: DownloadPhase;
  /** The file in flight (repository path), or null between files. */
  file: string | null;
  fileIndex: number;
  fileCount: number;
  fileBytes: number;
  fileTotal: number;
  /** Bytes on disk over all files (resumed bytes included) and the total expected. */
  bytes: number;
  total: number;
  /** Bytes per second over the last seconds of this job's transfers. */
  bytesPerSecond: number;
  etaSeconds: number | null;
  /** Set on the first event of a file resumed from a `.part` file: the bytes already there. */
  resumedFrom?: number;
}

/** The app settings (`<dataDir>/settings.json`); other domains may add keys. */
export interface AppSettings {
  /** Hugging Face endpoint for downloads; the environment variable `COOP_STUDIO_HF_ENDPOINT` wins over it. */
  hfEndpoint?: string;
  /** Id of the active model; absent means the embedded demo model. */
  activeModel?: string;
  [key: string]: unknown;
}

/** An http(s) URL. */
export const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL');

/** A Hugging Face repository name `owner/name`. */
export const repoSchema = z
  .string()
  .regex(/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/, 'must look like owner/name')
  .refine((r) => !r.includes('..'), 'must not contain ".."');

/** Model manager operations. */
export const modelsOps = {
  modelsList: op<ModelsListing>()(
    z.object({}),
    'Installed models (with the active one), the download catalogue and the endpoint in force.',
  ),
  modelsDownload: job<InstalledModel, DownloadProgress>()(
    z.object({
      repo: repoSchema,
      variant: z.enum(MODEL_VARIANTS).default('fp32'),
      revision: z
        .string()
        .regex(/^[\w.-]+$/, 'must be a branch, tag or commit without slashes')
        .default('main'),
      endpoint: httpUrl.optional(),
      /** Replace an installed copy of the same model. */
      force: z.boolean().default(false),
      /** Make it the active model once installed. */
      activate: z.boolean().default(false),
    }),
    'Download a model variant from `{endpoint}/{repo}/resolve/{revision}/{file}`: resumable, verified, installed atomically.',
  ),
  modelsImport: op<InstalledModel>()(
    z.object({
      path: z.string().min(1),
      /** `copy` copies the files into the data folder; `reference` leaves them where they are. */
      mode: z.enum(['copy', 'reference']).default('copy'),
      variant: z.enum(MODEL_VARIANTS).default('fp32'),
      /** Name part of the id (`local--<name>--<variant>`); defaults to the folder name. */
      name: z
        .string()
        .regex(/^[\w.-]+$/)
        .optional(),
      force: z.boolean().default(false),
      activate: z.boolean().default(false),
    }),
    'Import a model folder in Hugging Face layout from disk, after validating it.',
  ),
  modelsRemove: op<{ removed: string; activeId: string }>()(
    z.object({ id: z.string().min(1) }),
    'Remove an installed model (a referenced folder is left on disk) or discard an unfinished download; the demo model cannot be removed.',
  ),
  modelsSetActive: op<InstalledModel>()(
    z.object({ id: z.string().min(1) }),
    'Make an installed model the active one (stored in the settings).',
  ),
};
