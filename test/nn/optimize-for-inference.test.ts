import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { countCalls, restoreKernelsAfterEach } from '../helpers/count-kernels.js';

/**
 * ck.nn.optimizeForInference(model): the fused plan as a module whose structure says what was
 * fused, checked against the plain model (each layer's forward in turn): same outputs to 1e-6
 * relative, the fused kernels really run (kernel call counts), hooks on the plain model see
 * every layer, and the optimized module does not train.
 */

const { nn } = ck;
restoreKernelsAfterEach();

/** Random running statistics and affine parameters for every batch norm, so folding has something to get wrong. */
function randomizeNorms(model: ck.nn.Module, seed: number): void {
  for (const m of model.modules()) {
    if (!(m instanceof nn.BatchNorm2d)) continue;
    const c = m.numFeatures, state = m.stateDict();
    state.get('running_mean')!.storage.data.set(ck.randn([c], { seed: seed++ }).dataSync());
    state.get('running_var')!.storage.data.set(ck.rand([c], { seed: seed++ }).dataSync().map((v) => 0.3 + 2 * v));
    m.weight!.storage.data.set(ck.randn([c], { seed: seed++ }).dataSync().map((v) => 1 + 0.3 * v));
    m.bias!.storage.data.set(ck.randn([c], { seed: seed++ }).dataSync().map((v) => 0.3 * v));
  }
}

/**
 * ||got - want|| <= tol ||want|| (2-norms), tol 1e-6: the same outputs up to float32 rounding.
 * Folding a batch norm into its convolution rounds differently in the last bit (scale * z +
 * shift against (z - mean) / std * w + b), and the differences of 17 (ResNet-18) or 57
 * (GoogLeNet) folded layers in a row compound to about 1.3e-6 with batch norms whose running
 * statistics are not the identity: those two deep networks get 2e-6.
 */
function expectSameOutputs(got: ck.Tensor, want: ck.Tensor, tol = 1e-6): void {
  expect(got.shape).toEqual(want.shape);
  const g = got.dataSync(), w = want.dataSync();
  let norm = 0, diff = 0;
  for (let i = 0; i < w.length; i++) {
    norm += w[i]! * w[i]!;
    diff += (g[i]! - w[i]!) ** 2;
  }
  expect(norm).toBeGreaterThan(0);
  const rel = Math.sqrt(diff / norm);
  expect(rel, `relative difference ${rel}`).toBeLessThanOrEqual(tol);
}

const plain = (model: ck.nn.Module, x: ck.Tensor) => ck.noGrad(() => model.forward(x));

