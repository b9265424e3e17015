import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

describe('Tensor creation', () => {
  it('reads nested and flat data', () => {
    const a = ck.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.strides).toEqual([3, 1]);
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const b = ck.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(b.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(ck.tensor(3).shape).toEqual([]);
    expect(ck.tensor(3).item()).toBe(3);
  });

  it('zeros, ones, full, arange', () => {
    expect(Array.from(ck.zeros([2, 2]).dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(ck.ones([3]).dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(ck.full([2], 7).dataSync())).toEqual([7, 7]);
    expect(Array.from(ck.arange(5).dataSync())).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(ck.arange(1, 2, 0.25).dataSync())).toEqual([1, 1.25, 1.5, 1.75]);
    expect(ck.zeros([2], { dtype: 'int32' }).dtype).toBe('int32');
  });

  it('seeded randomness is reproducible and roughly standard normal', () => {
    const a = ck.randn([1000], { seed: 3 }).dataSync();
    const b = ck.randn([1000], { seed: 3 }).dataSync();
    const c = ck.randn([1000], { seed: 4 }).dataSync();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(variance - 1)).toBeLessThan(0.15);
    ck.manualSeed(9);
    const u1 = ck.rand([10]).dataSync();
    ck.manualSeed(9);
    expect(ck.rand([10]).dataSync()).toEqual(u1);
    expect(u1.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('rejects bad data with clear errors', () => {
    expectConvkitError(() => ck.tensor([1, 2, 3], [2, 2]), '3 values', '[2, 2]', '4 elements');
    expectConvkitError(() => ck.tensor([[1, 2], [3]]), 'ragged');
    expectConvkitError(() => ck.zeros([2, -1]), '-1');
    expectConvkitError(() => ck.zeros([2.5]), '2.5');
  });
});

describe('views', () => {
  const x = () => ck.arange(24).view(2, 3, 4);

  it('view and reshape infer one -1 and share storage', () => {
    const a = x();
    const v = a.view(-1, 4);
    expect(v.shape).toEqual([6, 4]);
    expect(v.storage).toBe(a.storage);
    expect(a.reshape([4, -1]).shape).toEqual([4, 6]);
  });

  it('permute and transpose are non-contiguous views', () => {
    const a = x();
    const p = a.permute(2, 0, 1);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.strides).toEqual([1, 12, 4]);
    expect(p.isContiguous()).toBe(false);
    expect(p.storage).toBe(a.storage);
    // element [k, i, j] of p is a[i, j, k] = 12 i + 4 j + k
    const arr = p.toArray() as number[][][];
    expect(arr[3]![1]![2]).toBe(12 + 8 + 3);
    const t = a.transpose(0, 2);
    expect(t.shape).toEqual([4, 3, 2]);
    expect((t.toArray() as number[][][])[1]![2]![1]).toBe(12 + 8 + 1);
  });

  it('contiguous copies only when needed', () => {
    const a = x();
    expect(a.contiguous()).toBe(a);
    const c = a.transpose(1, 2).contiguous();
    expect(c.isContiguous()).toBe(true);
    expect(c.storage).not.toBe(a.storage);
    expect(Array.from(c.dataSync().slice(0, 4))).toEqual([0, 4, 8, 1]);
  });

  it('view of a non-contiguous tensor says to call contiguous(); reshape copies', () => {
    const t = x().transpose(0, 1);
    expectConvkitError(() => t.view(-1), 'not contiguous', 'contiguous()', 'reshape');
    const r = t.reshape(-1);
    expect(Array.from(r.dataSync().slice(0, 5))).toEqual([0, 1, 2, 3, 12]);
  });

  it('errors show both shapes', () => {
    expectConvkitError(() => x().view(-1, -1), 'only one dimension can be -1', '[2, 3, 4]', '[-1, -1]');
    expectConvkitError(() => x().view(5, 5), '[2, 3, 4]', '24 elements', '[5, 5]', '25 elements');
    expectConvkitError(() => x().view(5, -1), '24 is not divisible by 5');
    expectConvkitError(() => x().permute(0, 0, 1), 'exactly once');
    expectConvkitError(() => x().transpose(0, 3), 'out of range');
  });
});

describe('tidy and memory', () => {
  it('frees what a scope made and keeps what it returns', () => {
    const before = ck.memory().numTensors;
    let inner: ck.Tensor | undefined;
    const kept = ck.tidy(() => {
      inner = ck.ones([1000]);
      return ck.F.add(inner, 1);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(kept.isDisposed).toBe(false);
    expect(ck.memory().numTensors).toBe(before + 1);
    expectConvkitError(() => inner!.dataSync(), 'disposed');
  });

  it('keeps what the autograd graph of the result needs', () => {
    const w = ck.tensor([2, 3], [2], { requiresGrad: true });
    const loss = ck.tidy(() => {
      const x = ck.tensor([5, 7]);
      return ck.F.sum(ck.F.mul(ck.F.mul(x, w), w));
    });
    loss.backward();
    expect(Array.from(w.grad!.dataSync())).toEqual([20, 42]);
  });
});

describe('tidy never frees outside data through a view', () => {
  it('a reshape of an outside tensor inside tidy leaves the outside tensor intact', () => {
    const w = ck.arange(6);
    ck.tidy(() => {
      w.reshape([2, 3]);
      w.transpose(0, 0);
    });
    expect(w.isDisposed).toBe(false);
    expect(Array.from(w.dataSync())).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('parameters and buffers made inside tidy survive it', () => {
    const layerish = ck.tidy(() => ({ p: new ck.nn.Parameter(ck.ones([3]), false) }));
    expect(layerish.p.isDisposed).toBe(false);
  });
});
