import { AdaptiveAvgPool2d } from '../../nn/adaptive-avg-pool2d.js';
import { AdaptiveMaxPool2d } from '../../nn/adaptive-max-pool2d.js';
import { AvgPool2d } from '../../nn/avg-pool2d.js';
import { BatchNorm1d, BatchNorm2d } from '../../nn/batch-norm.js';
import { ConvTranspose2d } from '../../nn/conv-transpose2d.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Dropout } from '../../nn/dropout.js';
import { Flatten } from '../../nn/flatten.js';
import { Hardtanh } from '../../nn/hardtanh.js';
import { Identity } from '../../nn/identity.js';
import { InstanceNorm2d } from '../../nn/instance-norm.js';
import { Linear } from '../../nn/linear.js';
import { LocalResponseNorm } from '../../nn/local-response-norm.js';
import { LocallyConnected2d } from '../../nn/locally-connected2d.js';
import { LogSoftmax } from '../../nn/log-softmax.js';
import { LPPool2d } from '../../nn/lp-pool2d.js';
import { MaxPool2d } from '../../nn/max-pool2d.js';
import type { Module } from '../../nn/module.js';
import { CircularPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d, ZeroPad2d } from '../../nn/padding.js';
import { PointwiseLayer, type PointwiseLayerClass } from '../../nn/pointwise-layer.js';
import { PReLU } from '../../nn/prelu.js';
import { ReLU } from '../../nn/relu.js';
import { Softmax } from '../../nn/softmax.js';
import { Softplus } from '../../nn/softplus.js';
import { ZeroPadShortcut } from '../../models/zero-pad-shortcut.js';
import { ConvkitError } from '../../tensor/errors.js';
import type { HelperName } from './python-helpers.js';
import { call, kwargs, py, pyPair } from './python.js';

/**
 * One layer -> the Python expression that builds the same layer in PyTorch, with the same
 * parameter names and layouts (convkit's layers follow PyTorch's, so this is mostly a
 * renaming of options). Where PyTorch has no layer for a convkit setting (padding that differs
 * per side, a CONV with fit: 'ceil', locally connected layers, circular padding in torch 1.x),
 * the expression uses a small helper class written into model.py (python-helpers.ts).
 */

export interface LayerCode {
  /** A Python expression such as `nn.Conv2d(3, 64, kernel_size=3, padding=1)`. */
  expr: string;
  /** Helper classes the expression uses. */
  helpers?: HelperName[];
  /** Keys PyTorch's layer has in its state dict that convkit's does not (filled in on export). */
  extraKeys?: { name: string; value: number }[];
}

/** Writes the PyTorch code of one layer type; `registerPyTorchLayer` adds one for a custom layer. */
export type LayerCoder<M extends Module = Module> = (layer: M) => LayerCode;

type LayerClass<M extends Module> = abstract new (...args: never[]) => M;

const coders = new Map<Function, LayerCoder>();

/** Registers how a layer class is written as PyTorch code (a subclass without its own uses its parent's). */
export function registerPyTorchLayer<M extends Module>(cls: LayerClass<M>, code: LayerCoder<M>): void {
  if (typeof cls !== 'function' || typeof code !== 'function') throw new ConvkitError('registerPyTorchLayer(LayerClass, code): expected a class and a function');
  coders.set(cls, code as LayerCoder);
}

/** The coder for this module's class or its nearest registered ancestor. */
export function layerCoderFor(m: Module): LayerCoder | undefined {
  for (let proto: object | null = Object.getPrototypeOf(m); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const c = coders.get((proto as { constructor: Function }).constructor);
    if (c) return c;
  }
  return undefined;
}

const nonDefault = <T>(v: T, dflt: T, code: (v: T) => string = py): string | undefined => (v === dflt ? undefined : code(v));
const pairIf = (p: readonly [number, number], dflt: number): string | undefined => (p[0] === dflt && p[1] === dflt ? undefined : pyPair(p));
const padsOf = (pads: readonly [number, number, number, number]): [number, number, number, number] => {
  const [t, b, l, r] = pads;
  return [l, r, t, b];
};

registerPyTorchLayer(Conv2d, (c) => {
  const [t, b, l, r] = c.pads;
  const head = [String(c.inChannels), String(c.outChannels), `kernel_size=${pyPair(c.kernelSize)}`];
  const rest = kwargs([
    ['dilation', pairIf(c.dilation, 1)],
    ['groups', nonDefault(c.groups, 1)],
    ['bias', c.bias ? undefined : 'False'],
    ['padding_mode', nonDefault<string>(c.paddingMode, 'zeros')],
  ]);
  const stride = kwargs([['stride', pairIf(c.stride, 1)]]);
  if (t === b && l === r && c.fit !== 'ceil') return { expr: call('nn.Conv2d', [...head, ...stride, ...kwargs([['padding', pairIf([t, l], 0)]]), ...rest]) };
  // Padding PyTorch's Conv2d cannot hold (different per side), or convkit's fit: 'ceil' for a CONV.
  const extra = kwargs([
    ['pads', t || b || l || r ? py(padsOf(c.pads)) : undefined],
    ['ceil_mode', c.fit === 'ceil' ? 'True' : undefined],
  ]);
  return { expr: call('PadConv2d', [...head, ...stride, ...rest, ...extra]), helpers: ['PadConv2d'] };
});

