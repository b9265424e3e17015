import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

describeEachBackend('binary ops and reductions', () => {
  it('broadcast hand-worked values', () => {
    const a = ck.tensor([[1, 2, 3], [4, 5, 6]]);
    const b = ck.tensor([10, 20, 30]);
    expect(F.add(a, b).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(F.mul(a, ck.tensor([[2], [3]])).toArray()).toEqual([[2, 4, 6], [12, 15, 18]]);
    expect(F.sub(a, 1).toArray()).toEqual([[0, 1, 2], [3, 4, 5]]);
    expectClose(F.div(6, a), [6, 3, 2, 1.5, 1.2, 1]);
    expect(F.sum(a).item()).toBe(21);
    expect(F.sum(a, 0).toArray()).toEqual([5, 7, 9]);
    expect(F.mean(a, 1, { keepdim: true }).toArray()).toEqual([[2], [5]]);
    expect(F.amax(a, -1).toArray()).toEqual([3, 6]);
  });

  it('gradients of broadcasting ops match finite differences', () => {
    const a = ck.randn([2, 3, 4], { seed: 1, requiresGrad: true });
    const b = ck.randn([3, 1], { seed: 2, requiresGrad: true });
    for (const op of [F.add, F.sub, F.mul, F.div, F.maximum, F.minimum] as const) {
      gradcheck((x, y) => op(x, y), [a, b]);
    }
    const pos = ck.rand([3, 4], { seed: 3, requiresGrad: true });
    const e = ck.randn([4], { seed: 4, requiresGrad: true });
    gradcheck((x, y) => F.pow(F.add(x, 0.5), y), [pos, e]);
    gradcheck((x) => F.mean(x, [0, 2]), [a]);
    gradcheck((x) => F.amax(x, 1), [a]);
    gradcheck((x) => F.sum(x, -1, { keepdim: true }), [a]);
  });

  it('views are differentiable', () => {
    const a = ck.randn([2, 3, 4], { seed: 5, requiresGrad: true });
    gradcheck((x) => F.mul(x.permute(2, 0, 1).contiguous().view(4, 6), ck.arange(6)), [a]);
    gradcheck((x) => x.transpose(0, 2).reshape(-1), [a]);
  });

  it('bad shapes are errors with both shapes', () => {
    expectConvkitError(() => F.add(ck.zeros([2, 3]), ck.zeros([4])), '[2, 3]', '[4]', 'cannot be broadcast');
    expectConvkitError(() => F.sum(ck.zeros([2]), 3), 'dim 3 is out of range');
  });

  it('leaf gradients accumulate across backward calls', () => {
    const w = ck.tensor([1, 2], [2], { requiresGrad: true });
    F.sum(F.mul(w, 3)).backward();
    F.sum(F.mul(w, 3)).backward();
    expectClose(w.grad!, [6, 6]);
    expectConvkitError(() => F.mul(w, 3).backward(), 'needs a scalar');
  });
});
