import { ConvkitError } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { readSource, type ModelSource } from '../source.js';
import { decodeElements, ELEMENT_SIZE } from './dtypes.js';
import { describe, PyDict, PyList, PyTuple, StorageRef, TensorRef, unpickle, type PyValue } from './pickle.js';
import { readLegacy } from './legacy.js';
import { ZipArchive } from './zip.js';

/**
 * PyTorch `.pth` / `.pt` files as torch.save writes them since 1.6: a zip holding
 * `<root>/data.pkl` (the pickled object, read by the restricted unpickler in pickle.ts) and
 * one entry `<root>/data/<key>` per storage; and the legacy format before it (legacy.ts).
 * Tensors are read from their storage with its offset and strides, and come out contiguous:
 * float storages as float32, integer and bool storages as int32 (values outside int32 are
 * refused).
 */

/** A checkpoint's contents: dicts as Maps, lists and tuples as arrays, tensors as Tensors. */
export type TorchValue = null | boolean | number | bigint | string | Tensor | TorchValue[] | Map<TorchValue, TorchValue>;

/** Options of `loadTorch`: which entry of a checkpoint holds the state dict. */
export interface LoadTorchOptions {
  /**
   * The checkpoint entry holding the state dict (`{'epoch': 3, 'model': {...}}` -> 'model').
   * Without it, loadTorch takes the file itself when it is a dict of tensors, else the one
   * entry that is (preferring 'state_dict', 'model_state_dict', 'model', 'state' when several are).
   */
  key?: string;
}

/** Entries that name a checkpoint's state dict, in the order loadTorch prefers them. */
const PREFERRED = ['state_dict', 'model_state_dict', 'model', 'state', 'module', 'net', 'network'];

/** Views may repeat elements (stride 0) only up to this many; beyond, only as many as the storage holds. */
const MAX_EXPANDED = 1 << 24;

/**
 * Reads a PyTorch state dict (`torch.save(model.state_dict(), path)`, or a checkpoint dict
 * holding one): a path (Node), a URL, a Blob/File or the bytes. No code in the file runs.
 */
export async function loadTorch(source: ModelSource, opts: LoadTorchOptions = {}): Promise<Map<string, Tensor>> {
  const file = await openTorchFile(source, 'ck.io.loadTorch');
  const dict = pickStateDict(file.root, opts.key, file.name);
  const tensors = file.tensors([...dict.entries.values()] as TensorRef[]);
  const out = new Map<string, Tensor>();
  for (const [k, v] of dict.entries) out.set(k as string, await tensors(v as TensorRef));
  return out;
}

/** Reads a whole PyTorch file (any mix of dicts, lists, numbers, strings and tensors). */
export async function loadTorchCheckpoint(source: ModelSource): Promise<TorchValue> {
  const file = await openTorchFile(source, 'ck.io.loadTorchCheckpoint');
  const refs: TensorRef[] = [];
  walk(file.root, (v) => {
    if (v instanceof TensorRef) refs.push(v);
  });
  const tensors = file.tensors(refs);
  const done = new Map<object, TorchValue>();
  const convert = async (v: PyValue): Promise<TorchValue> => {
    if (v === null || typeof v !== 'object') return v;
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    if (v instanceof TensorRef) {
      const t = await tensors(v);
      done.set(v, t);
      return t;
    }
    if (v instanceof PyList || v instanceof PyTuple) {
      const arr: TorchValue[] = [];
      done.set(v, arr);
      for (const x of v.items) arr.push(await convert(x));
      return arr;
    }
    if (v instanceof PyDict) {
      const m = new Map<TorchValue, TorchValue>();
      done.set(v, m);
      for (const [k, x] of v.entries) m.set(await convert(k), await convert(x));
      return m;
    }
    throw new ConvkitError(`${file.name}: the file holds ${describe(v)} outside a tensor, which has no convkit value`);
  };
  return convert(file.root);
}

interface TorchFile {
  name: string;
  root: PyValue;
  /** A reader for these tensors (each storage decoded once, shared between its views). */
  tensors(refs: TensorRef[]): (ref: TensorRef) => Promise<Tensor>;
}

const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

