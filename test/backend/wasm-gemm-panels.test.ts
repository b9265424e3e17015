import { beforeAll, describe, it } from 'vitest';
import '../../src/index.js';
import { matMul as jsMatMul } from '../../src/backend/js/matmul.js';
import { matMul } from '../../src/backend/wasm/matmul.js';
import { expectSame, kt, workersReady } from './wasm-helpers.js';

/**
 * The GEMM's A panels (assembly/gemm.ts, pack.ts packA6): 6 rows (kernel6x8) where a packed
 * block has at least 64 k steps, 4 rows for the last 4 or 8 rows of a block and for shorter
 * blocks. Row counts around those boundaries (4, 5, 8, 20 = 6+6+4+4, 76 over two A blocks),
 * k below and above 64 and over several k blocks (the sums added to C), every transpose (A
 * packed from rows and from columns), bias along the last axis (full and partial 8-column
 * tiles) and ReLU, against the js MatMul.
 */
describe('wasm GEMM 6-row and 4-row panels', () => {
  beforeAll(async () => {
    await workersReady();
  });

  for (const m of [4, 5, 6, 8, 10, 11, 20, 32, 76, 150]) {
    it(`m=${m}: k 63, 64, 300, 531; n 8 and 13; transposes; bias + ReLU`, () => {
      for (const k of [63, 64, 300, 531]) {
        for (const n of [8, 13]) {
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const a = kt(ta ? [k, m] : [m, k], m + 5 * k);
              const b = kt(tb ? [n, k] : [k, n], n + 3 * k);
              const what = `${m}x${k}${ta ? 'T' : ''} * ${k}x${n}${tb ? 'T' : ''}`;
              expectSame(matMul(a, b, ta, tb, null, 'none'), jsMatMul(a, b, ta, tb, null, 'none'), what);
              const bias = kt([n], m + n);
              expectSame(matMul(a, b, ta, tb, bias, 'relu'), jsMatMul(a, b, ta, tb, bias, 'relu'), `${what} bias relu`);
            }
          }
        }
      }
    });
  }
});
