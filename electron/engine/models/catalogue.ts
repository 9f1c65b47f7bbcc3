/**
 * @file The catalogue of downloadable CLIP models and the file list of each variant (engine, plain Node).
 *
 * [Note: catalogue sizes] Published sizes are known for ViT-B/32 (text 254 MB, vision 352 MB in
 * fp32; 65 + 89 MB quantized). The other sizes are estimates from the encoders' parameter counts
 * (4 bytes per parameter in fp32, 2 in fp16, about 1.02 in the int8 exports, which is what the
 * B/32 figures give) and are flagged `approximate`. They are for display only: a download verifies
 * against the sizes and hashes the server announces, never against this table.
 */
import type { CatalogueFile, CatalogueModel, CatalogueVariant, ModelVariant } from '../../../shared/contract/models';
import { MODEL_VARIANTS } from '../../../shared/contract/models';

/** A file of a model folder: where it is in the repository and whether a model can do without it. */
export interface RepoFile {
  path: string;
  required: boolean;
}

/**
 * The root files of a Hugging Face CLIP folder. The tokenizer comes as `tokenizer.json` or as
 * `vocab.json` + `merges.txt`, so none of those three is required on its own; `loadModelFolder`
 * decides after download whether what arrived is a usable model.
 */
const ROOT_FILES: RepoFile[] = [
  { path: 'config.json', required: true },
  { path: 'preprocessor_config.json', required: true },
  { path: 'tokenizer.json', required: false },
  { path: 'tokenizer_config.json', required: false },
  { path: 'vocab.json', required: false },
  { path: 'merges.txt', required: false },
  { path: 'special_tokens_map.json', required: false },
];

/** File-name suffix of each variant's ONNX files. */
export const VARIANT_SUFFIX: Record<ModelVariant, string> = { fp32: '', fp16: '_fp16', quantized: '_quantized' };

/** The files to fetch for one variant of a repository in Hugging Face ONNX layout (catalogue or not). */
export function variantFiles(variant: ModelVariant): RepoFile[] {
  const s = VARIANT_SUFFIX[variant];
  return [
    ...ROOT_FILES,
    { path: `onnx/text_model${s}.onnx`, required: true },
    { path: `onnx/vision_model${s}.onnx`, required: true },
  ];
}

// Approximate sizes of the small root files of the Xenova CLIP repositories.
const ROOT_BYTES: Record<string, number> = {
  'config.json': 4_200,
  'preprocessor_config.json': 320,
  'tokenizer.json': 2_220_000,
  'tokenizer_config.json': 700,
  'vocab.json': 862_000,
  'merges.txt': 525_000,
  'special_tokens_map.json': 400,
};

const BYTES_PER_PARAM: Record<ModelVariant, number> = { fp32: 4, fp16: 2, quantized: 1.02 };

interface Spec {
  repo: string;
  title: string;
  description: string;
  paramsM: { text: number; vision: number };
  imageSize: number;
  embedDim: number;
  /** Published sizes in MB (10^6 bytes) of the ONNX files, where known. */
  published?: Partial<Record<ModelVariant, { text: number; vision: number }>>;
}

const SPECS: Spec[] = [
  {
    repo: 'Xenova/clip-vit-base-patch32',
    title: 'CLIP ViT-B/32',
    description: 'OpenAI CLIP, base vision transformer with 32-pixel patches: the fastest, a good default.',
    paramsM: { text: 63.4, vision: 87.8 },
    imageSize: 224,
    embedDim: 512,
    published: { fp32: { text: 254, vision: 352 }, quantized: { text: 65, vision: 89 } },
  },
  {
    repo: 'Xenova/clip-vit-base-patch16',
    title: 'CLIP ViT-B/16',
    description: 'OpenAI CLIP, base vision transformer with 16-pixel patches: more accurate, about 4x the image cost.',
    paramsM: { text: 63.4, vision: 86.2 },
    imageSize: 224,
    embedDim: 512,
  },
  {
    repo: 'Xenova/clip-vit-large-patch14',
    title: 'CLIP ViT-L/14',
    description: 'OpenAI CLIP, large vision transformer with 14-pixel patches: the most accurate, slow on CPU.',
    paramsM: { text: 123.7, vision: 304.0 },
    imageSize: 224,
    embedDim: 768,
  },
];

function onnxBytes(spec: Spec, variant: ModelVariant, encoder: 'text' | 'vision'): CatalogueFile['bytes'] {
  const known = spec.published?.[variant]?.[encoder];
  if (known !== undefined) return known * 1e6;
  return Math.round(spec.paramsM[encoder] * 1e6 * BYTES_PER_PARAM[variant]);
}

function catalogueVariant(spec: Spec, variant: ModelVariant): CatalogueVariant {
  const s = VARIANT_SUFFIX[variant];
  const known = spec.published?.[variant] !== undefined;
  const files: CatalogueFile[] = [
    ...ROOT_FILES.map((f) => ({ path: f.path, bytes: ROOT_BYTES[f.path] ?? 0, approximate: true })),
    { path: `onnx/text_model${s}.onnx`, bytes: onnxBytes(spec, variant, 'text'), approximate: !known },
    { path: `onnx/vision_model${s}.onnx`, bytes: onnxBytes(spec, variant, 'vision'), approximate: !known },
  ];
  return {
    variant,
    files,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    approximate: files.some((f) => f.approximate),
  };
}

/** The download catalogue. */
export const CATALOGUE: readonly CatalogueModel[] = SPECS.map((spec) => ({
  repo: spec.repo,
  title: spec.title,
  description: spec.description,
  paramsM: spec.paramsM,
  imageSize: spec.imageSize,
  embedDim: spec.embedDim,
  variants: MODEL_VARIANTS.map((v) => catalogueVariant(spec, v)),
}));

/** The catalogue entry of a repository, if it is in the catalogue (any repository can still be downloaded). */
export function findCatalogueModel(repo: string): CatalogueModel | undefined {
  return CATALOGUE.find((m) => m.repo.toLowerCase() === repo.toLowerCase());
}
