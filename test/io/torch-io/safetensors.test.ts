import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ck from '../../../src/index.js';
import { expectConvkitError } from '../../helpers/assert.js';
import { expectDict, expected, FIXTURES, fixtureBytes } from './fixtures.js';

const enc = new TextEncoder();

/** A file from a header object and a data section, laid out by hand. */
function fileOf(header: unknown, data: Uint8Array = new Uint8Array(0), rawHeader?: string): Uint8Array {
  const h = enc.encode(rawHeader ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors: reading PyTorch-written files', () => {
  for (const name of ['state_dict.safetensors', 'dtypes.safetensors', 'f32_only.safetensors']) {
    it(`${name}: every tensor's shape and exact values, and the metadata`, async () => {
      const want = expected.files[name]!;
      const got = await ck.io.loadSafetensors(join(FIXTURES, name));
      expectDict(got.tensors, want, name);
      expect(got.metadata).toEqual(want.metadata);
    });
  }

  it('reads bytes, an ArrayBuffer and a Uint8Array that starts inside its buffer', async () => {
    const bytes = fixtureBytes('state_dict.safetensors');
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    for (const source of [bytes, bytes.slice().buffer, shifted.subarray(3)]) {
      expectDict((await ck.io.loadSafetensors(source)).tensors, expected.files['state_dict.safetensors']!, 'bytes');
    }
  });

  it('re-encodes PyTorch-written files to the same bytes (reference layout, bit for bit)', () => {
    for (const name of ['state_dict.safetensors', 'f32_only.safetensors']) {
      const bytes = fixtureBytes(name);
      const { tensors, metadata } = ck.io.decodeSafetensors(bytes, name);
      expect(Buffer.from(ck.io.encodeSafetensors(tensors, metadata)).equals(Buffer.from(bytes)), name).toBe(true);
    }
  });
});

describe('safetensors: writing', () => {
  it('round-trips a model state dict, int32 buffers as I64 (PyTorch) or I32', () => {
    const model = new ck.nn.Sequential(new ck.nn.Conv2d(2, 3, 3), new ck.nn.BatchNorm2d(3));
    const sd = model.stateDict();
    (sd.get('1.num_batches_tracked')!.storage.data as Int32Array)[0] = -5;
    for (const int32As of ['I64', 'I32'] as const) {
      const bytes = ck.io.encodeSafetensors(model, { k: 'v' }, { int32As });
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
      expect(header['1.num_batches_tracked'].dtype).toBe(int32As);
      expect(Object.keys(header)[0]).toBe('__metadata__');
      const back = ck.io.decodeSafetensors(bytes);
      expect([...back.tensors.keys()].sort()).toEqual([...sd.keys()].sort());
      for (const [k, t] of sd) {
        expect(back.tensors.get(k)!.dtype).toBe(t.dtype);
        expect([...back.tensors.get(k)!.values()]).toEqual([...t.values()]);
      }
      expect(back.metadata).toEqual({ k: 'v' });
    }
  });

  it('orders tensors by dtype alignment then UTF-8 name, pads the header with spaces to 8 bytes', () => {
    const t = (v: number[], dtype: ck.DType = 'float32') => ck.tensor(v, [v.length], { dtype });
    // '\u{1F600}' sorts after '\uFFFD' in UTF-8 (and before it in UTF-16): the reference uses bytes.
    const bytes = ck.io.encodeSafetensors(
      { b: t([1]), a: t([2]), n: t([3], 'int32'), '\u{1F600}': t([4]), '\uFFFD': t([5]) },
      { z: '1', a: '2\n"' },
      { int32As: 'I32' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"a":"2\\n\\"","z":"1"},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
        '"\uFFFD":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"\u{1F600}":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},' +
        '"n":{"dtype":"I32","shape":[1],"data_offsets":[16,20]}}',
    );
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
  });

  it('writes strided views, scalars and empty tensors by value', () => {
    const base = ck.arange(0, 12).reshape([3, 4]);
    const dict = new Map([
      ['t', base.transpose(0, 1)],
      ['s', ck.tensor(7)],
      ['e', ck.zeros([0, 5])],
    ]);
    const back = ck.io.decodeSafetensors(ck.io.encodeSafetensors(dict)).tensors;
    expect(back.get('t')!.toArray()).toEqual(base.transpose(0, 1).toArray());
    expect(back.get('s')!.shape).toEqual([]);
    expect(back.get('s')!.toArray()).toBe(7);
    expect(back.get('e')!.shape).toEqual([0, 5]);
  });

  it('saveSafetensors writes a file that loadSafetensors reads', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ck-st-')), 'w.safetensors');
    const model = new ck.nn.Linear(3, 2);
    await ck.io.saveSafetensors(model, file, { metadata: { format: 'pt' } });
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(ck.io.encodeSafetensors(model, { format: 'pt' })))).toBe(true);
    const back = await ck.io.loadSafetensors(file);
    expect([...back.tensors.get('weight')!.values()]).toEqual([...model.weight.values()]);
  });

  it('refuses what the format cannot hold', () => {
    expectConvkitError(() => ck.io.encodeSafetensors({ x: [1, 2] as unknown as ck.Tensor }), "'x' is not a Tensor");
    expectConvkitError(() => ck.io.encodeSafetensors({ __metadata__: ck.zeros([1]) }), 'reserved');
    expectConvkitError(() => ck.io.encodeSafetensors({ x: ck.zeros([1]) }, { a: 1 as unknown as string }), "metadata['a'] must be a string");
    expectConvkitError(() => ck.io.encodeSafetensors({ '\uD800': ck.zeros([1]) }), 'lone UTF-16 surrogate');
    expectConvkitError(() => ck.io.encodeSafetensors(null as unknown as Map<string, ck.Tensor>), 'got null');
  });
});

