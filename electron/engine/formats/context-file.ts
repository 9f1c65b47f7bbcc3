/**
 * @file The learned context as one self-describing safetensors file: write and read back (engine, plain Node).
 *
 * [Note: context file] Research checkpoints of CoOp carry no metadata, so users cannot tell which backbone, class
 * names or variant a file belongs to. We write the safetensors format (8-byte little-endian header length, a JSON
 * header, then the raw little-endian data) with one F32 tensor `ctx` ([M, W] unified or [C, M, W] class-specific) and
 * the `__metadata__` string map the format allows. Structured values (class names, metrics, ...) are JSON strings
 * inside that map, because safetensors metadata values must be strings; any safetensors reader (Python included) can
 * load the tensor, and `readContextFile` validates the rest.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { CLASS_POSITIONS, LEARN_METHODS, TRAIN_SCHEDULES } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import { describeIssues, quoted } from '../../../shared/describe-input';

/** The format tag and version written into every context file. */
export const CONTEXT_FORMAT = 'coop-studio-context';
/** Bumped when the metadata changes incompatibly. */
export const CONTEXT_FORMAT_VERSION = 1;

const int = z.number().int();

const nearestTokensSchema = z.object({
  position: int,
  tokens: z.array(z.object({ token: z.string(), id: int, distance: z.number() })),
});
/** Nearest vocabulary tokens of one context vector. */
export type NearestTokens = z.infer<typeof nearestTokensSchema>;

/**
 * Everything a context file says about itself, as {@link decodeContextFile} checks it: the values the app computes
 * with (sizes, class names, position) must be of their type and range, or the file is refused.
 */
const contextMetadataSchema = z.object({
  formatVersion: int,
  method: z.enum(LEARN_METHODS),
  /** KgCoOp's lambda (KgCoOp contexts only). */
  kgLambda: z.number().min(0).optional(),
  model: z.object({
    id: z.string().min(1),
    dir: z.string(),
    files: z.array(z.object({ path: z.string(), bytes: z.number(), sha256: z.string().optional() })),
  }),
  tokenizer: z.object({ kind: z.string(), vocabSize: int.min(1), contextLength: int.min(2) }),
  classNames: z.array(z.string()).min(1),
  /**
   * The class names the user sees, in `classNames` order (a project's class names as edited); absent in files
   * written before they were recorded, where `classNames` is all there is. See [Note: class display names].
   */
  classLabels: z.array(z.string()).optional(),
  prompts: z.array(z.string()).min(1),
  nCtx: int.min(1),
  csc: z.boolean(),
  position: z.enum(CLASS_POSITIONS),
  init: z.string(),
  seed: int,
  shots: int.min(0),
  epochs: int.min(0),
  /** The training schedule; absent in files written before schedules existed. */
  schedule: z.enum(TRAIN_SCHEDULES).optional(),
  augViews: int.min(0),
  backend: z.string(),
  /** Final metrics, fractions in [0, 1]. */
  metrics: z.record(z.string(), z.number().nullable()),
  appVersion: z.string(),
  nearestTokens: z.array(nearestTokensSchema),
  createdAt: z.string(),
});
/** Everything a context file says about itself. */
export type ContextMetadata = z.infer<typeof contextMetadataSchema>;

/** A loaded context: its tensor data, shape and metadata. */
export interface ContextFile {
  ctx: Float32Array;
  shape: number[];
  meta: ContextMetadata;
}

const JSON_KEYS = ['model', 'tokenizer', 'classNames', 'classLabels', 'prompts', 'metrics', 'nearestTokens'] as const;

