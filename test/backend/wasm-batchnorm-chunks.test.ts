import { describe, expect, it } from 'vitest';
import type { KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/normalization.js';
import * as wasm from '../../src/backend/wasm/batchnorm.js';
import { BN_CHUNK, bnChunks } from '../../src/backend/wasm/batchnorm.js';
import { unaryGrad as wasmUnaryGrad } from '../../src/backend/wasm/elementwise.js';
import { expectClose } from '../helpers/assert.js';
import { bothPaths, channelOffsetInput, expectSameBits, kt } from './wasm-helpers.js';

/*
 * The chunked batch norm training kernels (assembly/bn-chunks.ts): units of contiguous planes
 * (four channels of [N, C] down a chunk of rows), float64 partials added per channel in chunk
 * order. Shapes with several chunks (the last one short), blocks of channels within an image, a
 * plane larger than a chunk, [N, C] with
 * channels left over after the groups of four, C = 1, H * W = 1 and odd sizes; statistics whose
 * one-pass shift is far from the mean (the two-pass fallback) and channels whose mean dwarfs
 * their spread (the case the shift is for). The chunking depends on the shape only: threaded
 * and single-threaded runs give the same bits.
 */

const SHAPES: number[][] = [
  [40, 2, 31, 33], [4, 12, 45, 45], [3, 2, 129, 129], [9000, 5], [8193, 1], [70, 1, 17, 19], [300, 7, 1, 1], [33, 3, 24, 24], [2, 1, 1, 20000], [129, 6, 5, 5],
];

const input = (shape: number[], seed: number): KernelTensor => channelOffsetInput(shape, seed, -2, 37);

const close = (a: Float32Array, e: Float32Array, what: string) => expectClose(a, e, { rtol: 1e-6, atol: 1e-7, what });

describe('chunked wasm batch norm training kernels', () => {
  it('covers several chunks (the last one short), blocks of channels within an image, a plane larger than a chunk, [N, C] with leftover channels', () => {
    const grids = SHAPES.map((s) => ({ s, inner: s.slice(2).reduce((a, b) => a * b, 1), ...bnChunks(s[0]!, s[1]!, s.slice(2).reduce((a, b) => a * b, 1)) }));
    expect(grids.some((g) => g.chunks >= 3 && g.ipc > 1 && g.s[0]! % g.ipc !== 0 && g.cb === g.s[1])).toBe(true);
    expect(grids.some((g) => g.cb > 1 && g.cb < g.s[1]! && g.s[1]! % g.cb !== 0)).toBe(true);
    expect(grids.some((g) => g.inner > BN_CHUNK && g.cb === 1)).toBe(true);
    expect(grids.some((g) => g.inner === 1 && g.s[1]! % 4 !== 0 && g.chunks > 1)).toBe(true);
  });

  it.each(SHAPES)('BatchNormStats of %j against the reference, the same bits on any thread count', (...shape) => {
    const x = input(shape, 3);
    const e = js.batchNormStats(x);
    const r = bothPaths(() => wasm.batchNormStats(x));
    close(r.threaded.mean, e.mean, 'mean');
    close(r.threaded.variance, e.variance, 'variance');
    expectSameBits(r.single.mean, r.threaded.mean, 'mean, one thread');
    expectSameBits(r.single.variance, r.threaded.variance, 'variance, one thread');
  });

  it('keeps the digits of a channel whose mean dwarfs its spread', () => {
    for (const shape of [[64, 3, 20, 20], [5000, 3]]) {
      const x = kt(shape, 8);
      for (let i = 0; i < x.data.length; i++) x.data[i] = 1000 + 0.01 * x.data[i]!;
      const e = js.batchNormStats(x);
      const r = wasm.batchNormStats(x);
      close(r.mean, e.mean, 'mean');
      expectClose(r.variance, e.variance, { rtol: 1e-5, atol: 0, what: 'variance' });
    }
  });

  it('gives the reference statistics where the shift misses the mean (two-pass fallback)', () => {
    // The shift averages 256 evenly spread values: make exactly those large, the rest one value
    // (so the float32 roundings of x - shift would all lean the same way).
    const shape = [64, 2, 16, 16];
    const x = kt(shape, 9);
    x.data.fill(0.3);
    const inner = 256, count = 64 * inner;
    const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
    let step = Math.floor(count / 256);
    while (step > 1 && gcd(step, inner) > 1) step--;
    for (let c = 0; c < 2; c++) {
      for (let j = 0; j < 256; j++) {
        const idx = j * step;
        x.data[(Math.floor(idx / inner) * 2 + c) * inner + (idx % inner)] = 5000 + j;
      }
    }
    const e = js.batchNormStats(x);
    const r = bothPaths(() => wasm.batchNormStats(x));
    close(r.threaded.mean, e.mean, 'mean');
    close(r.threaded.variance, e.variance, 'variance');
    expectSameBits(r.single.variance, r.threaded.variance, 'variance, one thread');
  });

  it('gives the reference statistics with infinities and NaN in one chunk of a channel', () => {
    const shape = [64, 4, 16, 16];
    const x = input(shape, 10);
    x.data[(40 * 4 + 1) * 256 + 3] = Infinity; // channel 1, last chunk
    x.data[(50 * 4 + 2) * 256 + 3] = NaN; // channel 2
    x.data[(10 * 4 + 3) * 256] = Infinity;
    x.data[(60 * 4 + 3) * 256] = -Infinity; // channel 3: NaN mean
    const e = js.batchNormStats(x);
    const r = wasm.batchNormStats(x);
    close(r.mean, e.mean, 'mean');
    close(r.variance, e.variance, 'variance');
    expect(r.mean[1]).toBe(Infinity);
    expect(Number.isNaN(r.variance[1]!)).toBe(true);
  });

  it.each(SHAPES)('BatchNormGrad of %j, batch statistics or not, fused ReLU or not', (...shape) => {
    const x = input(shape, 5);
    const c = shape[1]!;
    const dy = kt(shape, 6);
    const y = kt(shape, 7);
    for (let i = 0; i < y.data.length; i++) y.data[i] = i % 11 === 0 ? -0 : Math.max(0, y.data[i]!);
    const { mean, variance } = js.batchNormStats(x);
    const m = { data: mean, shape: [c] }, v = { data: variance, shape: [c] };
    const w = kt([c], 8);
    for (const stats of [true, false]) {
      for (const relu of [null, y]) {
        const what = `${stats ? 'batch' : 'fixed'} statistics${relu ? ', fused relu' : ''}`;
        const e = js.batchNormGrad(x, dy, m, v, w, 1e-5, stats, relu);
        const r = bothPaths(() => wasm.batchNormGrad(x, dy, m, v, w, 1e-5, stats, relu));
        const scale = e.dx.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
        expectClose(r.threaded.dx, e.dx, { rtol: 1e-6, atol: 1e-7 * scale, what: `dx (${what})` });
        close(r.threaded.dweight, e.dweight, `dweight (${what})`);
        close(r.threaded.dbias, e.dbias, `dbias (${what})`);
        for (const k of ['dx', 'dweight', 'dbias'] as const) expectSameBits(r.single[k], r.threaded[k], `${k} one thread (${what})`);
        if (relu) {
          // The fused mask equals the separate ReLU gradient to the bit.
          const sep = wasm.batchNormGrad(x, { data: wasmUnaryGrad(y, y, dy, 'relu', 0), shape }, m, v, w, 1e-5, stats);
          for (const k of ['dx', 'dweight', 'dbias'] as const) expectSameBits(r.threaded[k], sep[k], `${k} fused vs separate (${what})`);
        }
      }
    }
  });

  it('BatchNormGrad with dy correlated with x (dx a small difference of sums) stays within the reference tolerance', () => {
    const shape = [64, 3, 24, 24];
    const x = input(shape, 11);
    const c = 3;
    const { mean, variance } = js.batchNormStats(x);
    const noise = kt(shape, 12);
    const dy = kt(shape, 12);
    const inner = 576;
    for (let i = 0; i < dy.data.length; i++) {
      const ch = Math.floor(i / inner) % c;
      dy.data[i] = 0.99 * (x.data[i]! - mean[ch]!) / Math.sqrt(variance[ch]!) + 0.14 * noise.data[i]! + 0.3;
    }
    const m = { data: mean, shape: [c] }, v = { data: variance, shape: [c] };
    const e = js.batchNormGrad(x, dy, m, v, null, 1e-5, true);
    const r = wasm.batchNormGrad(x, dy, m, v, null, 1e-5, true);
    const scale = e.dx.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    expectClose(r.dx, e.dx, { rtol: 1e-6, atol: 1e-7 * scale, what: 'dx' });
    close(r.dweight, e.dweight, 'dweight');
    close(r.dbias, e.dbias, 'dbias');
  });
});