describeEachBackend('nn.optimizeForInference', () => {
  it('a Sequential: conv+bn+relu folded, conv+relu / linear+relu / bn+relu epilogues, the plan in its structure', () => {
    ck.manualSeed(1);
    const model = new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 6, 3, { padding: 1, groups: 2, bias: false }), new nn.ReLU({ inplace: true }),
      new nn.BatchNorm2d(6), new nn.ReLU(), new nn.Conv2d(6, 6, 1), new nn.BatchNorm2d(6),
      new nn.Flatten(), new nn.Linear(6 * 5 * 5, 16), new nn.ReLU(), new nn.Linear(16, 3),
    );
    randomizeNorms(model, 10);
    const opt = nn.optimizeForInference(model);
    expect(model.training).toBe(false); // the pass puts the model in eval mode
    expect(opt).toBeInstanceOf(nn.InferenceSequential);
    expect(opt.namedChildren().map(([k]) => k)).toEqual(['0+1+2', '3', '4+5', '6+7', '8+9', '10', '11+12', '13']);
    const kinds = opt.namedChildren().map(([, m]) => (m instanceof nn.FusedLayers ? m.kind : m.typeName));
    expect(kinds).toEqual(['conv+bn', 'MaxPool2d', 'relu', 'relu', 'conv+bn', 'Flatten', 'relu', 'Linear']);
    const text = opt.toString();
    expect(text).toContain('(root): Sequential [frees each activation once the next step has run]');
    expect(text).toMatch(/0\+1\+2: Conv2d\(3, 8, .*\) \+ BatchNorm2d\(8.*\) \+ ReLU\(\) \[batch norm folded into the convolution, ReLU in its epilogue\]/);
    expect(text).toMatch(/11\+12: Linear\(150, 16\) \+ ReLU\(\) \[ReLU in the epilogue\]/);
    const x = ck.randn([2, 3, 10, 10], { seed: 2 });
    const want = plain(model, x);
    const calls = countCalls(['BatchNorm', 'Unary', 'Conv2D']);
    const got = opt.forward(x);
    expect(Object.fromEntries(calls)).toEqual({ BatchNorm: 1, Unary: 0, Conv2D: 3 }); // the one lone bn+relu runs in its kernel
    expectSameOutputs(got, want);
    expect(got.requiresGrad).toBe(false);
    expect(x.isDisposed).toBe(false);
  });

  it('ResNet-18 and a Bottleneck: each block folded, its residual sum with the ReLU in the add', () => {
    ck.manualSeed(3);
    const model = ck.models.resnet18({ numClasses: 7 });
    randomizeNorms(model, 20);
    const opt = nn.optimizeForInference(model);
    expect(opt).toBeInstanceOf(nn.InferenceGraph);
    const text = opt.toString();
    expect(text).toContain('conv1+bn1+relu: Conv2d(3, 64, kernelSize=7');
    expect(text).toMatch(/layer2\.0: BasicBlock\(64, 128, stride=2\) \[residual add \+ ReLU fused/);
    expect(text).toContain('layer2.0.downsample.0+1: Conv2d(64, 128, kernelSize=1');
    const x = ck.randn([1, 3, 40, 37], { seed: 4 });
    const want = plain(model, x);
    const calls = countCalls(['BatchNorm', 'Unary']);
    expectSameOutputs(opt.forward(x), want, 2e-6);
    expect(Object.fromEntries(calls)).toEqual({ BatchNorm: 0, Unary: 0 });

    const block = new ck.models.Bottleneck(12, 4, { stride: 2 });
    randomizeNorms(block, 40);
    const b = nn.optimizeForInference(block);
    expect(b.namedChildren().map(([k]) => k)).toEqual(['conv1+bn1+relu', 'conv2+bn2+relu', 'conv3+bn3', 'downsample']);
    const xb = ck.randn([3, 12, 9, 9], { seed: 5 });
    expectSameOutputs(b.forward(xb), plain(block, xb));
  });

  it('GoogLeNet (Inception branches concatenated) and the Sequential zoo models give the plain outputs', () => {
    ck.manualSeed(6);
    const g = ck.models.googlenet({ numClasses: 5 });
    randomizeNorms(g, 60);
    const xg = ck.randn([1, 3, 48, 48], { seed: 7 });
    expectSameOutputs(nn.optimizeForInference(g).forward(xg), plain(g, xg), 2e-6);
    for (const [make, shape] of [[() => ck.models.cifarDemo(), [3, 3, 32, 32]], [() => ck.models.lenet5(), [1, 1, 28, 28]]] as const) {
      const m = make();
      const x = ck.randn([...shape], { seed: 8 });
      expectSameOutputs(nn.optimizeForInference(m).forward(x), plain(m, x));
    }
  });

  it('forward hooks on the plain model see every layer, registered before or after the pass', () => {
    ck.manualSeed(9);
    const model = ck.models.resnet18({ numClasses: 4 });
    randomizeNorms(model, 80);
    const x = ck.randn([1, 3, 32, 32], { seed: 10 });
    const record = (seen: Map<string, number[]>) => model.namedModules().map(([path, m]) =>
      m.registerForwardHook((_m, _in, out) => seen.set(path, [...(seen.get(path) ?? []), (out as ck.Tensor).dataSync().reduce((a, v) => a + v, 0)])));
    const early = nn.optimizeForInference(model);
    const viaPlain = new Map<string, number[]>(), viaOpt = new Map<string, number[]>();
    let handles = record(viaPlain);
    plain(model, x);
    handles.forEach((h) => h.remove());
    handles = record(viaOpt);
    early.forward(x);
    nn.optimizeForInference(model).forward(x); // hooks registered before the pass: the same again
    handles.forEach((h) => h.remove());
    expect([...viaOpt.keys()].sort()).toEqual([...viaPlain.keys()].sort());
    expect(viaPlain.size).toBe(model.modules().length);
    for (const [path, sums] of viaPlain) expect(viaOpt.get(path), path).toEqual([...sums, ...sums]);
    expect(nn.Module.forwardHooks).toBe(0);
  });

  it('a hook on one layer keeps only its step unfused; the rest stays fused', () => {
    ck.manualSeed(11);
    const conv = new nn.Conv2d(2, 4, 3), bn = new nn.BatchNorm2d(4), relu = new nn.ReLU();
    const model = new nn.Sequential(conv, bn, relu, new nn.Conv2d(4, 4, 1), new nn.ReLU());
    randomizeNorms(model, 90);
    const opt = nn.optimizeForInference(model);
    const x = ck.randn([1, 2, 7, 7], { seed: 12 });
    let seen: ck.Tensor | null = null;
    const h = bn.registerForwardHook((_m, _in, out) => (seen = out as ck.Tensor));
    const calls = countCalls(['BatchNorm', 'Unary', 'Conv2D']);
    const y = opt.forward(x);
    h.remove();
    expect(Object.fromEntries(calls)).toEqual({ BatchNorm: 1, Unary: 1, Conv2D: 2 }); // conv, bn, relu apart; 1x1 conv + relu fused
    expect(seen!.dataSync().some((v) => v < 0)).toBe(true); // the batch norm's own output, before the ReLU
    expect(seen!.isDisposed).toBe(false); // nothing is freed while a hook watches
    expectSameOutputs(y, plain(model, x));
  });

  it('errors name the plain layer; the module follows the model and does not train or save', async () => {
    const model = new nn.Sequential(new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Linear(5, 2), new nn.ReLU()));
    const opt = nn.optimizeForInference(model);
    expectConvkitError(() => opt.forward(ck.randn([1, 4, 6, 6])), /^0\.0 \(Conv2d\): expected 3 input channels, got 4/);
    expect([...opt.stateDict().keys()]).toEqual([...model.stateDict().keys()]);
    expect(opt.parameters()).toEqual(model.parameters());
    expectConvkitError(() => opt.train(), /optimized for inference does not train: train the model it was made from/);
    expectConvkitError(() => opt.getConfig(), /is not saved: save the model it was made from/);
    await expect(opt.save('/nonexistent/x.convkit')).rejects.toThrow(/save the model it was made from/);
    expect(opt.eval()).toBe(opt);
    expectConvkitError(() => nn.optimizeForInference(null as unknown as ck.nn.Module), /expected a Module, got null/);

    // Weights changed on the model (a training step, a load): the module follows at its next call.
    const small = new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.BatchNorm2d(3), new nn.ReLU());
    const o = nn.optimizeForInference(small);
    const x = ck.randn([2, 2, 5, 5], { seed: 13 });
    const before = o.forward(x).dataSync().slice();
    randomizeNorms(small, 100);
    const after = o.forward(x);
    expect(after.dataSync()).not.toEqual(before);
    expectSameOutputs(after, plain(small, x));
    // Back in training mode, nothing folds: it runs as the plain model would (batch statistics).
    small.train();
    const calls = countCalls(['BatchNorm']);
    expectSameOutputs(o.forward(x), plain(small, x));
    expect(calls.get('BatchNorm')).toBe(2); // one each
  });

  it('a custom module runs as its class says, without gradients', () => {
    class Twice extends nn.Module {
      readonly fc = new nn.Linear(3, 3);
      forward(x: ck.Tensor): ck.Tensor {
        return this.fc.forward(this.fc.forward(x));
      }
    }
    const m = new Twice();
    const opt = nn.optimizeForInference(m);
    expect(opt).toBeInstanceOf(nn.InferenceLeaf);
    expect(opt.describe()).toContain('[runs as its class says: not planned]');
    const x = ck.randn([2, 3], { seed: 14 });
    const y = opt.forward(x);
    expect(y.requiresGrad).toBe(false);
    expect(y.dataSync()).toEqual(plain(m, x).dataSync());
    expect(nn.optimizeForInference(opt)).toBe(opt);
  });
});
