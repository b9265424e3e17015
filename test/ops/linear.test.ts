import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

/** y[r, o] = sum_i x[r, i] * w[o, i] + b[o], the definition written out. */
function naiveLinear(x: Float32Array, w: Float32Array, b: Float32Array | null, rows: number, inF: number, outF: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i]! * w[o * inF + i]!;
      out.push(s);
    }
  }
  return out;
}

describeEachBackend('linear', () => {
  it('hand-worked: W is [out, in] as in PyTorch', () => {
    const x = ck.tensor([[1, 2, 3]]);
    const w = ck.tensor([[1, 0, 0], [1, 1, 1]]);
    const b = ck.tensor([10, 20]);
    expect(F.linear(x, w, b).toArray()).toEqual([[11, 26]]);
    expect(F.linear(x, w).toArray()).toEqual([[1, 6]]);
    expect(F.linear(ck.tensor([1, 2, 3]), w, b).toArray()).toEqual([11, 26]);
  });

  it('matches the definition, with any leading dimensions', () => {
    const x = ck.randn([2, 3, 5], { seed: 1 });
    const w = ck.randn([4, 5], { seed: 2 });
    const b = ck.randn([4], { seed: 3 });
    const y = F.linear(x, w, b);
    expect(y.shape).toEqual([2, 3, 4]);
    expectClose(y, naiveLinear(x.dataSync(), w.dataSync(), b.dataSync(), 6, 5, 4));
    const xt = ck.randn([5, 3], { seed: 4 }).transpose(0, 1);
    expectClose(F.linear(xt, w), naiveLinear(xt.contiguous().dataSync(), w.dataSync(), null, 3, 5, 4));
  });

  it('gradients w.r.t. input, weight and bias', () => {
    const x = ck.randn([3, 5], { seed: 5, requiresGrad: true });
    const w = ck.randn([4, 5], { seed: 6, requiresGrad: true });
    const b = ck.randn([4], { seed: 7, requiresGrad: true });
    gradcheck((p, q, r) => F.linear(p, q, r), [x, w, b]);
    gradcheck((p, q) => F.linear(p, q), [x, w]);
    const x3 = ck.randn([2, 2, 5], { seed: 8, requiresGrad: true });
    gradcheck((p, q, r) => F.linear(p, q, r), [x3, w, b]);
    gradcheck((p, q, r) => F.linear(p, q, r), [ck.randn([5], { seed: 9, requiresGrad: true }), w, b]);
  });

  it('only the inputs that require grad get one', () => {
    const x = ck.randn([2, 3], { seed: 10 });
    const w = ck.randn([4, 3], { seed: 11, requiresGrad: true });
    const b = ck.zeros([4]);
    F.sum(F.linear(x, w, b)).backward();
    // dW[o, i] = sum over rows of x[r, i]
    const xv = x.dataSync();
    expectClose(w.grad!, Array.from({ length: 12 }, (_, k) => xv[k % 3]! + xv[3 + (k % 3)]!));
    expect(b.grad).toBeNull();
    expect(x.grad).toBeNull();
  });

  it('bad shapes say what to change', () => {
    const w = ck.zeros([120, 400]);
    expectConvkitError(() => F.linear(ck.zeros([8, 256]), w), 'linear', 'expected 400 input features, got 256', '[8, 256]', '[120, 400]');
    expectConvkitError(() => F.linear(ck.zeros([8, 16, 4, 4]), w), 'expected 400 input features, got 4', 'flatten');
    expectConvkitError(() => F.linear(ck.zeros([8, 400]), w, ck.zeros([100])), 'linear', 'bias', '[120]', '[100]');
    expectConvkitError(() => F.linear(ck.zeros([8, 400]), ck.zeros([400])), 'linear', 'weight must be 2-d', '[400]');
    expectConvkitError(() => F.linear(ck.tensor(1), w), 'linear', 'scalar');
  });
});
