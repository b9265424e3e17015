import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

describeEachBackend('argmax, topk, gather', () => {
  it('argmax: hand-worked, first of ties, NaN wins', () => {
    const x = ck.tensor([[1, 5, 5], [7, 0, -1]]);
    const a = ck.argmax(x, 1);
    expect(a.dtype).toBe('int32');
    expect(a.toArray()).toEqual([1, 0]);
    expect(ck.argmax(x, 0).toArray()).toEqual([1, 0, 0]);
    expect(ck.argmax(x, -1, { keepdim: true }).shape).toEqual([2, 1]);
    const all = ck.argmax(x);
    expect(all.shape).toEqual([]);
    expect(all.item()).toBe(3);
    expect(ck.argmax(ck.tensor([[1, Number.NaN, 3]]), 1).toArray()).toEqual([1]);
    expect(ck.argmax(ck.tensor([[1, 2], [3, 4]]).transpose(0, 1), 1).toArray()).toEqual([1, 1]);
  });

  it('argmax matches a naive scan on random 3-d input', () => {
    const x = ck.randn([3, 4, 5], { seed: 1 });
    const v = x.dataSync();
    const expected: number[] = [];
    for (let a = 0; a < 3; a++) {
      for (let c = 0; c < 5; c++) {
        let best = 0;
        for (let b = 1; b < 4; b++) if (v[(a * 4 + b) * 5 + c]! > v[(a * 4 + best) * 5 + c]!) best = b;
        expected.push(best);
      }
    }
    expect(Array.from(ck.argmax(x, 1).values())).toEqual(expected);
  });

  it('topk: sorted values with int32 indices, largest and smallest', () => {
    const x = ck.tensor([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]]);
    const { values, indices } = ck.topk(x, 3);
    expect(values.toArray()).toEqual([[5, 4, 3], [9, 6, 5]]);
    expect(indices.dtype).toBe('int32');
    expect(indices.toArray()).toEqual([[4, 2, 0], [0, 2, 3]]);
    const low = ck.topk(x, 2, 1, { largest: false });
    expect(low.values.toArray()).toEqual([[1, 1], [2, 3]]);
    expect(low.indices.toArray()).toEqual([[1, 3], [1, 4]]);
    const col = ck.topk(x, 1, 0);
    expect(col.values.toArray()).toEqual([[9, 2, 6, 5, 5]]);
    expect(col.indices.toArray()).toEqual([[1, 1, 1, 1, 0]]);
  });

  it('topk values are differentiable', () => {
    // Distinct values so the selection is stable under the finite-difference step.
    const x = ck.tensor(Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) / 4), [2, 3, 4], { requiresGrad: true });
    gradcheck((t) => ck.topk(t, 2, -1).values, [x]);
    gradcheck((t) => ck.topk(t, 2, 1, { largest: false }).values, [x]);
  });

  it('gather picks one entry per row and is differentiable', () => {
    const x = ck.tensor([[1, 2, 3], [4, 5, 6]]);
    const idx = ck.tensor([[2], [0]], undefined, { dtype: 'int32' });
    expect(F.gather(x, 1, idx).toArray()).toEqual([[3], [4]]);
    const idx0 = ck.tensor([[1, 0, 1]], undefined, { dtype: 'int32' });
    expect(F.gather(x, 0, idx0).toArray()).toEqual([[4, 2, 6]]);
    const w = ck.randn([3, 4], { seed: 3, requiresGrad: true });
    // repeated indices accumulate their gradients
    const rep = ck.tensor([[0, 0, 3], [1, 2, 1], [3, 3, 3]], undefined, { dtype: 'int32' });
    gradcheck((t) => F.gather(t, 1, rep), [w]);
    w.grad = null;
    F.sum(F.gather(w, 1, rep)).backward();
    expect(Array.from(w.grad!.dataSync())).toEqual([2, 0, 0, 1, 0, 2, 1, 0, 0, 0, 0, 3]);
  });

  it('bad arguments are errors', () => {
    const x = ck.zeros([2, 3]);
    expectConvkitError(() => ck.topk(x, 4, 1), 'topk', 'k must be an integer in 0..3', 'got 4');
    expectConvkitError(() => ck.argmax(x, 2), 'argmax dim 2 is out of range');
    expectConvkitError(() => ck.argmax(ck.zeros([2, 0]), 1), 'argmax', 'empty');
    expectConvkitError(() => F.gather(x, 1, ck.tensor([[3], [0]], undefined, { dtype: 'int32' })), 'gather', 'index 3', 'position [0, 0]', 'size 3');
    expectConvkitError(() => F.gather(x, 1, ck.tensor([[1], [0]])), 'gather', 'int32');
    expectConvkitError(() => F.gather(x, 1, ck.zeros([3, 1], { dtype: 'int32' })), 'gather', '[3, 1]', '[2, 3]');
  });
});
