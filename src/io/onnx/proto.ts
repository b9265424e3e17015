import protobuf from 'protobufjs/light.js';
import { ConvkitError } from '../../tensor/errors.js';
import { onnxDescriptor } from './onnx-descriptor.js';

/**
 * Decoding of ONNX protobuf messages with protobufjs and the official schema (onnx.proto,
 * compiled to a JSON descriptor so that no .proto file is read at run time). The interfaces
 * below type the fields convkit reads; field names keep the schema's snake_case.
 */

/** protobufjs gives int64 fields as Long objects when the `long` package is present, else numbers. */
export type Int64 = number | { low: number; high: number; unsigned: boolean };

export interface StringStringEntryProto {
  key: string;
  value: string;
}

export interface TensorProto {
  dims: Int64[];
  data_type: number;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: Int64[];
  name: string;
  raw_data: Uint8Array;
  double_data: number[];
  uint64_data: Int64[];
  external_data: StringStringEntryProto[];
  data_location: number;
  segment?: { begin: Int64; end: Int64 } | null;
}

export interface AttributeProto {
  name: string;
  ref_attr_name: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: TensorProto | null;
  g?: GraphProto | null;
  sparse_tensor?: unknown;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: AttributeProto[];
}

export interface TensorShapeDim {
  dim_value?: Int64 | null;
  dim_param?: string | null;
}

export interface TypeProto {
  tensor_type?: { elem_type: number; shape?: { dim: TensorShapeDim[] } | null } | null;
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto | null;
}

export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  sparse_initializer: unknown[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain: string;
  version: Int64;
}

export interface ModelProto {
  ir_version: Int64;
  opset_import: OperatorSetIdProto[];
  producer_name: string;
  producer_version: string;
  domain: string;
  model_version: Int64;
  graph?: GraphProto | null;
  functions: unknown[];
}

const root = protobuf.Root.fromJSON(onnxDescriptor);
const modelType = root.lookupType('onnx.ModelProto');
const tensorType = root.lookupType('onnx.TensorProto');

/** An int64 field as a JS number; values beyond 2^53 become +-Infinity so size checks refuse them. */
export function int64(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const high = v.unsigned ? v.high >>> 0 : v.high | 0;
  const value = high * 4294967296 + (v.low >>> 0);
  if (Math.abs(value) > Number.MAX_SAFE_INTEGER) return value < 0 ? -Infinity : Infinity;
  return value;
}

function decode<T>(type: protobuf.Type, bytes: Uint8Array, what: string): T {
  if (!(bytes instanceof Uint8Array)) {
    throw new ConvkitError(`${what}: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  if (bytes.length === 0) throw new ConvkitError(`${what}: the file is empty`);
  try {
    return type.decode(bytes) as unknown as T;
  } catch (e) {
    // protobufjs throws RangeError for truncated input and Error for bad wire types; deep
    // nesting in garbage can overflow the stack. All mean the same thing to a user.
    const why = e instanceof Error ? e.message : String(e);
    throw new ConvkitError(
      `${what} is not a valid ONNX protobuf (${bytes.length} bytes): ${why}; the file may be truncated or not an ONNX file`,
    );
  }
}

/** Decodes a ModelProto and checks that it holds a graph; errors are ConvkitErrors. */
export function decodeModel(bytes: Uint8Array, what = 'ONNX model'): ModelProto {
  const model = decode<ModelProto>(modelType, bytes, what);
  if (!model.graph) {
    throw new ConvkitError(
      `${what} (${bytes.length} bytes) decodes as protobuf but holds no graph; it is truncated or not an ONNX model file`,
    );
  }
  if (int64(model.ir_version) < 1 && model.opset_import.length === 0) {
    throw new ConvkitError(`${what} has neither an IR version nor an opset import; it is not an ONNX model file`);
  }
  return model;
}

/** Decodes a serialized TensorProto (the .pb files of the ONNX test suite). */
export function decodeTensorProto(bytes: Uint8Array, what = 'ONNX tensor'): TensorProto {
  return decode<TensorProto>(tensorType, bytes, what);
}

/** Encodes a ModelProto again (used to store the graph without its weights in a model file). */
export function encodeModel(model: ModelProto): Uint8Array {
  return modelType.encode(modelType.fromObject(model as unknown as Record<string, unknown>)).finish();
}

/** Text of a `bytes` field (attribute strings are UTF-8). */
export function utf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
