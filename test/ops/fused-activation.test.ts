import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { expectSameBits } from '../helpers/same-bits.js';

const { F } = ck;
type Act = 'none' | 'relu';

/**
 * The fused activation of conv2d / linear / batchNorm against the separate F.relu: the same
 * bits forward and backward (the epilogue applies the Unary relu rule to the very values the
 * separate kernel would read, and the backward masks dy with the relu's own rule).
 */
function fusedVsSeparate(make: () => ck.Tensor[], run: (inputs: ck.Tensor[], act: Act) => ck.Tensor, fusedName: string): ck.Tensor {
  const a = make();
  const b = make();
  const yf = run(a, 'relu');
  const ys = F.relu(run(b, 'none'));
  expect(yf.gradFn?.name).toBe(fusedName);
  expectSameBits(yf, ys, 'forward');
  const g = ck.randn(yf.shape, { seed: 99 });
  yf.backward(g);
  ys.backward(g);
  a.forEach((t, i) => expectSameBits(t.grad, b[i]!.grad, `gradient of input ${i}`));
  return yf;
}

const leaf = (shape: number[], seed: number) => ck.randn(shape, { seed, requiresGrad: true });
function poke(t: ck.Tensor, i: number, v: number): void {
  (t.storage.data as Float32Array)[t.offset + i] = v;
}

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  opts?: ck.F.Conv2dOptions;
  /** Zero the first filter (and its bias): outputs exactly 0, where relu's mask is 0. */
  zeroFilter?: boolean;
  /** A NaN in the input: relu turns NaN into 0, its gradient is masked. */
  nan?: boolean;
}

const convCases: ConvCase[] = [
  { name: '3x3 stride 1 pad 1 (Winograd on wasm)', x: [2, 8, 12, 12], w: [16, 8, 3, 3], opts: { padding: 1 }, zeroFilter: true },
  { name: '3x3 stride 1, no bias, exact zeros', x: [1, 4, 20, 20], w: [12, 4, 3, 3], bias: false, opts: { padding: 1 }, zeroFilter: true },
  { name: '1x1', x: [2, 16, 10, 10], w: [24, 16, 1, 1], zeroFilter: true },
  { name: '5x5 stride 2 pad 2', x: [2, 3, 17, 17], w: [8, 3, 5, 5], opts: { stride: 2, padding: 2, fit: 'floor' } },
  { name: 'groups 2, dilation 2', x: [2, 8, 14, 14], w: [12, 4, 3, 3], opts: { groups: 2, dilation: 2, padding: 2 } },
  { name: 'depthwise', x: [1, 16, 16, 16], w: [16, 1, 3, 3], opts: { groups: 16, padding: 1 } },
  { name: 'asymmetric pads', x: [1, 4, 9, 11], w: [6, 4, 3, 2], opts: { padding: [0, 1, 1, 0] } },
  { name: "paddingMode 'reflect'", x: [2, 4, 10, 10], w: [8, 4, 3, 3], opts: { padding: 1, paddingMode: 'reflect' } },
  { name: "paddingMode 'circular', stride 2", x: [1, 3, 12, 12], w: [8, 3, 3, 3], opts: { padding: 1, paddingMode: 'circular', stride: 2, fit: 'floor' } },
  { name: "paddingMode 'replicate', padding 'same'", x: [1, 3, 9, 9], w: [5, 3, 5, 5], opts: { padding: 'same', paddingMode: 'replicate' } },
  { name: 'NaN in the input', x: [2, 8, 12, 12], w: [16, 8, 3, 3], opts: { padding: 1 }, nan: true },
  { name: 'tiny (js fallback sizes)', x: [1, 2, 4, 4], w: [3, 2, 3, 3], opts: { padding: 1 } },
];

