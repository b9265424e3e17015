import { ConvkitError } from '../tensor/errors.js';
import type { StoredArray } from './container.js';

/**
 * Splits a JSON-like value that contains typed arrays (an optimizer's state, say) into plain
 * JSON, where each array is replaced by a reference `{"$array": name}`, and the arrays
 * themselves, which go into a container's binary blob. `unpackTree` reverses it.
 */
export function packTree(value: unknown, prefix: string, arrays: Map<string, StoredArray>): unknown {
  if (value instanceof Float32Array || value instanceof Int32Array || value instanceof Uint8Array) {
    const name = `${prefix}#${arrays.size}`;
    arrays.set(name, value);
    return { $array: name };
  }
  if (Array.isArray(value)) return value.map((v) => packTree(v, prefix, arrays));
  if (value && typeof value === 'object') {
    if (ArrayBuffer.isView(value)) throw new ConvkitError(`cannot store a ${value.constructor.name}; use Float32Array, Int32Array or Uint8Array`);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, packTree(v, prefix, arrays)]));
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

export function unpackTree(value: unknown, arrays: Map<string, StoredArray>, source = 'file'): unknown {
  if (Array.isArray(value)) return value.map((v) => unpackTree(v, arrays, source));
  if (value && typeof value === 'object') {
    const ref = (value as { $array?: unknown }).$array;
    if (typeof ref === 'string') {
      const a = arrays.get(ref);
      if (!a) throw new ConvkitError(`${source}: is corrupt: array '${ref}' is referenced but missing`);
      return a;
    }
    const num = (value as { $number?: unknown }).$number;
    if (typeof num === 'string') return Number(num);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unpackTree(v, arrays, source)]));
  }
  return value;
}
