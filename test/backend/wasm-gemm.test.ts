import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import { matMul as jsMatMul } from '../../src/backend/js/matmul.js';
import { matMul } from '../../src/backend/wasm/matmul.js';
import { bothPaths, expectSame, kt, workersReady } from './wasm-helpers.js';

/** The plainest possible C = op(A) op(B): the oracle's oracle. */
function naive(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i]! : a[i * k + p]!) * (tb ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = s;
    }
  }
  return c;
}

const SIZES = [1, 7, 17, 63, 129];

describe('wasm GEMM (MatMul kernel)', () => {
  beforeAll(async () => {
    await workersReady();
  });

  for (const m of SIZES) {
    for (const n of SIZES) {
      it(`m=${m} n=${n}, every k and transpose, against a triple loop and the js MatMul`, () => {
        for (const k of [1, 17, 129]) {
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const a = kt(ta ? [k, m] : [m, k], m + 3 * n + k);
              const b = kt(tb ? [n, k] : [k, n], 7 * m + n + k);
              const got = matMul(a, b, ta, tb, null, 'none');
              const what = `${m}x${k}${ta ? 'T' : ''} * ${k}x${n}${tb ? 'T' : ''}`;
              expectSame(got, naive(a.data, b.data, m, n, k, ta, tb), `${what} vs naive`);
              expectSame(got, jsMatMul(a, b, ta, tb, null, 'none'), `${what} vs js`);
            }
          }
        }
      });
    }
  }

  it('fuses bias along the last axis and ReLU (GEMM and the few-rows GEMV path)', () => {
    for (const [m, n, k] of [[1, 63, 129], [3, 17, 7], [63, 129, 17], [129, 7, 63]] as const) {
      for (const tb of [false, true]) {
        const a = kt([m, k], 1);
        const b = kt(tb ? [n, k] : [k, n], 2);
        const bias = kt([n], 3);
        expectSame(matMul(a, b, false, tb, bias, 'relu'), jsMatMul(a, b, false, tb, bias, 'relu'), `${m}x${n}x${k} bias+relu`);
        expectSame(matMul(a, b, false, tb, bias, 'none'), jsMatMul(a, b, false, tb, bias, 'none'), `${m}x${n}x${k} bias`);
      }
    }
  });

  it('runs batches, broadcasting a single matrix on either side', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[3, 17, 7], [3, 7, 63], false, false],
      [[2, 3, 7, 17], [2, 3, 63, 7], true, true],
      [[4, 17, 7], [7, 9], false, false],
      [[7, 9], [5, 7, 17], true, false],
      [[1, 17, 7], [4, 7, 5], false, false],
    ];
    for (const [as, bs, ta, tb] of cases) {
      const a = kt(as, 11);
      const b = kt(bs, 12);
      expectSame(matMul(a, b, ta, tb, null, 'none'), jsMatMul(a, b, ta, tb, null, 'none'), `${as} x ${bs}`);
    }
  });

  it('falls back to js for mixed broadcasting and reports shape errors as the js kernel does', () => {
    const a = kt([2, 1, 3, 4], 1);
    const b = kt([1, 5, 4, 2], 2);
    expectSame(matMul(a, b, false, false, null, 'none'), jsMatMul(a, b, false, false, null, 'none'), 'mixed broadcast');
    expect(() => matMul(kt([3, 4]), kt([5, 2]), false, false, null, 'none')).toThrow(/inner dimensions/);
  });

  it('gives the same results threaded and single-threaded (large enough to split)', () => {
    const a = kt([257, 300], 5);
    const b = kt([300, 520], 6);
    const bias = kt([520], 7);
    const { threaded, single } = bothPaths(() => matMul(a, b, false, false, bias, 'relu'));
    expectSame(threaded, single, 'threaded vs single');
    expectSame(threaded, jsMatMul(a, b, false, false, bias, 'relu'), 'threaded vs js');
    const w = kt([1000, 700], 8);
    const x = kt([2, 700], 9);
    const gemv = bothPaths(() => matMul(x, w, false, true, null, 'none'));
    expectSame(gemv.threaded, gemv.single, 'gemv threaded vs single');
    expectSame(gemv.threaded, jsMatMul(x, w, false, true, null, 'none'), 'gemv vs js');
  });
});