describeEachBackend('fused activation', () => {
  for (const c of convCases) {
    it(`conv2d ${c.name}: activation 'relu' = relu(conv2d), forward and backward`, () => {
      const make = () => {
        const x = leaf(c.x, 1);
        const w = leaf(c.w, 2);
        const b = c.bias === false ? null : leaf([c.w[0]!], 3);
        if (c.zeroFilter) {
          const per = c.w.slice(1).reduce((p, d) => p * d, 1);
          for (let i = 0; i < per; i++) poke(w, i, 0);
          if (b) poke(b, 0, 0);
        }
        if (c.nan) poke(x, 37, NaN);
        return b ? [x, w, b] : [x, w];
      };
      const y = fusedVsSeparate(make, ([x, w, b], act) => F.conv2d(x!, w!, b ?? null, { ...c.opts, activation: act }), 'conv2d_relu');
      const v = y.dataSync();
      expect(v.every((e) => e >= 0)).toBe(true);
      if (c.zeroFilter) expect(v.some((e) => e === 0)).toBe(true);
    });
  }

  for (const rows of [1, 64]) {
    it(`linear, batch ${rows}: activation 'relu' = relu(linear), forward and backward`, () => {
      const make = () => {
        const x = leaf([rows, 300], 4);
        const w = leaf([100, 300], 5);
        const b = leaf([100], 6);
        for (let i = 0; i < 300; i++) poke(w, i, 0); // output feature 0 is exactly b[0] = 0
        poke(b, 0, 0);
        return [x, w, b];
      };
      fusedVsSeparate(make, ([x, w, b], act) => F.linear(x!, w!, b!, { activation: act }), 'linear_relu');
      fusedVsSeparate(() => make().slice(0, 2), ([x, w], act) => F.linear(x!, w!, null, { activation: act }), 'linear_relu');
    });
  }

  it('linear with leading dimensions and a NaN', () => {
    const make = () => {
      const x = leaf([3, 5, 40], 7);
      poke(x, 11, NaN);
      return [x, leaf([20, 40], 8), leaf([20], 9)];
    };
    fusedVsSeparate(make, ([x, w, b], act) => F.linear(x!, w!, b!, { activation: act }), 'linear_relu');
  });

  for (const shape of [[4, 16, 9, 9], [2, 3], [8, 32, 6, 6]]) {
    it(`batchNorm (eval) ${JSON.stringify(shape)}: activation 'relu' = relu(batchNorm), forward and backward`, () => {
      const c = shape[1]!;
      const rm = ck.randn([c], { seed: 10 });
      const rv = F.add(F.abs(ck.randn([c], { seed: 11 })), 0.5);
      const make = () => {
        const x = leaf(shape, 12);
        poke(x, 3, NaN);
        return [x, leaf([c], 13), leaf([c], 14)];
      };
      fusedVsSeparate(make, ([x, w, b], act) => F.batchNorm(x!, rm, rv, { weight: w, bias: b, activation: act }), 'batchNorm_relu');
    });
  }

  it('batchNorm in training mode with the activation gives the same as the separate relu', () => {
    const make = () => [leaf([6, 4, 5, 5], 15), leaf([4], 16), leaf([4], 17)];
    fusedVsSeparate(make, ([x, w, b], act) => F.batchNorm(x!, null, null, { weight: w, bias: b, training: true, activation: act }), 'batchNorm_relu');
  });

  // Training mode (the ReLU's mask inside BatchNormGrad): below and above the wasm kernels' js
  // threshold, odd channels, batch 1, 1x1 and 2x2 planes, [N, C], no affine parameters, other eps,
  // running statistics updated alike, a NaN in the input.
  const trainCases: { shape: number[]; eps?: number; momentum?: number; affine?: boolean; nan?: boolean }[] = [
    { shape: [64, 37, 4, 4] }, { shape: [1, 5, 2, 2] }, { shape: [9, 3, 1, 1], eps: 1e-3 }, { shape: [1, 33, 11, 9], momentum: 0.5 },
    { shape: [3, 7, 13, 13], affine: false }, { shape: [50, 37] }, { shape: [16, 8, 16, 16], nan: true, eps: 0.1 }, { shape: [2, 64, 32] },
  ];
  for (const tc of trainCases) {
    it(`batchNorm (training) ${JSON.stringify(tc)}: activation 'relu' = relu(batchNorm), forward, backward, running statistics`, () => {
      const c = tc.shape[1]!;
      const stats = () => [ck.randn([c], { seed: 30 }), F.add(F.abs(ck.randn([c], { seed: 31 })), 0.5)];
      const [rmF, rvF] = stats(), [rmS, rvS] = stats();
      const make = () => {
        const x = leaf(tc.shape, 32);
        if (tc.nan) poke(x, 5, NaN);
        return tc.affine === false ? [x] : [x, leaf([c], 33), leaf([c], 34)];
      };
      let call = 0;
      fusedVsSeparate(make, ([x, w, b], act) => {
        const [rm, rv] = call++ === 0 ? [rmF!, rvF!] : [rmS!, rvS!];
        return F.batchNorm(x!, rm, rv, { weight: w ?? null, bias: b ?? null, training: true, activation: act, eps: tc.eps, momentum: tc.momentum });
      }, 'batchNorm_relu');
      expectSameBits(rmF!, rmS!, 'running mean');
      expectSameBits(rvF!, rvS!, 'running variance');
    });
  }

  it('gradcheck of the fused ops', () => {
    // Biases keep most pre-activations away from the kink at 0, where differences are one-sided.
    const x = ck.randn([1, 2, 5, 5], { seed: 20, requiresGrad: true });
    const w = ck.randn([3, 2, 3, 3], { seed: 21, requiresGrad: true });
    const b = ck.tensor([0.5, -0.3, 0.2], [3], { requiresGrad: true });
    gradcheck((p, q, r) => F.conv2d(p, q, r, { padding: 1, activation: 'relu' }), [x, w, b], { eps: 1e-2, tol: 2e-2 });
    gradcheck((p, q, r) => F.conv2d(p, q, r, { stride: 2, paddingMode: 'reflect', padding: 1, activation: 'relu' }), [x, w, b], { eps: 1e-2, tol: 2e-2 });
    const xl = ck.randn([4, 6], { seed: 22, requiresGrad: true });
    const wl = ck.randn([5, 6], { seed: 23, requiresGrad: true });
    const bl = ck.randn([5], { seed: 24, requiresGrad: true });
    gradcheck((p, q, r) => F.linear(p, q, r, { activation: 'relu' }), [xl, wl, bl], { eps: 1e-2, tol: 2e-2 });
    const xb = ck.randn([3, 4, 2, 2], { seed: 25, requiresGrad: true });
    const gb = ck.randn([4], { seed: 26, requiresGrad: true });
    const bb = ck.randn([4], { seed: 27, requiresGrad: true });
    const rm = ck.randn([4], { seed: 28 });
    const rv = ck.tensor([0.5, 1, 2, 1.5]);
    gradcheck((p, q, r) => F.batchNorm(p, rm, rv, { weight: q, bias: r, activation: 'relu' }), [xb, gb, bb], { eps: 1e-2, tol: 2e-2 });
    // Training: the gradient through the batch statistics and the mask together; channel 3 has both signs.
    const gt = ck.tensor([0.5, -0.4, 0.6, 0.3], [4], { requiresGrad: true });
    const bt = ck.tensor([2, -2, 2, 0.3], [4], { requiresGrad: true });
    const ch3 = F.batchNorm(xb, null, null, { weight: gt, bias: bt, training: true, activation: 'relu' }).dataSync().filter((_, i) => i % 16 >= 12);
    expect(ch3.some((v) => v === 0) && ch3.some((v) => v > 0)).toBe(true);
    gradcheck((p, q, r) => F.batchNorm(p, null, null, { weight: q, bias: r, training: true, activation: 'relu' }), [xb, gt, bt], { eps: 1e-2, tol: 2e-2 });
  });

  it('inside noGrad the fused ops record nothing', () => {
    const x = leaf([1, 2, 6, 6], 30);
    const w = leaf([4, 2, 3, 3], 31);
    const y = ck.noGrad(() => F.conv2d(x, w, null, { activation: 'relu' }));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
  });

  it('rejects an unknown activation', () => {
    const x = ck.randn([1, 2, 4, 4], { seed: 1 });
    const w = ck.randn([3, 2, 3, 3], { seed: 2 });
    expectConvkitError(() => F.conv2d(x, w, null, { activation: 'gelu' as Act }), /conv2d: activation must be 'none' or 'relu', got "gelu"/);
    expectConvkitError(() => F.linear(ck.randn([2, 3]), ck.randn([4, 3]), null, { activation: 'tanh' as Act }), /linear: activation must be/);
    expectConvkitError(() => F.linear(ck.randn([2, 3]), ck.randn([4, 3]), null, { act: 'relu' } as never), /linear: unknown option 'act'/);
  });
});
