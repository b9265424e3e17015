import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

const { F, nn } = ck;

/** Rebuilds a layer from its JSON config and copies its state; both must then agree. */
function roundTrip(layer: ck.nn.Module): ck.nn.Module {
  const config = JSON.parse(JSON.stringify(layer.getConfig())) as ck.nn.ModuleConfig;
  const copy = nn.fromConfig(config);
  copy.loadStateDict(layer.stateDict());
  return copy;
}

type Geometric = ck.nn.Module & { outputShape(s: readonly number[]): number[]; forward(x: ck.Tensor): ck.Tensor };

describeEachBackend('pooling and normalization layers', () => {
  const x = ck.randn([2, 3, 7, 9], { seed: 1 });
  const layerCases: { name: string; make: () => Geometric; direct: (t: ck.Tensor) => ck.Tensor; describe: string }[] = [
    {
      name: 'MaxPool2d',
      make: () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
      direct: (t) => F.maxPool2d(t, 3, { stride: 2, padding: 1 }),
      describe: 'MaxPool2d(kernelSize=3, stride=2, padding=1)',
    },
    {
      name: 'MaxPool2d ceil',
      make: () => new nn.MaxPool2d([2, 3], { dilation: [1, 2], ceilMode: true }),
      direct: (t) => F.maxPool2d(t, [2, 3], { dilation: [1, 2], fit: 'ceil' }),
      describe: "MaxPool2d(kernelSize=[2, 3], stride=[2, 3], dilation=[1, 2], fit='ceil')",
    },
    {
      name: 'AvgPool2d',
      make: () => new nn.AvgPool2d(2, { stride: 1, padding: 1, countIncludePad: false }),
      direct: (t) => F.avgPool2d(t, 2, { stride: 1, padding: 1, countIncludePad: false }),
      describe: 'AvgPool2d(kernelSize=2, stride=1, padding=1, countIncludePad=false)',
    },
    {
      name: 'LPPool2d',
      make: () => new nn.LPPool2d(2, 3, { stride: 2 }),
      direct: (t) => F.lpPool2d(t, 2, 3, { stride: 2 }),
      describe: 'LPPool2d(normType=2, kernelSize=3, stride=2)',
    },
    {
      name: 'AdaptiveAvgPool2d',
      make: () => new nn.AdaptiveAvgPool2d([3, null]),
      direct: (t) => F.adaptiveAvgPool2d(t, [3, null]),
      describe: 'AdaptiveAvgPool2d(outputSize=[3,null])',
    },
    {
      name: 'AdaptiveMaxPool2d',
      make: () => new nn.AdaptiveMaxPool2d(2),
      direct: (t) => F.adaptiveMaxPool2d(t, 2),
      describe: 'AdaptiveMaxPool2d(outputSize=2)',
    },
    {
      name: 'LocalResponseNorm',
      make: () => new nn.LocalResponseNorm(2, { alpha: 0.1 }),
      direct: (t) => F.localResponseNorm(t, 2, { alpha: 0.1 }),
      describe: 'LocalResponseNorm(2, alpha=0.1, beta=0.75, k=1)',
    },
  ];
  it.each(layerCases)('$name: forward is the op, outputShape agrees, describe, save/load config', ({ make, direct, describe }) => {
    const layer = make();
    const y = layer.forward(x);
    expectClose(y, direct(x));
    expect(layer.outputShape(x.shape)).toEqual(y.shape);
    expect(layer.outputShape(x.shape.slice(1))).toEqual(y.shape.slice(1));
    expect(layer.describe()).toBe(describe);
    expectClose((roundTrip(layer) as Geometric).forward(x), y);
    expect(layer.parameters()).toHaveLength(0);
  });

  it('classic pool geometry: AlexNet 3x3/2 on 55 -> 27, VGG 2x2/2 on 224 -> 112; strict errors show the arithmetic', () => {
    expect(new nn.MaxPool2d(3, { stride: 2 }).outputShape([1, 96, 55, 55])).toEqual([1, 96, 27, 27]);
    expect(new nn.MaxPool2d(2).outputShape([64, 224, 224])).toEqual([64, 112, 112]);
    expectConvkitError(() => new nn.MaxPool2d(2).outputShape([1, 3, 7, 7]), 'MaxPool2d', '(7 - 2 + 2*0)/2 + 1 = 3.5');
    expectConvkitError(() => new nn.AvgPool2d(3, { padding: 2 }), 'AvgPool2d', 'padding 2 is more than half the kernel size 3');
     // Hyperparameters read as on Conv2d: stride defaults to the kernel size.
    const pool = new nn.MaxPool2d([3, 2], { padding: [1, 0], dilation: 2, ceilMode: true });
    expect([pool.kernelSize, pool.stride, pool.pads, pool.dilation, pool.fit]).toEqual([[3, 2], [3, 2], [1, 1, 0, 0], [2, 2], 'ceil']);
  });

  it('MaxPool2d keeps the last switches, across tidy scopes, and forwardWithIndices returns a copy', () => {
    const pool = new nn.MaxPool2d(2);
    const input = ck.tensor([1, 5, 2, 0, 3, 4, 8, 7, -1, 9, 6, 6, 2, 0, 6, 1], [1, 1, 4, 4]);
    ck.tidy(() => {
      pool.forward(input);
    });
    expect(pool.lastIndices!.toArray()).toEqual([[[[1, 6], [9, 10]]]]);
    const first = pool.lastIndices!;
    const { output, indices } = pool.forwardWithIndices(F.mul(input, -1));
    expectClose(output, [-1, 0, 1, -1]);
    expect(indices.toArray()).toEqual([[[[0, 3], [8, 15]]]]);
    expect(indices).not.toBe(pool.lastIndices);
    // The layer frees the switches it replaced.
    expect(first.isDisposed).toBe(true);
    expectConvkitError(() => new nn.MaxPool2d(2, { returnIndices: true }), 'forwardWithIndices', 'lastIndices');
  });

  it('the max-pool layers share the switches with the backward pass yet hand out a copy', () => {
    // Large enough that the wasm backend keeps outputs and switches in its memory.
    const xs = [ck.randn([2, 4, 36, 34], { seed: 11 }), ck.randn([2, 4, 36, 34], { seed: 12 })];
    for (const [pool, direct] of [
      [new nn.MaxPool2d(2), (t: ck.Tensor) => F.maxPool2d(t, 2, { returnIndices: true })],
      [new nn.AdaptiveMaxPool2d([5, 7]), (t: ck.Tensor) => F.adaptiveMaxPool2d(t, [5, 7], { returnIndices: true })],
    ] as const) {
      const want = xs.map((x) => direct(x).indices.toArray());
      // Reference gradients: each input alone through the functional op.
      const wantGrads = xs.map((x) => {
        const xg = ck.tensor(x.dataSync(), x.shape, { requiresGrad: true });
        F.sum(F.mul(direct(xg).output, 2)).backward();
        return xg.grad!.dataSync();
      });
      const leaves = xs.map((x) => ck.tensor(x.dataSync(), x.shape, { requiresGrad: true }));
      const before = ck.memory().numTensors;
      for (let step = 0; step < 3; step++) {
        for (const l of leaves) {
          l.grad?.dispose();
          l.grad = null;
        }
        const grads = ck.tidy(() => {
          // Two forwards before one backward: the second must not free the first one's switches.
          const y0 = pool.forward(leaves[0]!);
          const first = pool.lastIndices!;
          expect(first.toArray()).toEqual(want[0]);
          const y1 = pool.forward(leaves[1]!);
          expect(first.isDisposed).toBe(true);
          // Writing into what the layer handed out must not reach the backward pass.
          pool.lastIndices!.storage.data.fill(0);
          F.add(F.sum(F.mul(y0, 2)), F.sum(F.mul(y1, 2))).backward();
          return leaves.map((l) => l.grad!.dataSync());
        });
        grads.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(wantGrads[i]!)));
        // The layer's switches outlive the scope, and memory stays flat from step to step.
        ck.tidy(() => {
          pool.forward(xs[1]!);
        });
        expect(pool.lastIndices!.toArray()).toEqual(want[1]);
        if (step === 0) continue;
        // The layer's switches and the two leaves' gradients.
        expect(ck.memory().numTensors).toBe(before + 3);
      }
    }
  });

  it('AdaptiveMaxPool2d keeps its switches too', () => {
    const pool = new nn.AdaptiveMaxPool2d([1, 2]);
    pool.forward(ck.tensor([1, 9, 3, 4, 2, 8, 7, 0], [1, 1, 2, 4]));
    // Columns [0, 2) and [2, 4) over both rows [[1, 9, 3, 4], [2, 8, 7, 0]]: 9 at index 1, 7 at index 6.
    expect(pool.lastIndices!.toArray()).toEqual([[[[1, 6]]]]);
  });

  it('errors inside a model name the layer type', () => {
    const model = new nn.Sequential(new nn.MaxPool2d(2), new nn.BatchNorm2d(4));
    expectConvkitError(() => model.forward(ck.zeros([3, 8, 8])), '(MaxPool2d)', 'must be 4-d');
    expectConvkitError(() => model.forward(ck.zeros([2, 3, 8, 8])), '(BatchNorm2d)', 'expected 4 channels', 'got 3');
  });
});

