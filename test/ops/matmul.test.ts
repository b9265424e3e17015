import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

/** Naive batched product of row-major arrays: a [B, M, K] @ b [B, K, N], with b's batch broadcast when it is 1. */
function naiveMatmul(a: Float32Array, b: Float32Array, batchA: number, batchB: number, m: number, k: number, n: number): number[] {
  const batch = Math.max(batchA, batchB);
  const out: number[] = [];
  for (let t = 0; t < batch; t++) {
    const ao = (batchA === 1 ? 0 : t) * m * k;
    const bo = (batchB === 1 ? 0 : t) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + i * k + p]! * b[bo + p * n + j]!;
        out.push(s);
      }
    }
  }
  return out;
}

describeEachBackend('matmul', () => {
  it('hand-worked 2-d product', () => {
    const a = ck.tensor([[1, 2, 3], [4, 5, 6]]);
    const b = ck.tensor([[7, 8], [9, 10], [11, 12]]);
    // [1*7+2*9+3*11, 1*8+2*10+3*12] = [58, 64]; [4*7+5*9+6*11, ...] = [139, 154]
    expect(ck.matmul(a, b).toArray()).toEqual([[58, 64], [139, 154]]);
    expect(F.matmul(a, b).shape).toEqual([2, 2]);
  });

  it('vectors follow torch.matmul: dot, row vector, column vector', () => {
    const v = ck.tensor([1, 2, 3]);
    const m = ck.tensor([[1, 0], [0, 1], [1, 1]]);
    const dot = ck.matmul(v, ck.tensor([4, 5, 6]));
    expect(dot.shape).toEqual([]);
    expect(dot.item()).toBe(32);
    const row = ck.matmul(v, m);
    expect(row.shape).toEqual([2]);
    expect(row.toArray()).toEqual([4, 5]);
    const col = ck.matmul(ck.tensor([[1, 2, 3], [0, 1, 0]]), v);
    expect(col.shape).toEqual([2]);
    expect(col.toArray()).toEqual([14, 2]);
    // batched matrix @ vector: [2, 2, 3] @ [3] -> [2, 2]
    const bm = ck.matmul(ck.tensor([[[1, 2, 3], [0, 1, 0]], [[1, 1, 1], [2, 0, 0]]]), v);
    expect(bm.toArray()).toEqual([[14, 2], [6, 2]]);
  });

  it('batched with broadcasting matches a naive product', () => {
    const a = ck.randn([3, 4, 5], { seed: 1 });
    const b = ck.randn([5, 2], { seed: 2 });
    const y = ck.matmul(a, b);
    expect(y.shape).toEqual([3, 4, 2]);
    expectClose(y, naiveMatmul(a.dataSync(), b.dataSync(), 3, 1, 4, 5, 2));
    const c = ck.randn([2, 1, 3, 4], { seed: 3 });
    const d = ck.randn([5, 4, 2], { seed: 4 });
    const z = ck.matmul(c, d);
    expect(z.shape).toEqual([2, 5, 3, 2]);
    const cv = c.dataSync();
    const dv = d.dataSync();
    for (let i = 0; i < 2; i++) {
      const part = naiveMatmul(cv.subarray(i * 12, (i + 1) * 12), dv, 1, 5, 3, 4, 2);
      expectClose(z.dataSync().subarray(i * 30, (i + 1) * 30), part);
    }
  });

  it('reads transposed views', () => {
    const a = ck.randn([4, 3], { seed: 5 });
    const at = a.transpose(0, 1);
    expectClose(ck.matmul(at, a), naiveMatmul(at.contiguous().dataSync(), a.dataSync(), 1, 1, 3, 4, 3));
  });

  const gradCases: [string, number[], number[]][] = [
    ['2-d', [3, 4], [4, 2]],
    ['dot', [4], [4]],
    ['vector @ matrix', [4], [4, 3]],
    ['matrix @ vector', [2, 4], [4]],
    ['batched', [2, 3, 4], [2, 4, 5]],
    ['broadcast batch', [2, 1, 3, 4], [5, 4, 2]],
    ['batch @ matrix', [3, 2, 4], [4, 3]],
  ];
  it.each(gradCases)('%s gradients match finite differences', (_name, sa, sb) => {
    const a = ck.randn(sa, { seed: 6, requiresGrad: true });
    const b = ck.randn(sb, { seed: 7, requiresGrad: true });
    gradcheck((x, y) => ck.matmul(x, y), [a, b]);
  });

  it('bad shapes are errors with both shapes', () => {
    expectConvkitError(() => ck.matmul(ck.zeros([2, 3]), ck.zeros([4, 5])), 'matmul', '[2, 3] @ [4, 5]', 'inner dimensions differ (3 vs 4)');
    expectConvkitError(() => ck.matmul(ck.zeros([2, 2, 3]), ck.zeros([3, 3, 1])), 'matmul', 'batch dimensions', '[2]', '[3]', 'cannot be broadcast');
    expectConvkitError(() => ck.matmul(ck.tensor(2), ck.zeros([2])), 'matmul', 'at least 1 dimension');
    expectConvkitError(() => ck.matmul(ck.zeros([2], { dtype: 'int32' }), ck.zeros([2])), 'matmul', 'float32');
  });
});
