import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

const { F } = ck;

/*
 * Expected values come from hand arithmetic (worked in the comments, each checked against
 * PyTorch 1.13 with the snippet shown) or from the naive loops below, which follow the
 * definitions in PyTorch's CPU kernels line by line and share no code with convkit.
 */

/** PyTorch's pooling_output_shape. */
function outSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

interface Cfg {
  k: number;
  s: number;
  p: number;
  d: number;
  ceil: boolean;
}

/** Max over each window; padding is -inf; first maximum wins; flat index into the plane. */
function naiveMaxPool(x: Float32Array, [n, c, h, w]: number[], cfg: Cfg) {
  const oh = outSize(h!, cfg.k, cfg.s, cfg.p, cfg.d, cfg.ceil);
  const ow = outSize(w!, cfg.k, cfg.s, cfg.p, cfg.d, cfg.ceil);
  const values: number[] = [];
  const indices: number[] = [];
  for (let plane = 0; plane < n! * c!; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let arg = -1;
        for (let a = 0; a < cfg.k; a++) {
          for (let b = 0; b < cfg.k; b++) {
            const r = i * cfg.s - cfg.p + a * cfg.d;
            const col = j * cfg.s - cfg.p + b * cfg.d;
            if (r < 0 || r >= h! || col < 0 || col >= w!) continue;
            const v = x[plane * h! * w! + r * w! + col]!;
            if (arg === -1 || v > best) [best, arg] = [v, r * w! + col];
          }
        }
        values.push(best);
        indices.push(arg);
      }
    }
  }
  return { values, indices, shape: [n!, c!, oh, ow] };
}

/** at::avg_pool2d: windows clipped to the padded input, then to the image; divisor by the rules. */
function naiveAvgPool(x: Float32Array, [n, c, h, w]: number[], cfg: Cfg & { cip: boolean; div: number | null }) {
  const oh = outSize(h!, cfg.k, cfg.s, cfg.p, 1, cfg.ceil);
  const ow = outSize(w!, cfg.k, cfg.s, cfg.p, 1, cfg.ceil);
  const values: number[] = [];
  for (let plane = 0; plane < n! * c!; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let h0 = i * cfg.s - cfg.p;
        let w0 = j * cfg.s - cfg.p;
        let h1 = Math.min(h0 + cfg.k, h! + cfg.p);
        let w1 = Math.min(w0 + cfg.k, w! + cfg.p);
        const poolSize = (h1 - h0) * (w1 - w0);
        [h0, w0, h1, w1] = [Math.max(h0, 0), Math.max(w0, 0), Math.min(h1, h!), Math.min(w1, w!)];
        let sum = 0;
        for (let r = h0; r < h1; r++) for (let col = w0; col < w1; col++) sum += x[plane * h! * w! + r * w! + col]!;
        values.push(sum / (cfg.div ?? (cfg.cip ? poolSize : (h1 - h0) * (w1 - w0))));
      }
    }
  }
  return { values, shape: [n!, c!, oh, ow] };
}