function metadataMap(meta: ContextMetadata): Record<string, string> {
  const out: Record<string, string> = { format: CONTEXT_FORMAT };
  for (const [k, v] of Object.entries(meta)) {
    out[k] = (JSON_KEYS as readonly string[]).includes(k) ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** Serialises a context to safetensors bytes (header padded with spaces to 8 bytes, as the format recommends). */
export function encodeContextFile(file: ContextFile): Uint8Array {
  const n = file.shape.reduce((a, b) => a * b, 1);
  if (n !== file.ctx.length) throw new AppError('internal', `ctx has ${file.ctx.length} values, shape says ${n}.`);
  const header = {
    __metadata__: metadataMap(file.meta),
    ctx: { dtype: 'F32', shape: file.shape, data_offsets: [0, n * 4] },
  };
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  const len = enc.encode(json).length;
  json += ' '.repeat((8 - (len % 8)) % 8);
  const headerBytes = enc.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + n * 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (let i = 0; i < n; i++) view.setFloat32(base + i * 4, file.ctx[i] ?? 0, true);
  return out;
}

function bad(path: string, why: string): AppError {
  return new AppError('invalid_data', `${path} is not a valid CoOp Studio context file: ${why}.`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDim = (d: unknown): d is number => Number.isSafeInteger(d) && (d as number) > 0;

/** Parses and validates safetensors bytes written by {@link encodeContextFile}. */
export function decodeContextFile(bytes: Uint8Array, path = 'The file'): ContextFile {
  if (bytes.length < 8) throw bad(path, 'it is shorter than a safetensors header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen <= 0n || 8n + headerLen > BigInt(bytes.length)) throw bad(path, 'its header length is out of range');
  const base = 8 + Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, base)));
  } catch {
    throw bad(path, 'its header is not JSON');
  }
  if (!isRecord(header)) throw bad(path, 'its header is not a JSON object');
  const md = header['__metadata__'];
  if (!isRecord(md) || md['format'] !== CONTEXT_FORMAT)
    throw bad(path, `its metadata does not say format "${CONTEXT_FORMAT}"`);
  const version = Number(md['formatVersion']);
  if (version !== CONTEXT_FORMAT_VERSION)
    throw bad(
      path,
      `format version ${quoted(md['formatVersion'])} is not supported (this app reads ${CONTEXT_FORMAT_VERSION})`,
    );
  const t = header['ctx'];
  if (!isRecord(t) || t['dtype'] !== 'F32' || !Array.isArray(t['shape']) || !Array.isArray(t['data_offsets']))
    throw bad(path, 'it has no F32 tensor "ctx"');
  const shape: unknown[] = t['shape'];
  if (shape.length === 0 || !shape.every(isDim))
    throw bad(path, `the tensor shape ${quoted(shape)} is not a list of positive whole numbers`);
  const [from, to] = t['data_offsets'] as unknown[];
  if (
    !Number.isSafeInteger(from) ||
    !Number.isSafeInteger(to) ||
    (from as number) < 0 ||
    (to as number) < (from as number)
  )
    throw bad(path, 'its data offsets are not two whole numbers in order');
  const n = shape.reduce((a, b) => a * b, 1);
  if ((to as number) - (from as number) !== n * 4 || base + (to as number) > bytes.length)
    throw bad(path, 'the tensor data is truncated or mis-sized');
  const ctx = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = view.getFloat32(base + (from as number) + i * 4, true);
    if (!Number.isFinite(v)) throw bad(path, `value ${i} of the context is ${v}, not a finite number`);
    ctx[i] = v;
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(md)) {
    if (k === 'format') continue;
    if (typeof v !== 'string')
      throw bad(path, `metadata ${quoted(k)} is not a string (safetensors metadata are strings)`);
    try {
      meta[k] = (JSON_KEYS as readonly string[]).includes(k) ? JSON.parse(v) : v;
    } catch {
      throw bad(path, `metadata ${quoted(k)} is not valid JSON`);
    }
  }
  for (const k of ['formatVersion', 'nCtx', 'seed', 'shots', 'epochs', 'augViews', 'kgLambda'] as const)
    if (typeof meta[k] === 'string') meta[k] = Number(meta[k]);
  if (meta['csc'] === 'true' || meta['csc'] === 'false') meta['csc'] = meta['csc'] === 'true';
  const parsed = contextMetadataSchema.safeParse(meta);
  if (!parsed.success) {
    throw bad(path, describeIssues(parsed.error.issues, 'metadata', 1));
  }
  const m = parsed.data;
  if (m.classNames.length !== m.prompts.length) throw bad(path, 'its class names and prompts are of different lengths');
  if (m.classLabels !== undefined && m.classLabels.length !== m.classNames.length)
    throw bad(path, 'its class labels do not match its class names');
  const expected = m.csc ? [m.classNames.length, m.nCtx] : [m.nCtx];
  if (shape.length !== expected.length + 1 || expected.some((d, i) => shape[i] !== d))
    throw bad(path, `tensor shape [${shape.join(', ')}] does not match ${m.csc ? 'C, ' : ''}M = ${m.nCtx}`);
  return { ctx, shape, meta: m };
}

/** The parts of a model a context is checked against. */
export interface ContextModel {
  info: { id: string; dir: string; config: { text: { width: number } } };
}

/**
 * Refuses a context learned with another model: context vectors live in one text encoder's token-embedding space
 * and mean nothing in another's, so predictions would be silently wrong. A file that names this model but whose
 * vectors have another width was damaged or edited, and says so.
 */
export function assertContextFits(file: ContextFile, model: ContextModel, path: string): void {
  const width = file.shape[file.shape.length - 1];
  const { id, dir, config } = model.info;
  if (file.meta.model.id !== id)
    throw new AppError(
      'invalid_data',
      `${path} was learned with model ${quoted(file.meta.model.id)} (${quoted(file.meta.model.dir)}), not with "${id}" (${dir}). A learned context only works with the model it was learned with.`,
      undefined,
      {
        reason: 'model_mismatch',
        facts: { contextModel: { id: file.meta.model.id, dir: file.meta.model.dir }, model: { id, dir } },
      },
    );
  if (width !== config.text.width)
    throw new AppError(
      'invalid_data',
      `${path} names model "${id}" but holds context vectors of width ${width}, while that model's text encoder has width ${config.text.width}: the file was damaged or edited.`,
    );
}

/** Writes a context file atomically (temp file + rename). */
export async function writeContextFile(path: string, file: ContextFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, encodeContextFile(file));
  await rename(tmp, path);
}

/** Reads and validates a context file; missing files are `not_found`. */
export async function readContextFile(path: string): Promise<ContextFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not_found', `The context file ${path} does not exist.`);
    throw new AppError('io_error', `Cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return decodeContextFile(bytes, path);
}
