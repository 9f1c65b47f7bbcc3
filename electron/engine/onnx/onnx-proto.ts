/**
 * @file A protobufjs codec of the subset of ONNX's `ModelProto` the app reads and writes (engine process and build
 * scripts; no Node modules, so it also runs in a browser).
 *
 * [Note: ONNX subset codec] We only need models, graphs, nodes, attributes, tensors (raw_data, float_data, int32_data,
 * int64_data, double_data), value infos with tensor types and shapes, opset imports and metadata. Unknown fields
 * (training info, functions, sparse tensors) are skipped on decode and therefore dropped on encode; none of the CLIP
 * exports we read use them. The schema is declared as protobufjs JSON (field numbers from onnx/onnx.proto) so no
 * .proto file has to ship. 64-bit integers become JS numbers (ONNX dims and attribute ints stay far below 2^53), and
 * byte fields stay views into the input buffer (a 250 MB raw_data is never copied on decode).
 */
import protobuf from 'protobufjs';
import { bfloat16ToFloat32, float16ToFloat32 } from '../formats/half-float';

/** ONNX TensorProto.DataType values used by the app. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;

/** ONNX AttributeProto.AttributeType values. */
export const OnnxAttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** A key/value string pair (metadata_props, external_data). */
export interface OnnxStringEntry {
  key?: string;
  value?: string;
}

/** An ONNX tensor (initializer or attribute value). */
export interface OnnxTensor {
  name?: string;
  dims?: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  docString?: string;
  externalData?: OnnxStringEntry[];
  dataLocation?: number;
}

/** An ONNX node attribute. */
export interface OnnxAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
  graphs?: OnnxGraph[];
  docString?: string;
}

/** An ONNX node. */
export interface OnnxNode {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: OnnxAttribute[];
  docString?: string;
}

/** One dimension of a tensor shape: a number or a symbolic name. */
export interface OnnxDim {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

/** A typed graph input/output/intermediate value. */
export interface OnnxValueInfo {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: OnnxDim[] } }; denotation?: string };
  docString?: string;
}

/** An ONNX graph. */
export interface OnnxGraph {
  name?: string;
  node?: OnnxNode[];
  initializer?: OnnxTensor[];
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
  docString?: string;
}

/** An ONNX model (the top-level message of a .onnx file). */
export interface OnnxModel {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: OnnxGraph;
  metadataProps?: OnnxStringEntry[];
}

type FieldJson = { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } };
const rep = (type: string, id: number, packed?: boolean): FieldJson =>
  packed === undefined ? { type, id, rule: 'repeated' } : { type, id, rule: 'repeated', options: { packed } };

