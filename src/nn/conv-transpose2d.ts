import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import { checkOptionNames, checkPaddingSpec, describePair, positiveInt, spatialInput } from '../ops/conv-args.js';
import {
  checkOutputPadding,
  convTranspose2d,
  convTransposeGeometry,
  CONV_TRANSPOSE2D_OPTIONS,
  type ConvTranspose2dOptions,
} from '../ops/conv-transpose2d.js';
import { pair, type Pair } from '../ops/geometry.js';
import { kaimingNormal } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { register } from './registry.js';
import { biasFlag, layerGroups } from './layer-args.js';

/** Options of `ConvTranspose2d`. */
export interface ConvTranspose2dLayerOptions extends ConvTranspose2dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
}

/**
 * Transposed convolution (upsampling "deconvolution"). Weight [Cin, Cout/groups, kh, kw] as in
 * PyTorch; bias [Cout]. He-normal init with fanIn = Cin/groups*kh*kw, the number of inputs
 * each output pixel sums at stride 1 (PyTorch's fan helper would read dimension 1, which for
 * this layout is the fan-out).
 */
export class ConvTranspose2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  private readonly padding: Pair | readonly [number, number, number, number];

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: ConvTranspose2dLayerOptions = {}) {
    super();
    const op = 'ConvTranspose2d';
    checkOptionNames(opts, [...CONV_TRANSPOSE2D_OPTIONS, 'bias'], op);
    this.inChannels = positiveInt(inChannels, op, 'inChannels');
    this.outChannels = positiveInt(outChannels, op, 'outChannels');
    this.kernelSize = pair(kernelSize, 1, op, 'kernelSize');
    this.stride = pair(opts.stride, 1, op, 'stride');
    this.dilation = pair(opts.dilation, 1, op, 'dilation');
    this.outputPadding = pair(opts.outputPadding, 0, op, 'outputPadding', 0);
    checkOutputPadding(this.outputPadding, this.stride, this.dilation, op);
    checkPaddingSpec(opts.padding, op, false);
    this.padding = opts.padding ?? 0;
    this.groups = layerGroups(opts.groups, inChannels, outChannels, op);
    const hasBias = biasFlag(opts.bias, op);
    const fanIn = (inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
    this.weight = new Parameter(kaimingNormal([inChannels, outChannels / this.groups, ...this.kernelSize], { fanIn }));
    this.bias = hasBias ? new Parameter(zeros([outChannels])) : null;
    this.configArgs = [inChannels, outChannels, kernelSize, { ...opts }];
  }

  private opOptions(): ConvTranspose2dOptions {
    return { stride: this.stride, padding: this.padding, outputPadding: this.outputPadding, groups: this.groups, dilation: this.dilation };
  }

  forward(x: Tensor): Tensor {
    if (x instanceof Tensor && x.ndim === 4 && x.shape[1] !== this.inChannels) {
      throw new ConvkitError(`expected ${this.inChannels} input channels, got ${x.shape[1]} (input ${fmtShape(x.shape)})`);
    }
    return convTranspose2d(x, this.weight, this.bias, this.opOptions());
  }

  /** [N, Cin, H, W] -> [N, Cout, outH, outW] (or without N), without computing anything. */
  outputShape(inputShape: readonly number[]): number[] {
    const { lead, size } = spatialInput(inputShape, this.inChannels, 'ConvTranspose2d');
    const { outShape } = convTransposeGeometry([1, this.inChannels, ...size], this.weight.shape, this.opOptions(), 'ConvTranspose2d');
    return [...lead, ...outShape.slice(1)];
  }

  override describe(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize=${describePair(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${describePair(this.stride)}`);
    if (this.padding !== 0) parts.push(`padding=${JSON.stringify(this.padding)}`);
    if (this.outputPadding.some((p) => p !== 0)) parts.push(`outputPadding=${describePair(this.outputPadding)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${describePair(this.dilation)}`);
    if (!this.bias) parts.push('bias=false');
    return `ConvTranspose2d(${parts.join(', ')})`;
  }
}

register('ConvTranspose2d', ConvTranspose2d);