registerPyTorchLayer(ConvTranspose2d, (c) => {
  const pads = (c as unknown as { padding: number | readonly number[] }).padding;
  const list = typeof pads === 'number' ? [pads, pads, pads, pads] : pads.length === 2 ? [pads[0]!, pads[0]!, pads[1]!, pads[1]!] : [...pads];
  const [t, b, l, r] = list as [number, number, number, number];
  const symmetric = t === b && l === r;
  const args = [
    String(c.inChannels),
    String(c.outChannels),
    `kernel_size=${pyPair(c.kernelSize)}`,
    ...kwargs([
      ['stride', pairIf(c.stride, 1)],
      ['padding', symmetric ? pairIf([t, l], 0) : undefined],
      ['output_padding', pairIf(c.outputPadding, 0)],
      ['groups', nonDefault(c.groups, 1)],
      ['bias', c.bias ? undefined : 'False'],
      ['dilation', pairIf(c.dilation, 1)],
      ['crop', symmetric ? undefined : py([l, r, t, b])],
    ]),
  ];
  return symmetric ? { expr: call('nn.ConvTranspose2d', args) } : { expr: call('CropConvTranspose2d', args), helpers: ['CropConvTranspose2d'] };
});

registerPyTorchLayer(LocallyConnected2d, (c) => ({
  expr: call('LocallyConnected2d', [
    String(c.inChannels),
    String(c.outChannels),
    `kernel_size=${pyPair(c.kernelSize)}`,
    `input_size=${pyPair(c.inputSize)}`,
    ...kwargs([
      ['stride', pairIf(c.stride, 1)],
      ['pads', c.pads.some((p) => p !== 0) ? py(padsOf(c.pads)) : undefined],
      ['dilation', pairIf(c.dilation, 1)],
      ['bias', c.bias ? undefined : 'False'],
      ['ceil_mode', c.fit === 'ceil' ? 'True' : undefined],
    ]),
  ]),
  helpers: ['PadConv2d', 'LocallyConnected2d'],
}));

const padCode = (padding: readonly number[]): string => {
  const [l, r, t, b] = padding;
  return l === r && r === t && t === b ? String(l) : py(padding);
};
registerPyTorchLayer(ZeroPad2d, (p) => ({ expr: call('nn.ZeroPad2d', [padCode(p.padding)]) }));
registerPyTorchLayer(ConstantPad2d, (p) => ({ expr: call('nn.ConstantPad2d', [padCode(p.padding), py(p.value)]) }));
registerPyTorchLayer(ReflectionPad2d, (p) => ({ expr: call('nn.ReflectionPad2d', [padCode(p.padding)]) }));
registerPyTorchLayer(ReplicationPad2d, (p) => ({ expr: call('nn.ReplicationPad2d', [padCode(p.padding)]) }));
// nn.CircularPad2d only exists from torch 2.1: a helper keeps the file working on 1.x.
registerPyTorchLayer(CircularPad2d, (p) => ({ expr: call('CircularPad2d', [py(p.padding)]), helpers: ['CircularPad2d'] }));

registerPyTorchLayer(MaxPool2d, (m) => {
  const p = m.params;
  return {
    expr: call('nn.MaxPool2d', [
      `kernel_size=${pyPair(p.kernel)}`,
      ...kwargs([
        ['stride', p.stride[0] === p.kernel[0] && p.stride[1] === p.kernel[1] ? undefined : pyPair(p.stride)],
        ['padding', pairIf(p.padding, 0)],
        ['dilation', pairIf(p.dilation, 1)],
        ['ceil_mode', p.fit === 'ceil' ? 'True' : undefined],
      ]),
    ]),
  };
});

registerPyTorchLayer(AvgPool2d, (m) => {
  const p = m.params;
  return {
    expr: call('nn.AvgPool2d', [
      `kernel_size=${pyPair(p.kernel)}`,
      ...kwargs([
        ['stride', p.stride[0] === p.kernel[0] && p.stride[1] === p.kernel[1] ? undefined : pyPair(p.stride)],
        ['padding', pairIf(p.padding, 0)],
        ['ceil_mode', p.fit === 'ceil' ? 'True' : undefined],
        ['count_include_pad', m.countIncludePad ? undefined : 'False'],
        ['divisor_override', m.divisorOverride === null ? undefined : py(m.divisorOverride)],
      ]),
    ]),
  };
});

registerPyTorchLayer(LPPool2d, (m) => {
  const p = m.params;
  return {
    expr: call('nn.LPPool2d', [
      py(m.normType),
      `kernel_size=${pyPair(p.kernel)}`,
      ...kwargs([
        ['stride', p.stride[0] === p.kernel[0] && p.stride[1] === p.kernel[1] ? undefined : pyPair(p.stride)],
        ['ceil_mode', p.fit === 'ceil' ? 'True' : undefined],
      ]),
    ]),
  };
});

