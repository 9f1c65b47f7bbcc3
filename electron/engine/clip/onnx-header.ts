/**
 * @file Reads the inputs, outputs and opsets of an ONNX file without loading its weights (engine, plain Node).
 *
 * [Note: ONNX header scan] Validating a 350 MB model by creating an ORT session takes seconds and
 * says little ("protobuf parsing failed"). Instead we walk the protobuf wire format with positioned
 * reads: the top-level `ModelProto` fields, then the `GraphProto` fields, skipping nodes and
 * initializers by their length prefix and decoding only the small `ValueInfoProto`s of the graph
 * inputs and outputs. A length prefix that runs past the end of the file means the file is
 * truncated (an interrupted copy or download), which we can then say in so many words.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One graph input or output: name, ONNX element type and dimensions (number, symbolic name or null). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: (number | string | null)[];
}

/** What the header scan found. */
export interface OnnxHeader {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opsets: { domain: string; version: number }[];
  producer: string;
  nodeCount: number;
  fileSize: number;
}

/** ONNX `TensorProto.DataType` names for messages. */
export const ONNX_ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  6: 'int32',
  7: 'int64',
  10: 'float16',
  11: 'float64',
};

/** Thrown when the file ends inside a field. */
export class OnnxTruncatedError extends Error {}
/** Thrown when the bytes are not an ONNX protobuf. */
export class OnnxFormatError extends Error {}

class Reader {
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  bytes(pos: number, len: number): Buffer {
    if (pos + len > this.size) throw new OnnxTruncatedError(`field at byte ${pos} needs ${len} bytes`);
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, pos + got);
      if (n === 0) throw new OnnxTruncatedError(`unexpected end of file at byte ${pos + got}`);
      got += n;
    }
    return buf;
  }

  /** A varint at `pos`: its value and the position after it. */
  varint(pos: number): [number, number] {
    const buf = this.bytes(pos, Math.min(10, this.size - pos));
    return decodeVarint(buf, 0, pos);
  }
}

function decodeVarint(buf: Buffer, at: number, filePos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let i = at; i < buf.length; i++) {
    const b = buf[i] ?? 0;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [value, i + 1 - at];
  }
  if (buf.length - at < 10) throw new OnnxTruncatedError(`varint at byte ${filePos} runs past the end`);
  throw new OnnxFormatError(`bad varint at byte ${filePos}`);
}

/** Iterates the fields of a message held in memory. */
function* fieldsOf(buf: Buffer): Generator<{ field: number; wire: number; value: number; data?: Buffer }> {
  let i = 0;
  while (i < buf.length) {
    const [tag, n] = decodeVarint(buf, i, i);
    i += n;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, m] = decodeVarint(buf, i, i);
      i += m;
      yield { field, wire, value: v };
    } else if (wire === 2) {
      const [len, m] = decodeVarint(buf, i, i);
      i += m;
      if (i + len > buf.length) throw new OnnxTruncatedError('sub-message runs past its parent');
      yield { field, wire, value: len, data: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === 5) {
      i += 4;
      yield { field, wire, value: 0 };
    } else if (wire === 1) {
      i += 8;
      yield { field, wire, value: 0 };
    } else {
      throw new OnnxFormatError(`unsupported wire type ${wire}`);
    }
  }
}

function parseValueInfo(buf: Buffer): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  const dims: (number | string | null)[] = [];
  for (const f of fieldsOf(buf)) {
    if (f.field === 1 && f.data) name = f.data.toString('utf8');
    if (f.field === 2 && f.data) {
      for (const t of fieldsOf(f.data)) {
        if (t.field !== 1 || !t.data) continue; // tensor_type
        for (const tt of fieldsOf(t.data)) {
          if (tt.field === 1 && tt.wire === 0) elemType = tt.value;
          if (tt.field === 2 && tt.data) {
            for (const d of fieldsOf(tt.data)) {
              if (d.field !== 1 || !d.data) continue;
              let dim: number | string | null = null;
              for (const dv of fieldsOf(d.data)) {
                if (dv.field === 1 && dv.wire === 0) dim = dv.value;
                if (dv.field === 2 && dv.data) dim = dv.data.toString('utf8');
              }
              dims.push(dim);
            }
          }
        }
      }
    }
  }
  return { name, elemType, dims };
}

/** Scans an ONNX file's header (see [Note: ONNX header scan]); throws OnnxTruncatedError / OnnxFormatError. */
export function readOnnxHeader(path: string): OnnxHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const r = new Reader(fd, size);
    const header: OnnxHeader = { inputs: [], outputs: [], opsets: [], producer: '', nodeCount: 0, fileSize: size };
    let sawGraph = false;
    let pos = 0;
    while (pos < size) {
      const [tag, n] = r.varint(pos);
      pos += n;
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0 || field > 30) throw new OnnxFormatError(`unexpected field ${field} at byte ${pos - n}`);
      if (wire === 0) {
        pos += r.varint(pos)[1];
        continue;
      }
      if (wire !== 2) throw new OnnxFormatError(`unexpected wire type ${wire} at byte ${pos - n}`);
      const [len, m] = r.varint(pos);
      pos += m;
      if (pos + len > size)
        throw new OnnxTruncatedError(`field ${field} needs ${len} bytes at byte ${pos}, the file has ${size}`);
      if (field === 2) header.producer = r.bytes(pos, len).toString('utf8');
      if (field === 8) {
        let domain = '';
        let version = 0;
        for (const f of fieldsOf(r.bytes(pos, len))) {
          if (f.field === 1 && f.data) domain = f.data.toString('utf8');
          if (f.field === 2 && f.wire === 0) version = f.value;
        }
        header.opsets.push({ domain, version });
      }
      if (field === 7) {
        sawGraph = true;
        scanGraph(r, pos, pos + len, header);
      }
      pos += len;
    }
    if (!sawGraph) throw new OnnxFormatError('no graph in the file');
    return header;
  } finally {
    closeSync(fd);
  }
}

function scanGraph(r: Reader, start: number, end: number, header: OnnxHeader): void {
  let pos = start;
  while (pos < end) {
    const [tag, n] = r.varint(pos);
    pos += n;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      pos += r.varint(pos)[1];
      continue;
    }
    if (wire !== 2) throw new OnnxFormatError(`unexpected wire type ${wire} in the graph at byte ${pos - n}`);
    const [len, m] = r.varint(pos);
    pos += m;
    if (pos + len > end) throw new OnnxTruncatedError(`graph field ${field} runs past the end of the graph`);
    if (field === 1) header.nodeCount++;
    if (field === 11) header.inputs.push(parseValueInfo(r.bytes(pos, len)));
    if (field === 12) header.outputs.push(parseValueInfo(r.bytes(pos, len)));
    pos += len;
  }
}
