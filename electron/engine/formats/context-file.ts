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
import { AppError } from '../../../shared/result';

/** The format tag and version written into every context file. */
export const CONTEXT_FORMAT = 'coop-studio-context';
/** Bumped when the metadata changes incompatibly. */
export const CONTEXT_FORMAT_VERSION = 1;

/** Nearest vocabulary tokens of one context vector. */
export interface NearestTokens {
  position: number;
  tokens: { token: string; id: number; distance: number }[];
}

/** Everything a context file says about itself. */
export interface ContextMetadata {
  formatVersion: number;
  method: 'coop';
  model: { id: string; dir: string; files: { path: string; bytes: number; sha256?: string }[] };
  tokenizer: { kind: string; vocabSize: number; contextLength: number };
  classNames: string[];
  prompts: string[];
  nCtx: number;
  csc: boolean;
  position: 'end' | 'middle' | 'front';
  init: string;
  seed: number;
  shots: number;
  epochs: number;
  augViews: number;
  backend: string;
  /** Final metrics, fractions in [0, 1]. */
  metrics: Record<string, number | null>;
  appVersion: string;
  nearestTokens: NearestTokens[];
  createdAt: string;
}

/** A loaded context: its tensor data, shape and metadata. */
export interface ContextFile {
  ctx: Float32Array;
  shape: number[];
  meta: ContextMetadata;
}

const JSON_KEYS = ['model', 'tokenizer', 'classNames', 'prompts', 'metrics', 'nearestTokens'] as const;

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

/** Parses and validates safetensors bytes written by {@link encodeContextFile}. */
export function decodeContextFile(bytes: Uint8Array, path = 'The file'): ContextFile {
  if (bytes.length < 8) throw bad(path, 'it is shorter than a safetensors header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.length) throw bad(path, 'its header length is out of range');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch {
    throw bad(path, 'its header is not JSON');
  }
  const md = header['__metadata__'] as Record<string, string> | undefined;
  if (!md || md['format'] !== CONTEXT_FORMAT) throw bad(path, `its metadata does not say format "${CONTEXT_FORMAT}"`);
  const version = Number(md['formatVersion']);
  if (version !== CONTEXT_FORMAT_VERSION)
    throw bad(
      path,
      `format version ${md['formatVersion'] ?? '?'} is not supported (this app reads ${CONTEXT_FORMAT_VERSION})`,
    );
  const t = header['ctx'] as { dtype?: string; shape?: number[]; data_offsets?: [number, number] } | undefined;
  if (!t || t.dtype !== 'F32' || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets))
    throw bad(path, 'it has no F32 tensor "ctx"');
  const n = t.shape.reduce((a, b) => a * b, 1);
  const [from, to] = t.data_offsets;
  const base = 8 + headerLen;
  if (to - from !== n * 4 || base + to > bytes.length) throw bad(path, 'the tensor data is truncated or mis-sized');
  const ctx = new Float32Array(n);
  for (let i = 0; i < n; i++) ctx[i] = view.getFloat32(base + from + i * 4, true);
  const meta: Record<string, unknown> = {};
  try {
    for (const [k, v] of Object.entries(md)) {
      if (k === 'format') continue;
      meta[k] = (JSON_KEYS as readonly string[]).includes(k) ? JSON.parse(v) : v;
    }
  } catch {
    throw bad(path, 'a metadata value is not valid JSON');
  }
  for (const k of ['formatVersion', 'nCtx', 'seed', 'shots', 'epochs', 'augViews'] as const) meta[k] = Number(meta[k]);
  meta['csc'] = meta['csc'] === 'true';
  const m = meta as unknown as ContextMetadata;
  if (!Array.isArray(m.classNames) || !Array.isArray(m.prompts) || m.classNames.length !== m.prompts.length)
    throw bad(path, 'its class names and prompts are missing or of different lengths');
  if (!['end', 'middle', 'front'].includes(m.position)) throw bad(path, `unknown class position "${m.position}"`);
  const expected = m.csc ? [m.classNames.length, m.nCtx] : [m.nCtx];
  if (t.shape.length !== expected.length + 1 || expected.some((d, i) => t.shape?.[i] !== d))
    throw bad(path, `tensor shape [${t.shape.join(', ')}] does not match ${m.csc ? 'C, ' : ''}M = ${m.nCtx}`);
  return { ctx, shape: t.shape, meta: m };
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
