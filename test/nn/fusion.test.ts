import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { expectSameBits } from '../helpers/same-bits.js';

const { nn, F } = ck;

/** Forces every layer of `model` to run unfused: a forward hook (doing nothing) on each module. */
function unfuse(model: ck.nn.Module): () => void {
  const handles = model.modules().map((m) => m.registerForwardHook(() => {}));
  return () => handles.forEach((h) => h.remove());
}

/** Runs model(x) fused and unfused (hooks) and expects the same bits, forward and backward. */
function expectFusionInvisible(model: ck.nn.Module, x: ck.Tensor, opts: { grad?: boolean } = {}): ck.Tensor {
  const run = () => {
    model.zeroGrad();
    const y = model.forward(x);
    if (opts.grad ?? true) y.backward(ck.randn(y.shape, { seed: 5 }));
    return { y, grads: model.parameters().map((p) => p.grad) };
  };
  const fused = run();
  const remove = unfuse(model);
  const plain = run();
  remove();
  expectSameBits(fused.y, plain.y, 'output');
  fused.grads.forEach((g, i) => expectSameBits(g, plain.grads[i]!, `gradient of parameter ${model.namedParameters()[i]![0]}`));
  return fused.y;
}

const lastOp = (y: ck.Tensor) => y.gradFn?.name;

