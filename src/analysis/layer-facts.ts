import { AdaptiveAvgPool2d } from '../nn/adaptive-avg-pool2d.js';
import { AdaptiveMaxPool2d } from '../nn/adaptive-max-pool2d.js';
import { AvgPool2d } from '../nn/avg-pool2d.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/batch-norm.js';
import { Conv2d, type Conv2dLayerOptions } from '../nn/conv2d.js';
import { Dropout } from '../nn/dropout.js';
import { ElementwiseLayer } from '../nn/elementwise-layer.js';
import { Flatten } from '../nn/flatten.js';
import { Identity } from '../nn/identity.js';
import { Linear } from '../nn/linear.js';
import { LocalResponseNorm } from '../nn/local-response-norm.js';
import { LPPool2d } from '../nn/lp-pool2d.js';
import { MaxPool2d } from '../nn/max-pool2d.js';
import { ZeroPadShortcut } from '../models/zero-pad-shortcut.js';
import type { Module, ModuleConfig } from '../nn/module.js';
import { ReLU } from '../nn/relu.js';
import type { PoolParams } from '../ops/pool-window.js';
import type { Pair } from '../ops/geometry.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';

/**
 * What the summary needs to know about one layer, worked out from its hyperparameters and
 * the input shape alone (nothing runs, nothing big is allocated): output shape, parameters,
 * multiply-adds, and the sliding window that moves the receptive field.
 */

export type LayerKind =
  | 'conv'
  | 'pool'
  | 'gap'
  | 'fc'
  | 'act'
  | 'norm'
  | 'bn'
  | 'dropout'
  | 'flatten'
  | 'identity'
  | 'add'
  | 'concat'
  | 'other';

/** A sliding window: kernel, stride, padding [top, bottom, left, right], dilation. */
export interface Window {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number, number, number];
  dilation: [number, number];
}

