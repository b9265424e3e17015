import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/softmax.js';
import * as jsLoss from '../../src/backend/js/losses.js';
import * as wasm from '../../src/backend/wasm/softmax.js';
import { NLL_GRAD_MIN, NLL_MIN, SOFTMAX_MIN } from '../../src/backend/wasm/softmax.js';
import { expectClose } from '../helpers/assert.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';

/*
 * The cross-entropy kernels on wasm (assembly/softmax.ts, nll.ts) against the js reference. Both
 * compute exponentials, logs and sums in float64 and round once to float32, so the results agree
 * to an ulp (rtol 3e-7); the NLL kernels move values and must agree exactly.
 */

const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Shapes with the axis to normalize: rows contiguous (last axis) or strided, odd lengths, both sides of the js threshold. */
const CASES: [number[], number][] = [
  [[64, 10], 1], [[64, 100], 1], [[1, 1000], 1], [[3, 7], 1], [[64, 10], 0], [[33, 17], 0], [[8, 10, 5, 5], 1], [[4, 21, 17, 17], 1],
  [[2, 3, 9, 11], 1], [[64, 1], 1], [[5, 1, 7, 3], 1], [[2, 7, 13], 2], [[6, 5, 4, 3], 3], [[6, 5, 4, 3], 2], [[6, 5, 4, 3], 0], [[1, 37, 6], 1],
  [[256, 1000], 1], [[100, 3], 1],
];

/** Logits spread over a wide range, ties, a few very large ones. */
function logits(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  for (let i = 0; i < x.data.length; i++) {
    x.data[i] = x.data[i]! * 20;
    if (i % 37 === 3) x.data[i] = 300;
    if (i % 41 === 5) x.data[i] = -300;
  }
  return x;
}

const close = (a: Float32Array, e: Float32Array, what: string) => expectClose(a, e, { rtol: 3e-7, atol: 1e-30, what });

describe('wasm softmax and NLL kernels against the js reference', () => {
  it('has its worker threads and runs all six kernels itself', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['Softmax', 'LogSoftmax', 'SoftmaxGrad', 'LogSoftmaxGrad', 'NllLoss', 'NllLossGrad']));
  });

  it('covers sizes on both sides of the js threshold', () => {
    expect(CASES.some(([s]) => sizeOf(s) < SOFTMAX_MIN)).toBe(true);
    expect(CASES.filter(([s]) => sizeOf(s) >= SOFTMAX_MIN).length).toBeGreaterThan(8);
  });

  it.each(CASES)('%j along axis %i: forward and gradients, threaded or not', (shape, axis) => {
    const x = logits(shape, 3);
    const dy = kt(shape, 4);
    const y = js.softmax(x, axis);
    const ly = js.logSoftmax(x, axis);
    const pairs: [string, () => Float32Array, Float32Array][] = [
      ['softmax', () => wasm.softmax(x, axis), y],
      ['logSoftmax', () => wasm.logSoftmax(x, axis), ly],
      ['softmaxGrad', () => wasm.softmaxGrad({ data: y, shape }, dy, axis), js.softmaxGrad({ data: y, shape }, dy, axis)],
      ['logSoftmaxGrad', () => wasm.logSoftmaxGrad({ data: ly, shape }, dy, axis), js.logSoftmaxGrad({ data: ly, shape }, dy, axis)],
    ];
    for (const [what, f, e] of pairs) {
      const r = bothPaths(f);
      // Gradients are differences: judge them against the row's scale.
      const opts = what.endsWith('Grad') ? { rtol: 3e-7, atol: 1e-7 * e.reduce((a, b) => Math.max(a, Math.abs(b)), 0), what } : null;
      if (opts) { expectClose(r.threaded, e, opts); expectClose(r.single, e, opts); }
      else { close(r.threaded, e, what); close(r.single, e, `${what} (one thread)`); }
    }
  });

  it('gives NaN rows for NaN inputs and handles infinite logits as the reference', () => {
    for (const [shape, axis] of [[[16, 40], 1], [[4, 40, 3, 3], 1], [[40, 16], 0]] as [number[], number][]) {
      const x = logits(shape, 5);
      x.data[7] = NaN;
      x.data[50] = Infinity;
      x.data[90] = -Infinity;
      x.data.fill(-Infinity, 200, 200 + shape[shape.length - 1]!);
      for (const name of ['softmax', 'logSoftmax'] as const) {
        const e = js[name](x, axis);
        const got = wasm[name](x, axis);
        close(got, e, name);
        expect(got.some(Number.isNaN)).toBe(true);
      }
      const dy = kt(shape, 6);
      dy.data[11] = NaN;
      const y = { data: js.logSoftmax(x, axis), shape };
      close(wasm.logSoftmaxGrad(y, dy, axis), js.logSoftmaxGrad(y, dy, axis), 'logSoftmaxGrad');
      const s = { data: js.softmax(x, axis), shape };
      close(wasm.softmaxGrad(s, dy, axis), js.softmaxGrad(s, dy, axis), 'softmaxGrad');
    }
  });

  /** [N, C] and [N, C, d...] with targets in range, some equal to ignoreIndex. */
  const NLL: number[][] = [[64, 10], [4096, 10], [3000, 7], [2, 21, 40, 40], [1, 3, 64, 65], [8, 1000], [16, 5, 17, 17], [3, 4]];
  it.each(NLL)('NllLoss and its gradient on %j, weights or not, ignoreIndex', (...shape) => {
    const x = kt(shape, 7);
    const c = shape[1]!;
    const tshape = [shape[0]!, ...shape.slice(2)];
    const marked = new Int32Array(sizeOf(tshape));
    let s = 12345;
    for (let i = 0; i < marked.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      marked[i] = s % (c + 1) === c ? -1 : s % c;
    }
    const w = kt([c], 8);
    const dy = kt(tshape, 9);
    for (const weight of [null, w]) {
      for (const ignore of [-100, 0]) {
        // Positions marked for ignoring get the ignored class; the rest stay valid classes.
        const target = marked.map((t) => (t < 0 ? ignore : t));
        const what = `${weight ? 'weight' : 'no weight'}, ignore ${ignore}`;
        const lossT = bothPaths(() => wasm.nllLoss(x, target, weight, ignore));
        const le = jsLoss.nllLoss(x, target, weight, ignore);
        expectClose(lossT.threaded, le, { rtol: 0, atol: 0, what: `loss ${what}` });
        expectClose(lossT.single, le, { rtol: 0, atol: 0, what: `loss ${what}` });
        const g = bothPaths(() => wasm.nllLossGrad(dy, target, weight, ignore, shape));
        const ge = jsLoss.nllLossGrad(dy, target, weight, ignore, shape);
        expectClose(g.threaded, ge, { rtol: 0, atol: 0, what: `grad ${what}` });
        expectClose(g.single, ge, { rtol: 0, atol: 0, what: `grad ${what}` });
      }
    }
  });

  it('NLL cases cover both sides of the js thresholds', () => {
    expect(NLL.some((s) => sizeOf(s) / s[1]! < NLL_MIN) && NLL.some((s) => sizeOf(s) / s[1]! >= NLL_MIN)).toBe(true);
    expect(NLL.some((s) => sizeOf(s) < NLL_GRAD_MIN) && NLL.some((s) => sizeOf(s) >= NLL_GRAD_MIN)).toBe(true);
  });
});
