import { describe, expect, it } from 'vitest';
import type { KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/softmax.js';
import * as jsLoss from '../../src/backend/js/losses.js';
import * as gpuK from '../../src/backend/webgpu/kernels/softmax.js';
import { ROW_PER_THREAD_MAX } from '../../src/backend/webgpu/kernels/softmax.js';
import * as gpuLoss from '../../src/backend/webgpu/kernels/losses.js';
import { gpu } from '../../src/backend/webgpu/device.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { fromGpu, intToGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { expectSameBits, kt } from './wasm-helpers.js';

/*
 * The webgpu softmax and per-sample loss kernels against the js reference. js computes
 * exponentials, logs and sums in float64 and rounds once; the GPU works in float32 with WGSL's
 * exp/log (not correctly rounded), so values agree to rtol 1e-5 with an atol from the output's
 * scale (gradients and log-probabilities are differences). NLL moves values and products of two
 * floats: exact. NaN/Inf logits are not tested: WGSL does not promise IEEE semantics for them.
 */

const why = await startWebgpu();

/**
 * Shapes with the axis: axis 0, 1 and last, rows contiguous (inner 1) or strided, rows of length
 * 1, 10, 1000 and odd ones, on both sides of ROW_PER_THREAD_MAX (one thread or one workgroup
 * per row), one row, many rows.
 */
const CASES: [number[], number][] = [
  [[64, 10], 1], [[1, 1000], 1], [[3, 7], 1], [[64, 10], 0], [[33, 17], 0], [[8, 10, 5, 5], 1], [[4, 21, 17, 17], 1],
  [[64, 1], 1], [[5, 1, 7, 3], 1], [[2, 7, 13], 2], [[6, 5, 4, 3], 3], [[6, 5, 4, 3], 0], [[1, 37, 6], 1],
  [[32, 1000], 1], [[1000, 3], 0], [[2, 1000, 3], 1], [[65, 130], 1], [[7, 129], 1], [[100, 3], 1],
];

/** Logits spread over a wide range, ties, a few very large ones (the max shift matters). */
function logits(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  for (let i = 0; i < x.data.length; i++) {
    x.data[i] = x.data[i]! * 20;
    if (i % 37 === 3) x.data[i] = 300;
    if (i % 41 === 5) x.data[i] = -300;
  }
  return x;
}

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const scaled = (got: Float32Array, want: Float32Array, what: string, rtol = 1e-5, atolRel = 1e-6): void =>
  expectClose(got, want, { rtol, atol: atolRel * Math.max(1e-30, maxAbs(want)), what });

/** Targets in [0, c) with every 5th (from 2) set to `ignore` when given. */
function targets(count: number, c: number, seed: number, ignore: number | null): Int32Array {
  const t = new Int32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t[i] = ignore !== null && i % 5 === 2 ? ignore : s % c;
  }
  return t;
}

describe.skipIf(why !== null)('webgpu softmax kernels against the js reference', () => {
  it('covers both row strategies', () => {
    expect(CASES.filter(([s, a]) => s[a]! <= ROW_PER_THREAD_MAX).length).toBeGreaterThan(4);
    expect(CASES.filter(([s, a]) => s[a]! > ROW_PER_THREAD_MAX).length).toBeGreaterThan(3);
  });

  it.each(CASES)('%j along axis %i: forward and gradients', async (shape, axis) => {
    const x = logits(shape, 3);
    const dy = kt(shape, 4);
    const y = js.softmax(x, axis);
    const ly = js.logSoftmax(x, axis);
    const [gx, gdy, gy, gly] = [x, dy, { data: y, shape }, { data: ly, shape }].map(toGpu) as KernelTensor[];
    scaled(await fromGpu(gpuK.softmax(gx!, axis)), y, 'softmax');
    scaled(await fromGpu(gpuK.logSoftmax(gx!, axis)), ly, 'logSoftmax');
    // Gradients are differences: judged against their own scale.
    scaled(await fromGpu(gpuK.softmaxGrad(gy!, gdy!, axis)), js.softmaxGrad({ data: y, shape }, dy, axis), 'softmaxGrad', 1e-4, 1e-5);
    scaled(await fromGpu(gpuK.logSoftmaxGrad(gly!, gdy!, axis)), js.logSoftmaxGrad({ data: ly, shape }, dy, axis), 'logSoftmaxGrad', 1e-4, 1e-5);
  });

  it('refuses a tensor over the storage binding limit with a ConvkitError naming it', () => {
    const big = gpu().limits.maxStorageBufferBindingSize / 4 + 1;
    // The check comes before the values are touched: a small array with a big shape suffices.
    const x = toGpu(kt([4], 1));
    expectConvkitError(() => gpuK.softmax({ data: x.data, shape: [1, big] }, 1), 'Softmax', 'maxStorageBufferBindingSize');
    expectConvkitError(() => gpuLoss.nllLoss({ data: x.data, shape: [big, 1] }, intToGpu(new Int32Array(4)), null, -100), 'NllLoss', 'maxStorageBufferBindingSize');
  });

  it('gives exact probabilities for equal logits and shifts large ones', async () => {
    for (const n of [10, 1000]) {
      const x = { data: new Float32Array(2 * n).fill(1000), shape: [2, n] };
      const got = await fromGpu(gpuK.softmax(toGpu(x), 1));
      expect(got.every((v) => Math.abs(v - 1 / n) <= 1e-6 / n)).toBe(true);
    }
  });
});

