/**
 * ck.io.exportOnnx, layer by layer: every layer convkit has, in the settings where its ONNX
 * form differs (ceil fit, padding modes, even LRN sizes, unequal adaptive windows, ...), is
 * exported inside a small model, run by onnxruntime-node on a batch of 2 (the file declares
 * a symbolic batch and was traced on 1), re-imported with ck.io.loadOnnxBytes, and both are
 * compared with convkit's own output at rtol 1e-4 / atol 1e-5 of the output's scale, at
 * opsets 11, 13, 17, 18 and 21 (Softmax, Pad, Clip and the Reduce ops changed form among them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { checkExport, loadOrt, useFastBackend } from './onnx-export-helpers.js';
import { POINTWISE_OPS } from '../../src/ops/pointwise/all.js';

const nn = ck.nn;

interface Case {
  name: string;
  /** The layer types the case covers (checked against ck.nn's registry below). */
  covers: string[];
  make: () => ck.nn.Module;
  input: number[];
}

/** Sets BatchNorm/InstanceNorm running statistics to something other than 0 / 1. */
function withStats<M extends ck.nn.Module>(m: M): M {
  const g = new ck.Generator(7);
  for (const [name, b] of m.namedBuffers()) {
    if (b.dtype !== 'float32') continue;
    const v = b.dataSync().map(() => (name.endsWith('running_var') ? 0.5 + g.uniform() : g.normal() * 0.3));
    (b.storage.data as Float32Array).set(v, b.offset);
  }
  for (const p of m.parameters()) {
    if (p.ndim === 1) p.assign(p.dataSync().map(() => 0.5 + g.uniform()));
  }
  return m;
}