/** A tensor of distinct values (a shuffled 0.1-spaced ramp): no ties, and far apart compared with gradcheck's step. */
function distinct(shape: number[], seed: number, requiresGrad = true): ck.Tensor {
  const gen = new ck.Generator(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const order = [...Array(size).keys()];
  gen.shuffle(order);
  return ck.tensor(order.map((v) => v * 0.1 - size * 0.05), shape, { requiresGrad });
}

const fitOf = (ceil: boolean) => (ceil ? 'ceil' : 'floor') as ck.Fit;

describeEachBackend('maxPool2d', () => {
  it('4x4, 2x2 windows with stride 2: values, switches and routed gradient by hand', () => {
    const x = ck.tensor([1, 5, 2, 0, 3, 4, 8, 7, -1, 9, 6, 6, 2, 0, 6, 1], [1, 1, 4, 4], { requiresGrad: true });
    const { output, indices } = F.maxPool2d(x, 2, { returnIndices: true });
    expect(output.toArray()).toEqual([[[[5, 8], [9, 6]]]]);
    // The first 6 in row-major order (index 10) wins the tie in the last window, as in PyTorch.
    expect(indices.dtype).toBe('int32');
    expect(indices.toArray()).toEqual([[[[1, 6], [9, 10]]]]);
    output.backward(ck.tensor([10, 20, 30, 40], [1, 1, 2, 2]));
    expect(x.grad!.toArray()).toEqual([[[[0, 10, 0, 0], [0, 0, 20, 0], [0, 30, 40, 0], [0, 0, 0, 0]]]]);
  });

  it('overlapping windows that share a winner accumulate its gradient', () => {
    // 3x3 with the maximum in the centre; 2x2 windows at stride 1 all pick it.
    const x = ck.tensor([1, 2, 3, 4, 9, 5, 6, 7, 8], [1, 1, 3, 3], { requiresGrad: true });
    const y = F.maxPool2d(x, 2, { stride: 1 });
    expect(y.toArray()).toEqual([[[[9, 9], [9, 9]]]]);
    y.backward(ck.tensor([1, 2, 3, 4], [1, 1, 2, 2]));
    expect(x.grad!.toArray()).toEqual([[[[0, 0, 0], [0, 10, 0], [0, 0, 0]]]]);
  });

  it('padding is -inf, never 0, and ceil mode keeps the partial last window', () => {
    // All negative: with zero padding the border outputs would be 0.
    const x = ck.tensor([-1, -2, -3, -4], [1, 1, 2, 2]);
    expect(F.maxPool2d(x, 2, { stride: 1, padding: 1 }).toArray()).toEqual([[[[-1, -1, -2], [-1, -1, -2], [-3, -3, -4]]]]);
    // 5x5 ramp, 2x2 stride 2: floor drops row/col 4, ceil keeps 1-wide windows there.
    const r = ck.arange(25).view(1, 1, 5, 5);
    expect(F.maxPool2d(r, 2, { fit: 'floor' }).toArray()).toEqual([[[[6, 8], [16, 18]]]]);
    expect(F.maxPool2d(r, 2, { ceilMode: true }).toArray()).toEqual([[[[6, 8, 9], [16, 18, 19], [21, 23, 24]]]]);
  });

  it('NaN wins its window (as PyTorch); a window wholly in the padding gives -inf and routes no gradient', () => {
    const { output, indices } = F.maxPool2d(ck.tensor([1, NaN, 3, 2], [1, 1, 2, 2]), [1, 2], { returnIndices: true });
    expect(Number.isNaN(output.dataSync()[0]!)).toBe(true);
    expect(Array.from(indices.values())).toEqual([1, 2]);
    // 2x2 input, kernel 2 dilated by 3 with padding 1: the taps at -1 and 2 both miss the image.
    // (PyTorch also gives -inf; its index then points outside the plane, ours is -1.)
    const x = ck.tensor([1, 2, 3, 4], [1, 1, 2, 2], { requiresGrad: true });
    const empty = F.maxPool2d(x, 2, { stride: 1, padding: 1, dilation: 3, returnIndices: true });
    expect(empty.output.toArray()).toEqual([[[[-Infinity]]]]);
    expect(empty.indices.toArray()).toEqual([[[[-1]]]]);
    empty.output.backward(ck.ones([1, 1, 1, 1]));
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0, 0]);
  });

  const cases: (Cfg & { shape: number[] })[] = [
    { shape: [2, 3, 6, 6], k: 2, s: 2, p: 0, d: 1, ceil: false },
    { shape: [1, 2, 7, 5], k: 3, s: 2, p: 1, d: 1, ceil: false },
    { shape: [2, 1, 7, 7], k: 3, s: 2, p: 1, d: 1, ceil: true },
    { shape: [1, 2, 8, 9], k: 3, s: 1, p: 1, d: 2, ceil: false },
    { shape: [1, 1, 9, 6], k: 2, s: 3, p: 1, d: 3, ceil: true },
    { shape: [1, 2, 6, 7], k: 4, s: 3, p: 2, d: 1, ceil: true },
  ];
  it.each(cases)('random input $shape k$k s$s p$p d$d ceil=$ceil matches the naive loop', (cfg) => {
    const x = ck.randn(cfg.shape, { seed: cfg.k * 10 + cfg.s });
    const want = naiveMaxPool(x.dataSync(), cfg.shape, cfg);
    const { output, indices } = F.maxPool2d(x, cfg.k, { stride: cfg.s, padding: cfg.p, dilation: cfg.d, fit: fitOf(cfg.ceil), returnIndices: true });
    expect(output.shape).toEqual(want.shape);
    expectClose(output, want.values);
    expect(Array.from(indices.values())).toEqual(want.indices);
  });

  it.each(cases)('gradcheck $shape k$k s$s p$p d$d ceil=$ceil', (cfg) => {
    const x = distinct(cfg.shape, 3);
    gradcheck((t) => F.maxPool2d(t, cfg.k, { stride: cfg.s, padding: cfg.p, dilation: cfg.d, fit: fitOf(cfg.ceil) }), [x]);
  });

  it('rectangular kernel, stride and padding given as pairs', () => {
    const x = ck.randn([1, 2, 6, 8], { seed: 9 });
    const got = F.maxPool2d(x, [2, 3], { stride: [2, 1], padding: [1, 0], fit: 'floor' });
    // Height: (6 + 2 - 2)/2 + 1 = 4; width: (8 - 3)/1 + 1 = 6.
    expect(got.shape).toEqual([1, 2, 4, 6]);
    gradcheck((t) => F.maxPool2d(t, [2, 3], { stride: [2, 1], padding: [1, 0], fit: 'floor' }), [distinct([1, 2, 6, 8], 4)]);
  });

  it('bad arguments are ConvkitErrors with the numbers', () => {
    const x = ck.zeros([1, 1, 5, 5]);
    expectConvkitError(() => F.maxPool2d(x, 2), 'maxPool2d', '(5 - 2 + 2*0)/2 + 1 = 2.5', "fit: 'floor'");
    expectConvkitError(() => F.maxPool2d(x, 7), 'maxPool2d', 'window (7) is larger than the padded input (5');
    expectConvkitError(() => F.maxPool2d(x, 3, { padding: 2 }), 'padding 2 is more than half the kernel size 3', 'at most floor(3/2) = 1');
    expectConvkitError(() => F.maxPool2d(ck.zeros([1, 5, 5]), 2), 'maxPool2d', 'must be 4-d', '[1, 5, 5]', '.view(1, C, H, W)');
    expectConvkitError(() => F.maxPool2d(x, 0), 'kernelSize must be a positive integer');
    expectConvkitError(() => F.maxPool2d(x, 1.5), 'kernelSize must be a positive integer');
    expectConvkitError(() => F.maxPool2d(x, 2, { stride: 0 }), 'stride must be a positive integer');
    expectConvkitError(() => F.maxPool2d(x, 2, { ceilMode: true, fit: 'floor' }), "ceilMode: true contradicts fit: 'floor'");
    expectConvkitError(() => F.maxPool2d(x, 2, { strides: 2 } as never), "unknown option 'strides'");
    expectConvkitError(() => F.maxPool2d([1, 2] as never, 2), 'maxPool2d', 'input must be a Tensor');
  });
});

