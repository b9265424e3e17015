import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { expectSameBits } from '../helpers/same-bits.js';

const { nn, F } = ck;

/**
 * nn.runLayers (the explicit fusing helper a custom module may call) against the plain layers
 * one by one (each layer's forward, as nn.Sequential runs them): the same bits, forward and
 * backward. Fusion in the explicit helper and in ck.nn.optimizeForInference is a kernel's
 * epilogue, never a different value.
 */
function expectFusionInvisible(model: ck.nn.Sequential, x: ck.Tensor, opts: { grad?: boolean } = {}): ck.Tensor {
  const run = (f: () => ck.Tensor) => {
    model.zeroGrad();
    const y = f();
    if (opts.grad ?? true) y.backward(ck.randn(y.shape, { seed: 5 }));
    return { y, grads: model.parameters().map((p) => p.grad) };
  };
  const fused = run(() => nn.runLayers(model.children(), x));
  const plain = run(() => model.forward(x));
  expectSameBits(fused.y, plain.y, 'output');
  fused.grads.forEach((g, i) => expectSameBits(g, plain.grads[i]!, `gradient of parameter ${model.namedParameters()[i]![0]}`));
  return fused.y;
}

/** The optimized module against the plain model under noGrad: the same bits where nothing folds. */
function expectPlanInvisible(model: ck.nn.Module, x: ck.Tensor): void {
  const want = ck.noGrad(() => model.forward(x));
  expectSameBits(ck.nn.optimizeForInference(model).forward(x), want, 'output');
}

const lastOp = (y: ck.Tensor) => y.gradFn?.name;