const CASES: Case[] = [
  { name: 'conv basic + relu', covers: ['Conv2d', 'ReLU'], make: () => new nn.Sequential(new nn.Conv2d(3, 4, 3, { padding: 1 }), new nn.ReLU()), input: [3, 8, 8] },
  { name: 'conv stride/dilation/groups, no bias', covers: ['Conv2d'], make: () => new nn.Conv2d(4, 6, [3, 2], { stride: [2, 1], dilation: [1, 2], groups: 2, bias: false, padding: [1, 0], fit: 'floor' }), input: [4, 9, 9] },
  { name: 'conv asymmetric and same padding', covers: ['Conv2d'], make: () => new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: [0, 1, 2, 1] }), new nn.Conv2d(3, 3, 4, { padding: 'same' })), input: [2, 7, 6] },
  { name: 'conv fit ceil', covers: ['Conv2d'], make: () => new nn.Conv2d(2, 3, 3, { stride: 2, fit: 'ceil' }), input: [2, 8, 8] },
  { name: 'conv padding modes', covers: ['Conv2d'], make: () => new nn.Sequential(
    new nn.Conv2d(2, 2, 3, { padding: 1, paddingMode: 'reflect' }),
    new nn.Conv2d(2, 2, 3, { padding: [2, 1], paddingMode: 'replicate' }),
    new nn.Conv2d(2, 2, 3, { padding: 1, paddingMode: 'circular' }),
  ), input: [2, 6, 7] },
  { name: 'conv transpose', covers: ['ConvTranspose2d'], make: () => new nn.Sequential(
    new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
    new nn.ConvTranspose2d(2, 3, [2, 3], { dilation: 2, bias: false }),
  ), input: [4, 5, 4] },
  { name: 'locally connected', covers: ['LocallyConnected2d'], make: () => new nn.Sequential(
    new nn.LocallyConnected2d(2, 3, 3, { inputSize: [7, 6], stride: [2, 1], padding: 1 }),
    new nn.LocallyConnected2d(3, 2, 2, { inputSize: [4, 6], bias: false, dilation: [1, 2] }),
  ), input: [2, 7, 6] },
  { name: 'padding layers', covers: ['ZeroPad2d', 'ConstantPad2d', 'ReflectionPad2d', 'ReplicationPad2d', 'CircularPad2d'], make: () => new nn.Sequential(
    new nn.ZeroPad2d([1, 0, 2, 1]),
    new nn.ConstantPad2d([-1, 2, 1, -2], 0.5),
    new nn.ReflectionPad2d(2),
    new nn.ReplicationPad2d([0, 1, 3, 0]),
    new nn.CircularPad2d([1, 2, 2, 1]),
  ), input: [2, 5, 6] },
  { name: 'max pool (padding, dilation, ceil)', covers: ['MaxPool2d'], make: () => new nn.Sequential(
    new nn.MaxPool2d(3, { stride: 2, padding: 1, fit: 'ceil' }),
    new nn.MaxPool2d(2, { dilation: 2, stride: 1 }),
  ), input: [2, 10, 9] },
  { name: 'avg pool (count pad, ceil, divisor)', covers: ['AvgPool2d'], make: () => new nn.Sequential(
    new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false, fit: 'ceil' }),
    new nn.AvgPool2d(2, { stride: 1, padding: 1 }),
    new nn.AvgPool2d(2, { divisorOverride: 3, fit: 'ceil' }),
  ), input: [2, 9, 10] },
  { name: 'lp pool', covers: ['LPPool2d'], make: () => new nn.Sequential(
    new nn.Softplus(),
    new nn.LPPool2d(2, 2, { fit: 'ceil' }),
    new nn.LPPool2d(3, [2, 1], { stride: 1 }),
    new nn.LPPool2d(1.5, 2, { stride: 1 }),
  ), input: [2, 7, 6] },
  { name: 'adaptive pools (equal windows)', covers: ['AdaptiveAvgPool2d', 'AdaptiveMaxPool2d'], make: () => new nn.Sequential(
    new nn.AdaptiveMaxPool2d([4, 3]),
    new nn.AdaptiveAvgPool2d([2, 1]),
  ), input: [3, 8, 6] },
  { name: 'adaptive pools (unequal windows)', covers: ['AdaptiveAvgPool2d', 'AdaptiveMaxPool2d'], make: () => new nn.Sequential(
    new nn.Conv2d(2, 3, 1),
    new nn.AdaptiveMaxPool2d([3, 4]),
    new nn.Conv2d(3, 3, 1),
    new nn.AdaptiveAvgPool2d([2, 3]),
  ), input: [2, 7, 9] },
  { name: 'global pools', covers: ['AdaptiveAvgPool2d', 'AdaptiveMaxPool2d'], make: () => new nn.Sequential(new nn.AdaptiveMaxPool2d([1, 1]), new nn.AdaptiveAvgPool2d(1)), input: [3, 5, 5] },
  { name: 'local response norm (odd and even sizes)', covers: ['LocalResponseNorm'], make: () => new nn.Sequential(
    new nn.LocalResponseNorm(5, { alpha: 1e-2, beta: 0.75, k: 2 }),
    new nn.LocalResponseNorm(4, { alpha: 0.1, beta: 0.5, k: 1 }),
  ), input: [7, 4, 3] },
  { name: 'batch norm 2d', covers: ['BatchNorm2d'], make: () => withStats(new nn.Sequential(new nn.BatchNorm2d(3), new nn.BatchNorm2d(3, { affine: false, eps: 1e-3 }))), input: [3, 4, 5] },
  { name: 'batch norm without running statistics', covers: ['BatchNorm2d', 'BatchNorm1d'], make: () => withStats(new nn.Sequential(
    new nn.BatchNorm2d(3, { trackRunningStats: false }),
    new nn.Flatten(),
    new nn.BatchNorm1d(48, { trackRunningStats: false }),
  )), input: [3, 4, 4] },
  { name: 'batch norm 1d', covers: ['BatchNorm1d', 'Linear'], make: () => withStats(new nn.Sequential(new nn.Linear(6, 5), new nn.BatchNorm1d(5))), input: [6] },
  { name: 'instance norm', covers: ['InstanceNorm2d'], make: () => withStats(new nn.Sequential(
    new nn.InstanceNorm2d(3),
    new nn.InstanceNorm2d(3, { affine: true, eps: 1e-3 }),
    new nn.InstanceNorm2d(3, { trackRunningStats: true, affine: true }),
  )), input: [3, 4, 5] },
  { name: 'linear head', covers: ['Flatten', 'Linear', 'Dropout', 'Softmax'], make: () => new nn.Sequential(
    new nn.Flatten(),
    new nn.Dropout(0.5),
    new nn.Linear(24, 8),
    new nn.Linear(8, 4, { bias: false }),
    new nn.Softmax(1),
  ), input: [2, 3, 4] },
  { name: 'linear on 3-d input', covers: ['Linear', 'Flatten'], make: () => new nn.Sequential(new nn.Flatten({ startDim: 2 }), new nn.Linear(12, 5)), input: [3, 3, 4] },
  { name: 'activations', covers: ['LeakyReLU', 'ELU', 'SELU', 'Sigmoid', 'Tanh', 'Softplus', 'Hardtanh', 'PReLU', 'Identity'], make: () => new nn.Sequential(
    new nn.LeakyReLU({ negativeSlope: 0.2 }),
    new nn.ELU({ alpha: 0.7 }),
    new nn.PReLU(3, { init: 0.1 }),
    new nn.SELU(),
    new nn.Softplus({ beta: 2 }),
    new nn.Hardtanh({ minVal: -0.5, maxVal: 0.8 }),
    new nn.PReLU(),
    new nn.Sigmoid(),
    new nn.Identity(),
    new nn.Tanh(),
  ), input: [3, 4, 4] },
  // Every declared pointwise op (src/ops/pointwise/table.ts) in a chain, at its last tested
  // setting (GELU's tanh form: the exact one needs opset 20 to be re-imported, see onnx-pointwise).
  { name: 'declared pointwise layers', covers: POINTWISE_OPS.map((d) => d.layer), make: () => new nn.Sequential(
    ...POINTWISE_OPS.map((d) => {
      const last = d.param?.samples?.at(-1);
      return new (nn as unknown as Record<string, new (o: object) => ck.nn.Module>)[d.layer]!(last === undefined ? {} : { [d.param!.name]: last });
    }),
  ), input: [3, 4, 5] },
  { name: 'softmax over channels, log-softmax', covers: ['Softmax', 'LogSoftmax'], make: () => new nn.Sequential(new nn.Softmax(1), new nn.LogSoftmax(-1)), input: [3, 2, 4] },
  { name: 'flatten variants', covers: ['Flatten'], make: () => new nn.Sequential(new nn.Flatten({ startDim: 1, endDim: 2 }), new nn.Flatten({ startDim: 2, endDim: 2 }), new nn.Flatten()), input: [2, 3, 4] },
  // The CIFAR ResNets' option A shortcut: subsample (Slice with steps) and zero channels (Pad), odd sizes and an odd split.
  { name: 'zero-padding shortcuts', covers: ['ZeroPadShortcut'], make: () => new nn.Sequential(new ck.models.ZeroPadShortcut(2, 5, { stride: 2 }), new ck.models.ZeroPadShortcut(5, 5, { stride: 3 }), new ck.models.ZeroPadShortcut(5, 8)), input: [2, 7, 9] },
];

