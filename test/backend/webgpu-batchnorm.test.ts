import { describe, expect, it } from 'vitest';
import type { KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/normalization.js';
import * as gpuK from '../../src/backend/webgpu/kernels/batchnorm.js';
import { THREAD_CHANNEL_MAX } from '../../src/backend/webgpu/kernels/batchnorm.js';
import { gpu } from '../../src/backend/webgpu/device.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { channelOffsetInput, kt } from './wasm-helpers.js';

/*
 * The webgpu batch norm kernels against the js reference. js sums in float64; the GPU reduces in
 * float32 (Welford/Chan merging for the statistics, tree sums for the gradients), so results
 * agree to float32 rounding of sums: rtol 1e-5 on the statistics (atol from the data's scale
 * for a mean near 0), reductions and differences judged against their own scale. NaN/Inf are
 * not tested: WGSL does not promise IEEE semantics for them.
 */

const why = await startWebgpu();

/**
 * [N, C] (BatchNorm1d), [N, C, L], [N, C, H, W]; batch 1; one value per channel; channels of at
 * most THREAD_CHANNEL_MAX values (one thread each) and longer (workgroups over chunks, then a
 * merge), [300, 3] a long channel of stride C; a wide BatchNorm1d [4, 3000].
 */
const SHAPES: number[][] = [
  [64, 10], [1, 5], [3, 7], [2, 3, 5, 7], [1, 3, 9, 11], [4, 5, 17, 17], [6, 9, 3], [7, 6, 1], [50, 37],
  [300, 3], [3, 4, 10, 10], [4, 3000],
];
/**
 * ~100k values per channel (a hundred chunks); over 256 chunks' worth in one channel (the chunk
 * count capped, chunks longer than the default).
 */
const BIG: number[][] = [[64, 1, 40, 40], [4, 1, 300, 230]];

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** Within float32 rounding of long sums: rtol, and atol from the expected values' scale. */
function closeScaled(got: Float32Array, want: Float32Array, what: string, rtol = 1e-5, atolRel = 1e-5): void {
  expectClose(got, want, { rtol, atol: atolRel * Math.max(1e-30, maxAbs(want)), what });
}

const stats = (x: KernelTensor) => {
  const c = x.shape[1]!;
  const { mean, variance } = js.batchNormStats(x);
  return { m: { data: mean, shape: [c] }, v: { data: variance, shape: [c] } };
};

const count = (s: number[]) => s.reduce((a, b) => a * b, 1) / s[1]!;
const each = (list: number[][]) => list.map((s) => [s] as [number[]]);

describe.skipIf(why !== null)('webgpu batch norm kernels against the js reference', () => {
  it('covers both reduction paths', () => {
    expect(SHAPES.filter((s) => count(s) <= THREAD_CHANNEL_MAX).length).toBeGreaterThan(4);
    expect(SHAPES.filter((s) => count(s) > THREAD_CHANNEL_MAX).length).toBeGreaterThan(2);
  });

  it.each(each([...SHAPES, ...BIG]))('BatchNormStats of %j (per-channel offsets up to 1e4 x C, zeros)', async (shape) => {
    for (const offset of [3, 100, 1e4]) {
      const x = channelOffsetInput(shape, 3, offset, 29);
      // Channel 0 too (the big shapes have one channel).
      for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i]! + offset / 2;
      const want = js.batchNormStats(x);
      const got = gpuK.batchNormStats(toGpu(x));
      const mean = await fromGpu(got.mean);
      const variance = await fromGpu(got.variance);
      expectClose(mean, want.mean, { rtol: 1e-5, atol: 1e-30, what: `mean, offset ${offset}` });
      expectClose(variance, want.variance, { rtol: 1e-5, atol: 1e-30, what: `variance, offset ${offset}` });
    }
  });

  it('refuses a tensor over the storage binding limit with a ConvkitError naming it', () => {
    const big = gpu().limits.maxStorageBufferBindingSize / 4 + 1;
    // The check comes before the values are touched: a small array with a big shape suffices.
    const x = toGpu(kt([4], 1));
    expectConvkitError(() => gpuK.batchNormStats({ data: x.data, shape: [big, 1] }), 'BatchNormStats', 'maxStorageBufferBindingSize');
    expectConvkitError(() => gpuK.batchNorm({ data: x.data, shape: [1, 1, big] }, x, x, null, null, 1e-5), 'BatchNorm', 'maxStorageBufferBindingSize');
  });

  it('BatchNormStats of one value per channel is that value, variance 0', async () => {
    const x = kt([1, 6], 9);
    const got = gpuK.batchNormStats(toGpu(x));
    expect(Array.from(await fromGpu(got.mean))).toEqual(Array.from(x.data));
    expect(Array.from(await fromGpu(got.variance))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it.each(each(SHAPES))('BatchNorm of %j: weight and bias or not, relu or not', async (shape) => {
    const x = channelOffsetInput(shape, 11, 3, 29);
    const c = shape[1]!;
    const { m, v } = stats(x);
    const w = kt([c], 12), b = kt([c], 13);
    const [gx, gm, gv, gw, gb] = [x, m, v, w, b].map(toGpu) as [KernelTensor, KernelTensor, KernelTensor, KernelTensor, KernelTensor];
    for (const [weight, bias, gweight, gbias] of [[null, null, null, null], [w, b, gw, gb], [w, null, gw, null], [null, b, null, gb]] as const) {
      for (const act of ['none', 'relu'] as const) {
        const what = `${weight ? 'weight' : '-'} ${bias ? 'bias' : '-'} ${act}`;
        const want = js.batchNorm(x, m, v, weight, bias, 1e-5, act);
        const got = await fromGpu(gpuK.batchNorm(gx, gm, gv, gweight, gbias, 1e-5, act));
        closeScaled(got, want, what, 1e-5, 1e-6);
        if (act === 'relu') expect(got.some((y, i) => y === 0 && want[i] === 0)).toBe(true);
      }
    }
  });

  const gradCases = [...SHAPES.map((s) => [s, true] as [number[], boolean]), ...BIG.map((s) => [s, false] as [number[], boolean])];
  it.each(gradCases)('BatchNormGrad of %j (all variants: %s): batch statistics or not, weight or not, fused ReLU or not', async (shape, all) => {
    const x = channelOffsetInput(shape, 5, 3, 29);
    const c = shape[1]!;
    const dy = kt(shape, 6);
    // A ReLU's output: positives and zeros (some -0).
    const y = kt(shape, 23);
    for (let i = 0; i < y.data.length; i++) y.data[i] = i % 13 === 0 ? -0 : Math.max(0, y.data[i]!);
    const { m, v } = stats(x);
    const w = kt([c], 7);
    const [gx, gdy, gm, gv, gw, gy] = [x, dy, m, v, w, y].map(toGpu) as KernelTensor[];
    for (const [weight, gweight] of [[null, null], [w, gw]] as const) {
      for (const batch of [true, false]) {
        for (const relu of [false, true]) {
          // Big shapes: two variants that between them flip every switch.
          if (!all && (weight !== null) !== batch || (!all && batch !== relu)) continue;
          const what = `${weight ? 'weight' : 'no weight'}, ${batch ? 'batch' : 'fixed'} statistics${relu ? ', relu' : ''}`;
          const want = js.batchNormGrad(x, dy, m, v, weight, 1e-5, batch, relu ? y : null);
          const got = gpuK.batchNormGrad(gx!, gdy!, gm!, gv!, gweight, 1e-5, batch, relu ? gy! : null);
          // dx with batch statistics is a difference of sums: judged against its own scale.
          closeScaled(await fromGpu(got.dx), want.dx, `dx (${what})`, 1e-4, 1e-5);
          closeScaled(await fromGpu(got.dweight), want.dweight, `dweight (${what})`, 1e-4, 1e-5);
          closeScaled(await fromGpu(got.dbias), want.dbias, `dbias (${what})`, 1e-4, 1e-5);
        }
      }
    }
    // The masking is not a no-op on these operands.
    const unmasked = js.batchNormGrad(x, dy, m, v, null, 1e-5, true).dbias;
    expect(Array.from(unmasked)).not.toEqual(Array.from(js.batchNormGrad(x, dy, m, v, null, 1e-5, true, y).dbias));
  });
});