describeEachBackend('avgPool2d', () => {
  it('padding with and without countIncludePad, by hand', () => {
    // [[1, 2], [3, 4]], 2x2 windows, stride 1, padding 1: the corner window holds 1 and three pads.
    // PyTorch: F.avg_pool2d(x, 2, 1, 1) and count_include_pad=False.
    const x = ck.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    expectClose(F.avgPool2d(x, 2, { stride: 1, padding: 1 }), [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1]);
    expectClose(F.avgPool2d(x, 2, { stride: 1, padding: 1, countIncludePad: false }), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
  });

  it('ceil mode clips edge windows and their divisor as PyTorch does, by hand', () => {
    // 5x5 ramp x[r][c] = 5r + c, 2x2 stride 2, ceil: the last row/col windows hold 2 or 1 pixels
    // and divide by 2 or 1 (not 4): out[0][2] = (4 + 9)/2, out[2][2] = 24/1.
    const r = ck.arange(25).view(1, 1, 5, 5);
    expectClose(F.avgPool2d(r, 2, { ceilMode: true }), [3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24]);
    // 4x4 ramp x[r][c] = 4r + c, 3x3 stride 2 padding 1, ceil: the last windows start at 3 and are
    // clipped at 4 + 1 (the padded edge), so with countIncludePad their height is 2, not 3:
    // out[0][0] = (0+1+4+5)/9, out[0][2] = (3+7)/(3*2), out[2][0] = (12+13)/(2*3), out[2][2] = 15/(2*2).
    const q = ck.arange(16).view(1, 1, 4, 4);
    expectClose(F.avgPool2d(q, 3, { stride: 2, padding: 1, ceilMode: true }), [10 / 9, 24 / 9, 10 / 6, 51 / 9, 10, 33 / 6, 25 / 6, 42 / 6, 15 / 4]);
    expectClose(F.avgPool2d(q, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [2.5, 4, 5, 8.5, 10, 11, 12.5, 14, 15]);
  });

  it('divisorOverride replaces the divisor', () => {
    // 2x2 windows of the 4x4 ramp sum to 10, 18, 42, 50.
    expectClose(F.avgPool2d(ck.arange(16).view(1, 1, 4, 4), 2, { divisorOverride: 3 }), [10 / 3, 6, 14, 50 / 3]);
  });

  const cases: (Cfg & { shape: number[]; cip: boolean; div: number | null })[] = [
    { shape: [2, 2, 6, 6], k: 2, s: 2, p: 0, d: 1, ceil: false, cip: true, div: null },
    { shape: [1, 3, 7, 5], k: 3, s: 2, p: 1, d: 1, ceil: false, cip: true, div: null },
    { shape: [1, 2, 7, 5], k: 3, s: 2, p: 1, d: 1, ceil: false, cip: false, div: null },
    { shape: [2, 1, 8, 7], k: 3, s: 2, p: 1, d: 1, ceil: true, cip: true, div: null },
    { shape: [1, 2, 6, 9], k: 4, s: 3, p: 2, d: 1, ceil: true, cip: false, div: null },
    { shape: [1, 2, 6, 6], k: 3, s: 2, p: 1, d: 1, ceil: true, cip: true, div: 5 },
  ];
  it.each(cases)('random input $shape k$k s$s p$p ceil=$ceil cip=$cip div=$div matches the naive loop', (cfg) => {
    const x = ck.randn(cfg.shape, { seed: cfg.k + cfg.s });
    const want = naiveAvgPool(x.dataSync(), cfg.shape, cfg);
    const got = F.avgPool2d(x, cfg.k, { stride: cfg.s, padding: cfg.p, fit: fitOf(cfg.ceil), countIncludePad: cfg.cip, divisorOverride: cfg.div });
    expect(got.shape).toEqual(want.shape);
    expectClose(got, want.values);
  });

  it.each(cases)('gradcheck $shape k$k s$s p$p ceil=$ceil cip=$cip div=$div', (cfg) => {
    const x = ck.randn(cfg.shape, { seed: 2, requiresGrad: true });
    gradcheck((t) => F.avgPool2d(t, cfg.k, { stride: cfg.s, padding: cfg.p, fit: fitOf(cfg.ceil), countIncludePad: cfg.cip, divisorOverride: cfg.div }), [x]);
  });

  it('bad arguments are ConvkitErrors with the numbers', () => {
    const x = ck.zeros([1, 1, 6, 6]);
    expectConvkitError(() => F.avgPool2d(x, 4), 'avgPool2d', '(6 - 4 + 2*0)/4 + 1 = 1.5');
    expectConvkitError(() => F.avgPool2d(x, 2, { padding: 2 }), 'avgPool2d', 'padding 2 is more than half the kernel size 2');
    expectConvkitError(() => F.avgPool2d(x, 2, { divisorOverride: 0 }), 'divisorOverride must be a non-zero integer');
    expectConvkitError(() => F.avgPool2d(x, 2, { dilation: 2 } as never), "unknown option 'dilation'");
    expectConvkitError(() => F.avgPool2d(ck.zeros([6, 6]), 2), 'avgPool2d', 'must be 4-d');
  });
});

describeEachBackend('lpPool2d', () => {
  it('L2 pooling by hand, and PyTorch-compatible ceil-mode edge windows', () => {
    // sqrt(3^2 + 4^2 + 0 + 0) = 5.
    expectClose(F.lpPool2d(ck.tensor([3, 4, 0, 0], [1, 1, 2, 2]), 2, 2), [5]);
    // PyTorch computes avg_pool(x^p) * kh*kw, so a clipped edge window holding 4 and 9 gives
    // sqrt((16 + 81)/2 * 4) = sqrt(194), not sqrt(97). F.lp_pool2d(x5, 2, 2, ceil_mode=True)[0,0,0,2] = 13.9284.
    const r = ck.arange(25).view(1, 1, 5, 5);
    const got = F.lpPool2d(r, 2, 2, { ceilMode: true }).dataSync();
    expectClose([got[2]!, got[8]!], [Math.sqrt(194), Math.sqrt(24 * 24 * 4)]);
    expectClose([got[0]!], [Math.sqrt(0 + 1 + 25 + 36)]);
  });

  const cases = [
    { shape: [1, 2, 6, 6], p: 2, k: 2, s: 2, ceil: false },
    { shape: [2, 1, 7, 5], p: 3, k: 3, s: 2, ceil: false },
    { shape: [1, 2, 7, 7], p: 1.5, k: 2, s: 2, ceil: true },
    { shape: [1, 1, 5, 6], p: 1, k: [2, 3] as [number, number], s: 1, ceil: false },
  ];
  it.each(cases)('normType $p kernel $k stride $s ceil=$ceil: naive sums and gradcheck', (cfg) => {
    const x = F.add(ck.rand(cfg.shape, { seed: 11 }), 0.2);
    const [kh, kw] = typeof cfg.k === 'number' ? [cfg.k, cfg.k] : cfg.k;
    const got = F.lpPool2d(x, cfg.p, cfg.k, { stride: cfg.s, fit: fitOf(cfg.ceil) });
    if (!cfg.ceil) {
      // Without partial windows the definition is plain: (sum of x^p)^(1/p).
      const [, , H, W] = cfg.shape as [number, number, number, number];
      const xv = x.dataSync();
      const want: number[] = [];
      const [oh, ow] = [Math.floor((H - kh) / cfg.s) + 1, Math.floor((W - kw) / cfg.s) + 1];
      for (let plane = 0; plane < cfg.shape[0]! * cfg.shape[1]!; plane++) {
        for (let i = 0; i < oh; i++) {
          for (let j = 0; j < ow; j++) {
            let s = 0;
            for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) s += xv[plane * H * W + (i * cfg.s + a) * W + j * cfg.s + b]! ** cfg.p;
            want.push(s ** (1 / cfg.p));
          }
        }
      }
      expectClose(got, want);
    }
    const leaf = ck.tensor(x.dataSync(), cfg.shape, { requiresGrad: true });
    gradcheck((t) => F.lpPool2d(t, cfg.p, cfg.k, { stride: cfg.s, fit: fitOf(cfg.ceil) }), [leaf], { eps: 1e-3 });
  });

  it('a window of zeros gets gradient 0, not NaN', () => {
    const x = ck.zeros([1, 1, 2, 2], { requiresGrad: true });
    F.sum(F.lpPool2d(x, 2, 2)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0, 0]);
  });

  it('bad arguments are ConvkitErrors', () => {
    const x = ck.ones([1, 1, 4, 4]);
    expectConvkitError(() => F.lpPool2d(x, 0, 2), 'lpPool2d', 'normType must be a positive finite number', '0');
    expectConvkitError(() => F.lpPool2d(x, 2, 3), 'lpPool2d', '(4 - 3 + 2*0)/3 + 1');
    expectConvkitError(() => F.lpPool2d(x, 2, 2, { padding: 1 } as never), "unknown option 'padding'");
  });
});

