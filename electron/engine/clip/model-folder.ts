/**
 * @file Loads and validates a CLIP model folder in Hugging Face layout (engine, plain Node).
 *
 * [Note: model folder] A model folder is what the hub serves for `Xenova/clip-vit-*`:
 * `config.json`, `preprocessor_config.json`, a tokenizer (`tokenizer.json` or `vocab.json` +
 * `merges.txt`) and `onnx/{text,vision}_model{,_fp16,_quantized}.onnx`. Every size, mean, std, crop,
 * resample and special token is read from these files, never hard-coded. Validation happens once, on
 * load, and each failure is an `invalid_model` error naming the file and what is wrong with it
 * (missing, not JSON, truncated, not a CLIP graph, wrong input names, dimension mismatch), because
 * users import folders from disk and the message is all they get.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { quoted } from '../../../shared/describe-input';
import { AppError } from '../../../shared/result';
import { ONNX_ELEM_TYPES, OnnxTruncatedError, readOnnxHeader, type OnnxHeader } from './onnx-header';

/** Everything the runtime needs to know about a model folder. */
export interface ClipModelInfo {
  dir: string;
  /** Stable id from the config files and the model files' sizes. */
  id: string;
  variant: 'fp32' | 'fp16' | 'quantized';
  textModelPath: string;
  visionModelPath: string;
  config: {
    projectionDim: number;
    text: { width: number; layers: number; heads: number; contextLength: number; vocabSize: number };
    vision: { imageSize: number; patchSize: number; width: number };
  };
  preprocess: {
    shortestEdge: number;
    cropHeight: number;
    cropWidth: number;
    mean: [number, number, number];
    std: [number, number, number];
    resample: number;
    rescaleFactor: number;
    doCenterCrop: boolean;
    doNormalize: boolean;
  };
  /** 100 unless the model carries its own (see science.md: `logit_scale_init_value` is not it). */
  logitScale: number;
  /** Whether the text graph takes an `attention_mask` input besides `input_ids`. */
  textHasAttentionMask: boolean;
}

/** File-name suffix of each variant. */
export const VARIANT_SUFFIXES: Record<ClipModelInfo['variant'], string> = {
  fp32: '',
  fp16: '_fp16',
  quantized: '_quantized',
};
const VARIANT_ORDER: ClipModelInfo['variant'][] = ['fp32', 'fp16', 'quantized'];

function invalid(message: string): AppError {
  return new AppError('invalid_model', message);
}

