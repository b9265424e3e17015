import { Module } from '../nn/module.js';
import { ConvkitError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeBytesAtomic } from './files.js';
import { readSource, type ModelSource } from './source.js';
import { decodeElements, ELEMENT_SIZE, writeFloat32, writeInt32, type ElementKind } from './torch/dtypes.js';

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * `{"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}}`
 * padded with spaces to a multiple of 8 bytes, then the tensors' little-endian bytes, which
 * must cover the data section exactly (no holes, no overlaps: the reference reader's rule,
 * so that a file cannot hide a second payload).
 *
 * Writing follows the reference serializer (the `safetensors` Rust crate behind
 * `safetensors.torch.save_file`) byte for byte: tensors ordered by dtype alignment, largest
 * first, then by name (UTF-8 bytes), packed in that order; `__metadata__` first in the
 * header; compact JSON. The reference leaves the order of metadata keys to a hash map; convkit
 * sorts them, and omits an empty metadata map.
 */

export interface SafetensorsFile {
  /** Tensors by name, in the file's data order; floats become float32 and integers int32. */
  tensors: Map<string, Tensor>;
  /** The header's `__metadata__` map ({} when absent). */
  metadata: Record<string, string>;
}

/** Options of `saveSafetensors`: the header metadata and how integer tensors are stored. */
export interface SafetensorsWriteOptions {
  /** Free-form string metadata stored as the header's `__metadata__`. */
  metadata?: Record<string, string>;
  /**
   * How int32 tensors are stored. 'I64' (the default) is what PyTorch uses for integer
   * buffers such as batch norm's `num_batches_tracked`; 'I32' keeps 4 bytes per element.
   */
  int32As?: 'I64' | 'I32';
}

/** A state dict to write: a model (its stateDict()), a Map or a plain object of tensors. */
export type TensorDict = Module | Map<string, Tensor> | Record<string, Tensor>;

/** safetensors dtype names convkit reads, and the element type behind each. */
const DTYPES: Readonly<Record<string, ElementKind>> = {
  F32: 'f32', F16: 'f16', BF16: 'bf16', F64: 'f64',
  I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8', U8: 'u8', U16: 'u16', U32: 'u32', U64: 'u64', BOOL: 'bool',
};

/** The reference's Dtype enum order: the writer sorts by it, descending (largest alignment first). */
const DTYPE_RANK = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

/** The reference reader refuses headers over 100 MB. */
const MAX_HEADER = 100_000_000;

/** Reads a safetensors file: a path (Node), a URL, a Blob/File, or the bytes (everywhere). */
export async function loadSafetensors(source: ModelSource): Promise<SafetensorsFile> {
  const { bytes, name } = await readSource(source, 'ck.io.loadSafetensors');
  return decodeSafetensors(bytes, name);
}

