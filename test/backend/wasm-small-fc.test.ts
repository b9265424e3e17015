import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelTensor } from '../../src/backend/kernels.js';
import { matMul as jsMatMul } from '../../src/backend/js/matmul.js';
import * as jsPool from '../../src/backend/js/pool2d.js';
import { matMul } from '../../src/backend/wasm/matmul.js';
import * as wasmPool from '../../src/backend/wasm/pool2d.js';
import { bothPaths, expectSame, kt, workersReady } from './wasm-helpers.js';

/*
 * The kernels of small networks' classifiers and pools: MatMul's unpacked small-product
 * kernels (assembly/gemv.ts: dot products for x W^T, outer products for the gradients) and
 * the max-pooling gradient's 2x2 stride-2 path (assembly/pool.ts), against the js reference,
 * threaded and on one thread.
 */

/** Bit-identical, any NaN matching any NaN, zero signs compared. */
function expectIdentical(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) throw new Error(`${what}: element ${i} is ${Object.is(a, -0) ? '-0' : a}, expected ${Object.is(e, -0) ? '-0' : e}`);
  }
}

describe('MatMul small products (fully-connected layers of small networks)', () => {
  beforeAll(async () => {
    await workersReady();
  });

  // [m, k, n]: the FC layers of LeNet-5 and the CIFAR demo at batch 64 and odd batches, K or N
  // below the small-side limit, tails of every width, and products large enough to thread;
  // long K (B in many L2-sized slices of columns, one task each, with a tail slice; K so long
  // that a slice is the narrowest tile).
  const SHAPES: [number, number, number][] = [
    [64, 320, 10], [64, 400, 120], [64, 120, 84], [64, 84, 10], [5, 320, 10], [4, 3, 1], [7, 1, 9], [13, 31, 17],
    [33, 10, 320], [10, 64, 320], [9, 2, 13], [65, 27, 5], [64, 1568, 20], [300, 1000, 10], [128, 10, 2000],
    [10, 2048, 300], [26, 4100, 70], [6, 70000, 9],
  ];
  for (const [m, k, n] of SHAPES) {
    it(`${m}x${k} times ${k}x${n}: the forward and both gradients' forms, with bias and ReLU`, () => {
      const x = kt([m, k], m + k);
      const w = kt([n, k], n + 2 * k);
      const bias = kt([n], n);
      const g = kt([m, n], 3 * m + n);
      for (const act of ['none', 'relu'] as const) {
        const r = bothPaths(() => matMul(x, w, false, true, bias, act));
        const e = jsMatMul(x, w, false, true, bias, act);
        expectSame(r.threaded, e, `x W^T + b ${act}`);
        expectIdentical(r.single, r.threaded, `x W^T + b ${act}: one thread vs threaded`);
      }
      // dx = g W (B's rows contiguous), dW = g^T x (A transposed), and A W without a bias.
      const cases: [string, KernelTensor, KernelTensor, boolean][] = [
        ['g W', g, { data: w.data, shape: [n, k] }, false],
        ['g^T x', g, x, true],
      ];
      for (const [what, a, b, ta] of cases) {
        const r = bothPaths(() => matMul(a, b, ta, false, null, 'none'));
        expectSame(r.threaded, jsMatMul(a, b, ta, false, null, 'none'), what);
        expectIdentical(r.single, r.threaded, `${what}: one thread vs threaded`);
      }
      const wt = kt([k, n], 11);
      expectSame(matMul(x, wt, false, false, bias, 'relu'), jsMatMul(x, wt, false, false, bias, 'relu'), 'x B + b relu');
    });
  }

  it('keeps NaN and Inf as the reference does', () => {
    const x = kt([9, 12], 1), w = kt([5, 12], 2);
    x.data[7] = NaN;
    w.data[13] = Infinity;
    expectSame(matMul(x, w, false, true, null, 'none'), jsMatMul(x, w, false, true, null, 'none'), 'NaN and Inf');
  });
});

describe('max-pooling gradient, 2x2 stride-2 windows written directly', () => {
  /** Switches from the reference's forward of one geometry (so they are real switches). */
  function switches(shape: number[], k: number, s: number, p: number, ceil: boolean) {
    const o = (size: number) => {
      let v = (ceil ? Math.ceil((size + 2 * p - k) / s) : Math.floor((size + 2 * p - k) / s)) + 1;
      if (ceil && (v - 1) * s >= size + p) v--;
      return v;
    };
    const out: [number, number] = [o(shape[2]!), o(shape[3]!)];
    const x = kt(shape, shape[2]! * 7 + k);
    // Ties and zeros, as ReLU outputs have: the first of equal values is the switch.
    for (let i = 0; i < x.data.length; i += 3) x.data[i] = Math.max(0, x.data[i]!);
    return { out, indices: jsPool.maxPool2DWithArgmax(x, { kernel: [k, k], stride: [s, s], pad: [p, p, p, p], dilation: [1, 1], out }).indices };
  }

  // Batches large enough for the wasm kernel (dy of 4096 elements and more): odd sizes, planes
  // under four windows wide, one window.
  const SHAPES = [[64, 16, 32, 32], [70, 3, 9, 11], [64, 2, 17, 8], [300, 1, 8, 9], [140, 5, 6, 6], [40, 3, 10, 31], [2100, 2, 2, 2], [5000, 1, 3, 3]];
  // 2x2/2 floor and ceil (windows past the edge: scattered), and windows of other
  // geometries with the same output size, whose switches leave the 2x2 windows.
  const GEOS: [number, number, number, boolean][] = [[2, 2, 0, false], [2, 2, 0, true], [3, 2, 1, false], [2, 2, 1, false], [3, 3, 0, false], [1, 2, 0, false]];
  it('matches the reference scatter for switches of every geometry, threaded or not', () => {
    let checked = 0;
    for (const shape of SHAPES) {
      for (const [k, s, p, ceil] of GEOS) {
        if (2 * p >= k + 1 && k > 1) continue;
        const { out, indices } = switches(shape, k, s, p, ceil);
        if (out[0] < 1 || out[1] < 1) continue;
        const dy = kt([shape[0]!, shape[1]!, ...out], 5);
        dy.data[0] = -0;
        dy.data[Math.min(5, dy.data.length - 1)] = NaN;
        const r = bothPaths(() => wasmPool.maxPool2DGrad(dy, indices, shape));
        const e = jsPool.maxPool2DGrad(dy, indices, shape);
        const what = `[${shape}] k${k} s${s} p${p}${ceil ? ' ceil' : ''}`;
        expectIdentical(r.threaded, e, what);
        expectIdentical(r.single, e, `${what} (one thread)`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  it('scatters planes whose switches are -1 or outside their window', () => {
    const shape = [48, 3, 8, 16];
    const { out, indices } = switches(shape, 2, 2, 0, false);
    const dy = kt([48, 3, ...out], 9);
    const odd = Int32Array.from(indices);
    odd[3] = -1; // plane 0: a window with no switch
    odd[out[0] * out[1] + 5] = 0; // plane 1: a switch in another window
    odd[2 * out[0] * out[1] + 2] = odd[2 * out[0] * out[1] + 1]!; // plane 2: two windows, one pixel
    expectIdentical(wasmPool.maxPool2DGrad(dy, odd, shape), jsPool.maxPool2DGrad(dy, odd, shape), 'odd switches');
  });
});
