import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { describeEachBackend } from '../helpers/backends.js';
import { countCalls, restoreKernelsAfterEach } from '../helpers/count-kernels.js';

/**
 * For inference (ck.nn.optimizeForInference), Conv2d -> BatchNorm2d (eval) [-> ReLU] runs as one
 * convolution whose epilogue applies the batch norm as a per-channel scale and bias
 * (nn/optimize-for-inference.ts). Checked against the plain model (each layer's forward in
 * turn), and that the batch norm kernel really is skipped when folded, and really runs when it
 * must not fold.
 */

const { nn } = ck;

restoreKernelsAfterEach();

/** Random running statistics and affine parameters, so the fold has something to get wrong. */
function randomizeNorm(bn: ck.nn.BatchNorm2d, seed: number): void {
  const c = bn.numFeatures;
  const state = bn.stateDict();
  state.get('running_mean')!.storage.data.set(ck.randn([c], { seed }).dataSync());
  state.get('running_var')!.storage.data.set(ck.rand([c], { seed: seed + 1 }).dataSync().map((v) => 0.2 + 2 * v));
  bn.weight!.storage.data.set(ck.randn([c], { seed: seed + 2 }).dataSync());
  bn.bias!.storage.data.set(ck.randn([c], { seed: seed + 3 }).dataSync());
}

function unfused(model: ck.nn.Module, x: ck.Tensor): Float32Array {
  return ck.noGrad(() => model.forward(x).dataSync() as Float32Array);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > 1e-5 * (1 + scale)) expect(got[i], `element ${i}`).toBeCloseTo(want[i]!, 5);
  }
}

const CASES = [
  { name: '3x3 with bias, ReLU (Winograd F(2x2) on wasm)', c: 16, k: 32, f: 3, hw: 12, opts: { padding: 1 }, relu: true },
  { name: '3x3 on 28x28 (Winograd F(4x4) on wasm)', c: 32, k: 20, f: 3, hw: 28, opts: { padding: 1, bias: false }, relu: true },
  { name: '3x3 stride 2 without bias (strided path)', c: 8, k: 16, f: 3, hw: 15, opts: { stride: 2, padding: 1, bias: false }, relu: false },
  { name: '1x1 stride 2 (ResNet projection)', c: 16, k: 24, f: 1, hw: 11, opts: { stride: 2, bias: false }, relu: false },
  { name: '5x5 few filters (direct kernels otherwise)', c: 3, k: 6, f: 5, hw: 16, opts: { padding: 2 }, relu: true },
  { name: '7x7 im2col GEMM, dilation 2', c: 5, k: 40, f: 7, hw: 20, opts: { padding: 3, dilation: 2 }, relu: false },
  { name: 'groups 2, reflect padding', c: 8, k: 8, f: 3, hw: 9, opts: { padding: 1, groups: 2, paddingMode: 'reflect' as const }, relu: true },
];

describeEachBackend('Conv2d + BatchNorm2d folded for inference', () => {
  for (const [i, cs] of CASES.entries()) {
    it(`${cs.name}: the values of the separate layers, without a batch norm pass`, () => {
      ck.manualSeed(40 + i);
      const conv = new nn.Conv2d(cs.c, cs.k, cs.f, cs.opts);
      const bn = new nn.BatchNorm2d(cs.k);
      randomizeNorm(bn, 7 * i + 1);
      if (conv.bias) conv.bias.storage.data.set(ck.randn([cs.k], { seed: 99 }).dataSync());
      const model = new nn.Sequential(...(cs.relu ? [conv, bn, new nn.ReLU()] : [conv, bn])).eval();
      const x = ck.randn([2, cs.c, cs.hw, cs.hw], { seed: 3 + i });
      const want = unfused(model, x);
      const calls = countCalls(['BatchNorm', 'Conv2D']);
      const got = ck.nn.optimizeForInference(model).forward(x).dataSync();
      expect(calls.get('BatchNorm')).toBe(0);
      expect(calls.get('Conv2D')).toBe(1);
      expectClose(got, want);
    });
  }

  it('does not fold in the plain forward, when a gradient is needed (runLayers), in training mode, or under a hook', () => {
    ck.manualSeed(5);
    const model = new nn.Sequential(new nn.Conv2d(4, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU()).eval();
    randomizeNorm(model.at(1) as ck.nn.BatchNorm2d, 11);
    const x = ck.randn([1, 4, 6, 6], { seed: 6 });
    const opt = ck.nn.optimizeForInference(model);
    const calls = countCalls(['BatchNorm']);
    ck.noGrad(() => model.forward(x)); // the plain model runs each layer
    expect(calls.get('BatchNorm')).toBe(1);
    nn.runLayers(model.children(), x); // parameters require grad: the separate batch norm (fused with its ReLU)
    expect(calls.get('BatchNorm')).toBe(2);
    const h = model.at(1).registerForwardHook(() => {});
    opt.forward(x);
    expect(calls.get('BatchNorm')).toBe(3);
    h.remove();
    model.train();
    opt.forward(x);
    expect(calls.get('BatchNorm')).toBe(4);
    model.eval();
    opt.forward(x);
    expect(calls.get('BatchNorm')).toBe(4);
  });

  it('ResNet-18 inference: the same class scores folded and unfolded', () => {
    ck.manualSeed(8);
    const model = ck.models.resnet18({ numClasses: 10 });
    // A few training steps' worth of running statistics, so eval mode is not the identity.
    model.train();
    ck.noGrad(() => model.forward(ck.randn([4, 3, 64, 64], { seed: 9 })));
    model.eval();
    const x = ck.randn([1, 3, 64, 64], { seed: 10 });
    const want = unfused(model, x);
    const calls = countCalls(['BatchNorm']);
    const got = ck.nn.optimizeForInference(model).forward(x).dataSync();
    expect(calls.get('BatchNorm')).toBe(0);
    expectClose(got, want);
  });
});
