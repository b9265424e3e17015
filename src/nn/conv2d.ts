import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import {
  checkFit,
  checkOptionNames,
  checkPaddingMode,
  convWindow,
  describePair,
  positiveInt,
  resolvePadding,
  spatialInput,
  type ConvPadding,
  type Pads,
  type PaddingMode,
} from '../ops/conv-args.js';
import { conv2d, conv2dScaled, CONV2D_OPTIONS } from '../ops/conv2d.js';
import type { FusedActivation } from '../ops/fused-activation.js';
import { pair, type Fit, type Pair } from '../ops/geometry.js';
import { kaimingNormal } from './init.js';
import { FusableLayer } from './fusable-layer.js';
import { Parameter } from './parameter.js';
import { register } from './registry.js';
import { biasFlag, layerGroups } from './layer-args.js';

/** Options of `Conv2d`, as PyTorch's keyword arguments. */
export interface Conv2dLayerOptions {
  stride?: Pair;
  /** A number, [h, w], [top, bottom, left, right], 'same' (stride 1 only) or 'valid'. Default 0. */
  padding?: ConvPadding;
  dilation?: Pair;
  groups?: number;
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  paddingMode?: PaddingMode;
  fit?: Fit;
}

/**
 * The CONV layer: K filters of size [C/groups, kh, kw] slid over the input. Weight
 * [K, C/groups, kh, kw] starts He-normal (std sqrt(2 / fanIn), fanIn = C/groups*kh*kw, right
 * before a ReLU); the bias [K] starts at zero.
 */
export class Conv2d extends FusableLayer {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  /** Resolved padding, [top, bottom, left, right]. */
  readonly pads: Pads;
  readonly paddingMode: PaddingMode;
  readonly fit: Fit;
  private readonly padding: ConvPadding;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dLayerOptions = {}) {
    super();
    const op = 'Conv2d';
    checkOptionNames(opts, [...CONV2D_OPTIONS, 'bias'], op);
    this.inChannels = positiveInt(inChannels, op, 'inChannels');
    this.outChannels = positiveInt(outChannels, op, 'outChannels');
    this.kernelSize = pair(kernelSize, 1, op, 'kernelSize');
    this.stride = pair(opts.stride, 1, op, 'stride');
    this.dilation = pair(opts.dilation, 1, op, 'dilation');
    this.groups = layerGroups(opts.groups, inChannels, outChannels, op);
    this.padding = opts.padding ?? 0;
    this.pads = resolvePadding(this.padding, this.kernelSize, this.stride, this.dilation, op);
    this.paddingMode = checkPaddingMode(opts.paddingMode, op);
    this.fit = checkFit(opts.fit, op);
    const hasBias = biasFlag(opts.bias, op);
    this.weight = new Parameter(kaimingNormal([outChannels, inChannels / this.groups, ...this.kernelSize]));
    this.bias = hasBias ? new Parameter(zeros([outChannels])) : null;
    this.configArgs = [inChannels, outChannels, kernelSize, { ...opts }];
  }

  /**
   * scale * forward(x) + shift per output channel (then the activation) in one kernel call: an
   * eval-mode batch norm folded in (nn/fusion.ts). Inference only; no hooks run.
   */
  forwardScaled(x: Tensor, scale: Tensor, shift: Tensor, activation: FusedActivation): Tensor {
    return this.located(() => this.compute(x, activation, { scale, shift }));
  }

  protected compute(x: Tensor, activation: FusedActivation, affine?: { scale: Tensor; shift: Tensor }): Tensor {
    // Checked here too so that the message reads "features.3 (Conv2d): expected 64 input channels, got 3".
    if (x instanceof Tensor && x.ndim === 4 && x.shape[1] !== this.inChannels) {
      throw new ConvkitError(`expected ${this.inChannels} input channels, got ${x.shape[1]} (input ${fmtShape(x.shape)})`);
    }
    const opts = {
      stride: this.stride,
      padding: this.pads,
      dilation: this.dilation,
      groups: this.groups,
      paddingMode: this.paddingMode,
      fit: this.fit,
      activation,
    };
    return affine ? conv2dScaled(x, this.weight, affine.scale, affine.shift, opts) : conv2d(x, this.weight, this.bias, opts);
  }

  /** [N, C, H, W] -> [N, K, outH, outW] (or [C, H, W] -> [K, outH, outW]) without computing anything. */
  outputShape(inputShape: readonly number[]): number[] {
    const { lead, size } = spatialInput(inputShape, this.inChannels, 'Conv2d');
    const win = convWindow(size, this.kernelSize, this.stride, this.pads, this.dilation, this.fit, 'Conv2d');
    return [...lead, this.outChannels, ...win.out];
  }

  override describe(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize=${describePair(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${describePair(this.stride)}`);
    if (this.padding !== 0) parts.push(`padding=${typeof this.padding === 'string' ? `'${this.padding}'` : JSON.stringify(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${describePair(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode='${this.paddingMode}'`);
    if (this.fit !== 'strict') parts.push(`fit='${this.fit}'`);
    return `Conv2d(${parts.join(', ')})`;
  }
}

register('Conv2d', Conv2d);
