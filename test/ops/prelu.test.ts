import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

function awayFromZero(shape: number[], seed: number): ck.Tensor {
  const v = ck.randn(shape, { seed }).dataSync().map((x) => x + Math.sign(x || 1) * 0.1);
  return ck.tensor(v, shape, { requiresGrad: true });
}

describeEachBackend('prelu', () => {
  it('per-channel slopes along axis 1 (hand-worked)', () => {
    // x [1, 3, 2]: channel c uses slope w[c] on its negative values.
    const x = ck.tensor([[[-1, 2], [-2, -4], [3, -10]]]);
    const w = ck.tensor([0.5, 0.25, 0.1]);
    expectClose(F.prelu(x, w), [-0.5, 2, -0.5, -1, 3, -1]);
  });

  it('one shared slope, any rank', () => {
    expectClose(F.prelu(ck.tensor([-2, 3]), ck.tensor([0.25])), [-0.5, 3]);
    expectClose(F.prelu(ck.tensor([[-4, 1], [2, -8]]), ck.tensor([0.5])), [-2, 1, 2, -4]);
  });

  it('matches a naive reference for [N, C, H, W]', () => {
    const x = ck.randn([2, 3, 4, 5], { seed: 1 });
    const w = ck.tensor([0.1, -0.3, 0.7]);
    const xv = x.dataSync();
    const expected = Array.from(xv, (v, i) => {
      const c = Math.floor(i / 20) % 3;
      return v > 0 ? v : [0.1, -0.3, 0.7][c]! * v;
    });
    expectClose(F.prelu(x, w), expected);
  });

  it('gradients w.r.t. input and slopes', () => {
    gradcheck((a, b) => F.prelu(a, b), [awayFromZero([2, 3, 4], 2), ck.tensor([0.2, 0.5, -0.1], [3], { requiresGrad: true })]);
    gradcheck((a, b) => F.prelu(a, b), [awayFromZero([2, 3, 2, 2], 3), ck.tensor([0.25], [1], { requiresGrad: true })]);
    // dw[c] = sum of x over the negative elements of channel c (dy = 1)
    const x = ck.tensor([[[-1, 2], [-2, -4]]], undefined, { requiresGrad: true });
    const w = ck.tensor([0.5, 0.25], [2], { requiresGrad: true });
    F.sum(F.prelu(x, w)).backward();
    expectClose(w.grad!, [-1, -6]);
    expectClose(x.grad!, [0.5, 1, 0.25, 0.25]);
  });

  it('a weight that fits neither one slope nor one per channel is an error', () => {
    expectConvkitError(() => F.prelu(ck.zeros([2, 3, 4]), ck.zeros([4])), 'prelu', '[4]', '3', '[2, 3, 4]');
    expectConvkitError(() => F.prelu(ck.zeros([2, 3]), ck.zeros([3, 1])), 'prelu', '[3, 1]');
    expect(() => F.prelu(ck.zeros([2, 3]), ck.zeros([1]))).not.toThrow();
  });
});