// Field numbers from onnx/onnx.proto (proto2: repeated scalars are unpacked unless the schema says packed=true).
const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        TensorProto: {
          fields: {
            dims: rep('int64', 1, false),
            dataType: { type: 'int32', id: 2 },
            floatData: rep('float', 4, true),
            int32Data: rep('int32', 5, true),
            stringData: rep('bytes', 6),
            int64Data: rep('int64', 7, true),
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: rep('double', 10, true),
            uint64Data: rep('uint64', 11, true),
            docString: { type: 'string', id: 12 },
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: rep('float', 7, false),
            ints: rep('int64', 8, false),
            strings: rep('bytes', 9),
            tensors: rep('TensorProto', 10),
            graphs: rep('GraphProto', 11),
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
            refAttrName: { type: 'string', id: 21 },
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: rep('AttributeProto', 5),
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        Dimension: {
          fields: {
            dimValue: { type: 'int64', id: 1 },
            dimParam: { type: 'string', id: 2 },
            denotation: { type: 'string', id: 3 },
          },
        },
        TensorShapeProto: { fields: { dim: rep('Dimension', 1) } },
        TensorTypeProto: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TypeProto: {
          fields: { tensorType: { type: 'TensorTypeProto', id: 1 }, denotation: { type: 'string', id: 6 } },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: { type: 'string', id: 2 },
            initializer: rep('TensorProto', 5),
            docString: { type: 'string', id: 10 },
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: rep('OperatorSetIdProto', 8),
            metadataProps: rep('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | null = null;
function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

/** Decodes the bytes of a .onnx file. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const type = modelProto();
  const message = type.decode(bytes);
  // longs: Number turns int64 Long objects into numbers; bytes stay views into `bytes` (no copy).
  return type.toObject(message, { longs: Number, enums: Number, arrays: false, defaults: false }) as OnnxModel;
}

/** Encodes a model to the bytes of a .onnx file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProto();
  return type.encode(type.fromObject(model)).finish();
}

/**
 * The values of an ONNX Runtime output tensor as float32. ONNX Runtime for Node hands float16 (and bfloat16) data
 * over as their raw bit patterns in a Uint16Array (a Float16Array only where the runtime has one), so converting the
 * elements as numbers would read the bits as integers.
 */
export function outputToFloat32(t: { type: string; data: unknown }): Float32Array {
  const data = t.data;
  if (t.type === 'float32' && data instanceof Float32Array) return data;
  if ((t.type === 'float16' || t.type === 'bfloat16') && data instanceof Uint16Array)
    return t.type === 'float16' ? float16ToFloat32(data) : bfloat16ToFloat32(data);
  if (t.type === 'float16' || t.type === 'float64' || t.type === 'float32')
    return Float32Array.from(data as ArrayLike<number>, Number);
  throw new Error(`expected floating-point values, got ${t.type}`);
}

function elementCount(t: OnnxTensor): number {
  return (t.dims ?? []).reduce((a, b) => a * b, 1);
}

/** The tensor's values as float32 (FLOAT, FLOAT16, DOUBLE, and integer types), from raw_data or the typed fields. */
export function tensorToFloat32(t: OnnxTensor): Float32Array {
  const n = elementCount(t);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const type = t.dataType ?? 0;
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    throw new Error(`Tensor ${t.name ?? ''} stores its data in an external file, which is not supported.`);
  }
  if (raw) {
    // Copy into an aligned buffer: raw_data is a view at an arbitrary offset of the file. Uint8Array's own slice
    // copies; a Node Buffer's (what decoding a Buffer gives) would return a view of the whole file instead.
    const aligned = Uint8Array.prototype.slice.call(raw).buffer;
    switch (type) {
      case OnnxDataType.FLOAT:
        return new Float32Array(aligned, 0, n);
      case OnnxDataType.FLOAT16:
        return float16ToFloat32(new Uint16Array(aligned, 0, n));
      case OnnxDataType.BFLOAT16:
        return bfloat16ToFloat32(new Uint16Array(aligned, 0, n));
      case OnnxDataType.DOUBLE:
        return Float32Array.from(new Float64Array(aligned, 0, n));
      case OnnxDataType.INT64:
        return Float32Array.from(new BigInt64Array(aligned, 0, n), (v) => Number(v));
      case OnnxDataType.INT32:
        return Float32Array.from(new Int32Array(aligned, 0, n));
      case OnnxDataType.INT8:
        return Float32Array.from(new Int8Array(aligned, 0, n));
      case OnnxDataType.UINT8:
      case OnnxDataType.BOOL:
        return Float32Array.from(new Uint8Array(aligned, 0, n));
      default:
        throw new Error(`Tensor ${t.name ?? ''} has unsupported data type ${type}.`);
    }
  }
  switch (type) {
    case OnnxDataType.FLOAT:
      return Float32Array.from(t.floatData ?? []);
    case OnnxDataType.DOUBLE:
      return Float32Array.from(t.doubleData ?? []);
    case OnnxDataType.INT64:
      return Float32Array.from(t.int64Data ?? []);
    case OnnxDataType.FLOAT16:
      // FLOAT16 and BFLOAT16 in typed fields are stored as the bit pattern in int32_data.
      return float16ToFloat32(Uint16Array.from(t.int32Data ?? []));
    case OnnxDataType.BFLOAT16:
      return bfloat16ToFloat32(Uint16Array.from(t.int32Data ?? []));
    case OnnxDataType.INT32:
    case OnnxDataType.INT8:
    case OnnxDataType.UINT8:
    case OnnxDataType.BOOL:
      return Float32Array.from(t.int32Data ?? []);
    default:
      throw new Error(`Tensor ${t.name ?? ''} has unsupported data type ${type}.`);
  }
}

/** Makes a FLOAT tensor with raw_data from float32 values. */
export function float32Tensor(name: string, dims: number[], values: Float32Array): OnnxTensor {
  const copy = new Float32Array(values);
  return { name, dims, dataType: OnnxDataType.FLOAT, rawData: new Uint8Array(copy.buffer) };
}

/** Makes an INT64 tensor with raw_data. */
export function int64Tensor(name: string, dims: number[], values: number[]): OnnxTensor {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: OnnxDataType.INT64, rawData: new Uint8Array(data.buffer) };
}
