/**
 * @file The one pair of helpers that turn float vectors into SQLite BLOBs and back (engine, plain Node).
 *
 * [Note: float blobs] Embeddings and tensors are stored as little-endian float32 bytes, whatever the
 * machine's endianness, so a database or an exported project moves between machines unchanged.
 */

/** Encodes float32 values as a little-endian BLOB. */
export function floatsToBlob(values: Float32Array | readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i] ?? 0, i * 4);
  return buf;
}

/** Decodes a little-endian float32 BLOB; `dim`, when given, must match the length. */
export function blobToFloats(blob: Uint8Array, dim?: number): Float32Array {
  if (blob.byteLength % 4 !== 0) throw new Error(`A float32 blob has ${blob.byteLength} bytes, not a multiple of 4.`);
  const n = blob.byteLength / 4;
  if (dim !== undefined && dim !== n) throw new Error(`A float32 blob holds ${n} values where ${dim} were recorded.`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
