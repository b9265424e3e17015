import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

/*
 * Expected values are hand arithmetic or the naive loops below, written from the formulas in
 * PyTorch's documentation (and checked once against PyTorch 1.13); none comes from convkit.
 */

/** b_c = a_c / (k + alpha/size * sum_{j = c - floor(size/2)}^{c + floor((size-1)/2)} a_j^2)^beta, zeros outside [0, C). */
function naiveLrn(x: Float32Array, shape: number[], size: number, alpha: number, beta: number, k: number): number[] {
  const [n, c] = [shape[0]!, shape[1]!];
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const out: number[] = new Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let q = 0; q < inner; q++) {
        let sum = 0;
        for (let j = ch - Math.floor(size / 2); j <= ch + Math.floor((size - 1) / 2); j++) {
          if (j >= 0 && j < c) sum += x[(b * c + j) * inner + q]! ** 2;
        }
        const i = (b * c + ch) * inner + q;
        out[i] = x[i]! / (k + (alpha / size) * sum) ** beta;
      }
    }
  }
  return out;
}

/** Per-channel mean and biased variance of [N, C, ...] by direct loops. */
function naiveStats(x: Float32Array, shape: number[]) {
  const [n, c] = [shape[0]!, shape[1]!];
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const mean: number[] = [];
  const variance: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let b = 0; b < n; b++) for (let q = 0; q < inner; q++) vals.push(x[(b * c + ch) * inner + q]!);
    const m = vals.reduce((a, v) => a + v, 0) / vals.length;
    mean.push(m);
    variance.push(vals.reduce((a, v) => a + (v - m) ** 2, 0) / vals.length);
  }
  return { mean, variance, count: n * inner };
}

function naiveNormalize(x: Float32Array, shape: number[], mean: number[], variance: number[], eps: number, w?: Float32Array, b?: Float32Array) {
  const c = shape[1]!;
  const inner = shape.slice(2).reduce((p, q) => p * q, 1);
  return Array.from(x, (v, i) => {
    const ch = Math.floor(i / inner) % c;
    return ((v - mean[ch]!) / Math.sqrt(variance[ch]! + eps)) * (w ? w[ch]! : 1) + (b ? b[ch]! : 0);
  });
}

describeEachBackend('localResponseNorm', () => {
  it('3 channels by hand: size 2 looks at the previous channel only', () => {
    // Channels a = 1, 2, 3 at one pixel; size 2: window [c - 1, c]; alpha 1, beta 1, k 1:
    // b_0 = 1/(1 + (1)/2) = 2/3, b_1 = 2/(1 + (1+4)/2) = 4/7, b_2 = 3/(1 + (4+9)/2) = 6/15.
    const x = ck.tensor([1, 2, 3], [1, 3, 1, 1]);
    expectClose(F.localResponseNorm(x, 2, { alpha: 1, beta: 1, k: 1 }), [2 / 3, 4 / 7, 6 / 15]);
    // Defaults alpha 1e-4, beta 0.75, k 1 with size 3: b_1 = 2/(1 + 1e-4/3 * 14)^0.75.
    expectClose([F.localResponseNorm(x, 3).dataSync()[1]!], [2 / (1 + (1e-4 / 3) * 14) ** 0.75]);
  });

  const cases = [
    { shape: [2, 3, 2, 2], size: 3, alpha: 0.5, beta: 0.75, k: 1 },
    { shape: [1, 5, 3, 2], size: 2, alpha: 1.2, beta: 0.6, k: 2 },
    { shape: [2, 6, 2, 1], size: 4, alpha: 0.8, beta: 1.5, k: 1.5 },
    { shape: [1, 4, 3, 3], size: 7, alpha: 2, beta: 0.75, k: 1 },
    { shape: [3, 4, 5], size: 5, alpha: 1e-4, beta: 0.75, k: 2 },
    { shape: [2, 3, 2, 2, 2], size: 1, alpha: 1, beta: 0.5, k: 1 },
  ];
  it.each(cases)('$shape size $size alpha $alpha beta $beta k $k: naive formula and gradcheck', ({ shape, size, alpha, beta, k }) => {
    const x = ck.randn(shape, { seed: size + shape.length, requiresGrad: true });
    expectClose(F.localResponseNorm(x, size, { alpha, beta, k }), naiveLrn(x.dataSync(), shape, size, alpha, beta, k));
    gradcheck((t) => F.localResponseNorm(t, size, { alpha, beta, k }), [x]);
  });

  it('bad arguments are ConvkitErrors', () => {
    expectConvkitError(() => F.localResponseNorm(ck.zeros([2, 3]), 2), 'localResponseNorm', 'at least 3 dimensions', '[2, 3]');
    expectConvkitError(() => F.localResponseNorm(ck.zeros([1, 3, 2, 2]), 0), 'localResponseNorm', 'size', 'positive integer', '0');
    expectConvkitError(() => F.localResponseNorm(ck.zeros([1, 3, 2, 2]), 2, { beta: NaN }), 'beta must be a finite number');
  });
});

