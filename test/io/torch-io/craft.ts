import { crc32 } from '../../../src/io/crc32.js';

/**
 * Hand-made PyTorch files for the refusal tests: a pickle assembled from opcodes and a stored
 * zip around it, laid out as torch.save lays them out (`archive/data.pkl`, `archive/data/<key>`).
 */

const enc = new TextEncoder();

export function concat(...parts: (Uint8Array | number[] | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p instanceof Uint8Array ? p : new Uint8Array(p)));
  const out = new Uint8Array(arrays.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function le(n: number, bytes: number): number[] {
  return Array.from({ length: bytes }, (_, i) => Math.floor(n / 2 ** (8 * i)) & 0xff);
}

/** Pickle opcodes, enough to write torch.save's state dicts and variations on them. */
export const P = {
  proto: (v = 2) => [0x80, v],
  stop: '.',
  mark: '(',
  emptyDict: '}',
  emptyTuple: ')',
  tuple: 't',
  tuple1: [0x85],
  tuple2: [0x86],
  reduce: 'R',
  build: 'b',
  setitem: 's',
  setitems: 'u',
  persid: 'Q',
  false_: [0x89],
  true_: [0x88],
  none: 'N',
  int: (v: number) => concat('J', le(v >>> 0, 4)),
  str: (s: string) => {
    const b = enc.encode(s);
    return concat('X', le(b.length, 4), b);
  },
  global: (module: string, name: string) => `c${module}\n${name}\n`,
  put: (i: number) => [0x71, i],
  get: (i: number) => [0x68, i],
};

/** `_rebuild_tensor_v2(storage(key, type, numel), offset, shape, strides, False, OrderedDict())`. */
export function tensorPickle(key: string, type: string, numel: number, offset: number, shape: number[], strides: number[]): Uint8Array {
  return concat(
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark,
    P.mark, P.str('storage'), P.global('torch', type), P.str(key), P.str('cpu'), P.int(numel), P.tuple, P.persid,
    P.int(offset),
    P.mark, ...shape.map(P.int), P.tuple,
    P.mark, ...strides.map(P.int), P.tuple,
    P.false_,
    P.global('collections', 'OrderedDict'), P.emptyTuple, P.reduce,
    P.tuple,
    P.reduce,
  );
}

/** `{name: tensor}` as an OrderedDict pickle, protocol 2. */
export function stateDictPickle(entries: [string, Uint8Array][]): Uint8Array {
  return concat(
    P.proto(),
    P.global('collections', 'OrderedDict'), P.emptyTuple, P.reduce,
    P.mark, ...entries.flatMap(([k, t]) => [P.str(k), t]), P.setitems,
    P.stop,
  );
}

/** A stored zip (no compression) of `entries`, as torch.save would name them. */
export function zipOf(entries: [string, Uint8Array][]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = enc.encode(name);
    const crc = crc32(data);
    const common = concat(le(0, 2), le(0, 2), le(0, 2), le(0, 2), le(crc, 4), le(data.length, 4), le(data.length, 4), le(n.length, 2), le(0, 2));
    const local = concat(le(0x04034b50, 4), le(20, 2), common, n, data);
    centrals.push(concat(le(0x02014b50, 4), le(20, 2), le(20, 2), common, le(0, 2), le(0, 2), le(0, 2), le(0, 4), le(offset, 4), n));
    locals.push(local);
    offset += local.length;
  }
  const dir = concat(...centrals);
  const eocd = concat(le(0x06054b50, 4), le(0, 2), le(0, 2), le(entries.length, 2), le(entries.length, 2), le(dir.length, 4), le(offset, 4), le(0, 2));
  return concat(...locals, dir, eocd);
}

/** A torch.save-shaped archive: the pickle plus one entry per storage. */
export function torchFile(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  return zipOf([
    ['archive/data.pkl', pickle],
    ...Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v] as [string, Uint8Array]),
    ['archive/version', enc.encode('3\n')],
  ]);
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