/** nn.runLayers (the explicit helper a custom module may call) gives the plain model's bits, forward and backward. */
function expectRunLayersInvisible(model: ck.nn.Sequential, x: ck.Tensor): void {
  model.zeroGrad();
  const y = nn.runLayers(model.children(), x);
  y.backward(ck.randn(y.shape, { seed: 5 }));
  const grads = model.parameters().map((p) => p.grad);
  model.zeroGrad();
  const want = model.forward(x);
  want.backward(ck.randn(want.shape, { seed: 5 }));
  expectSameBits(y, want, 'output');
  grads.forEach((g, i) => expectSameBits(g, model.parameters()[i]!.grad!, `gradient of parameter ${model.namedParameters()[i]![0]}`));
}

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
    expectRunLayersInvisible(model, x);
    expect(lastOp(new nn.Sequential(model.at(0), model.at(1)).forward(x))).toBe('conv2d_relu');
    const h = ck.randn([4, 512], { seed: 3 });
    expect(lastOp(new nn.Sequential(model.at(6), model.at(7)).forward(h))).toBe('linear_relu');
  });

  it('BatchNorm2d + ReLU fuses in training and eval mode, with the same values, gradients and running statistics', () => {
    ck.manualSeed(2);
    const model = new nn.Sequential(new nn.Conv2d(3, 6, 3, { bias: false }), new nn.BatchNorm2d(6), new nn.ReLU());
    const x = ck.randn([2, 3, 10, 10], { seed: 4 });
    model.train();
    expect(lastOp(model.forward(x))).toBe('batchNorm_relu');
    // A twin with the same state trained unfused (hooks) sees the same running statistics, to the bit.
    const twin = new nn.Sequential(new nn.Conv2d(3, 6, 3, { bias: false }), new nn.BatchNorm2d(6), new nn.ReLU());
    twin.loadStateDict(model.stateDict());
    const removeTwin = unfuse(twin);
    for (let i = 0; i < 3; i++) {
      const xi = ck.randn([2, 3, 10, 10], { seed: 10 + i });
      const a = model.forward(xi), b = twin.forward(xi);
      expect(lastOp(b)).toBe('relu');
      expectSameBits(a, b, `training output ${i}`);
    }
    removeTwin();
    for (const [name, t] of model.at(1).stateDict()) expectSameBits(t, twin.at(1).stateDict().get(name)!, name);
    model.eval();
    expect(lastOp(model.forward(x))).toBe('batchNorm_relu');
    expectFusionInvisible(model, x);
    model.train();
    const before = model.at(1).stateDict().get('running_mean')!.dataSync();
    expectFusionInvisible(model, x); // fused, then unfused: the same output and gradients, statistics updated
    expect(model.at(1).stateDict().get('running_mean')!.dataSync()).not.toEqual(before);
  });

  it('a hook on either layer sees its own output: no fusion then', () => {
    ck.manualSeed(3);
    const conv = new nn.Conv2d(2, 4, 3);
    const relu = new nn.ReLU();
    const model = new nn.Sequential(conv, relu);
    const x = ck.randn([1, 2, 6, 6], { seed: 5 });
    const fused = model.forward(x);
    let seen: ck.Tensor | null = null;
    const h = relu.registerForwardHook((_m, _i, out) => (seen = out as ck.Tensor));
    const y = model.forward(x);
    expect(seen).toBe(y);
    expect(lastOp(y)).toBe('relu');
    expectSameBits(y, fused);
    h.remove();
    let pre: ck.Tensor | null = null;
    const h2 = conv.registerForwardHook((_m, _i, out) => (pre = out as ck.Tensor));
    model.forward(x);
    expect(pre!.dataSync().some((v) => v < 0)).toBe(true); // the convolution's output, before the ReLU
    h2.remove();
    expect(lastOp(model.forward(x))).toBe('conv2d_relu');
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
    expect(lastOp(new nn.Sequential(conv, new nn.LeakyReLU()).forward(x))).toBe('leakyRelu');
    expect(lastOp(new nn.Sequential(conv, new MyReLU()).forward(x))).toBe('relu');
    expect(lastOp(new nn.Sequential(conv, new nn.Dropout(0.5).eval(), new nn.ReLU()).forward(x))).toBe('relu');
    const noisy = new NoisyConv(2, 3, 3);
    const y = new nn.Sequential(noisy, new nn.ReLU()).forward(x);
    expect(lastOp(y)).toBe('relu');
    expectSameBits(y, F.relu(F.add(F.conv2d(x, noisy.weight, noisy.bias), 1)));
    // forward replaced on the instance (as ONNX export's tracing does): not fused
    const c2 = new nn.Conv2d(2, 3, 3);
    const original = c2.forward;
    c2.forward = (t: ck.Tensor) => F.mul(original(t), 2);
    expect(lastOp(new nn.Sequential(c2, new nn.ReLU()).forward(x))).toBe('relu');
  });

  it("errors in a fused layer name it as its forward does: 'features.3 (Conv2d): ...'", () => {
    const model = new nn.Sequential(new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.ReLU(), new nn.Linear(5, 2), new nn.ReLU()));
    expectConvkitError(() => model.forward(ck.randn([1, 4, 6, 6])), /^0\.0 \(Conv2d\): expected 3 input channels, got 4/);
    const fc = new nn.Sequential(new nn.Linear(5, 2), new nn.ReLU());
    expectConvkitError(() => fc.forward(ck.randn([2, 6])), /^0 \(Linear\): expected 5 input features, got 6/);
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

  it('a zoo residual block ends with the fused sum, unless its ReLU is hooked', () => {
    ck.manualSeed(6);
    const block = (ck.models.resnet18({ numClasses: 4 }) as unknown as { layer1: ck.nn.Sequential }).layer1.at(0);
    const x = ck.randn([1, 64, 8, 8], { seed: 9, requiresGrad: true });
    const fused = block.forward(x);
    expect(lastOp(fused)).toBe('add_relu');
    const relu = (block as unknown as { relu: ck.nn.Module }).relu;
    const h = relu.registerForwardHook(() => {});
    const plain = block.forward(x);
    h.remove();
    expect(lastOp(plain)).toBe('relu_'); // the zoo's ReLU is in place
    expectSameBits(fused, plain);
    expect((nn.optimizeForInference(block) as ck.nn.InferenceGraph).fusedSums).toBe(1);
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

describeEachBackend('zoo models with fusion', () => {
  it('ResNet-18 (eval) gives the same output fused and unfused, with gradients', () => {
    ck.manualSeed(11);
    const model = ck.models.resnet18({ numClasses: 10 }).eval();
    const x = ck.randn([1, 3, 32, 32], { seed: 12 });
    expectFusionInvisible(model, x);
  });

  it('ResNet-18 in training mode (nothing fuses before the sum) is unchanged too', () => {
    ck.manualSeed(13);
    const model = ck.models.resnet18({ numClasses: 10 });
    const x = ck.randn([2, 3, 32, 32], { seed: 14 });
    // Each run updates the running statistics; the outputs depend only on the batch.
    expectFusionInvisible(model, x);
  });

  it('a Bottleneck block (ResNet-50) in eval mode', () => {
    ck.manualSeed(15);
    const block = new ck.models.Bottleneck(16, 8, { stride: 2 }).eval();
    for (const [, b] of block.namedBuffers()) if (b.dtype === 'float32') (b.storage.data as Float32Array).set(ck.rand(b.shape, { seed: 16 }).dataSync());
    expectFusionInvisible(block, ck.randn([2, 16, 9, 9], { seed: 17 }));
  });

  it('GoogLeNet (eval) gives the same output fused and unfused', () => {
    ck.manualSeed(18);
    const model = ck.models.googlenet({ numClasses: 10 }).eval();
    expectFusionInvisible(model, ck.randn([1, 3, 64, 64], { seed: 19 }), { grad: false });
  });

  it('Sequential zoo models: cifarDemo and lenet5', () => {
    ck.manualSeed(20);
    expectFusionInvisible(ck.models.cifarDemo().eval(), ck.randn([3, 3, 32, 32], { seed: 21 }));
    expectFusionInvisible(ck.models.lenet5().eval(), ck.randn([3, 1, 28, 28], { seed: 22 }));
  });
});