/** PyTorch's adaptive windows, written out: [floor(i*n/out), ceil((i+1)*n/out)). */
function naiveAdaptive(x: Float32Array, [n, c, h, w]: number[], oh: number, ow: number, reduce: 'avg' | 'max') {
  const values: number[] = [];
  const indices: number[] = [];
  for (let plane = 0; plane < n! * c!; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const [r0, r1] = [Math.floor((i * h!) / oh), Math.ceil(((i + 1) * h!) / oh)];
        const [c0, c1] = [Math.floor((j * w!) / ow), Math.ceil(((j + 1) * w!) / ow)];
        let sum = 0;
        let best = -Infinity;
        let arg = -1;
        for (let r = r0; r < r1; r++) {
          for (let col = c0; col < c1; col++) {
            const v = x[plane * h! * w! + r * w! + col]!;
            sum += v;
            if (v > best) [best, arg] = [v, r * w! + col];
          }
        }
        values.push(reduce === 'avg' ? sum / ((r1 - r0) * (c1 - c0)) : best);
        indices.push(arg);
      }
    }
  }
  return { values, indices };
}

describeEachBackend('adaptive pooling', () => {
  it('5x5 to 3x3 by hand: windows [0,2), [1,4), [3,5) overlap', () => {
    // Ramp 5r + c; the window rows 0-1 x cols 0-1 averages (0+1+5+6)/4 = 3; rows 1-3 x cols 1-3 averages 12.
    const r = ck.arange(25).view(1, 1, 5, 5);
    expectClose(F.adaptiveAvgPool2d(r, 3), [3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21]);
    // null keeps the width; the max of rows [0,3) and [2,5) is the last of those rows.
    const { output, indices } = F.adaptiveMaxPool2d(r, [2, null], { returnIndices: true });
    expect(output.toArray()).toEqual([[[[10, 11, 12, 13, 14], [20, 21, 22, 23, 24]]]]);
    expect(indices.toArray()).toEqual([[[[10, 11, 12, 13, 14], [20, 21, 22, 23, 24]]]]);
  });

  it('global pooling is output size 1', () => {
    const x = ck.randn([2, 3, 4, 5], { seed: 1 });
    expectClose(F.globalAvgPool2d(x), F.mean(x, [2, 3], { keepdim: true }));
    expectClose(F.adaptiveAvgPool2d(x, 1), F.mean(x, [2, 3], { keepdim: true }));
    expectClose(F.globalMaxPool2d(x), F.amax(x, [2, 3], { keepdim: true }));
  });

  const cases = [
    { shape: [2, 2, 7, 5], out: [3, 2] },
    { shape: [1, 3, 6, 6], out: [4, 4] },
    { shape: [1, 1, 3, 4], out: [5, 7] },
    { shape: [2, 1, 9, 4], out: [2, 1] },
  ];
  it.each(cases)('$shape -> $out matches the naive windows, and gradchecks', ({ shape, out }) => {
    const x = distinct(shape, 5);
    const [oh, ow] = out as [number, number];
    const avg = naiveAdaptive(x.dataSync(), shape, oh, ow, 'avg');
    const max = naiveAdaptive(x.dataSync(), shape, oh, ow, 'max');
    expectClose(F.adaptiveAvgPool2d(x, [oh, ow]), avg.values);
    const got = F.adaptiveMaxPool2d(x, [oh, ow], { returnIndices: true });
    expect(got.output.shape).toEqual([shape[0], shape[1], oh, ow]);
    expectClose(got.output, max.values);
    expect(Array.from(got.indices.values())).toEqual(max.indices);
    gradcheck((t) => F.adaptiveAvgPool2d(t, [oh, ow]), [x]);
    gradcheck((t) => F.adaptiveMaxPool2d(t, [oh, ow]), [x]);
  });

  it('bad output sizes and inputs are ConvkitErrors', () => {
    const x = ck.zeros([1, 1, 4, 4]);
    expectConvkitError(() => F.adaptiveAvgPool2d(x, 0), 'adaptiveAvgPool2d', 'positive integers', '0');
    expectConvkitError(() => F.adaptiveAvgPool2d(x, [2.5, 2]), 'adaptiveAvgPool2d', '[2.5,2]');
    expectConvkitError(() => F.adaptiveMaxPool2d(x, [1, 2, 3] as never), 'adaptiveMaxPool2d', 'a number or an [h, w] pair');
    expectConvkitError(() => F.adaptiveMaxPool2d(ck.zeros([4, 4]), 1), 'adaptiveMaxPool2d', 'must be 4-d');
  });
});