async function openTorchFile(source: ModelSource, what: string): Promise<TorchFile> {
  const { bytes, name } = await readSource(source, what);
  if (LEGACY_MAGIC.every((v, i) => bytes[i] === v)) {
    const legacy = readLegacy(bytes, name);
    return withStorages(name, legacy.root, async (s) => legacy.storages.get(s)!);
  }
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) {
    const st = bytes.length >= 9 && bytes[8] === 0x7b && bytes[4] === 0 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0;
    throw new ConvkitError(
      `${name}: not a PyTorch .pth/.pt file (torch.save writes a zip archive, or before PyTorch 1.6 a pickle stream; this file starts like neither)` +
        (st ? '; it looks like a safetensors file: read it with ck.io.loadSafetensors' : ''),
    );
  }
  const zip = new ZipArchive(bytes, name);
  const pkls = [...zip.entries.keys()].filter((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (pkls.length !== 1) {
    const script = [...zip.entries.keys()].some((k) => /^[^/]+\/(constants\.pkl|code\/)/.test(k));
    throw new ConvkitError(
      script
        ? `${name}: a TorchScript archive (torch.jit.save), not a state dict; in PyTorch, save model.state_dict() with torch.save`
        : pkls.length
          ? `${name}: the archive holds ${pkls.length} data.pkl entries (${pkls.join(', ')}); a torch.save file has one`
          : `${name}: the zip archive has no <name>/data.pkl entry, so torch.save did not write it`,
    );
  }
  const root = pkls[0]!.slice(0, -'data.pkl'.length);
  // PyTorch 2.x records the writer's byte order; convkit reads little-endian storages only.
  const order = zip.entries.get(`${root}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(await zip.read(order)).trim();
    if (text !== 'little') throw new ConvkitError(`${name}: storages written in '${text.slice(0, 20)}' byte order; convkit reads little-endian files only`);
  }
  const value = unpickle(await zip.read(zip.entries.get(pkls[0]!)!), `${name} (${pkls[0]})`);

  return withStorages(name, value, (s) => readStorage(zip, root, s, name));
}

/** A TorchFile whose storages' bytes come from `bytesOf`. */
function withStorages(name: string, root: PyValue, bytesOf: (s: StorageRef) => Promise<Uint8Array>): TorchFile {
  const tensors = (refs: TensorRef[]) => {
    // How many tensors still need each storage: its decoded array is dropped after the last.
    const uses = new Map<StorageRef, number>();
    for (const r of refs) uses.set(r.storage, (uses.get(r.storage) ?? 0) + 1);
    const decoded = new Map<StorageRef, Promise<Float32Array | Int32Array>>();
    const storage = (s: StorageRef) => {
      let p = decoded.get(s);
      if (!p) {
        p = bytesOf(s).then((b) => decodeElements(b, s.kind, s.numel, `${name}: storage ${s.key}`));
        decoded.set(s, p);
      }
      return p;
    };
    return async (ref: TensorRef): Promise<Tensor> => {
      const s = ref.storage;
      checkView(ref, name);
      const data = await storage(s);
      const left = (uses.get(s) ?? 1) - 1;
      uses.set(s, left);
      if (left <= 0) decoded.delete(s);
      return new Tensor(gather(data, ref, left <= 0), ref.shape);
    };
  };
  return { name, root, tensors };
}

async function readStorage(zip: ZipArchive, root: string, s: StorageRef, name: string): Promise<Uint8Array> {
  const entryName = `${root}data/${s.key}`;
  const entry = zip.entries.get(entryName);
  if (!entry) throw new ConvkitError(`${name}: storage ${s.key} has no entry ${entryName} in the archive`);
  const need = s.numel * ELEMENT_SIZE[s.kind];
  // Checked before reading, so a lying size allocates nothing.
  if (entry.size < need) {
    throw new ConvkitError(`${name}: storage ${s.key} declares ${s.numel} x ${s.kind} (${need} bytes), but ${entryName} holds ${entry.size}`);
  }
  return zip.read(entry);
}

function checkView(ref: TensorRef, name: string): void {
  const { shape, strides, offset, storage } = ref;
  let size = 1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    size *= shape[i]!;
    last += (shape[i]! - 1) * strides[i]!;
  }
  if (size === 0) return;
  const view = `a tensor of shape [${shape.join(', ')}], strides [${strides.join(', ')}] at offset ${offset}`;
  if (!Number.isSafeInteger(last) || last >= storage.numel) {
    throw new ConvkitError(`${name}: ${view} reaches element ${last} of storage ${storage.key}, which holds ${storage.numel}`);
  }
  if (size > storage.numel && size > MAX_EXPANDED) {
    throw new ConvkitError(`${name}: ${view} repeats the ${storage.numel} elements of storage ${storage.key} into ${size}; convkit refuses views over ${MAX_EXPANDED} elements larger than their storage`);
  }
}

/** The view's elements in row-major order; the storage array itself when the view is all of it and `own` allows. */
function gather(data: Float32Array | Int32Array, ref: TensorRef, own: boolean): Float32Array | Int32Array {
  const { shape, strides, offset } = ref;
  const size = shape.reduce((a, b) => a * b, 1);
  let contiguous = true;
  for (let i = shape.length - 1, expect = 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expect) contiguous = false;
    expect *= shape[i]!;
  }
  if (contiguous) return own && offset === 0 && size === data.length ? data : data.slice(offset, offset + size);
  const out = data instanceof Int32Array ? new Int32Array(size) : new Float32Array(size);
  const index = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let n = 0; n < size; n++) {
    out[n] = data[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) {
        src += strides[d]!;
        break;
      }
      src -= (shape[d]! - 1) * strides[d]!;
      index[d] = 0;
    }
  }
  return out;
}

function isFlat(d: PyDict): boolean {
  for (const [k, v] of d.entries) if (typeof k !== 'string' || !(v instanceof TensorRef)) return false;
  return true;
}

function pickStateDict(root: PyValue, key: string | undefined, name: string): PyDict {
  if (!(root instanceof PyDict)) throw new ConvkitError(`${name}: the file holds ${describe(root)}, not a state dict (a dict of tensors)`);
  const keys = [...root.entries.keys()].map((k) => (typeof k === 'string' ? `'${k}'` : describe(k)));
  if (key !== undefined) {
    if (!root.entries.has(key)) throw new ConvkitError(`${name}: the checkpoint has no entry '${key}'; it has ${keys.join(', ')}`);
    const v = root.entries.get(key)!;
    if (!(v instanceof PyDict) || !isFlat(v)) {
      throw new ConvkitError(`${name}: entry '${key}' is ${describe(v)} that is not a dict of tensors by name`);
    }
    return v;
  }
  if (isFlat(root)) return root;
  const candidates = [...root.entries].filter(([k, v]) => typeof k === 'string' && v instanceof PyDict && v.entries.size > 0 && isFlat(v)) as [string, PyDict][];
  if (candidates.length === 1) return candidates[0]![1];
  const preferred = PREFERRED.find((p) => candidates.some(([k]) => k === p));
  if (preferred) return candidates.find(([k]) => k === preferred)![1];
  const nonTensor = [...root.entries].find(([, v]) => !(v instanceof TensorRef));
  throw new ConvkitError(
    candidates.length
      ? `${name}: the checkpoint holds ${candidates.length} dicts of tensors (${candidates.map(([k]) => `'${k}'`).join(', ')}); pick one with { key }`
      : `${name}: neither the file nor any of its entries (${keys.join(', ')}) is a dict of tensors by name` +
        (nonTensor ? ` (entry ${typeof nonTensor[0] === 'string' ? `'${nonTensor[0]}'` : describe(nonTensor[0])} is ${describe(nonTensor[1])})` : ''),
  );
}

/** Visits every value reachable from `v` once (pickles can share and even cycle through memo). */
function walk(v: PyValue, visit: (v: PyValue) => void): void {
  const seen = new Set<object>();
  const todo: PyValue[] = [v];
  while (todo.length) {
    const x = todo.pop()!;
    if (x !== null && typeof x === 'object') {
      if (seen.has(x)) continue;
      seen.add(x);
    }
    visit(x);
    if (x instanceof PyList || x instanceof PyTuple) for (const y of x.items) todo.push(y);
    else if (x instanceof PyDict) for (const [k, y] of x.entries) todo.push(k, y);
  }
}

