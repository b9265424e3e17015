import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { int64, type Int64, type TensorProto } from './proto.js';
import { halfToNumber } from '../half-float.js';

/**
 * TensorProto -> convkit Tensor. Floating types become float32 tensors; integer and boolean
 * types become int32 tensors (convkit's integer dtype: shapes, indices, masks). The element
 * count is computed and checked against the bytes actually present (or a limit) before any
 * buffer is allocated, so a file that declares absurd sizes is refused, not obeyed.
 */

/** TensorProto.DataType values (onnx.proto). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

const names: Record<number, string> = {
  ...Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k])),
  // Types newer than the bundled onnx.proto, named so that errors stay readable.
  ...{ 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1' },
};

export function dataTypeName(t: number): string {
  return names[t] ?? `data type ${t}`;
}

/** Bytes per element in raw_data, for the types convkit reads. */
const elementBytes: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.BOOL]: 1,
};

export const SUPPORTED_DATA_TYPES = Object.keys(elementBytes).map((k) => dataTypeName(Number(k)));

export function isSupportedDataType(t: number): boolean {
  return elementBytes[t] !== undefined;
}

export function isFloatType(t: number): boolean {
  return t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16;
}

/** Default cap on one tensor's elements (2^28 floats = 1 GiB); `maxTensorElements` changes it. */
export const DEFAULT_MAX_ELEMENTS = 2 ** 28;

/** Reads `length` bytes at `offset` of an external-data file named relative to the model. */
export type ExternalDataReader = (location: string, offset: number, length: number) => Uint8Array;

export interface TensorDecodeOptions {
  /** How errors name the tensor: 'initializer conv1.weight', 'input_0.pb', ... */
  what?: string;
  maxElements?: number;
  readExternal?: ExternalDataReader;
}

/** The element count of `dims`, checked to be sane before anything is allocated. */
export function checkedSize(dims: readonly number[], what: string, maxElements = DEFAULT_MAX_ELEMENTS): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ConvkitError(`${what}: invalid dimension ${d} in declared shape ${fmtShape(dims)}`);
    }
    n *= d;
  }
  if (n > maxElements) {
    throw new ConvkitError(
      `${what}: declared shape ${fmtShape(dims)} has ${n.toExponential(3)} elements, more than the limit of ${maxElements} ` +
        `(${(maxElements * 4) / 2 ** 30} GiB of float32); refusing to allocate it. If the model really is that large, ` +
        'pass {maxTensorElements} to loadOnnx',
    );
  }
  return n;
}

export function tensorDims(p: TensorProto): number[] {
  return p.dims.map((d: Int64) => int64(d));
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A DataView over exactly `bytes`. */
function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Saturates to int32: int64 sentinels such as INT64_MAX ("to the end") keep their meaning. */
function toInt32(v: number): number {
  return v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : v;
}

function fromRaw(bytes: Uint8Array, type: number, n: number): Float32Array | Int32Array {
  const dv = view(bytes);
  switch (type) {
    case DataType.FLOAT: {
      if (littleEndian) {
        const out = new Float32Array(n);
        new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
        return out;
      }
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(i * 4, true));
    }
    case DataType.DOUBLE: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case DataType.FLOAT16: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToNumber(dv.getUint16(i * 2, true));
      return out;
    }
    case DataType.INT32: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      return out;
    }
    case DataType.INT64: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = toInt32(Number(dv.getBigInt64(i * 8, true)));
      return out;
    }
    case DataType.UINT8:
    case DataType.BOOL:
      return Int32Array.from(bytes.subarray(0, n));
    case DataType.INT8:
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n));
    case DataType.UINT16: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true);
      return out;
    }
    case DataType.INT16: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
      return out;
    }
  }
  throw new ConvkitError(`internal: no raw decoder for ${dataTypeName(type)}`);
}

/** The typed repeated field that holds this type's values when raw_data is empty. */
function typedField(p: TensorProto, type: number): ArrayLike<number | Int64> {
  switch (type) {
    case DataType.FLOAT:
      return p.float_data;
    case DataType.DOUBLE:
      return p.double_data;
    case DataType.INT64:
      return p.int64_data;
    default:
      // INT32, INT16, INT8, UINT16, UINT8, BOOL and FLOAT16 (as its bit pattern) use int32_data.
      return p.int32_data;
  }
}

function fromTyped(values: ArrayLike<number | Int64>, type: number, n: number): Float32Array | Int32Array {
  if (type === DataType.FLOAT || type === DataType.DOUBLE) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = values[i] as number;
    return out;
  }
  if (type === DataType.FLOAT16) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = halfToNumber((values[i] as number) & 0xffff);
    return out;
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = toInt32(int64(values[i] as Int64));
  return out;
}

function externalBytes(p: TensorProto, what: string, needed: number, read: ExternalDataReader | undefined): Uint8Array {
  const entries = new Map(p.external_data.map((e) => [e.key, e.value]));
  const location = entries.get('location');
  if (!location) throw new ConvkitError(`${what}: external data without a 'location' entry`);
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : needed;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new ConvkitError(`${what}: invalid external data offset ${entries.get('offset')} or length ${entries.get('length')}`);
  }
  if (length !== needed) {
    throw new ConvkitError(`${what}: external data '${location}' has length ${length} bytes but the declared shape needs ${needed}`);
  }
  if (!read) {
    throw new ConvkitError(
      `${what}: its data is in the external file '${location}'; load the model from a path (Node) so that files beside it ` +
        'can be read, or pass {externalData: {[location]: bytes}} to loadOnnx',
    );
  }
  const bytes = read(location, offset, length);
  if (bytes.length !== length) {
    throw new ConvkitError(`${what}: external file '${location}' gave ${bytes.length} bytes at offset ${offset}, expected ${length}`);
  }
  return bytes;
}

/** Decodes one TensorProto into a Tensor (float32 for float types, int32 otherwise). */
export function tensorFromProto(p: TensorProto, opts: TensorDecodeOptions = {}): Tensor {
  const what = opts.what ?? `tensor '${p.name}'`;
  const type = p.data_type;
  const size = elementBytes[type];
  if (size === undefined) {
    throw new ConvkitError(`${what}: data type ${dataTypeName(type)} is not supported (supported: ${SUPPORTED_DATA_TYPES.join(', ')})`);
  }
  if (p.segment) throw new ConvkitError(`${what}: segmented tensors are not supported`);
  const dims = tensorDims(p);
  const n = checkedSize(dims, what, opts.maxElements);
  let data: Float32Array | Int32Array;
  if (p.data_location === 1) {
    data = fromRaw(externalBytes(p, what, n * size, opts.readExternal), type, n);
  } else if (p.raw_data && p.raw_data.length > 0) {
    if (p.raw_data.length !== n * size) {
      throw new ConvkitError(
        `${what}: raw data holds ${p.raw_data.length} bytes but shape ${fmtShape(dims)} of ${dataTypeName(type)} needs ${n * size}; the file is corrupt or truncated`,
      );
    }
    data = fromRaw(p.raw_data, type, n);
  } else {
    const values = typedField(p, type);
    if (values.length !== n) {
      throw new ConvkitError(
        `${what}: holds ${values.length} values but shape ${fmtShape(dims)} needs ${n}; the file is corrupt or truncated`,
      );
    }
    data = fromTyped(values, type, n);
  }
  return new Tensor(data, dims);
}
