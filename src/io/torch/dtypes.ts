import { ConvkitError } from '../../tensor/errors.js';
import { halfToNumber } from '../half-float.js';

/**
 * Element types of PyTorch files (safetensors dtypes and torch storages) and how each becomes
 * one of convkit's two: floats become float32 (float16, bfloat16 and float64 rounded to
 * nearest), integers and booleans become int32, refused when a value does not fit.
 */
export type ElementKind = 'f32' | 'f16' | 'bf16' | 'f64' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'u16' | 'u32' | 'u64' | 'bool';

/** Bytes per element. */
export const ELEMENT_SIZE: Readonly<Record<ElementKind, number>> = {
  f32: 4, f16: 2, bf16: 2, f64: 8, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, u16: 2, u32: 4, u64: 8, bool: 1,
};

export function isFloatKind(kind: ElementKind): boolean {
  return kind === 'f32' || kind === 'f16' || kind === 'bf16' || kind === 'f64';
}

/**
 * Decodes `count` elements of `kind` from `bytes` (little-endian, as both formats store them)
 * into a fresh array that owns its memory. `what` names the tensor in errors.
 */
export function decodeElements(bytes: Uint8Array, kind: ElementKind, count: number, what: string): Float32Array | Int32Array {
  const size = ELEMENT_SIZE[kind];
  if (bytes.length < count * size) {
    throw new ConvkitError(`${what}: needs ${count * size} bytes (${count} x ${kind}), the file holds ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  switch (kind) {
    case 'f32': {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
      if (!LITTLE_ENDIAN) for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'f64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'f16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(i * 2, true));
      return out;
    }
    case 'bf16': {
      // bfloat16 is the top half of a float32.
      const out = new Float32Array(count);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'i32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'i16': return intsFrom(count, (i) => view.getInt16(i * 2, true));
    case 'u16': return intsFrom(count, (i) => view.getUint16(i * 2, true));
    case 'i8': return intsFrom(count, (i) => view.getInt8(i));
    case 'u8': return intsFrom(count, (i) => view.getUint8(i));
    case 'bool': {
      return intsFrom(count, (i) => {
        const b = view.getUint8(i);
        if (b > 1) throw new ConvkitError(`${what}: element ${i} of a bool tensor is ${b}, not 0 or 1`);
        return b;
      });
    }
    case 'u32':
    case 'i64':
    case 'u64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = kind === 'u32' ? BigInt(view.getUint32(i * 4, true)) : kind === 'i64' ? view.getBigInt64(i * 8, true) : view.getBigUint64(i * 8, true);
        if (v < -2147483648n || v > 2147483647n) {
          throw new ConvkitError(`${what}: element ${i} (${v}) of a ${kind} tensor does not fit convkit's int32`);
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

function intsFrom(count: number, get: (i: number) => number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = get(i);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes float32 values little-endian into `out` at byte `at`. */
export function writeFloat32(values: Float32Array, out: Uint8Array, at: number): void {
  if (LITTLE_ENDIAN) out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
  else {
    const v = new DataView(out.buffer, out.byteOffset + at, values.length * 4);
    for (let i = 0; i < values.length; i++) v.setFloat32(i * 4, values[i]!, true);
  }
}

/** Writes int32 values little-endian into `out` at byte `at`, as int32 or sign-extended to int64. */
export function writeInt32(values: Int32Array, as: 'i32' | 'i64', out: Uint8Array, at: number): void {
  const size = as === 'i32' ? 4 : 8;
  const v = new DataView(out.buffer, out.byteOffset + at, values.length * size);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    v.setInt32(i * size, x, true);
    if (as === 'i64') v.setInt32(i * size + 4, x < 0 ? -1 : 0, true);
  }
}