async function readJson(dir: string, name: string): Promise<Record<string, unknown>> {
  const path = join(dir, name);
  if (!existsSync(path)) throw invalid(`The model folder ${dir} has no ${name}.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw invalid(`${name} in ${dir} is not valid JSON (${(e as Error).message}); the file may be truncated.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid(`${name} in ${dir} is not a JSON object.`);
  return parsed as Record<string, unknown>;
}

function num(obj: Record<string, unknown> | undefined, key: string, file: string, fallback?: number): number {
  const v = obj?.[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (fallback !== undefined && v === undefined) return fallback;
  throw invalid(`${file} lacks a numeric "${key}"${v === undefined ? '' : ` (found ${quoted(v)})`}.`);
}

/** A size or count: a whole number from `min` (and below 2^31, as ONNX dimensions are). */
function whole(obj: Record<string, unknown> | undefined, key: string, file: string, fallback: number, min = 1): number {
  const v = num(obj, key, file, fallback);
  if (!Number.isInteger(v) || v < min || v >= (key === 'resample' ? 6 : 2 ** 31))
    throw invalid(`${file}'s "${key}" must be a whole number of at least ${min}, found ${quoted(v)}.`);
  return v;
}

function triple(v: unknown, key: string): [number, number, number] {
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    return [v[0] as number, v[1] as number, v[2] as number];
  throw invalid(`preprocessor_config.json's "${key}" must be three numbers, found ${quoted(v)}.`);
}

/** Reads `preprocessor_config.json` (CLIPImageProcessor / CLIPFeatureExtractor, old and new size formats). */
function readPreprocess(p: Record<string, unknown>): ClipModelInfo['preprocess'] {
  const size = p['size'];
  const shortestEdge =
    typeof size === 'number'
      ? size
      : num(size as Record<string, unknown> | undefined, 'shortest_edge', 'preprocessor_config.json "size"');
  const crop = p['crop_size'];
  const cropHeight =
    typeof crop === 'number'
      ? crop
      : num(crop as Record<string, unknown>, 'height', 'preprocessor_config.json "crop_size"');
  const cropWidth =
    typeof crop === 'number'
      ? crop
      : num(crop as Record<string, unknown>, 'width', 'preprocessor_config.json "crop_size"');
  for (const [name, v] of [
    ['size', shortestEdge],
    ['crop height', cropHeight],
    ['crop width', cropWidth],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 4096)
      throw invalid(
        `preprocessor_config.json's ${name} must be a whole number of pixels between 1 and 4096, got ${v}.`,
      );
  }
  const std = triple(p['image_std'], 'image_std');
  if (std.some((s) => s <= 0))
    throw invalid(`preprocessor_config.json's "image_std" must be positive, got ${quoted(std)}.`);
  return {
    shortestEdge,
    cropHeight,
    cropWidth,
    mean: triple(p['image_mean'], 'image_mean'),
    std,
    // Pillow's codes: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming.
    resample: whole(p, 'resample', 'preprocessor_config.json', 3, 0),
    rescaleFactor: p['do_rescale'] === false ? 1 : num(p, 'rescale_factor', 'preprocessor_config.json', 1 / 255),
    doCenterCrop: p['do_center_crop'] !== false,
    doNormalize: p['do_normalize'] !== false,
  };
}

/** Reads `config.json` (a `CLIPModel` with `text_config` and `vision_config`). */
function readConfig(c: Record<string, unknown>): ClipModelInfo['config'] {
  const text = c['text_config'] as Record<string, unknown> | undefined;
  const vision = c['vision_config'] as Record<string, unknown> | undefined;
  if (c['model_type'] !== 'clip' || typeof text !== 'object' || typeof vision !== 'object')
    throw invalid(
      `config.json does not describe a CLIP model (model_type ${quoted(c['model_type'])}; a CLIP config has model_type "clip" with text_config and vision_config).`,
    );
  const projectionDim = whole(c, 'projection_dim', 'config.json', 512);
  const textProj = whole(text, 'projection_dim', 'config.json text_config', projectionDim);
  const visionProj = whole(vision, 'projection_dim', 'config.json vision_config', projectionDim);
  if (textProj !== projectionDim || visionProj !== projectionDim)
    throw invalid(
      `config.json's projection dimensions disagree: projection_dim ${projectionDim}, text ${textProj}, vision ${visionProj}; the two encoders must embed into the same space.`,
    );
  return {
    projectionDim,
    text: {
      width: whole(text, 'hidden_size', 'config.json text_config', 512),
      layers: whole(text, 'num_hidden_layers', 'config.json text_config', 12),
      heads: whole(text, 'num_attention_heads', 'config.json text_config', 8),
      contextLength: whole(text, 'max_position_embeddings', 'config.json text_config', 77, 2),
      vocabSize: whole(text, 'vocab_size', 'config.json text_config', 49408),
    },
    vision: {
      imageSize: whole(vision, 'image_size', 'config.json vision_config', 224),
      patchSize: whole(vision, 'patch_size', 'config.json vision_config', 32),
      width: whole(vision, 'hidden_size', 'config.json vision_config', 768),
    },
  };
}

function header(path: string, rel: string): OnnxHeader {
  try {
    return readOnnxHeader(path);
  } catch (e) {
    if (e instanceof OnnxTruncatedError)
      throw invalid(`${rel} is truncated (${e.message}); it was probably cut off during a copy or download.`);
    throw invalid(`${rel} is not an ONNX model (${(e as Error).message}).`);
  }
}

function describe(v: { name: string; elemType: number; dims: unknown[] }): string {
  return `${quoted(v.name, 60)} ${ONNX_ELEM_TYPES[v.elemType] ?? `type ${v.elemType}`} [${v.dims
    .slice(0, 8)
    .map((d) => (d === null ? '?' : typeof d === 'string' ? d.slice(0, 30) : String(d)))
    .join(', ')}]`;
}

/** Checks one encoder graph's inputs and its embedding output; returns the output's numeric width, if declared. */
function checkGraph(
  h: OnnxHeader,
  rel: string,
  kind: 'text' | 'vision',
): { embedDim: number | undefined; hasMask: boolean; inputDims: (number | string | null)[] } {
  const inputName = kind === 'text' ? 'input_ids' : 'pixel_values';
  const outputName = kind === 'text' ? 'text_embeds' : 'image_embeds';
  const input = h.inputs.find((i) => i.name === inputName);
  const output = h.outputs.find((o) => o.name === outputName);
  if (!output)
    throw invalid(
      `${rel} is not a CLIP ${kind} encoder: it has no "${outputName}" output (outputs: ${
        h.outputs
          .map((o) => quoted(o.name, 60))
          .slice(0, 8)
          .join(', ') || 'none'
      }).`,
    );
  if (!input)
    throw invalid(
      `${rel} has the wrong inputs: expected "${inputName}", found ${h.inputs.slice(0, 8).map(describe).join('; ') || 'none'}.`,
    );
  const allowed = kind === 'text' ? ['input_ids', 'attention_mask', 'position_ids'] : ['pixel_values'];
  const extra = h.inputs.filter((i) => !allowed.includes(i.name));
  if (extra.length > 0)
    throw invalid(`${rel} has inputs the CLIP runtime cannot feed: ${extra.slice(0, 8).map(describe).join('; ')}.`);
  const wantType = kind === 'text' ? [7, 6] : [1, 10];
  if (!wantType.includes(input.elemType))
    throw invalid(
      `${rel}'s input ${describe(input)} has the wrong element type (expected ${kind === 'text' ? 'int64' : 'float32'}).`,
    );
  if (input.dims.length !== (kind === 'text' ? 2 : 4))
    throw invalid(
      `${rel}'s input ${describe(input)} has the wrong rank (expected ${kind === 'text' ? '[batch, tokens]' : '[batch, 3, height, width]'}).`,
    );
  const last = output.dims[output.dims.length - 1];
  return {
    embedDim: typeof last === 'number' ? last : undefined,
    hasMask: h.inputs.some((i) => i.name === 'attention_mask'),
    inputDims: input.dims,
  };
}

function pickVariant(dir: string, wanted: ClipModelInfo['variant'] | undefined): ClipModelInfo['variant'] {
  const files = (v: ClipModelInfo['variant']) => [
    `onnx/text_model${VARIANT_SUFFIXES[v]}.onnx`,
    `onnx/vision_model${VARIANT_SUFFIXES[v]}.onnx`,
  ];
  if (wanted) {
    const missing = files(wanted).filter((f) => !existsSync(join(dir, f)));
    if (missing.length > 0) {
      const have = VARIANT_ORDER.filter((v) => files(v).every((f) => existsSync(join(dir, f))));
      throw invalid(
        `The model folder ${dir} has no ${missing.join(' and no ')} for the ${wanted} variant${have.length ? ` (it has: ${have.join(', ')})` : ''}.`,
      );
    }
    return wanted;
  }
  const found = VARIANT_ORDER.find((v) => files(v).every((f) => existsSync(join(dir, f))));
  if (!found) {
    const missing = files('fp32').filter((f) => !existsSync(join(dir, f)));
    throw invalid(`The model folder ${dir} has no ${missing.join(' and no ')} (nor an _fp16 or _quantized pair).`);
  }
  return found;
}

/** Loads and validates a model folder (see [Note: model folder]); throws `invalid_model` with the precise reason. */
export async function loadModelFolder(
  dir: string,
  opts: { variant?: ClipModelInfo['variant'] } = {},
): Promise<ClipModelInfo> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw invalid(`The model folder ${root} does not exist.`);
  const configRaw = await readJson(root, 'config.json');
  const preRaw = await readJson(root, 'preprocessor_config.json');
  const config = readConfig(configRaw);
  const preprocess = readPreprocess(preRaw);
  const hasTokenizer =
    existsSync(join(root, 'tokenizer.json')) ||
    (existsSync(join(root, 'vocab.json')) && existsSync(join(root, 'merges.txt')));
  if (!hasTokenizer) throw invalid(`The model folder ${root} has no tokenizer.json and no vocab.json + merges.txt.`);
  const variant = pickVariant(root, opts.variant);
  const s = VARIANT_SUFFIXES[variant];
  const textRel = `onnx/text_model${s}.onnx`;
  const visionRel = `onnx/vision_model${s}.onnx`;
  const textModelPath = join(root, textRel);
  const visionModelPath = join(root, visionRel);
  const th = header(textModelPath, textRel);
  const vh = header(visionModelPath, visionRel);
  const t = checkGraph(th, textRel, 'text');
  const v = checkGraph(vh, visionRel, 'vision');
  if (t.embedDim !== undefined && v.embedDim !== undefined && t.embedDim !== v.embedDim)
    throw invalid(
      `The encoders do not match: ${textRel} embeds into ${t.embedDim} dimensions and ${visionRel} into ${v.embedDim}; they must come from the same CLIP model.`,
    );
  for (const [rel, d] of [
    [textRel, t.embedDim],
    [visionRel, v.embedDim],
  ] as const) {
    if (d !== undefined && d !== config.projectionDim)
      throw invalid(`${rel} embeds into ${d} dimensions but config.json says projection_dim ${config.projectionDim}.`);
  }
  const ctx = t.inputDims[1];
  if (typeof ctx === 'number') config.text.contextLength = ctx;
  const [, channels, height, width] = v.inputDims;
  if (typeof channels === 'number' && channels !== 3)
    throw invalid(`${visionRel} takes ${channels} channels; CLIP takes 3.`);
  if (
    (typeof height === 'number' && height !== preprocess.cropHeight) ||
    (typeof width === 'number' && width !== preprocess.cropWidth)
  )
    throw invalid(
      `${visionRel} takes ${String(height)}x${String(width)} images but preprocessor_config.json crops to ${preprocess.cropHeight}x${preprocess.cropWidth}.`,
    );
  const carried = configRaw['logit_scale'];
  const logitScale = typeof carried === 'number' && Number.isFinite(carried) ? Math.exp(carried) : 100;
  if (!Number.isFinite(logitScale) || logitScale <= 0)
    throw invalid(
      `config.json's "logit_scale" ${quoted(carried)} gives a scale of ${logitScale}; it must be a finite positive number.`,
    );
  const hash = createHash('sha256');
  hash.update(JSON.stringify(configRaw)).update(JSON.stringify(preRaw)).update(variant);
  hash.update(`${basename(textModelPath)}:${th.fileSize};${basename(visionModelPath)}:${vh.fileSize}`);
  return {
    dir: root,
    id: `clip-${hash.digest('hex').slice(0, 16)}`,
    variant,
    textModelPath,
    visionModelPath,
    config,
    preprocess,
    logitScale,
    textHasAttentionMask: t.hasMask,
  };
}