export interface LeafFacts {
  kind: LayerKind;
  /** The notes' pattern notation: `CONV3-64`, `POOL2`, `FC4096`, `RELU`, ... */
  label: string;
  /** Per-item output shape: [C, H, W] or [F]. */
  output: number[];
  weights: number;
  biases: number;
  /** Multiply-adds for one item (CONV and FC only; see summary.ts). */
  macs: number;
  /** The window that grows the receptive field; null when the layer keeps it (or it is unknown, see `keepsField`). */
  window: Window | null;
  /** False when the layer changes the geometry in a way the receptive field arithmetic does not follow. */
  keepsField: boolean;
  /** True when the output needs no new memory: RELU-like layers, FLATTEN (a view), DROPOUT and IDENTITY at inference. */
  inPlace: boolean;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Runs a layer's own `outputShape` on one item (layers take [N, ...]; the summary works per item). */
function itemOutput(m: { outputShape(s: readonly number[]): number[] }, input: readonly number[]): number[] {
  return m.outputShape([1, ...input]).slice(1);
}

export interface ConvGeometry {
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  dilation: [number, number];
  groups: number;
  bias: boolean;
  output: number[];
}

function convLabel(g: ConvGeometry): string {
  const [kh, kw] = g.kernel;
  let s = `CONV${kh === kw ? kh : `${kh}x${kw}`}-${g.outChannels}`;
  if (g.stride[0] !== 1 || g.stride[1] !== 1) s += `/${g.stride[0] === g.stride[1] ? g.stride[0] : g.stride.join('x')}`;
  // The pattern language's default padding: (F-1)/2 at stride 1, 0 otherwise; write it only when it differs.
  const def = g.stride[0] === 1 && g.stride[1] === 1 && kh === kw && kh % 2 === 1 ? (kh - 1) / 2 : 0;
  if (g.pads.some((p) => p !== def)) s += g.pads.every((p) => p === g.pads[0]) ? `p${g.pads[0]}` : `p${g.pads.join(',')}`;
  if (g.dilation[0] !== 1 || g.dilation[1] !== 1) s += `d${g.dilation[0]}`;
  if (g.groups !== 1) s += `g${g.groups}`;
  return s;
}

export function convFacts(g: ConvGeometry): LeafFacts {
  const weights = g.outChannels * (g.inChannels / g.groups) * g.kernel[0] * g.kernel[1];
  return {
    kind: 'conv',
    label: convLabel(g),
    output: g.output,
    weights,
    biases: g.bias ? g.outChannels : 0,
    // Each output value is a dot product of (C/groups)*F*F inputs with one filter.
    macs: prod(g.output) * (g.inChannels / g.groups) * g.kernel[0] * g.kernel[1],
    window: { kernel: g.kernel, stride: g.stride, pad: g.pads, dilation: g.dilation },
    keepsField: true,
    inPlace: false,
  };
}

export function fcFacts(inFeatures: number, outFeatures: number, bias: boolean, input: readonly number[]): LeafFacts {
  if (input[input.length - 1] !== inFeatures) {
    throw new ConvkitError(
      `Linear: expected ${inFeatures} input features, got ${fmtShape(input)}` + (input.length > 1 ? `; a volume needs a Flatten first (${prod(input)} features)` : ''),
    );
  }
  const lead = prod(input.slice(0, -1));
  return {
    kind: 'fc',
    label: `FC${outFeatures}`,
    output: [...input.slice(0, -1), outFeatures],
    weights: inFeatures * outFeatures,
    biases: bias ? outFeatures : 0,
    macs: lead * inFeatures * outFeatures,
    window: null,
    keepsField: true,
    inPlace: false,
  };
}

export function poolFacts(kindLabel: string, p: PoolParams, output: number[]): LeafFacts {
  const [kh, kw] = p.kernel;
  let label = `${kindLabel}${kh === kw ? kh : `${kh}x${kw}`}`;
  if (p.stride[0] !== kh || p.stride[1] !== kw) label += `/${p.stride[0] === p.stride[1] ? p.stride[0] : p.stride.join('x')}`;
  if (p.padding[0] || p.padding[1]) label += `p${p.padding[0] === p.padding[1] ? p.padding[0] : p.padding.join(',')}`;
  return {
    kind: 'pool',
    label,
    output,
    weights: 0,
    biases: 0,
    macs: 0,
    window: { kernel: p.kernel, stride: p.stride, pad: [p.padding[0], p.padding[0], p.padding[1], p.padding[1]], dilation: p.dilation },
    keepsField: true,
    inPlace: false,
  };
}

/** Adaptive pooling is an ordinary window when the size divides (global pooling: one window over everything). */
export function adaptiveFacts(avg: boolean, output: number[], input: readonly number[]): LeafFacts {
  const [, h, w] = input as [number, number, number];
  const [, oh, ow] = output as [number, number, number];
  const exact = h % oh === 0 && w % ow === 0;
  const global = oh === 1 && ow === 1;
  const k: [number, number] = [h / oh, w / ow];
  return {
    kind: global ? 'gap' : 'pool',
    label: global ? (avg ? 'GAP' : 'GMP') : `ADAPTIVE${avg ? 'AVG' : 'MAX'}POOL${oh === ow ? oh : `${oh}x${ow}`}`,
    output,
    weights: 0,
    biases: 0,
    macs: 0,
    window: exact ? { kernel: k, stride: k, pad: [0, 0, 0, 0], dilation: [1, 1] } : null,
    keepsField: exact,
    inPlace: false,
  };
}

export function same(kind: LayerKind, label: string, input: readonly number[], inPlace: boolean): LeafFacts {
  return { kind, label, output: [...input], weights: 0, biases: 0, macs: 0, window: null, keepsField: true, inPlace };
}

/** Counts a module's own parameters: those named `bias` are biases, the rest weights. */
export function ownParameterCounts(m: Module): { weights: number; biases: number } {
  let weights = 0;
  let biases = 0;
  for (const [name, p] of m.namedParameters()) {
    if (name === 'bias' || name.endsWith('.bias')) biases += p.size;
    else weights += p.size;
  }
  return { weights, biases };
}

/**
 * Facts about a built layer (a module with no children). Layers the summary does not know
 * are asked for `outputShape`; one without it is an error naming it (the tracer then runs it).
 */
export function moduleFacts(m: Module, input: readonly number[]): LeafFacts {
  const facts = knownModuleFacts(m, input);
  // The module's own parameters are the truth (e.g. a layer with an extra learned scale).
  return { ...facts, ...ownParameterCounts(m) };
}

function knownModuleFacts(m: Module, input: readonly number[]): LeafFacts {
  if (m instanceof Conv2d) {
    return convFacts({
      inChannels: m.inChannels,
      outChannels: m.outChannels,
      kernel: m.kernelSize,
      stride: m.stride,
      pads: m.pads,
      dilation: m.dilation,
      groups: m.groups,
      bias: m.bias !== null,
      output: itemOutput(m, input),
    });
  }
  if (m instanceof Linear) return fcFacts(m.inFeatures, m.outFeatures, m.bias !== null, input);
  if (m instanceof MaxPool2d) return poolFacts('POOL', m.params, itemOutput(m, input));
  if (m instanceof AvgPool2d) return poolFacts('AVGPOOL', m.params, itemOutput(m, input));
  if (m instanceof LPPool2d) return poolFacts(`LPPOOL`, m.params, itemOutput(m, input));
  if (m instanceof AdaptiveAvgPool2d) return adaptiveFacts(true, itemOutput(m, input), input);
  if (m instanceof AdaptiveMaxPool2d) return adaptiveFacts(false, itemOutput(m, input), input);
  if (m instanceof LocalResponseNorm) return same('norm', 'NORM', itemOutput(m, input), false);
  if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) return same('bn', 'BN', itemOutput(m, input), false);
  if (m instanceof Dropout) return same('dropout', `DROPOUT${m.p}`, input, true);
  if (m instanceof Identity) return same('identity', 'IDENTITY', input, true);
  if (m instanceof ReLU) return same('act', 'RELU', input, true);
  if (m instanceof ElementwiseLayer) return same('act', m.typeName.toUpperCase(), input, true);
  if (m instanceof Flatten) return { ...same('flatten', 'FLATTEN', input, true), output: itemOutput(m, input) };
  if (m instanceof ZeroPadShortcut) {
    // x[:, :, ::s, ::s] is a 1x1 window of stride s for the receptive field; the zero channels add nothing.
    const s = m.stride;
    const window: Window | null = s === 1 ? null : { kernel: [1, 1], stride: [s, s], pad: [0, 0, 0, 0], dilation: [1, 1] };
    return { ...same('other', `SHORTCUT-${m.outChannels}${s === 1 ? '' : `/${s}`}`, input, false), output: itemOutput(m, input), window };
  }
  const withShape = m as Module & { outputShape?: (s: readonly number[]) => number[] };
  if (typeof withShape.outputShape === 'function') {
    const output = itemOutput(withShape as { outputShape(s: readonly number[]): number[] }, input);
    // Same shape: assume the field is kept (normalizations, activations); otherwise unknown.
    const keeps = output.length === input.length && output.every((v, i) => v === input[i]);
    return { kind: 'other', label: m.typeName.toUpperCase(), output, weights: 0, biases: 0, macs: 0, window: null, keepsField: keeps, inPlace: false };
  }
  throw new NoStaticShape(m.typeName);
}

