import { expect, it } from 'vitest';
import { kernel } from '../../src/backend/registry.js';
import { ConvkitError } from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { randomArray } from '../helpers/naive-conv.js';

/**
 * The MatMul kernel against the definition C[i][j] = sum_p A[i][p] B[p][j], written as a
 * triple loop over explicitly transposed/broadcast operands.
 */
function naiveMatMul(
  a: number[], aShape: number[], b: number[], bShape: number[], ta: boolean, tb: boolean,
): { data: number[]; shape: number[] } {
  const [ar, br] = [aShape.length, bShape.length];
  const m = ta ? aShape[ar - 1]! : aShape[ar - 2]!;
  const k = ta ? aShape[ar - 2]! : aShape[ar - 1]!;
  const n = tb ? bShape[br - 2]! : bShape[br - 1]!;
  const aLead = aShape.slice(0, -2);
  const bLead = bShape.slice(0, -2);
  const nd = Math.max(aLead.length, bLead.length);
  const pad = (s: number[]) => [...new Array<number>(nd - s.length).fill(1), ...s];
  const [pa, pb] = [pad(aLead), pad(bLead)];
  const lead = pa.map((d, i) => Math.max(d, pb[i]!));
  const count = lead.reduce((x, y) => x * y, 1);
  const data: number[] = [];
  for (let t = 0; t < count; t++) {
    // unravel t, then re-ravel into each operand with broadcast dims pinned to 0
    let rest = t;
    const idx = lead.map(() => 0);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d] = rest % lead[d]!;
      rest = Math.floor(rest / lead[d]!);
    }
    const ravel = (s: number[]) => idx.reduce((acc, v, d) => acc * s[d]! + (s[d] === 1 ? 0 : v), 0);
    const aOff = ravel(pa) * m * k;
    const bOff = ravel(pb) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? a[aOff + p * m + i]! : a[aOff + i * k + p]!;
          const bv = tb ? b[bOff + j * k + p]! : b[bOff + p * n + j]!;
          s += av * bv;
        }
        data.push(s);
      }
  }
  return { data, shape: [...lead, m, n] };
}

const t = (data: number[], shape: number[]) => ({ data: Float32Array.from(data), shape });

describeEachBackend('MatMul kernel', () => {
  it('hand-worked 2x3 by 3x2, with bias and fused relu', () => {
    // [[1,2,3],[4,5,6]] x [[1,0],[0,1],[1,-1]] = [[4,-1],[10,-1]]
    const a = t([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = t([1, 0, 0, 1, 1, -1], [3, 2]);
    expect([...kernel('MatMul')(a, b, false, false, null, 'none')]).toEqual([4, -1, 10, -1]);
    expect([...kernel('MatMul')(a, b, false, false, t([-5, 0.5], [2]), 'none')]).toEqual([-1, -0.5, 5, -0.5]);
    expect([...kernel('MatMul')(a, b, false, false, t([-5, 0.5], [2]), 'relu')]).toEqual([0, 0, 5, 0]);
  });

  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [5, 7], b: [7, 3], ta: false, tb: false },
    { a: [7, 5], b: [7, 3], ta: true, tb: false },
    { a: [5, 7], b: [3, 7], ta: false, tb: true },
    { a: [7, 5], b: [3, 7], ta: true, tb: true },
    { a: [4, 2, 3], b: [4, 3, 6], ta: false, tb: false },
    { a: [2, 1, 3, 4], b: [5, 4, 6], ta: false, tb: false },
    { a: [3, 4], b: [2, 4, 5], ta: false, tb: false },
    { a: [2, 3, 4, 5], b: [1, 3, 6, 5], ta: false, tb: true },
    { a: [1, 9], b: [9, 1], ta: false, tb: false },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.a)}${c.ta ? '^T' : ''} x ${JSON.stringify(c.b)}${c.tb ? '^T' : ''} matches the triple loop`, () => {
      const a = randomArray(c.a.reduce((x, y) => x * y, 1), 1);
      const b = randomArray(c.b.reduce((x, y) => x * y, 1), 2);
      const ref = naiveMatMul(a, c.a, b, c.b, c.ta, c.tb);
      const n = ref.shape[ref.shape.length - 1]!;
      const bias = randomArray(n, 3);
      expectClose(kernel('MatMul')(t(a, c.a), t(b, c.b), c.ta, c.tb, null, 'none'), ref.data, { atol: 1e-5 });
      const withBias = ref.data.map((v, i) => Math.max(0, v + bias[i % n]!));
      expectClose(kernel('MatMul')(t(a, c.a), t(b, c.b), c.ta, c.tb, t(bias, [n]), 'relu'), withBias, { atol: 1e-5 });
    });
  }

  it('mismatched inner dimensions and batches are errors', () => {
    expect(() => kernel('MatMul')(t([1, 2, 3, 4, 5, 6], [2, 3]), t([1, 2, 3, 4], [2, 2]), false, false, null, 'none')).toThrow(ConvkitError);
    expect(() => kernel('MatMul')(t(new Array(12).fill(0), [2, 2, 3]), t(new Array(18).fill(0), [3, 3, 2]), false, false, null, 'none')).toThrow(
      /cannot be broadcast/,
    );
  });
});