const adaptive = (size: unknown): string => (typeof size === 'number' ? String(size) : py(size));
registerPyTorchLayer(AdaptiveAvgPool2d, (m) => ({ expr: call('nn.AdaptiveAvgPool2d', [adaptive(m.outputSize)]) }));
registerPyTorchLayer(AdaptiveMaxPool2d, (m) => ({ expr: call('nn.AdaptiveMaxPool2d', [adaptive(m.outputSize)]) }));

registerPyTorchLayer(LocalResponseNorm, (m) => {
  const a = m.attrs;
  return { expr: call('nn.LocalResponseNorm', [String(a.size), ...kwargs([['alpha', py(a.alpha)], ['beta', py(a.beta)], ['k', py(a.k)]])]) };
});

const normArgs = (m: { numFeatures: number; eps: number; momentum: number | null; affine: boolean; trackRunningStats: boolean }, affineDefault: boolean, trackDefault: boolean): string[] => [
  String(m.numFeatures),
  ...kwargs([
    ['eps', nonDefault(m.eps, 1e-5)],
    ['momentum', nonDefault(m.momentum, 0.1)],
    ['affine', nonDefault(m.affine, affineDefault)],
    ['track_running_stats', nonDefault(m.trackRunningStats, trackDefault)],
  ]),
];
registerPyTorchLayer(BatchNorm2d, (m) => ({ expr: call('nn.BatchNorm2d', normArgs(m, true, true)) }));
registerPyTorchLayer(BatchNorm1d, (m) => ({ expr: call('nn.BatchNorm1d', normArgs(m, true, true)) }));
registerPyTorchLayer(InstanceNorm2d, (m) => ({
  expr: call('nn.InstanceNorm2d', normArgs(m, false, false)),
  // PyTorch's InstanceNorm counts batches like BatchNorm; convkit's keeps no count.
  ...(m.trackRunningStats ? { extraKeys: [{ name: 'num_batches_tracked', value: 0 }] } : {}),
}));

registerPyTorchLayer(Linear, (m) => ({
  expr: call('nn.Linear', [String(m.inFeatures), String(m.outFeatures), ...kwargs([['bias', m.bias ? undefined : 'False']])]),
}));
registerPyTorchLayer(Flatten, (m) => ({
  // Both flatten NCHW row-major (channel, then row, then column), so FC weights carry over as they are.
  expr: call('nn.Flatten', kwargs([['start_dim', nonDefault(m.startDim, 1)], ['end_dim', nonDefault(m.endDim, -1)]])),
}));
registerPyTorchLayer(Dropout, (m) => ({ expr: call('nn.Dropout', m.p === 0.5 ? [] : [`p=${py(m.p)}`]) }));
registerPyTorchLayer(ReLU, (m) => ({ expr: m.inplace ? 'nn.ReLU(inplace=True)' : 'nn.ReLU()' }));
registerPyTorchLayer(Identity, () => ({ expr: 'nn.Identity()' }));
registerPyTorchLayer(Softmax, (m) => ({ expr: `nn.Softmax(dim=${m.dim})` }));
registerPyTorchLayer(LogSoftmax, (m) => ({ expr: `nn.LogSoftmax(dim=${m.dim})` }));
registerPyTorchLayer(Softplus, (m) => ({ expr: call('nn.Softplus', kwargs([['beta', nonDefault(m.beta, 1)], ['threshold', nonDefault(m.threshold, 20)]])) }));
registerPyTorchLayer(Hardtanh, (m) => ({ expr: call('nn.Hardtanh', kwargs([['min_val', nonDefault(m.minVal, -1)], ['max_val', nonDefault(m.maxVal, 1)]])) }));
registerPyTorchLayer(PReLU, (m) => ({ expr: call('nn.PReLU', kwargs([['num_parameters', nonDefault(m.numParameters, 1)]])) }));

// The declared pointwise activations (src/ops/pointwise/table.ts): the layer names are PyTorch's
// class names, and the declaration names PyTorch's keyword for the parameter.
registerPyTorchLayer(PointwiseLayer, (m) => {
  const decl = (m.constructor as PointwiseLayerClass<object>).fn.declaration;
  const param = decl.param;
  if (!param) return { expr: `nn.${decl.layer}()` };
  const value = (m as unknown as Record<string, unknown>)[param.name];
  if (!decl.torch.param) throw new ConvkitError(`PyTorch export: ${decl.layer} has a parameter ${param.name} but no PyTorch keyword for it`);
  return { expr: value === param.default ? `nn.${decl.layer}()` : `nn.${decl.layer}(${decl.torch.param}=${py(value)})` };
});

registerPyTorchLayer(ZeroPadShortcut, (m) => ({
  expr: call('ZeroPadShortcut', [String(m.inChannels), String(m.outChannels), ...kwargs([['stride', nonDefault(m.stride, 1)]])]),
  helpers: ['ZeroPadShortcut'],
}));