describe('safetensors: malformed files are ConvkitErrors that name the problem', () => {
  const f32 = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const one = (info: unknown, data = f32) => fileOf({ x: info }, data);
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), /shorter than the 8-byte header length/],
    ['header length past the end', (() => { const b = fileOf({}); new DataView(b.buffer).setUint32(0, 999, true); return b; })(), /runs past the end/],
    ['header length over the limit', (() => { const b = fileOf({}); new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true); return b; })(), /exceeds the format's limit/],
    ['invalid UTF-8', fileOf(null, new Uint8Array(0), '{"\xff"}').map((v, i) => (i === 10 ? 0xff : v)), /not valid UTF-8/],
    ['not starting with {', fileOf(null, new Uint8Array(0), '[1]'), /starting with '\{'/],
    ['broken JSON', fileOf(null, new Uint8Array(0), '{"x":'), /not valid JSON/],
    ['tensor info not an object', one(3), /expected \{dtype, shape, data_offsets\}/],
    ['unknown dtype', one({ dtype: 'F8_E4M3', shape: [16], data_offsets: [0, 16] }), /dtype "F8_E4M3" is not supported/],
    ['bad shape', one({ dtype: 'F32', shape: [-4], data_offsets: [0, 16] }), /shape must be an array of non-negative integers/],
    ['bad offsets', one({ dtype: 'F32', shape: [4], data_offsets: [0] }), /data_offsets must be \[begin, end\]/],
    ['reversed offsets', one({ dtype: 'F32', shape: [0], data_offsets: [8, 4] }), /end before they begin/],
    ['offsets past the data', one({ dtype: 'F32', shape: [5], data_offsets: [0, 20] }), /run past the 16-byte data section/],
    ['size mismatch', one({ dtype: 'F32', shape: [3], data_offsets: [0, 16] }), /needs 12 bytes, data_offsets \[0, 16\] hold 16/],
    ['huge shape', one({ dtype: 'F32', shape: [2 ** 40, 2 ** 40, 0.5], data_offsets: [0, 16] }), /non-negative integers/],
    ['overflowing shape', one({ dtype: 'F32', shape: [2 ** 50, 2 ** 50], data_offsets: [0, 16] }), /hold 16/],
    ['hole', fileOf({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, f32), /bytes 0-8 of the data section belong to no tensor/],
    ['overlap', fileOf({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, y: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, f32), /overlaps/],
    ['trailing bytes', fileOf({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32), /end at byte 8 .* holds 16 bytes/],
    ['metadata not strings', fileOf({ __metadata__: { a: 1 } }), /__metadata__.a must be a string/],
    ['I64 out of int32 range', one({ dtype: 'I64', shape: [2], data_offsets: [0, 16] }, new Uint8Array(new BigInt64Array([1n, 2n ** 40n]).buffer)), /element 1 \(1099511627776\) of a i64 tensor does not fit convkit's int32/],
    ['bool not 0/1', one({ dtype: 'BOOL', shape: [16], data_offsets: [0, 16] }), /not 0 or 1/],
  ];
  for (const [what, bytes, pattern] of cases) {
    it(what, () => {
      expectConvkitError(() => ck.io.decodeSafetensors(bytes, 'w.safetensors'), /^w\.safetensors: /, pattern);
    });
  }

  it('keeps a metadata key named __proto__ as data', () => {
    const bytes = fileOf(null, new Uint8Array(0), '{"__metadata__":{"__proto__":"x","a":"b"}}');
    const { metadata } = ck.io.decodeSafetensors(bytes);
    expect(Object.keys(metadata)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });

  it('a .pth file gets a hint', () => {
    expectConvkitError(() => ck.io.decodeSafetensors(fixtureBytes('state_dict.pth'), 'w.pth'), /read it with ck\.io\.loadTorch/);
  });

  it('a missing file names the path', async () => {
    await expect(ck.io.loadSafetensors('/nonexistent/w.safetensors')).rejects.toThrow(/no such file/);
  });
});