describeEachBackend('batchNorm', () => {
  it('training by hand: batch statistics, then running statistics after one and two steps', () => {
    // x = 1, 2, 3, 4 in one channel: mean 2.5, biased variance 1.25, unbiased 5/3.
    const x = ck.tensor([1, 2, 3, 4], [4, 1]);
    const rm = ck.zeros([1]);
    const rv = ck.ones([1]);
    const y = F.batchNorm(x, rm, rv, { training: true });
    const sd = Math.sqrt(1.25 + 1e-5);
    expectClose(y, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
    // running_mean = 0.9 * 0 + 0.1 * 2.5; running_var = 0.9 * 1 + 0.1 * 5/3 (unbiased).
    expectClose(rm, [0.25]);
    expectClose(rv, [0.9 + 0.1 * (5 / 3)]);
    // x = 2, 4, 6, 8: mean 5, unbiased variance (9 + 1 + 1 + 9)/3 = 20/3.
    F.batchNorm(ck.tensor([2, 4, 6, 8], [4, 1]), rm, rv, { training: true });
    expectClose(rm, [0.9 * 0.25 + 0.5]);
    expectClose(rv, [0.9 * (0.9 + 0.1 * (5 / 3)) + 0.1 * (20 / 3)]);
  });

  it('eval uses the running statistics and leaves them alone; weight and bias apply', () => {
    const x = ck.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    const rm = ck.tensor([1, -1]);
    const rv = ck.tensor([4, 0.25]);
    const y = F.batchNorm(x, rm, rv, { weight: ck.tensor([2, 3]), bias: ck.tensor([0.5, -1]), eps: 0 });
    // Channel 0: (x - 1)/2 * 2 + 0.5; channel 1: (x + 1)/0.5 * 3 - 1.
    expectClose(y, [0.5, 17, 2.5, 29, 4.5, 41]);
    expect(Array.from(rm.dataSync())).toEqual([1, -1]);
    expect(Array.from(rv.dataSync())).toEqual([4, 0.25]);
  });

  const shapes = [{ shape: [5, 3] }, { shape: [4, 2, 6] }, { shape: [3, 4, 3, 2] }, { shape: [2, 2, 1, 3] }];
  it.each(shapes)('training on $shape matches naive batch statistics and running updates', ({ shape }) => {
    const x = ck.randn(shape, { seed: shape.length });
    const c = shape[1]!;
    const w = ck.randn([c], { seed: 8 });
    const b = ck.randn([c], { seed: 9 });
    const rm = ck.randn([c], { seed: 10 });
    const rv = F.add(ck.rand([c], { seed: 11 }), 0.5);
    const [rm0, rv0] = [rm.dataSync(), rv.dataSync()];
    const { mean, variance, count } = naiveStats(x.dataSync(), shape);
    const y = F.batchNorm(x, rm, rv, { weight: w, bias: b, training: true, momentum: 0.3, eps: 1e-3 });
    expectClose(y, naiveNormalize(x.dataSync(), shape, mean, variance, 1e-3, w.dataSync(), b.dataSync()));
    expectClose(rm, mean.map((m, i) => 0.7 * rm0[i]! + 0.3 * m));
    expectClose(rv, variance.map((v, i) => 0.7 * rv0[i]! + (0.3 * v * count) / (count - 1)));
    // Without running buffers training still works and nothing else is touched.
    expectClose(F.batchNorm(x, null, null, { training: true, eps: 1e-3 }), naiveNormalize(x.dataSync(), shape, mean, variance, 1e-3));
  });

  it.each(shapes)('gradcheck on $shape, training and eval, with and without affine', ({ shape }) => {
    const c = shape[1]!;
    const x = ck.randn(shape, { seed: 3, requiresGrad: true });
    const w = F.add(ck.rand([c], { seed: 4 }), 0.5);
    const weight = ck.tensor(w.dataSync(), [c], { requiresGrad: true });
    const bias = ck.randn([c], { seed: 5, requiresGrad: true });
    const rm = ck.randn([c], { seed: 6 });
    const rv = F.add(ck.rand([c], { seed: 7 }), 0.5);
    gradcheck((t, g, b) => F.batchNorm(t, null, null, { weight: g, bias: b, training: true }), [x, weight, bias]);
    gradcheck((t) => F.batchNorm(t, null, null, { training: true }), [x]);
    gradcheck((t, g, b) => F.batchNorm(t, rm, rv, { weight: g, bias: b }), [x, weight, bias]);
  });

  it('bad arguments are ConvkitErrors with the numbers', () => {
    const x = ck.zeros([2, 3, 4, 4]);
    expectConvkitError(() => F.batchNorm(x, ck.zeros([4]), ck.ones([4])), 'batchNorm', 'runningMean', 'shape [3]', '[4]', '[2, 3, 4, 4]');
    expectConvkitError(() => F.batchNorm(x, null, null, { training: true, weight: ck.ones([2]) }), 'weight', 'shape [3]', 'got float32 [2]');
    expectConvkitError(
      () => F.batchNorm(ck.zeros([1, 3]), null, null, { training: true }),
      'Expected more than 1 value per channel when training, got input size [1, 3]',
    );
    expectConvkitError(() => F.batchNorm(ck.zeros([1, 3, 1, 1]), null, null, { training: true }), 'more than 1 value per channel', '[1, 3, 1, 1]');
    expectConvkitError(() => F.batchNorm(x, null, null), 'training: false', 'runningMean and runningVar', 'null');
    expectConvkitError(() => F.batchNorm(x, ck.zeros([3]), null, { training: true }), 'both runningMean and runningVar or neither');
    expectConvkitError(() => F.batchNorm(ck.zeros([3]), null, null, { training: true }), 'batchNorm', '[N, C]', 'got shape [3]');
    expectConvkitError(() => F.batchNorm(x, null, null, { training: true, eps: -1 }), 'eps must be a finite number >= 0');
  });
});

describeEachBackend('instanceNorm', () => {
  it('normalizes each (sample, channel) image by its own statistics; running stats average over the batch', () => {
    const shape = [2, 3, 2, 3];
    const x = ck.randn(shape, { seed: 12 });
    const xv = x.dataSync();
    const w = ck.randn([3], { seed: 13 });
    const b = ck.randn([3], { seed: 14 });
    const rm = ck.zeros([3]);
    const rv = ck.ones([3]);
    const y = F.instanceNorm(x, { runningMean: rm, runningVar: rv, weight: w, bias: b, momentum: 0.5 }).dataSync();
    const means: number[][] = [[], [], []];
    const vars: number[][] = [[], [], []];
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < 3; c++) {
        const vals = Array.from(xv.subarray((n * 3 + c) * 6, (n * 3 + c + 1) * 6));
        const m = vals.reduce((a, v) => a + v, 0) / 6;
        const v = vals.reduce((a, q) => a + (q - m) ** 2, 0) / 6;
        means[c]!.push(m);
        vars[c]!.push((v * 6) / 5);
        const want = vals.map((q) => ((q - m) / Math.sqrt(v + 1e-5)) * w.dataSync()[c]! + b.dataSync()[c]!);
        expectClose(y.subarray((n * 3 + c) * 6, (n * 3 + c + 1) * 6), want);
      }
    }
    // Each running value: 0.5 * old + 0.5 * (mean over the batch of the per-instance statistic).
    expectClose(rm, means.map((m) => 0.5 * ((m[0]! + m[1]!) / 2)));
    expectClose(rv, vars.map((v) => 0.5 + 0.5 * ((v[0]! + v[1]!) / 2)));
    // useInputStats: false normalizes with the running statistics instead.
    const e = F.instanceNorm(x, { runningMean: rm, runningVar: rv, useInputStats: false, eps: 0 });
    const rmv = rm.dataSync();
    const rvv = rv.dataSync();
    expectClose(e, Array.from(xv, (v, i) => (v - rmv[Math.floor(i / 6) % 3]!) / Math.sqrt(rvv[Math.floor(i / 6) % 3]!)));
  });

  it('gradcheck with and without affine parameters', () => {
    const x = ck.randn([2, 2, 3, 2], { seed: 15, requiresGrad: true });
    const w = ck.tensor([0.7, 1.3], [2], { requiresGrad: true });
    const b = ck.tensor([0.1, -0.4], [2], { requiresGrad: true });
    gradcheck((t, g, h) => F.instanceNorm(t, { weight: g, bias: h }), [x, w, b], { eps: 1e-3 });
    gradcheck((t) => F.instanceNorm(t), [x], { eps: 1e-3 });
  });

  it('bad arguments are ConvkitErrors', () => {
    expectConvkitError(() => F.instanceNorm(ck.zeros([2, 3, 1, 1])), 'instanceNorm', 'more than 1 spatial element', '[2, 3, 1, 1]');
    expectConvkitError(() => F.instanceNorm(ck.zeros([2, 3])), 'instanceNorm', 'at least one spatial axis');
    expectConvkitError(() => F.instanceNorm(ck.zeros([2, 3, 4]), { useInputStats: false }), 'useInputStats: false', 'runningMean');
    expectConvkitError(() => F.instanceNorm(ck.zeros([2, 3, 4]), { weight: ck.ones([4]) }), 'weight', 'shape [3]');
  });
});