describeEachBackend('BatchNorm layers', () => {
  it('BatchNorm2d: parameters and buffers named as in PyTorch', () => {
    const bn = new nn.BatchNorm2d(3);
    expect([...bn.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(Array.from(bn.weight!.dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(bn.bias!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(bn.runningVar!.dataSync())).toEqual([1, 1, 1]);
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    expect(bn.numBatchesTracked!.shape).toEqual([]);
    expect(bn.describe()).toBe('BatchNorm2d(3, eps=0.00001, momentum=0.1)');
    expect([...new nn.BatchNorm2d(3, { affine: false, trackRunningStats: false }).stateDict().keys()]).toEqual([]);
  });

  it('training updates the running statistics (two steps by hand); eval uses them', () => {
    const bn = new nn.BatchNorm2d(1);
    // [2, 1, 1, 2] holding 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
    const y = bn.forward(ck.tensor([1, 2, 3, 4], [2, 1, 1, 2]));
    const sd = Math.sqrt(1.25 + 1e-5);
    expectClose(y, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
    expectClose(bn.runningMean!, [0.25]);
    expectClose(bn.runningVar!, [0.9 + 0.1 * (5 / 3)]);
    // 2, 4, 6, 8: mean 5, unbiased variance 20/3.
    bn.forward(ck.tensor([2, 4, 6, 8], [2, 1, 1, 2]));
    expectClose(bn.runningMean!, [0.9 * 0.25 + 0.5]);
    expectClose(bn.runningVar!, [0.9 * (0.9 + 0.1 * (5 / 3)) + 0.1 * (20 / 3)]);
    expect(bn.numBatchesTracked!.item()).toBe(2);
    bn.eval();
    const [m, v] = [0.725, 0.9 * (0.9 + 0.1 * (5 / 3)) + 0.1 * (20 / 3)];
    expectClose(bn.forward(ck.tensor([1, 2], [1, 1, 1, 2])), [(1 - m) / Math.sqrt(v + 1e-5), (2 - m) / Math.sqrt(v + 1e-5)]);
    expectClose(bn.runningMean!, [0.725]);
    expect(bn.numBatchesTracked!.item()).toBe(2);
    // A single image per channel is fine in eval mode.
    expect(bn.forward(ck.ones([1, 1, 1, 1])).shape).toEqual([1, 1, 1, 1]);
  });

  it('momentum null is the cumulative average of the batch statistics', () => {
    const bn = new nn.BatchNorm1d(1, { momentum: null });
    bn.forward(ck.tensor([1, 2, 3, 4], [4, 1]));
    bn.forward(ck.tensor([2, 4, 6, 8], [4, 1]));
    // Means 2.5 and 5, unbiased variances 5/3 and 20/3.
    expectClose(bn.runningMean!, [3.75]);
    expectClose(bn.runningVar!, [25 / 6]);
  });

  it('trackRunningStats false normalizes with batch statistics even in eval mode', () => {
    const bn = new nn.BatchNorm1d(2, { trackRunningStats: false, affine: false }).eval();
    const y = bn.forward(ck.tensor([1, 10, 3, 30], [2, 2]));
    const s = Math.sqrt(1 + 1e-5);
    expectClose(y, [-1 / s, -10 / Math.sqrt(100 + 1e-5), 1 / s, 10 / Math.sqrt(100 + 1e-5)]);
    expect(bn.parameters()).toHaveLength(0);
  });

  it('weight and bias learn: gradients reach them, and training differs from eval', () => {
    const bn = new nn.BatchNorm2d(2);
    const input = ck.randn([4, 2, 3, 3], { seed: 2 });
    F.sum(F.mul(bn.forward(input), ck.randn([4, 2, 3, 3], { seed: 3 }))).backward();
    expect(bn.weight!.grad!.shape).toEqual([2]);
    expect(bn.bias!.grad!.shape).toEqual([2]);
    const train = bn.forward(input).dataSync();
    const evaluated = bn.eval().forward(input).dataSync();
    expect(Math.abs(train[0]! - evaluated[0]!)).toBeGreaterThan(1e-3);
    expectClose((roundTrip(bn) as ck.nn.BatchNorm2d).eval().forward(input), evaluated);
  });

  it('BatchNorm1d takes [N, C] and [N, C, L]; wrong ranks and channels are errors', () => {
    const bn1 = new nn.BatchNorm1d(3);
    expect(bn1.forward(ck.randn([4, 3], { seed: 4 })).shape).toEqual([4, 3]);
    expect(bn1.forward(ck.randn([2, 3, 5], { seed: 5 })).shape).toEqual([2, 3, 5]);
    expectConvkitError(() => bn1.forward(ck.zeros([2, 3, 4, 4])), 'BatchNorm1d', "2-d [N, C] or 3-d [N, C, L]", 'got 4-d');
    expectConvkitError(() => bn1.forward(ck.zeros([1, 3])), 'Expected more than 1 value per channel when training', '[1, 3]');
    const bn2 = new nn.BatchNorm2d(3);
    expectConvkitError(() => bn2.forward(ck.zeros([3, 4, 4])), 'BatchNorm2d', '4-d [N, C, H, W]', 'got 3-d [3, 4, 4]');
    expectConvkitError(() => bn2.forward(ck.zeros([2, 5, 4, 4])), 'expected 3 channels', 'got 5');
    expectConvkitError(() => new nn.BatchNorm2d(0), 'numFeatures must be a positive integer');
    expectConvkitError(() => new nn.BatchNorm2d(3, { eps: -1 }), 'eps must be a finite number >= 0');
  });
});

describeEachBackend('InstanceNorm2d', () => {
  it('defaults as PyTorch: no parameters, no buffers, per-image statistics; unbatched input works', () => {
    const inorm = new nn.InstanceNorm2d(2);
    expect([...inorm.stateDict().keys()]).toEqual([]);
    const img = ck.tensor([1, 2, 3, 4, 10, 20, 30, 40], [2, 2, 2]);
    // Channel 0: mean 2.5, variance 1.25; channel 1: mean 25, variance 125.
    const [s0, s1] = [Math.sqrt(1.25 + 1e-5), Math.sqrt(125 + 1e-5)];
    const want = [-1.5 / s0, -0.5 / s0, 0.5 / s0, 1.5 / s0, -15 / s1, -5 / s1, 5 / s1, 15 / s1];
    expectClose(inorm.forward(img), want);
    expectClose(inorm.forward(img.reshape([1, 2, 2, 2])), want);
    // Without per-channel state the channel count is free, as in PyTorch.
    expect(inorm.forward(ck.randn([1, 5, 2, 2], { seed: 1 })).shape).toEqual([1, 5, 2, 2]);
  });

  it('affine and trackRunningStats: PyTorch names, eval uses the running statistics', () => {
    const inorm = new nn.InstanceNorm2d(1, { affine: true, trackRunningStats: true });
    expect([...inorm.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    inorm.forward(ck.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2]));
    // Per-image means 2.5 and 6.5 (average 4.5); unbiased variances 5/3 each.
    expectClose(inorm.runningMean!, [0.45]);
    expectClose(inorm.runningVar!, [0.9 + 0.1 * (5 / 3)]);
    inorm.eval();
    expectClose(inorm.forward(ck.tensor([0.45, 1], [1, 1, 1, 2])), [0, 0.55 / Math.sqrt(0.9 + 0.1 * (5 / 3) + 1e-5)]);
    expectConvkitError(() => inorm.forward(ck.zeros([1, 2, 2, 2])), 'InstanceNorm2d', 'expected 1 channels', 'got 2');
    expectConvkitError(() => inorm.forward(ck.zeros([2, 2])), 'InstanceNorm2d', '4-d [N, C, H, W] or 3-d [C, H, W]');
  });
});