describeEachBackend('nn fusion', () => {
  it('Sequential runs Conv2d + ReLU and Linear + ReLU as one call, with the same values and gradients', () => {
    ck.manualSeed(1);
    const model = new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 8, 3, { padding: 1, paddingMode: 'reflect', groups: 2 }), new nn.ReLU({ inplace: true }),
      new nn.Flatten(), new nn.Linear(8 * 8 * 8, 32), new nn.ReLU(), new nn.Linear(32, 10),
    );
    const x = ck.randn([4, 3, 16, 16], { seed: 2 });
    expectFusionInvisible(model, x);
    expectPlanInvisible(model, x);
    expect(lastOp(nn.runLayers([model.at(0), model.at(1)], x))).toBe('conv2d_relu');
    expect(lastOp(model.forward(x))).toBe('linear'); // the plain model: each layer's own forward
    const h = ck.randn([4, 512], { seed: 3 });
    expect(lastOp(nn.runLayers([model.at(6), model.at(7)], h))).toBe('linear_relu');
  });

  it('BatchNorm2d + ReLU fuses in eval mode only; training mode runs as before', () => {
    ck.manualSeed(2);
    const model = new nn.Sequential(new nn.Conv2d(3, 6, 3, { bias: false }), new nn.BatchNorm2d(6), new nn.ReLU());
    const x = ck.randn([2, 3, 10, 10], { seed: 4 });
    model.train();
    for (let i = 0; i < 3; i++) model.forward(ck.randn([2, 3, 10, 10], { seed: 10 + i })); // running statistics
    expect(lastOp(nn.runLayers(model.children(), x))).toBe('relu');
    model.eval();
    expect(lastOp(nn.runLayers(model.children(), x))).toBe('batchNorm_relu');
    expectFusionInvisible(model, x);
    model.train();
    const before = model.at(1).stateDict().get('running_mean')!.dataSync();
    expectFusionInvisible(model, x); // both runs in training mode, unfused, updating the statistics alike
    expect(model.at(1).stateDict().get('running_mean')!.dataSync()).not.toEqual(before);
  });

  it('runLayers: a hook on either layer sees its own output: no fusion then', () => {
    ck.manualSeed(3);
    const conv = new nn.Conv2d(2, 4, 3);
    const relu = new nn.ReLU();
    const model = new nn.Sequential(conv, relu);
    const x = ck.randn([1, 2, 6, 6], { seed: 5 });
    const fused = nn.runLayers(model.children(), x);
    let seen: ck.Tensor | null = null;
    const h = relu.registerForwardHook((_m, _i, out) => (seen = out as ck.Tensor));
    const y = nn.runLayers(model.children(), x);
    expect(seen).toBe(y);
    expect(lastOp(y)).toBe('relu');
    expectSameBits(y, fused);
    h.remove();
    let pre: ck.Tensor | null = null;
    const h2 = conv.registerForwardHook((_m, _i, out) => (pre = out as ck.Tensor));
    nn.runLayers(model.children(), x);
    expect(pre!.dataSync().some((v) => v < 0)).toBe(true); // the convolution's output, before the ReLU
    h2.remove();
    expect(lastOp(nn.runLayers(model.children(), x))).toBe('conv2d_relu');
  });

  it('only a plain nn.ReLU after a plain Conv2d / Linear / BatchNorm fuses', () => {
    class MyReLU extends nn.ReLU {}
    class NoisyConv extends nn.Conv2d {
      override forward(x: ck.Tensor): ck.Tensor {
        return F.add(super.forward(x), 1);
      }
    }
    ck.manualSeed(4);
    const x = ck.randn([1, 2, 5, 5], { seed: 7 });
    const conv = new nn.Conv2d(2, 3, 3);
    expect(lastOp(nn.runLayers([conv, new nn.LeakyReLU()], x))).toBe('leakyRelu');
    expect(lastOp(nn.runLayers([conv, new MyReLU()], x))).toBe('relu');
    expect(lastOp(nn.runLayers([conv, new nn.Dropout(0.5).eval(), new nn.ReLU()], x))).toBe('relu');
    const noisy = new NoisyConv(2, 3, 3);
    const y = nn.runLayers([noisy, new nn.ReLU()], x);
    expect(lastOp(y)).toBe('relu');
    expectSameBits(y, F.relu(F.add(F.conv2d(x, noisy.weight, noisy.bias), 1)));
    // forward replaced on the instance (as ONNX export's tracing does): not fused
    const c2 = new nn.Conv2d(2, 3, 3);
    const original = c2.forward;
    c2.forward = (t: ck.Tensor) => F.mul(original(t), 2);
    expect(lastOp(nn.runLayers([c2, new nn.ReLU()], x))).toBe('relu');
  });

  it("errors in a fused layer name it as its forward does: 'features.3 (Conv2d): ...'", () => {
    const model = new nn.Sequential(new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.ReLU(), new nn.Linear(5, 2), new nn.ReLU()));
    expectConvkitError(() => nn.optimizeForInference(model).forward(ck.randn([1, 4, 6, 6])), /^0\.0 \(Conv2d\): expected 3 input channels, got 4/);
    const fc = new nn.Sequential(new nn.Linear(5, 2), new nn.ReLU());
    expectConvkitError(() => nn.optimizeForInference(fc).forward(ck.randn([2, 6])), /^0 \(Linear\): expected 5 input features, got 6/);
    expectConvkitError(() => nn.runLayers(fc.children(), ck.randn([2, 6])), /^0 \(Linear\): expected 5 input features, got 6/);
  });

  it("F.add(a, b, { activation: 'relu' }) is F.relu(F.add(a, b)) to the bit, forward and backward, broadcast or not", () => {
    // 2 x 16 x 16 x 16 = 8192 elements: large enough for the wasm kernel; the broadcast case runs in js.
    for (const bShape of [[2, 16, 16, 16], [16, 1, 1]]) {
      const a = ck.randn([2, 16, 16, 16], { seed: 21, requiresGrad: true });
      const b = ck.randn(bShape, { seed: 22, requiresGrad: true });
      const dy = ck.randn([2, 16, 16, 16], { seed: 23 });
      const fused = F.add(a, b, { activation: 'relu' });
      expect(lastOp(fused)).toBe('add_relu');
      fused.backward(dy);
      const [ga, gb] = [a.grad!, b.grad!];
      a.grad = null;
      b.grad = null;
      const plain = F.relu(F.add(a, b));
      plain.backward(dy);
      expectSameBits(fused, plain, 'output');
      expectSameBits(ga, a.grad!, 'gradient of a');
      expectSameBits(gb, b.grad!, 'gradient of b');
      expect(fused.dataSync().some((v) => v === 0) && fused.dataSync().some((v) => v > 0)).toBe(true);
    }
    expectConvkitError(() => F.add(ck.ones([2]), 1, { activation: 'tanh' as 'relu' }), /add: activation must be 'none' or 'relu'/);
  });

  it('a zoo residual block: the plain forward sums then runs its ReLU; the plan fuses the sum unless the ReLU is hooked', () => {
    ck.manualSeed(6);
    const block = (ck.models.resnet18({ numClasses: 4 }) as unknown as { layer1: ck.nn.Sequential }).layer1.at(0);
    const x = ck.randn([1, 64, 8, 8], { seed: 9, requiresGrad: true });
    const y = block.forward(x);
    expect(lastOp(y)).toBe('relu_'); // the zoo's ReLU is in place
    const opt = nn.optimizeForInference(block);
    expect((opt as ck.nn.InferenceGraph).fusedSums).toBe(1);
    const fused = opt.forward(x);
    const relu = (block as unknown as { relu: ck.nn.Module }).relu;
    let calls = 0;
    const h = relu.registerForwardHook(() => calls++);
    const hooked = opt.forward(x);
    h.remove();
    expect(calls).toBe(2); // after conv1 + bn1, and after the sum: both run as the ReLU layer
    // conv1 + bn1 unfolded now (its ReLU is watched): the same values up to the fold's rounding.
    const [f, p] = [fused.dataSync(), hooked.dataSync()];
    const scale = Math.max(...p.map(Math.abs));
    expect(Math.max(...f.map((v, i) => Math.abs(v - p[i]!)))).toBeLessThanOrEqual(1e-6 * scale);
    expect(fused.dataSync().some((v) => v === 0)).toBe(true);
  });

  it('forwardWithRelu fuses a hand-written relu(layer(x)) and falls back when hooked', () => {
    ck.manualSeed(5);
    const bn = new nn.BatchNorm2d(3).eval();
    const x = ck.randn([2, 3, 4, 4], { seed: 8, requiresGrad: true });
    const fused = nn.forwardWithRelu(bn, x);
    expect(lastOp(fused)).toBe('batchNorm_relu');
    let seen = 0;
    const h = bn.registerForwardHook(() => seen++);
    const plain = nn.forwardWithRelu(bn, x);
    expect(seen).toBe(1);
    expect(lastOp(plain)).toBe('relu');
    expectSameBits(fused, plain);
    h.remove();
  });
});

describeEachBackend('zoo models: the optimized plan against the plain forward', () => {
  it('ResNet-18 in training mode: the plain forward is each layer in turn, nothing fused', () => {
    ck.manualSeed(13);
    const model = ck.models.resnet18({ numClasses: 10 });
    const x = ck.randn([2, 3, 32, 32], { seed: 14 });
    const y = model.forward(x);
    expect(lastOp(y)).toBe('linear');
    y.backward(ck.randn(y.shape, { seed: 5 }));
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
  });

  it('Sequential zoo models: cifarDemo and lenet5 (runLayers with gradients, the plan to the bit)', () => {
    ck.manualSeed(20);
    for (const [model, x] of [
      [ck.models.cifarDemo().eval(), ck.randn([3, 3, 32, 32], { seed: 21 })],
      [ck.models.lenet5().eval(), ck.randn([3, 1, 28, 28], { seed: 22 })],
    ] as const) {
      expectFusionInvisible(model as ck.nn.Sequential, x);
      expectPlanInvisible(model, x);
    }
  });
});
