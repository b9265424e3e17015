import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';

const { nn } = ck;

function stats(t: ck.Tensor): { mean: number; std: number } {
  const v = t.dataSync();
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length) };
}

/** Rebuilds a layer from its JSON config and copies the weights; both must then agree. */
function roundTrip(layer: ck.nn.Module): ck.nn.Module {
  const config = JSON.parse(JSON.stringify(layer.getConfig())) as ck.nn.ModuleConfig;
  const copy = nn.fromConfig(config);
  copy.loadStateDict(layer.stateDict());
  return copy;
}

describeEachBackend('convolution layers', () => {
  it('Conv2d: parameter shapes, with groups and without bias', () => {
    const conv = new nn.Conv2d(3, 64, 3, { padding: 1 });
    expect(conv.weight.shape).toEqual([64, 3, 3, 3]);
    expect(conv.bias!.shape).toEqual([64]);
    expect(conv.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    const grouped = new nn.Conv2d(8, 12, [3, 5], { groups: 4, bias: false });
    expect(grouped.weight.shape).toEqual([12, 2, 3, 5]);
    expect(grouped.bias).toBeNull();
    expect(grouped.parameters()).toHaveLength(1);
    expect(new nn.Conv2d(16, 16, 3, { groups: 16 }).weight.shape).toEqual([16, 1, 3, 3]);
  });

  it('He-normal init: std close to sqrt(2 / fanIn), mean near 0, bias zero', () => {
    ck.manualSeed(1);
    const conv = new nn.Conv2d(64, 128, 3); // fanIn = 64*3*3 = 576, 73728 weights
    const s = stats(conv.weight);
    expect(Math.abs(s.std / Math.sqrt(2 / 576) - 1)).toBeLessThan(0.02);
    expect(Math.abs(s.mean)).toBeLessThan(0.002);
    expect([...conv.bias!.dataSync()].every((v) => v === 0)).toBe(true);
    const dw = new nn.Conv2d(32, 64, 5, { groups: 32 }); // fanIn = 1*5*5 = 25
    expect(Math.abs(stats(dw.weight).std / Math.sqrt(2 / 25) - 1)).toBeLessThan(0.06);
    const up = new nn.ConvTranspose2d(64, 32, 4, { stride: 2 }); // fanIn = 64*4*4 = 1024
    expect(Math.abs(stats(up.weight).std / Math.sqrt(2 / 1024) - 1)).toBeLessThan(0.03);
    const lc = new nn.LocallyConnected2d(8, 16, 3, { inputSize: [8, 8] }); // fanIn = 8*3*3 = 72
    expect(Math.abs(stats(lc.weight).std / Math.sqrt(2 / 72) - 1)).toBeLessThan(0.03);
  });

  it('outputShape is the geometry alone and agrees with forward', () => {
    // AlexNet conv1 (the CS231n example): (227 - 11)/4 + 1 = 55
    expect(new nn.Conv2d(3, 96, 11, { stride: 4 }).outputShape([1, 3, 227, 227])).toEqual([1, 96, 55, 55]);
    // VGG: 3x3 pad 1 keeps 224; a single item without batch dimension also works
    expect(new nn.Conv2d(3, 64, 3, { padding: 1 }).outputShape([3, 224, 224])).toEqual([64, 224, 224]);
    expect(new nn.Conv2d(3, 8, [4, 2], { padding: 'same' }).outputShape([2, 3, 9, 7])).toEqual([2, 8, 9, 7]);
    // (8-1)*2 - 2 + 3 + 1 + 1 = 16
    expect(new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }).outputShape([5, 4, 8, 8])).toEqual([5, 2, 16, 16]);
    expect(new nn.LocallyConnected2d(3, 5, 3, { inputSize: [8, 10], stride: [1, 2], fit: 'floor' }).outputShape([2, 3, 8, 10])).toEqual([2, 5, 6, 4]);
    expect(new nn.ZeroPad2d([1, 2, 3, 4]).outputShape([1, 3, 5, 5])).toEqual([1, 3, 12, 8]);
    const layers: [ck.nn.Module & { outputShape(s: readonly number[]): number[] }, number[]][] = [
      [new nn.Conv2d(3, 4, 3, { stride: 2, dilation: 2, padding: [1, 0, 2, 1] }), [2, 3, 12, 12]],
      [new nn.Conv2d(3, 4, 3, { paddingMode: 'reflect', padding: 2 }), [1, 3, 6, 6]],
      [new nn.ConvTranspose2d(4, 6, [3, 2], { stride: [2, 3], groups: 2 }), [2, 4, 3, 4]],
      [new nn.LocallyConnected2d(3, 2, 3, { inputSize: [6, 5], padding: 1 }), [2, 3, 6, 5]],
      [new nn.ReflectionPad2d([1, 0, 2, 1]), [1, 2, 4, 4]],
    ];
    for (const [layer, shape] of layers) {
      const y = (layer.forward as (x: ck.Tensor) => ck.Tensor)(ck.randn(shape, { seed: 2 }));
      expect(y.shape, layer.describe()).toEqual(layer.outputShape(shape));
    }
    expectConvkitError(() => new nn.Conv2d(3, 4, 3, { stride: 2 }).outputShape([1, 3, 10, 10]), 'Conv2d: height does not fit', '(10 - 3 + 2*0)/2 + 1 = 4.5');
    expectConvkitError(() => new nn.Conv2d(3, 4, 3).outputShape([1, 1, 10, 10]), 'expected 3 input channels, got 1');
    expectConvkitError(() => new nn.Conv2d(3, 4, 3).outputShape([10, 10]), 'expected an input shape [N, C, H, W] or [C, H, W]');
  });

  it('forward matches F.conv2d / F.convTranspose2d with the layer parameters, and trains', () => {
    const conv = new nn.Conv2d(2, 3, 3, { stride: 2, padding: 1, paddingMode: 'replicate' });
    const x = ck.randn([2, 2, 7, 7], { seed: 3 });
    const y = conv.forward(x);
    expectClose(y, ck.F.conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1, paddingMode: 'replicate' }));
    ck.F.sum(y).backward();
    expect(conv.weight.grad!.shape).toEqual([3, 2, 3, 3]);
    // d sum(y) / d b_k = number of output pixels per channel summed over the batch = 2*4*4
    expect([...conv.bias!.grad!.dataSync()]).toEqual([32, 32, 32]);
    const up = new nn.ConvTranspose2d(3, 2, 2, { stride: 2 });
    expectClose(up.forward(y), ck.F.convTranspose2d(y, up.weight, up.bias, { stride: 2 }));
  });

  it('getConfig round trip through nn.fromConfig rebuilds an identical layer', () => {
    const x = ck.randn([2, 4, 9, 9], { seed: 4 });
    const layers: ck.nn.Module[] = [
      new nn.Conv2d(4, 6, [3, 5], { stride: 2, padding: [1, 2], dilation: 1, groups: 2, bias: false, fit: 'floor' }),
      new nn.Conv2d(4, 4, 3, { padding: 'same', paddingMode: 'circular' }),
      new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1, dilation: 1 }),
      new nn.LocallyConnected2d(4, 3, 3, { inputSize: [9, 9], stride: 2 }),
      new nn.ZeroPad2d(2),
      new nn.ConstantPad2d([1, 0, 2, 0], -3),
      new nn.ReflectionPad2d(1),
      new nn.ReplicationPad2d([0, 1, 2, 3]),
      new nn.CircularPad2d(3),
    ];
    for (const layer of layers) {
      const copy = roundTrip(layer);
      expect(copy.constructor).toBe(layer.constructor);
      expect(copy.describe()).toBe(layer.describe());
      const f = (m: ck.nn.Module) => (m.forward as (t: ck.Tensor) => ck.Tensor)(x);
      expectClose(f(copy), f(layer), { what: layer.describe() });
    }
    expect(layers[0]!.describe()).toBe('Conv2d(4, 6, kernelSize=[3, 5], stride=2, padding=[1,2], groups=2, bias=false, fit=\'floor\')');
    expect(layers[5]!.describe()).toBe('ConstantPad2d([1, 0, 2, 0], value=-3)');
    // a whole Sequential too
    const model = new nn.Sequential(new nn.Conv2d(4, 8, 3, { padding: 1 }), new nn.ReflectionPad2d(1), new nn.Conv2d(8, 2, 3));
    expectClose(roundTrip(model).forward(x), model.forward(x));
  });

  it('constructor arguments are checked with messages that name the layer', () => {
    expectConvkitError(() => new nn.Conv2d(3, 0, 3), 'Conv2d: outChannels must be a positive integer, got 0');
    expectConvkitError(() => new nn.Conv2d(3.5, 8, 3), 'Conv2d: inChannels must be a positive integer');
    expectConvkitError(() => new nn.Conv2d(3, 8, 0), 'Conv2d: kernelSize must be a positive integer');
    expectConvkitError(() => new nn.Conv2d(3, 8, [3, 3, 3] as never), 'kernelSize must be a number or an [h, w] pair');
    expectConvkitError(() => new nn.Conv2d(6, 8, 3, { groups: 4 }), 'Conv2d: groups 4 must divide both inChannels (6) and outChannels (8)');
    expectConvkitError(() => new nn.Conv2d(3, 8, 3, { padding: 'same', stride: 2 }), "Conv2d: padding 'same' needs stride 1");
    expectConvkitError(() => new nn.Conv2d(3, 8, 3, { padding: -2 }), 'Conv2d: padding must hold non-negative integers');
    expectConvkitError(() => new nn.Conv2d(3, 8, 3, { paddingMode: 'zero' as never }), "Conv2d: paddingMode must be one of 'zeros'");
    expectConvkitError(() => new nn.Conv2d(3, 8, 3, { bias: 1 as never }), 'Conv2d: bias must be true or false');
    expectConvkitError(() => new nn.Conv2d(3, 8, 3, { stides: 2 } as never), "Conv2d: unknown option 'stides'");
    expectConvkitError(() => new nn.ConvTranspose2d(4, 4, 3, { stride: 2, outputPadding: 2 }), 'ConvTranspose2d: outputPadding 2 along the height must be smaller than the stride (2)');
    expectConvkitError(() => new nn.ConvTranspose2d(4, 6, 3, { groups: 4 }), 'ConvTranspose2d: groups 4 must divide both');
    expectConvkitError(() => new nn.LocallyConnected2d(3, 8, 3), 'LocallyConnected2d: the option inputSize [height, width] is required');
    expectConvkitError(() => new nn.LocallyConnected2d(3, 8, 3, { inputSize: [10, 10], stride: 2 }), 'LocallyConnected2d: height does not fit', '(10 - 3 + 2*0)/2 + 1 = 4.5');
    expectConvkitError(() => new nn.ReflectionPad2d(-1), 'ReflectionPad2d: padding must be non-negative');
    expectConvkitError(() => new nn.ZeroPad2d([1, 2] as never), 'ZeroPad2d: padding must be an integer or [left, right, top, bottom]');
  });

  it('errors inside a Sequential are prefixed with the module path', () => {
    const model = new nn.Sequential(new nn.Conv2d(3, 8, 3), new nn.Conv2d(4, 8, 3, { stride: 2 }));
    expectConvkitError(() => model.forward(ck.zeros([1, 1, 8, 8])), /^0 \(Conv2d\): expected 3 input channels, got 1/);
    expectConvkitError(() => model.forward(ck.zeros([1, 3, 8, 8])), /^1 \(Conv2d\): expected 4 input channels, got 8/);
    const geometry = new nn.Sequential(new nn.ZeroPad2d(1), new nn.Conv2d(3, 8, 3, { stride: 2 }));
    expectConvkitError(() => geometry.forward(ck.zeros([1, 3, 8, 8])), /^1 \(Conv2d\): conv2d: height does not fit: \(10 - 3 \+ 2\*0\)\/2 \+ 1 = 4.5 is not an integer/);
    expectConvkitError(() => model.forward(ck.zeros([3, 8, 8])), /^0 \(Conv2d\): conv2d: input must be 4-d/, '.view(1, C, H, W)');
    const lc = new nn.Sequential(new nn.LocallyConnected2d(3, 2, 3, { inputSize: [8, 8] }));
    expectConvkitError(() => lc.forward(ck.zeros([1, 3, 9, 9])), /^0 \(LocallyConnected2d\): expected a 8x8 input/);
    const pads = new nn.Sequential(new nn.ReflectionPad2d(4));
    expectConvkitError(() => pads.forward(ck.zeros([1, 1, 4, 4])), /^0 \(ReflectionPad2d\): pad: reflect padding of 4/);
  });

  it('padding layers: hand-worked values', () => {
    const x = ck.tensor([[[[1, 2], [3, 4]]]]);
    expect(new nn.ZeroPad2d([1, 0, 0, 0]).forward(x).toArray()).toEqual([[[[0, 1, 2], [0, 3, 4]]]]);
    expect(new nn.ConstantPad2d([0, 1, 0, 0], 7).forward(x).toArray()).toEqual([[[[1, 2, 7], [3, 4, 7]]]]);
    expect(new nn.ReflectionPad2d([1, 0, 0, 0]).forward(x).toArray()).toEqual([[[[2, 1, 2], [4, 3, 4]]]]);
    expect(new nn.ReplicationPad2d([0, 0, 1, 0]).forward(x).toArray()).toEqual([[[[1, 2], [1, 2], [3, 4]]]]);
    expect(new nn.CircularPad2d([0, 0, 0, 1]).forward(x).toArray()).toEqual([[[[1, 2], [3, 4], [1, 2]]]]);
    expect(new nn.ReflectionPad2d(1).describe()).toBe('ReflectionPad2d(1)');
  });
});
