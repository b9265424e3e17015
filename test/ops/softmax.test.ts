import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

/** softmax along `axis` of a row-major [A, B, C] array, the textbook formula (inputs kept small). */
function naiveSoftmax(v: Float32Array, shape: [number, number, number], axis: number): number[] {
  const [A, B, C] = shape;
  const out = new Array<number>(v.length);
  const at = (a: number, b: number, c: number) => (a * B + b) * C + c;
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        let denom = 0;
        const n = shape[axis]!;
        for (let j = 0; j < n; j++) {
          const idx = axis === 0 ? at(j, b, c) : axis === 1 ? at(a, j, c) : at(a, b, j);
          denom += Math.exp(v[idx]!);
        }
        out[at(a, b, c)] = Math.exp(v[at(a, b, c)]!) / denom;
      }
    }
  }
  return out;
}

describeEachBackend('softmax and logSoftmax', () => {
  it('hand-worked values', () => {
    const s = Math.E + Math.E ** 2 + Math.E ** 3;
    expectClose(F.softmax(ck.tensor([[1, 2, 3]]), 1), [Math.E / s, Math.E ** 2 / s, Math.E ** 3 / s]);
    expectClose(F.logSoftmax(ck.tensor([[1, 2, 3]]), -1), [1 - Math.log(s), 2 - Math.log(s), 3 - Math.log(s)]);
    expectClose(F.softmax(ck.tensor([[0, 0], [Math.LN2, 0]]), 0), [1 / 3, 0.5, 2 / 3, 0.5]);
  });

  it('is stable with large logits', () => {
    const big = F.softmax(ck.tensor([[1000, 1001, 1002]]), 1).dataSync();
    expect(big.every(Number.isFinite)).toBe(true);
    expectClose(big, F.softmax(ck.tensor([[0, 1, 2]]), 1));
    expectClose(F.softmax(ck.tensor([-1000, -1001]), 0), [1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1))]);
    // log p of the losing class is exactly -1000, where log(softmax) would give -Infinity
    expectClose(F.logSoftmax(ck.tensor([[1000, 0]]), 1), [0, -1000]);
  });

  it.each([0, 1, 2, -1])('matches the textbook formula along dim %i of a 3-d tensor', (dim) => {
    const x = ck.randn([2, 3, 4], { seed: 1 });
    const axis = dim < 0 ? dim + 3 : dim;
    const ref = naiveSoftmax(x.dataSync(), [2, 3, 4], axis);
    expectClose(F.softmax(x, dim), ref);
    expectClose(F.logSoftmax(x, dim), ref.map(Math.log));
  });

  it('rows sum to one, also on a permuted view', () => {
    const x = ck.randn([4, 5], { seed: 2 }).transpose(0, 1);
    const y = F.softmax(x, 1);
    expectClose(F.sum(y, 1), [1, 1, 1, 1, 1]);
  });

  it.each([0, 1, 2])('gradients along dim %i', (dim) => {
    const x = ck.randn([2, 3, 4], { seed: 3, requiresGrad: true });
    gradcheck((t) => F.softmax(t, dim), [x]);
    gradcheck((t) => F.logSoftmax(t, dim), [x]);
  });

  it('bad dims are errors', () => {
    expectConvkitError(() => F.softmax(ck.zeros([2, 3]), 2), 'softmax dim 2 is out of range', '2 dimensions');
    expectConvkitError(() => F.logSoftmax(ck.zeros([2, 3]), undefined as unknown as number), 'logSoftmax', 'dim is required');
  });
});
