import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

describeEachBackend('cat / concat', () => {
  it('hand-worked values along each dimension', () => {
    const a = ck.tensor([[1, 2], [3, 4]]);
    const b = ck.tensor([[5, 6]]);
    const c = ck.tensor([[7], [8]]);
    expect(ck.cat([a, b]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(ck.cat([a, c], 1).toArray()).toEqual([[1, 2, 7], [3, 4, 8]]);
    expect(F.concat([c, a, c], -1).toArray()).toEqual([[7, 1, 2, 7], [8, 3, 4, 8]]);
    expect(ck.cat([ck.tensor([1]), ck.tensor([2, 3])]).toArray()).toEqual([1, 2, 3]);
  });

  it('matches a naive copy for 4-d channel concatenation (Inception style)', () => {
    const xs = [ck.randn([2, 1, 3, 2], { seed: 1 }), ck.randn([2, 4, 3, 2], { seed: 2 }), ck.randn([2, 2, 3, 2], { seed: 3 })];
    const y = ck.cat(xs, 1);
    expect(y.shape).toEqual([2, 7, 3, 2]);
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) {
      for (const x of xs) {
        const v = x.dataSync();
        const per = x.shape[1]! * 6;
        for (let i = 0; i < per; i++) expected.push(v[n * per + i]!);
      }
    }
    expect(Array.from(y.dataSync())).toEqual(Array.from(Float32Array.from(expected)));
  });

  it('keeps int32 and reads strided views', () => {
    const i = ck.cat([ck.tensor([1, 2], [2], { dtype: 'int32' }), ck.tensor([3], [1], { dtype: 'int32' })]);
    expect(i.dtype).toBe('int32');
    expect(i.toArray()).toEqual([1, 2, 3]);
    const t = ck.tensor([[1, 2], [3, 4]]).transpose(0, 1);
    expect(ck.cat([t, t], 0).toArray()).toEqual([[1, 3], [2, 4], [1, 3], [2, 4]]);
  });

  it('is differentiable w.r.t. every input', () => {
    const a = ck.randn([2, 3, 2], { seed: 4, requiresGrad: true });
    const b = ck.randn([2, 1, 2], { seed: 5, requiresGrad: true });
    const c = ck.randn([2, 2, 2], { seed: 6, requiresGrad: true });
    gradcheck((x, y, z) => ck.cat([x, y, z], 1), [a, b, c]);
    gradcheck((x) => ck.cat([x, x.permute(0, 2, 1).contiguous().view(2, 3, 2)], -1), [a]);
    gradcheck((x, z) => ck.cat([x, z.transpose(1, 2)], 1), [a, c]);
    // An input that does not require grad gets none and does not block the others.
    const d = ck.randn([2, 3, 2], { seed: 7 });
    a.grad = null;
    F.sum(ck.cat([a, d])).backward();
    expect(Array.from(a.grad!.dataSync())).toEqual(new Array(12).fill(1));
    expect(d.grad).toBeNull();
  });

  it('mismatches name the tensor index and the shapes', () => {
    const a = ck.zeros([2, 3]);
    expectConvkitError(() => ck.cat([a, a, ck.zeros([4, 5])], 1), 'cat', 'tensor 2', '[4, 5]', '[2, 3]', 'dimension 0');
    expectConvkitError(() => ck.cat([a, ck.zeros([2, 3, 1])]), 'cat', 'tensor 1', '3 dimensions', '[2, 3, 1]');
    expectConvkitError(() => ck.cat([a, ck.zeros([2, 3], { dtype: 'int32' })]), 'cat', 'tensor 1', 'int32', 'float32');
    expectConvkitError(() => ck.cat([]), 'cat', 'non-empty');
    expectConvkitError(() => ck.cat([a, 3 as unknown as ck.Tensor]), 'cat', 'element 1', 'not a Tensor');
    expectConvkitError(() => ck.cat([ck.tensor(1)]), 'cat', '0-d');
    expectConvkitError(() => ck.cat([a], 2), 'cat dim 2 is out of range');
  });
});
