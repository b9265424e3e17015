import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/normalization.js';
import * as wasm from '../../src/backend/wasm/batchnorm.js';
import { batchNorm as wasmBatchNorm } from '../../src/backend/wasm/planes.js';
import { BN_TRAIN_MIN } from '../../src/backend/wasm/batchnorm.js';
import { unaryGrad as jsUnaryGrad } from '../../src/backend/js/elementwise.js';
import { unaryGrad as wasmUnaryGrad } from '../../src/backend/wasm/elementwise.js';
import { expectClose } from '../helpers/assert.js';
import { bothPaths, channelOffsetInput, expectSameBits, kt, workersReady } from './wasm-helpers.js';

/*
 * Batch norm's training kernels on wasm (assembly/batchnorm.ts) against the js reference: both
 * sum in float64 and evaluate the same float64 formulas, so only the order of the float64
 * additions differs and the float32 results agree to an ulp or two (rtol 1e-6). Shapes: batch
 * 1..64, channels 1..100 (odd ones, and [N, C] BatchNorm1d), planes 1x1..17x17, on both sides
 * of the size below which the wasm wrappers call js.
 */

const SHAPES: number[][] = [
  [1, 1, 3, 3], [2, 3, 5, 7], [4, 5, 17, 17], [1, 100, 9, 9], [64, 3, 4, 4], [3, 7, 1, 1], [64, 64, 8, 8], [8, 37, 11, 13],
  [16, 16, 16, 16], [2, 2, 17, 17], [5, 1, 33, 17], [6, 9, 3], [64, 100], [32, 3], [2, 5], [64, 1], [1, 64, 2, 2], [50, 37], [64, 35, 6, 6], [7, 6, 1],
];

const input = (shape: number[], seed: number): KernelTensor => channelOffsetInput(shape, seed, 3, 29);

const close = (a: Float32Array, e: Float32Array, what: string) => expectClose(a, e, { rtol: 1e-6, atol: 1e-7, what });