/** Thrown for a layer that cannot tell its output shape without running. */
export class NoStaticShape extends Error {
  constructor(readonly typeName: string) {
    super(`${typeName} has no outputShape()`);
  }
}

/**
 * Facts from a layer description, for the two layers that are expensive to build (their
 * weights): Conv2d and Linear. Returns null for every other type (cheap to build and ask).
 */
export function configFacts(config: ModuleConfig, input: readonly number[]): LeafFacts | null {
  if (config.type === 'Linear') {
    const [inF, outF, opts] = config.args as [number, number, { bias?: boolean } | undefined];
    // Argument checks as the layer's own: build it if anything looks off.
    if (!Number.isInteger(inF) || !Number.isInteger(outF) || inF < 1 || outF < 1) return null;
    return fcFacts(inF, outF, opts?.bias !== false, input);
  }
  if (config.type === 'Conv2d') {
    const [inC, outC, kernel, opts = {}] = config.args as [number, number, Pair, Conv2dLayerOptions | undefined];
    if (!Number.isInteger(inC) || !Number.isInteger(outC) || inC < 1 || outC < 1) return null;
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inC % groups !== 0 || outC % groups !== 0) return null;
    // A probe with one filter per group resolves padding and output size exactly as the real
    // layer would (same code), for a few bytes of weights.
    const probe = new Conv2d(groups, groups, kernel, opts);
    if (input.length !== 3 || input[0] !== inC) {
      throw new ConvkitError(`Conv2d: expected ${inC} input channels, got ${input.length === 3 ? input[0] : `the shape ${fmtShape(input)}`}`);
    }
    const out = itemOutput(probe, [groups, input[1]!, input[2]!]);
    return convFacts({
      inChannels: inC,
      outChannels: outC,
      kernel: probe.kernelSize,
      stride: probe.stride,
      pads: probe.pads,
      dilation: probe.dilation,
      groups,
      bias: opts.bias !== false,
      output: [outC, out[1]!, out[2]!],
    });
  }
  return null;
}
