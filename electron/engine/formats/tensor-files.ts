/**
 * @file Float32 matrices as NumPy `.npy` (format 1.0) and as multi-tensor safetensors files (engine, pure TypeScript).
 *
 * [Note: tensor files] `.npy` 1.0: the magic `\x93NUMPY`, version 1.0, a little-endian uint16 header length, then a
 * Python dict literal padded with spaces and a newline so the data starts at a multiple of 64 bytes, then C-order
 * little-endian float32 values. safetensors: an 8-byte little-endian header length, a JSON header (tensor dtype, shape,
 * byte offsets, and an all-strings `__metadata__` map), padded with spaces to 8 bytes, then the data. Both load in
 * Python with `numpy.load` and `safetensors.numpy.load_file` with no app code.
 */

/** One named float32 tensor. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** A float32 array as `.npy` bytes. */
export function encodeNpy(shape: number[], data: Float32Array): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: shape [${shape.join(', ')}] needs ${n} values, got ${data.length}.`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(littleEndianBytes(data), 10 + header.length);
  return out;
}

/** Several float32 tensors and string metadata as safetensors bytes. */
export function encodeSafetensors(tensors: NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${t.name} has ${t.data.length} values, shape says ${n}.`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  const enc = new TextEncoder();
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (enc.encode(json).length % 8)) % 8);
  const headerBytes = enc.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    out.set(littleEndianBytes(t.data), at);
    at += t.data.length * 4;
  }
  return out;
}

/** Reads back the tensors of a safetensors file written by {@link encodeSafetensors} (tests and import). */
export function decodeSafetensors(bytes: Uint8Array): { tensors: NamedTensor[]; metadata: Record<string, string> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as Record<string, unknown>;
  const base = 8 + len;
  const tensors: NamedTensor[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = v as { shape: number[]; data_offsets: [number, number] };
    const data = new Float32Array((t.data_offsets[1] - t.data_offsets[0]) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(base + t.data_offsets[0] + i * 4, true);
    tensors.push({ name, shape: t.shape, data });
  }
  return { tensors, metadata: (header['__metadata__'] ?? {}) as Record<string, string> };
}