describe('wasm batch norm training kernels against the js reference', () => {
  it('has its worker threads and runs both kernels itself', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['BatchNorm', 'BatchNormStats', 'BatchNormGrad']));
  });

  it('covers sizes on both sides of the js threshold', () => {
    const sizes = SHAPES.map((s) => s.reduce((a, b) => a * b, 1));
    expect(sizes.some((n) => n < BN_TRAIN_MIN)).toBe(true);
    expect(sizes.filter((n) => n >= BN_TRAIN_MIN).length).toBeGreaterThan(8);
  });

  it.each(SHAPES)('BatchNormStats of %j, threaded or not', (...shape) => {
    const x = input(shape, 3);
    const e = js.batchNormStats(x);
    const r = bothPaths(() => wasm.batchNormStats(x));
    for (const [what, got] of [['threaded', r.threaded], ['one thread', r.single]] as const) {
      close(got.mean, e.mean, `mean (${what})`);
      close(got.variance, e.variance, `variance (${what})`);
    }
  });

  it.each(SHAPES)('BatchNormGrad of %j, batch statistics or not, with and without weight', (...shape) => {
    const x = input(shape, 5);
    const c = shape[1]!;
    const dy = kt(shape, 6);
    const { mean, variance } = js.batchNormStats(x);
    const m = { data: mean, shape: [c] }, v = { data: variance, shape: [c] };
    const w = kt([c], 7);
    for (const weight of [null, w]) {
      for (const stats of [true, false]) {
        const what = `${weight ? 'weight' : 'no weight'}, ${stats ? 'batch' : 'fixed'} statistics`;
        const e = js.batchNormGrad(x, dy, m, v, weight, 1e-5, stats);
        const r = bothPaths(() => wasm.batchNormGrad(x, dy, m, v, weight, 1e-5, stats));
        for (const got of [r.threaded, r.single]) {
          // dx with batch statistics is a difference of sums: judge it against its own scale.
          const scale = e.dx.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
          expectClose(got.dx, e.dx, { rtol: 1e-6, atol: 1e-7 * scale, what: `dx (${what})` });
          close(got.dweight, e.dweight, `dweight (${what})`);
          close(got.dbias, e.dbias, `dbias (${what})`);
        }
      }
    }
  });

  it.each(SHAPES)('BatchNormGrad of %j with a fused ReLU = UnaryGrad relu then BatchNormGrad, to the bit', (...shape) => {
    const x = input(shape, 21);
    const c = shape[1]!;
    const dy = kt(shape, 22);
    // The ReLU's output: positives, zeros of both signs, NaN (a NaN input); in channel 0 dy is
    // non-finite at a masked place too (a product: NaN there, as the separate ReLU gradient).
    const y = kt(shape, 23);
    for (let i = 0; i < y.data.length; i++) {
      y.data[i] = Math.max(0, y.data[i]!);
      if (i % 13 === 0) y.data[i] = -0;
      if (i % 31 === 5) y.data[i] = NaN;
    }
    if (c > 1) dy.data[0] = y.data[0]! > 0 ? dy.data[0]! : Infinity;
    const { mean, variance } = js.batchNormStats(x);
    const m = { data: mean, shape: [c] }, v = { data: variance, shape: [c] };
    for (const weight of [null, kt([c], 24)]) {
      for (const stats of [true, false]) {
        const what = `${weight ? 'weight' : 'no weight'}, ${stats ? 'batch' : 'fixed'} statistics`;
        const jsMasked = { data: jsUnaryGrad(y, y, dy, 'relu', 0), shape };
        const jsSeparate = js.batchNormGrad(x, jsMasked, m, v, weight, 1e-5, stats);
        const jsFused = js.batchNormGrad(x, dy, m, v, weight, 1e-5, stats, y);
        const wasmSeparate = wasm.batchNormGrad(x, { data: wasmUnaryGrad(y, y, dy, 'relu', 0), shape }, m, v, weight, 1e-5, stats);
        const r = bothPaths(() => wasm.batchNormGrad(x, dy, m, v, weight, 1e-5, stats, y));
        for (const k of ['dx', 'dweight', 'dbias'] as const) {
          expectSameBits(jsFused[k], jsSeparate[k], `js ${k} (${what})`);
          expectSameBits(r.threaded[k], wasmSeparate[k], `wasm threaded ${k} (${what})`);
          expectSameBits(r.single[k], wasmSeparate[k], `wasm one thread ${k} (${what})`);
        }
        // The fused wasm kernel against the fused reference (the masking must not be a no-op on either).
        const scale = jsFused.dx.reduce((a, b) => Math.max(a, Number.isFinite(b) ? Math.abs(b) : 0), 0);
        expectClose(r.threaded.dx, jsFused.dx, { rtol: 1e-6, atol: 1e-7 * scale, what: `dx (${what})` });
        close(r.threaded.dbias, jsFused.dbias, `dbias (${what})`);
        const unmasked = js.batchNormGrad(x, dy, m, v, weight, 1e-5, stats);
        expect(Array.from(unmasked.dbias)).not.toEqual(Array.from(jsFused.dbias));
      }
    }
  });

  it.each(SHAPES)('BatchNorm (given statistics) of %j, weight and bias or not, relu or not', (...shape) => {
    const x = input(shape, 11);
    const c = shape[1]!;
    const { mean, variance } = js.batchNormStats(x);
    const m = { data: mean, shape: [c] }, v = { data: variance, shape: [c] };
    const w = kt([c], 12), b = kt([c], 13);
    for (const [weight, bias] of [[null, null], [w, b], [w, null], [null, b]] as const) {
      for (const act of ['none', 'relu'] as const) {
        // The kernel computes in float32 (the reference in float64): a few float32 roundings.
        const e = js.batchNorm(x, m, v, weight, bias, 1e-3, act);
        const r = bothPaths(() => wasmBatchNorm(x, m, v, weight, bias, 1e-3, act));
        const what = `${weight ? 'w' : '-'}${bias ? 'b' : '-'} ${act}`;
        expectClose(r.threaded, e, { rtol: 1e-5, atol: 1e-6, what });
        expectClose(r.single, e, { rtol: 1e-5, atol: 1e-6, what });
      }
    }
  });

  it('propagates NaN and infinities per channel as the reference', () => {
    for (const shape of [[8, 6, 10, 10], [64, 10]]) {
      const x = input(shape, 9);
      const dy = kt(shape, 10);
      const inner = x.data.length / (shape[0]! * shape[1]!);
      x.data[2 * inner] = NaN; // channel 2
      x.data[3 * inner + 1 % inner] = Infinity; // channel 3
      dy.data[4 * inner] = -Infinity; // channel 4
      const e = js.batchNormStats(x);
      const r = wasm.batchNormStats(x);
      close(r.mean, e.mean, 'mean');
      close(r.variance, e.variance, 'variance');
      expect(Number.isNaN(r.mean[2]!)).toBe(true);
      const c = shape[1]!;
      const m = { data: e.mean, shape: [c] }, v = { data: e.variance, shape: [c] };
      for (const stats of [true, false]) {
        const eg = js.batchNormGrad(x, dy, m, v, null, 1e-5, stats);
        const g = wasm.batchNormGrad(x, dy, m, v, null, 1e-5, stats);
        close(g.dx, eg.dx, 'dx');
        close(g.dweight, eg.dweight, 'dweight');
        close(g.dbias, eg.dbias, 'dbias');
      }
    }
  });
});
