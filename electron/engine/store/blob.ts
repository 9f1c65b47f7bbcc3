/**
 * @file The one pair of helpers that turn float vectors into SQLite BLOBs and back (engine, plain Node).
 *
 * [Note: float blobs] Embeddings and tensors are stored as little-endian float32 bytes, whatever the
 * machine's endianness, so a database or an exported project moves between machines unchanged. On a
 * little-endian machine (every platform the app ships for) the bytes are copied in one go; the
 * per-value path is the big-endian fallback and about 20x slower.
 */
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/** Encodes float32 values as a little-endian BLOB. */
export function floatsToBlob(values: Float32Array | readonly number[]): Buffer {
  if (LITTLE_ENDIAN && values instanceof Float32Array)
    return Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i] ?? 0, i * 4);
  return buf;
}

/** Decodes a little-endian float32 BLOB; `dim`, when given, must match the length. */
export function blobToFloats(blob: Uint8Array, dim?: number): Float32Array {
  if (blob.byteLength % 4 !== 0) throw new Error(`A float32 blob has ${blob.byteLength} bytes, not a multiple of 4.`);
  const n = blob.byteLength / 4;
  if (dim !== undefined && dim !== n) throw new Error(`A float32 blob holds ${n} values where ${dim} were recorded.`);
  // A copy: the result must not alias (or depend on the alignment of) the driver's buffer.
  if (LITTLE_ENDIAN) return new Float32Array(new Uint8Array(blob).buffer);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
