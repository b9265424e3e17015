import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ck from '../../../src/index.js';
import { concat, f32Bytes, legacyFile, legacyTensorPickle, P, stateDictPickle, tensorPickle, torchFile, zipOf } from './craft.js';
import { expectDict, expected, FIXTURES, fixtureBytes } from './fixtures.js';

async function expectRefused(source: Uint8Array | string, ...patterns: RegExp[]): Promise<void> {
  let caught: unknown;
  try {
    await ck.io.loadTorch(source);
  } catch (e) {
    caught = e;
  }
  expect(caught, 'a ConvkitError').toBeInstanceOf(ck.ConvkitError);
  for (const p of patterns) expect((caught as Error).message).toMatch(p);
}

describe('loadTorch: files written by torch.save (PyTorch 1.13)', () => {
  const readable = ['state_dict.pth', 'dtypes.pth', 'checkpoint_state_dict.pth', 'checkpoint_model.pth', 'state_dict_deflated.pth', 'legacy.pth', 'dtypes_legacy.pth'];
  for (const name of readable) {
    it(`${name}: every tensor's shape and exact values, in the state dict's order`, async () => {
      const want = expected.files[name]!;
      const got = await ck.io.loadTorch(join(FIXTURES, name));
      expectDict(got, want, name);
      expect([...got.keys()]).toEqual(want.keys);
    });
  }

  it('dtypes.pth: non-contiguous views, storage offsets, stride 0 and shared storages come out contiguous', async () => {
    const got = await ck.io.loadTorch(fixtureBytes('dtypes.pth'));
    for (const k of ['transposed', 'strided_slice', 'expanded', 'shared_a', 'shared_b']) expect(got.get(k)!.isContiguous(), k).toBe(true);
    expect(got.get('shared_b')!.values().buffer).not.toBe(got.get('shared_a')!.values().buffer);
    expect(got.get('expanded')!.toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
  });

  it('reads an ArrayBuffer and a Blob as well as a path', async () => {
    const bytes = fixtureBytes('state_dict.pth');
    for (const source of [bytes.slice().buffer, new Blob([bytes.slice().buffer])]) {
      expectDict(await ck.io.loadTorch(source), expected.files['state_dict.pth']!, 'source');
    }
  });

  it('a state dict file and its safetensors twin give the same tensors', async () => {
    const pth = await ck.io.loadTorch(join(FIXTURES, 'state_dict.pth'));
    const st = (await ck.io.loadSafetensors(join(FIXTURES, 'state_dict.safetensors'))).tensors;
    for (const [k, t] of pth) expect([...st.get(k)!.values()], k).toEqual([...t.values()]);
  });

  it('loads into a convkit model with the same parameter names', async () => {
    class TinyNet extends ck.nn.Module {
      conv = new ck.nn.Conv2d(3, 4, 3);
      bn = new ck.nn.BatchNorm2d(4);
      fc = new ck.nn.Linear(16, 5);
      forward(x: ck.Tensor): ck.Tensor {
        return x;
      }
    }
    const net = new TinyNet();
    net.loadStateDict(await ck.io.loadTorch(join(FIXTURES, 'state_dict.pth')));
    expect(net.bn.stateDict().get('num_batches_tracked')!.toArray()).toBe(1);
  });

  it('loadTorchCheckpoint: the whole checkpoint, dicts as Maps and tensors read', async () => {
    const root = (await ck.io.loadTorchCheckpoint(join(FIXTURES, 'checkpoint_state_dict.pth'))) as Map<ck.io.TorchValue, ck.io.TorchValue>;
    expect(root.get('epoch')).toBe(7);
    expect(root.get('arch')).toBe('tiny');
    expect(root.get('best_acc')).toBe(0.5);
    expect(root.get('flags')).toEqual([true, false, null]);
    const opt = root.get('optimizer') as Map<ck.io.TorchValue, ck.io.TorchValue>;
    const group = (opt.get('param_groups') as Map<ck.io.TorchValue, ck.io.TorchValue>[])[0]!;
    expect(group.get('lr')).toBe(0.1);
    expect(group.get('params')).toEqual([0, 1, 2, 3, 4, 5]);
    const momentum = (opt.get('state') as Map<ck.io.TorchValue, ck.io.TorchValue>).get(0) as Map<ck.io.TorchValue, ck.io.TorchValue>;
    expect((momentum.get('momentum_buffer') as ck.Tensor).shape).toEqual([4, 3, 3, 3]);
    expectDict(root.get('state_dict') as Map<string, ck.Tensor>, expected.files['state_dict.pth']!, 'state_dict');
  });

  it('a checkpoint with two state dicts needs { key }, and a wrong key lists the entries', async () => {
    const file = join(FIXTURES, 'checkpoint_ambiguous.pth');
    await expectRefused(file, /holds 2 dicts of tensors \('a', 'b'\); pick one with \{ key \}/);
    expectDict(await ck.io.loadTorch(file, { key: 'b' }), expected.files['state_dict.pth']!, 'b');
    await expect(ck.io.loadTorch(file, { key: 'c' })).rejects.toThrow(/no entry 'c'; it has 'a', 'b'/);
    await expect(ck.io.loadTorch(join(FIXTURES, 'checkpoint_state_dict.pth'), { key: 'epoch' })).rejects.toThrow(/entry 'epoch' is 7 that is not a dict of tensors/);
  });
});

describe('loadTorch: the legacy format (torch.save before 1.6)', () => {
  const main = stateDictPickle([['w', legacyTensorPickle('7', 6, [2, 3], [1, 2])]]);
  const data = f32Bytes([1, 2, 3, 4, 5, 6]);

  it("PyTorch 0.3's _rebuild_tensor, with strides", async () => {
    expect((await ck.io.loadTorch(legacyFile(main, [['7', 6, data]]))).get('w')!.toArray()).toEqual([[1, 3, 5], [2, 4, 6]]);
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a storage count that differs from the pickle', () => legacyFile(main, [['7', 5, data]]), /storage '7' holding 5 elements where the pickle declares 6/],
    ['storage data cut short', () => legacyFile(main, [['7', 6, data.subarray(0, 20)]]), /running past the end .* \(truncated\)/],
    ['a key the pickle never used', () => legacyFile(main, [['7', 6, data], ['8', 1, f32Bytes([0])]]), /storage '8' listed but never used/],
    ['a storage missing from the key list', () => legacyFile(main, []), /storage '7' used by the pickle but missing from its key list/],
    ['a persistent id without view metadata', () => legacyFile(stateDictPickle([['w', tensorPickle('7', 'FloatStorage', 6, 0, [6], [1])]]), [['7', 6, data]]), /not \('storage', type, key, location, numel, None\)/],
    ['the fixture cut in its storages', () => { const f = fixtureBytes('legacy.pth'); return f.subarray(0, f.length - 10); }, /truncated/],
    ['the fixture cut in its pickle', () => fixtureBytes('legacy.pth').subarray(0, 300), /truncated/],
  ];
  for (const [what, make, pattern] of cases) {
    it(what, async () => {
      await expectRefused(make(), pattern);
    });
  }
});

describe('loadTorch refuses, with a ConvkitError naming the problem', () => {
  it('pickles that would run code: os.system, builtins.eval, INST, STACK_GLOBAL', async () => {
    await expectRefused(join(FIXTURES, 'malicious_os_system.pth'), /global os\.system/, /never runs code/);
    await expectRefused(join(FIXTURES, 'malicious_eval.pth'), /global builtins\.eval/);
    await expectRefused(join(FIXTURES, 'malicious_inst.pth'), /opcode INST/);
    await expectRefused(join(FIXTURES, 'malicious_stack_global.pth'), /opcode STACK_GLOBAL/);
  });

  it('a whole pickled module, TorchScript and files of other formats', async () => {
    await expectRefused(join(FIXTURES, 'whole_module.pth'), /global tiny_net\.TinyNet/, /save model\.state_dict\(\) instead/);
    await expectRefused(zipOf([['m/constants.pkl', new Uint8Array(1)], ['m/code/m.py', new Uint8Array(1)]]), /TorchScript archive/);
    await expectRefused(new TextEncoder().encode('hello world'), /not a PyTorch \.pth\/\.pt file/);
    await expectRefused(fixtureBytes('state_dict.safetensors'), /not a PyTorch \.pth\/\.pt file/, /read it with ck\.io\.loadSafetensors/);
  });

  const w = tensorPickle('0', 'FloatStorage', 4, 0, [2, 2], [2, 1]);
  const good = torchFile(stateDictPickle([['w', w]]), { '0': f32Bytes([1, 2, 3, 4]) });
  it('(the hand-made file these cases vary loads)', async () => {
    expect((await ck.io.loadTorch(good)).get('w')!.toArray()).toEqual([[1, 2], [3, 4]]);
    const little = zipOf([['archive/data.pkl', stateDictPickle([['w', w]])], ['archive/byteorder', new TextEncoder().encode('little')], ['archive/data/0', f32Bytes([1, 2, 3, 4])]]);
    expect((await ck.io.loadTorch(little)).get('w')!.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('damaged deflate data', async () => {
    const f = fixtureBytes('state_dict_deflated.pth');
    // Inside the first entry's deflated bytes (data.pkl: its local header and name take ~60 bytes).
    for (const at of [70, 100, 200]) {
      const bad = f.slice();
      bad[at] ^= 0x5a;
      await expectRefused(bad, /zip entry 'state_dict\/data\.pkl': (corrupt deflate data|CRC-32 mismatch|inflates to)/);
    }
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a storage smaller than its declared numel', () => torchFile(stateDictPickle([['w', w]]), { '0': f32Bytes([1, 2, 3]) }), /declares 4 x f32 \(16 bytes\), but archive\/data\/0 holds 12/],
    ['a view past its storage', () => torchFile(stateDictPickle([['w', tensorPickle('0', 'FloatStorage', 4, 1, [2, 2], [2, 1])]]), { '0': f32Bytes([1, 2, 3, 4]) }), /reaches element 4 of storage 0, which holds 4/],
    ['a huge stride-0 view', () => torchFile(stateDictPickle([['w', tensorPickle('0', 'FloatStorage', 1, 0, [1 << 13, 1 << 13], [0, 0])]]), { '0': f32Bytes([1]) }), /refuses views over/],
    ['a missing storage entry', () => torchFile(stateDictPickle([['w', w]])), /storage 0 has no entry archive\/data\/0/],
    ['int64 values outside int32', () => torchFile(stateDictPickle([['n', tensorPickle('0', 'LongStorage', 1, 0, [], [])]]), { '0': new Uint8Array(new BigInt64Array([1n << 40n]).buffer) }), /does not fit convkit's int32/],
    ['a storage type outside the list', () => torchFile(stateDictPickle([['w', tensorPickle('0', 'ComplexFloatStorage', 4, 0, [4], [1])]])), /global torch\.ComplexFloatStorage/],
    ['REDUCE of a storage type', () => torchFile(concat(P.proto(), P.global('torch', 'FloatStorage'), P.emptyTuple, P.reduce, P.stop)), /REDUCE calls torch\.FloatStorage/],
    ['OrderedDict called with arguments', () => torchFile(concat(P.proto(), P.global('collections', 'OrderedDict'), P.str('x'), P.tuple1, P.reduce, P.stop)), /OrderedDict called with 1 arguments/],
    ['BUILD on a tensor', () => torchFile(concat(P.proto(), w, P.emptyDict, P.build, P.stop), { '0': f32Bytes([1, 2, 3, 4]) }), /BUILD \(setting the state of a tensor\)/],
    ['a truncated pickle', () => torchFile(stateDictPickle([['w', w]]).subarray(0, 60)), /truncated/],
    ['a pickle without STOP', () => torchFile(concat(P.proto(), P.none)), /no STOP opcode/],
    ['a memo slot never set', () => torchFile(concat(P.proto(), P.get(3), P.stop)), /memo slot 3, which was never set/],
    ['a stack underflow', () => torchFile(concat(P.proto(), P.setitem, P.stop)), /pops from an empty stack/],
    ['a byte that is no opcode', () => torchFile(concat(P.proto(), [0xff], P.stop)), /byte 0xff is not a pickle opcode/],
    ['a GLOBAL with a huge name', () => torchFile(concat(P.proto(), P.global('x'.repeat(5000), 'y'), P.stop)), /whose name is 5002 characters long/],
    ['LONG4', () => torchFile(concat(P.proto(), [0x8b, 0xff, 0xff, 0xff, 0x7f], P.stop)), /opcode LONG4/],
    ['pickle protocol 5', () => torchFile(concat(P.proto(5), P.none, P.stop)), /pickle protocol 5/],
    ['a persistent id that is not a storage', () => torchFile(concat(P.proto(), P.str('x'), P.persid, P.stop)), /persistent id is 'x'/],
    ['a list as a dict key', () => torchFile(concat(P.proto(), P.emptyDict, ']', P.none, P.setitem, P.stop)), /unhashable/],
    ['backward hooks', () => torchFile(concat(P.proto(), P.global('torch._utils', '_rebuild_tensor_v2'), P.mark, P.mark, P.str('storage'), P.global('torch', 'FloatStorage'), P.str('0'), P.str('cpu'), P.int(1), P.tuple, P.persid, P.int(0), P.emptyTuple, P.emptyTuple, P.false_, P.emptyDict, P.int(1), P.none, P.setitem, P.tuple, P.reduce, P.stop)), /backward hooks/],
    ['a root that is not a dict', () => torchFile(concat(P.proto(), P.int(3), P.stop)), /holds 3, not a state dict/],
    ['a dict with no tensors', () => torchFile(concat(P.proto(), P.emptyDict, P.str('a'), P.int(1), P.setitem, P.stop)), /neither the file nor any of its entries \('a'\) is a dict of tensors/],
    ['big-endian storages (PyTorch 2.x byteorder record)', () => zipOf([['archive/data.pkl', stateDictPickle([['w', w]])], ['archive/byteorder', new TextEncoder().encode('big')], ['archive/data/0', f32Bytes([1, 2, 3, 4])]]), /'big' byte order/],
    ['a truncated zip', () => good.subarray(0, good.length - 30), /no end-of-central-directory record/],
    ['a central directory past the end', () => { const f = good.slice(); f[f.length - 6] = 0xff; return f; }, /runs past the end/],
  ];
  for (const [what, make, pattern] of cases) {
    it(what, async () => {
      await expectRefused(make(), pattern);
    });
  }

  it('a storage whose bytes changed fails the CRC check', async () => {
    const f = good.slice();
    // The storage's first float (1.0 = 00 00 80 3f) sits right after its local header.
    const at = f.findIndex((_, i) => f[i] === 0x00 && f[i + 1] === 0x00 && f[i + 2] === 0x80 && f[i + 3] === 0x3f);
    f[at + 3] = 0x40;
    await expectRefused(f, /zip entry 'archive\/data\/0': CRC-32 mismatch/);
  });
});