/** A Module whose forward composes its children with ck.F ops (no traceGraph). */
class Residual extends nn.Module {
  conv1 = new nn.Conv2d(3, 3, 3, { padding: 1 });
  conv2 = new nn.Conv2d(3, 2, 1);
  scale = new nn.Parameter(ck.full([1, 3, 1, 1], 0.5));
  head = new nn.Linear(2 * 6 * 6 + 3 * 6 * 6, 4);

  forward(x: ck.Tensor): ck.Tensor {
    const n = x.shape[0]!;
    const h = ck.F.relu(ck.F.add(this.conv1.forward(x), ck.F.mul(x, this.scale)));
    const a = this.conv2.forward(h).reshape([n, -1]);
    const b = ck.F.sigmoid(ck.F.sub(h.permute([0, 2, 3, 1]).contiguous(), 1)).reshape([n, -1]);
    return this.head.forward(ck.F.tanh(ck.cat([a, ck.F.div(b, 3)], 1)));
  }
}

const ortReady = loadOrt() !== null;

describe.runIf(ortReady)('ONNX export, layer by layer (onnxruntime-node)', () => {
  beforeAll(async () => {
    await useFastBackend();
  });

  for (const opset of [11, 13, 17, 18, 21]) {
    for (const c of CASES) {
      it(`${c.name} (opset ${opset})`, async () => {
        ck.manualSeed(42);
        const model = c.make();
        const x = ck.randn([2, ...c.input], { seed: 3 });
        await checkExport(model, x, { inputShape: c.input, opset }, c.name);
      });
    }
  }

  it('every layer in ck.nn is covered by a case above', () => {
    const notLayers = new Set(['Sequential', 'CrossEntropyLoss', 'MSELoss', 'MultiMarginLoss', 'OnnxModel', 'BasicBlock', 'Bottleneck', 'BasicConv2d', 'Inception', 'ResNet', 'GoogLeNet', 'CifarBasicBlock', 'CifarResNet']);
    const covered = new Set(CASES.flatMap((c) => c.covers));
    const missing = ck.nn.registeredLayers().filter((n) => !notLayers.has(n) && !covered.has(n));
    expect(missing).toEqual([]);
  });

  it('a custom Module composing ck.F ops between its children (read back from the tape)', async () => {
    ck.manualSeed(1);
    const x = ck.randn([2, 3, 6, 6], { seed: 4 });
    await checkExport(new Residual(), x, { inputShape: [3, 6, 6] }, 'custom module');
  });

  it('refuses ops whose settings the tape does not keep, naming the module and the op', () => {
    class Bad extends nn.Module {
      forward(x: ck.Tensor): ck.Tensor {
        return ck.F.softmax(x, 1);
      }
    }
    expect(() => ck.io.exportOnnx(new Bad(), { inputShape: [3] })).toThrow(/model \(Bad\): its forward calls softmax.*nn\.Softmax/);
  });

  it('declares a symbolic batch, the opset, and names the input and output', () => {
    const bytes = ck.io.exportOnnx(new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 2)), { inputShape: [1, 2, 2], opset: 15, inputName: 'pixels', outputName: 'scores' });
    const back = ck.io.loadOnnxBytes(bytes);
    expect(back.opset).toBe(15);
    expect(back.inputNames).toEqual(['pixels']);
    expect(back.outputNames).toEqual(['scores']);
    expect(back.describe()).toContain('inputs pixels [-1, 1, 2, 2]');
    // Initializers keep the state dict's names, as PyTorch's exporter does.
    expect([...back.onnxNames().keys()]).toEqual(['1.weight', '1.bias']);
  });

  it('bad options are ConvkitErrors that say what to give', () => {
    const m = new nn.Linear(3, 2);
    expect(() => ck.io.exportOnnx(m, {})).toThrow(/give inputShape/);
    expect(() => ck.io.exportOnnx(m, { inputShape: [0, 3] })).toThrow(ck.ConvkitError);
    expect(() => ck.io.exportOnnx(m, { inputShape: [3], opset: 9 })).toThrow(/opset must be an integer from 11 to 21/);
    expect(() => ck.io.exportOnnx(m, { inputShape: [3], shape: [3] } as ck.io.ExportOnnxOptions)).toThrow(/unknown option shape/);
    expect(() => ck.io.exportOnnx(m, { inputShape: [4] })).toThrow(/expected 3 input features, got 4/);
    expect(() => ck.io.exportOnnx(new nn.Softplus({ threshold: 5 }), { inputShape: [3] })).toThrow(/model \(Softplus\): threshold 5/);
  });

  it('leaves the model in the mode it was in', () => {
    const m = new nn.Sequential(new nn.Linear(3, 2), new nn.Dropout());
    m.train();
    ck.io.exportOnnx(m, { inputShape: [3] });
    expect(m.modules().every((x) => x.training)).toBe(true);
  });
});

describe.runIf(!ortReady)('ONNX export (onnxruntime-node missing)', () => {
  it.skip('onnxruntime-node could not be loaded; run npm install', () => {});
});