/** Parses safetensors bytes; `name` labels errors. Every malformed file is a ConvkitError. */
export function decodeSafetensors(bytes: Uint8Array | ArrayBuffer, name = 'bytes'): SafetensorsFile {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const fail = (msg: string): never => {
    throw new ConvkitError(`${name}: not a valid safetensors file: ${msg}`);
  };
  if (buf.length < 8) fail(`${buf.length} bytes, shorter than the 8-byte header length`);
  if (buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04) fail('it is a zip archive (a PyTorch .pth/.pt file? read it with ck.io.loadTorch)');
  const headerLen = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > MAX_HEADER) fail(`header length ${headerLen} exceeds the format's limit of ${MAX_HEADER} bytes`);
  if (headerLen > buf.length - 8) fail(`header length ${headerLen} runs past the end of the ${buf.length}-byte file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen));
  } catch {
    return fail('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`the header must be a JSON object starting with '{', it starts with ${JSON.stringify(text.slice(0, 8))}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');

  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { key: string; kind: ElementKind; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, info] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (info === null) continue;
      if (typeof info !== 'object' || Array.isArray(info)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        // defineProperty: a key named __proto__ is data, not the object's prototype.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const where = `tensor '${key}'`;
    if (typeof info !== 'object' || info === null || Array.isArray(info)) return fail(`${where}: expected {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') return fail(`${where}: dtype is missing or not a string`);
    const kind = Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype] : undefined;
    if (!kind) {
      return fail(`${where}: dtype ${JSON.stringify(dtype)} is not supported (convkit reads ${Object.keys(DTYPES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      return fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) fail(`${where}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data section`);
    // The element count is bounded by the byte range before it can overflow.
    let numel = (shape as number[]).includes(0) ? 0 : 1;
    for (const d of shape as number[]) {
      if (numel * ELEMENT_SIZE[kind] > end - begin) break;
      numel *= d;
    }
    if (numel * ELEMENT_SIZE[kind] !== end - begin) {
      fail(`${where}: shape ${JSON.stringify(shape)} of ${dtype} needs ${(shape as number[]).reduce((a, b) => a * b, 1) * ELEMENT_SIZE[kind]} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ key, kind, shape: shape as number[], begin, end });
  }
  // The tensors must tile the data section: sorted by offset, each starts where the last ended.
  const order = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of order) {
    if (e.begin < at) fail(`tensor '${e.key}' (bytes ${e.begin}-${e.end}) overlaps the tensor before it (which ends at ${at})`);
    if (e.begin > at) fail(`bytes ${at}-${e.begin} of the data section belong to no tensor (before '${e.key}')`);
    at = e.end;
  }
  if (at !== dataLen) fail(`the tensors end at byte ${at} of the data section, but it holds ${dataLen} bytes`);

  const tensors = new Map<string, Tensor>();
  for (const e of order) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const data = decodeElements(buf.subarray(dataStart + e.begin, dataStart + e.end), e.kind, count, `${name}: tensor '${e.key}'`);
    tensors.set(e.key, new Tensor(data, e.shape));
  }
  return { tensors, metadata };
}

/**
 * Encodes tensors as safetensors bytes in the reference layout: float32 as F32, int32 as I64
 * (or I32, see options). Works everywhere (the browser's way to save).
 */
export function encodeSafetensors(
  tensors: TensorDict,
  metadata?: Record<string, string>,
  opts: Omit<SafetensorsWriteOptions, 'metadata'> = {},
): Uint8Array {
  const intAs = opts.int32As ?? 'I64';
  if (intAs !== 'I64' && intAs !== 'I32') throw new ConvkitError(`encodeSafetensors: int32As must be 'I64' or 'I32', got ${JSON.stringify(intAs)}`);
  const items = dictEntries(tensors, 'encodeSafetensors').map(([key, t]) => {
    const dtype = t.dtype === 'int32' ? intAs : 'F32';
    return { key, t, dtype, keyBytes: utf8(key, `encodeSafetensors: tensor name ${JSON.stringify(key)}`) };
  });
  items.sort((a, b) => DTYPE_RANK.indexOf(b.dtype) - DTYPE_RANK.indexOf(a.dtype) || compareBytes(a.keyBytes, b.keyBytes));

  const parts: string[] = [];
  const meta = metadata ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new ConvkitError(`encodeSafetensors: metadata must be an object of strings, got ${JSON.stringify(meta)}`);
  }
  const metaKeys = Object.keys(meta).map((k) => ({ k, b: utf8(k, `encodeSafetensors: metadata key ${JSON.stringify(k)}`) }));
  if (metaKeys.length) {
    metaKeys.sort((a, b) => compareBytes(a.b, b.b));
    const fields = metaKeys.map(({ k }) => {
      const v = meta[k];
      if (typeof v !== 'string') throw new ConvkitError(`encodeSafetensors: metadata['${k}'] must be a string, got ${JSON.stringify(v)}`);
      utf8(v, `encodeSafetensors: metadata['${k}']`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  // Header first (it holds every offset), then each tensor's bytes straight into the output.
  let offset = 0;
  const placed = items.map(({ key, t, dtype }) => {
    const bytes = t.size * (dtype === 'I64' ? 8 : 4);
    parts.push(`${JSON.stringify(key)}:{"dtype":"${dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
    return { t, dtype, at: offset - bytes };
  });
  const header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = header.length + ((8 - (header.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + headerLen);
  for (const { t, dtype, at } of placed) {
    const values = t.values();
    if (values instanceof Int32Array) writeInt32(values, dtype === 'I32' ? 'i32' : 'i64', out, 8 + headerLen + at);
    else writeFloat32(values, out, 8 + headerLen + at);
  }
  return out;
}

/** Writes a model's state dict (or a map of tensors) as a safetensors file (Node; atomic). */
export async function saveSafetensors(tensors: TensorDict, file: string, opts: SafetensorsWriteOptions = {}): Promise<void> {
  if (typeof file !== 'string' || file === '') throw new ConvkitError(`saveSafetensors: expected a file path, got ${JSON.stringify(file)}`);
  await writeBytesAtomic(file, encodeSafetensors(tensors, opts.metadata, { int32As: opts.int32As }));
}

/** The (name, tensor) pairs of a model, Map or object, each checked. */
export function dictEntries(tensors: TensorDict, what: string): [string, Tensor][] {
  let entries: [string, unknown][];
  if (tensors instanceof Module) entries = [...tensors.stateDict()];
  else if (tensors instanceof Map) entries = [...tensors];
  else if (typeof tensors === 'object' && tensors !== null && !Array.isArray(tensors)) entries = Object.entries(tensors);
  else throw new ConvkitError(`${what}: expected a model, a Map or an object of tensors, got ${tensors === null ? 'null' : Array.isArray(tensors) ? 'an array' : typeof tensors}`);
  for (const [key, t] of entries) {
    if (typeof key !== 'string') throw new ConvkitError(`${what}: tensor names must be strings, got ${typeof key}`);
    if (key === '__metadata__') throw new ConvkitError(`${what}: '__metadata__' is reserved by the format and cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new ConvkitError(`${what}: '${key}' is not a Tensor (got ${t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t})`);
  }
  return entries as [string, Tensor][];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-8 bytes of `s`; a string with a lone surrogate has none (JSON readers would garble it). */
function utf8(s: string, what: string): Uint8Array {
  if (LONE_SURROGATE.test(s)) throw new ConvkitError(`${what} holds a lone UTF-16 surrogate, which UTF-8 cannot store`);
  return new TextEncoder().encode(s);
}

/** Byte-wise order, as the reference sorts names (Rust's String ordering). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
