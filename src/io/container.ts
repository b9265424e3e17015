import { ConvkitError } from '../tensor/errors.js';
import { crc32 } from './crc32.js';

/**
 * convkit's binary container, used for model files and checkpoints:
 *
 *   magic "CONVKIT\0" (8 bytes) | format version u32 | header length u32 | header (UTF-8 JSON)
 *   | blob (arrays, each 8-byte aligned) | CRC-32 of everything before it, u32
 *
 * The header holds the caller's JSON plus an index of the named arrays in the blob. Every
 * length is checked against the file size and the CRC is verified before anything is parsed,
 * so a truncated or corrupted file is an error, never a half-loaded model.
 */
export const CONTAINER_VERSION = 1;
const MAGIC = 'CONVKIT\0';

/** An array a convkit file can hold. */
export type StoredArray = Float32Array | Int32Array | Uint8Array;

interface ArrayEntry {
  name: string;
  dtype: 'float32' | 'int32' | 'uint8';
  offset: number;
  length: number;
}

/** The parts of a convkit container file: its kind, a JSON description and named arrays. */
export interface ContainerContents {
  /** What kind of file this is ('model', 'checkpoint'); checked on read. */
  kind: string;
  json: unknown;
  arrays: Map<string, StoredArray>;
}

function dtypeOf(a: StoredArray): ArrayEntry['dtype'] {
  return a instanceof Float32Array ? 'float32' : a instanceof Int32Array ? 'int32' : 'uint8';
}

const align8 = (n: number) => (n + 7) & ~7;

const WIDTH: Record<string, number | undefined> = { float32: 4, int32: 4, uint8: 1 };

/** The bytes of a container file (magic, JSON index, aligned array data). */
export function writeContainer(contents: ContainerContents): Uint8Array {
  const index: ArrayEntry[] = [];
  let blobSize = 0;
  for (const [name, a] of contents.arrays) {
    index.push({ name, dtype: dtypeOf(a), offset: blobSize, length: a.length });
    blobSize = align8(blobSize + a.byteLength);
  }
  const header = new TextEncoder().encode(JSON.stringify({ kind: contents.kind, json: contents.json, arrays: index }));
  const headerStart = 16;
  const blobStart = align8(headerStart + header.length);
  const total = blobStart + blobSize + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, CONTAINER_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, headerStart);
  let i = 0;
  for (const a of contents.arrays.values()) {
    const entry = index[i++]!;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), blobStart + entry.offset);
  }
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)), true);
  return out;
}

/**
 * The kind a container says it is ('model', 'checkpoint'), read from its header without
 * checking the rest; null when the bytes are not a convkit container. For choosing a reader.
 */
export function containerKind(bytes: Uint8Array): string | null {
  if (bytes.length < 20 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  const m = /^\{"kind":"([a-z-]+)"/.exec(new TextDecoder().decode(bytes.subarray(16, Math.min(16 + headerLength, 64))));
  return m ? m[1]! : null;
}

/** Parses a container; `source` names the file in error messages. */
export function readContainer(bytes: Uint8Array, expectedKind: string, source = 'file'): ContainerContents {
  const fail = (what: string): never => {
    throw new ConvkitError(`${source}: ${what}`);
  };
  if (bytes.length < 20) fail(`is not a convkit ${expectedKind} file (only ${bytes.length} bytes)`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== MAGIC) fail(`is not a convkit ${expectedKind} file (it does not start with the convkit signature)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version > CONTAINER_VERSION) {
    fail(`was written by a newer convkit (format version ${version}; this version reads up to ${CONTAINER_VERSION}); upgrade convkit`);
  }
  if (version < 1) fail(`is corrupt: format version ${version} does not exist`);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) fail(`is corrupt or truncated (checksum mismatch over ${bytes.length} bytes); re-save or re-download it`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - 4) fail(`is corrupt: header length ${headerLength} exceeds the file size ${bytes.length}`);
  let header: { kind: string; json: unknown; arrays: ArrayEntry[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    return fail('is corrupt: its header is not valid JSON');
  }
  if (!header || typeof header !== 'object' || !Array.isArray(header.arrays ?? [])) fail('is corrupt: its header has no array index');
  if (header.kind !== expectedKind) fail(`is a convkit ${header.kind} file, not a ${expectedKind} file`);
  const blobStart = align8(16 + headerLength);
  const arrays = new Map<string, StoredArray>();
  for (const e of header.arrays ?? []) {
    const width = WIDTH[e?.dtype];
    const valid = typeof e?.name === 'string' && width !== undefined && Number.isSafeInteger(e.offset) && e.offset >= 0 && Number.isSafeInteger(e.length) && e.length >= 0;
    if (!valid) fail(`is corrupt: a bad array entry in its index (${JSON.stringify(e)})`);
    const start = blobStart + e.offset;
    const end = start + e.length * width!;
    if (end > bytes.length - 4) fail(`is corrupt: array '${e.name}' (${e.length} x ${e.dtype}) lies outside the file`);
    // Copy into fresh, aligned memory that the result owns (a Node Buffer's slice would share the file's pool).
    const raw = new Uint8Array(end - start);
    raw.set(bytes.subarray(start, end));
    arrays.set(
      e.name,
      e.dtype === 'float32' ? new Float32Array(raw.buffer) : e.dtype === 'int32' ? new Int32Array(raw.buffer) : raw,
    );
  }
  return { kind: header.kind, json: header.json, arrays };
}
