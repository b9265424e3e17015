import { ConvkitError } from '../../tensor/errors.js';
import { ELEMENT_SIZE } from './dtypes.js';
import { describe, PyDict, PyList, unpickleAt, type PyValue, type StorageRef } from './pickle.js';

/**
 * PyTorch's legacy file format (torch.save before 1.6, and `_use_new_zipfile_serialization=False`
 * since; many pretrained torchvision files still use it): five pickles in a row (the magic
 * number, the protocol version 1001, a sys_info dict, the object with persistent ids
 * `('storage', type, key, location, numel, None)`, the sorted list of storage keys), then for
 * each key in that order an 8-byte little-endian element count and the storage's bytes.
 */

const MAGIC = 0x1950a86a20f9469cfc6cn;

export interface LegacyFile {
  root: PyValue;
  /** Each storage's bytes, a view of the file checked against its declared size. */
  storages: Map<StorageRef, Uint8Array>;
}

export function readLegacy(bytes: Uint8Array, name: string): LegacyFile {
  const fail = (msg: string): never => {
    throw new ConvkitError(`${name}: a PyTorch file in the legacy format with ${msg}`);
  };
  const magic = unpickleAt(bytes, 0, `${name} (magic number)`, false);
  if (magic.value !== MAGIC) fail(`a wrong magic number (${describe(magic.value)})`);
  const version = unpickleAt(bytes, magic.end, `${name} (protocol version)`, false);
  if (version.value !== 1001) fail(`protocol version ${describe(version.value)}; convkit reads 1001`);
  const info = unpickleAt(bytes, version.end, `${name} (sys_info)`, false);
  if (!(info.value instanceof PyDict)) return fail(`sys_info ${describe(info.value)}, not a dict`);
  if (info.value.entries.get('little_endian') === false) fail('big-endian storages, which convkit does not read');
  const main = unpickleAt(bytes, info.end, name, true);
  const keys = unpickleAt(bytes, main.end, `${name} (storage keys)`, false);
  if (!(keys.value instanceof PyList) || !keys.value.items.every((k) => typeof k === 'string')) {
    return fail(`a storage key list that is ${describe(keys.value)}, not a list of strings`);
  }
  const storages = new Map<StorageRef, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keys.end;
  for (const key of keys.value.items as string[]) {
    const ref = main.storages.get(key);
    // Without a persistent id the element size is unknown, so the rest cannot be found.
    if (!ref) return fail(`storage '${key}' listed but never used by the pickle`);
    if (storages.has(ref)) fail(`storage '${key}' listed twice`);
    if (at + 8 > bytes.length) fail(`its data cut short before storage '${key}' (truncated)`);
    const count = view.getBigInt64(at, true);
    if (count !== BigInt(ref.numel)) fail(`storage '${key}' holding ${count} elements where the pickle declares ${ref.numel}`);
    const size = ref.numel * ELEMENT_SIZE[ref.kind];
    if (at + 8 + size > bytes.length) fail(`storage '${key}' (${size} bytes) running past the end of the ${bytes.length}-byte file (truncated)`);
    storages.set(ref, bytes.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  for (const [key, ref] of main.storages) if (!storages.has(ref)) fail(`storage '${key}' used by the pickle but missing from its key list`);
  return { root: main.value, storages };
}