describe.skipIf(why !== null)('webgpu loss kernels against the js reference', () => {
  /** x shapes: [N, C], [C] (one sample), [N, C, d1, d2], one class, one sample. */
  const NLL: number[][] = [[64, 10], [7], [4, 5, 3, 3], [1, 1000], [2, 3, 17], [5, 1], [300, 7]];

  it.each(NLL.map((s) => [s]))('NllLoss and its gradient of %j: weight or not, ignoreIndex -100, in range, absent', async (shape) => {
    const c = shape.length === 1 ? shape[0]! : shape[1]!;
    const count = shape.length === 1 ? 1 : shape.reduce((a, b) => a * b, 1) / c;
    const x = kt(shape, 5);
    const w = kt([c], 6);
    const positions = shape.length === 1 ? [] : [shape[0]!, ...shape.slice(2)];
    const dy = kt(positions.length ? positions : [1], 7);
    for (const ignore of [-100, 0, null]) {
      const t = targets(count, c, 11, ignore);
      const ignoreIndex = ignore ?? -100;
      const gt = intToGpu(t);
      for (const weight of [null, w]) {
        const what = `${weight ? 'weight' : 'no weight'}, ignore ${ignore}`;
        const gw = weight ? toGpu(weight) : null;
        const want = jsLoss.nllLoss(x, t, weight, ignoreIndex);
        expectSameBits(await fromGpu(gpuLoss.nllLoss(toGpu(x), gt, gw, ignoreIndex)), want, `NllLoss (${what})`);
        const wantGrad = jsLoss.nllLossGrad(dy, t, weight, ignoreIndex, shape);
        expectSameBits(await fromGpu(gpuLoss.nllLossGrad(toGpu(dy), gt, gw, ignoreIndex, shape)), wantGrad, `NllLossGrad (${what})`);
        if (ignore !== null && count > 2) expect(want.some((v, i) => v === 0 && t[i] === ignore)).toBe(true);
      }
    }
  });

  /** x [N, C] or [C]: small and large C, one class (no terms), batch 1. */
  const MARGIN: number[][] = [[64, 10], [1, 1000], [7, 3], [5, 1], [10], [33, 129]];

  it.each(MARGIN.map((s) => [s]))('MultiMarginLoss and its gradient of %j: p 1 and 2, margins, weight or not', async (shape) => {
    const c = shape[shape.length - 1]!;
    const n = shape.length === 1 ? 1 : shape[0]!;
    const x = kt(shape, 8);
    const t = targets(n, c, 13, null);
    const dy = kt([n], 9);
    const w = kt([c], 10);
    const [gx, gdy, gw] = [x, dy, w].map(toGpu) as KernelTensor[];
    const gt = intToGpu(t);
    for (const p of [1, 2] as const) {
      for (const margin of [1, 0.3]) {
        for (const weight of [null, w]) {
          const what = `p ${p}, margin ${margin}, ${weight ? 'weight' : 'no weight'}`;
          const gweight = weight ? gw! : null;
          const want = jsLoss.multiMarginLoss(x, t, p, margin, weight);
          scaled(await fromGpu(gpuLoss.multiMarginLoss(gx!, gt, p, margin, gweight)), want, `MultiMarginLoss (${what})`);
          const wantGrad = jsLoss.multiMarginLossGrad(x, t, dy, p, margin, weight);
          scaled(await fromGpu(gpuLoss.multiMarginLossGrad(gx!, gt, gdy!, p, margin, gweight)), wantGrad, `MultiMarginLossGrad (${what})`, 1e-5, 1e-6);
          if (c > 1) expect(wantGrad.some((v) => v !== 0)).toBe(true);
        }
      }
    }
  });
});
