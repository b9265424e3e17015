import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/creation.js';
import {
  checkFit,
  checkOptionNames,
  convWindow,
  describePair,
  positiveInt,
  resolvePadding,
  spatialInput,
  type ConvPadding,
  type Pads,
} from '../ops/conv-args.js';
import { locallyConnected2d, LOCALLY_CONNECTED2D_OPTIONS } from '../ops/locally-connected2d.js';
import { pair, type Fit, type Pair } from '../ops/geometry.js';
import { kaimingNormal } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { register } from './registry.js';
import { biasFlag } from './layer-args.js';

/** Options of `LocallyConnected2d`. */
export interface LocallyConnected2dLayerOptions {
  /** The input's [height, width] (required): the layer has one filter bank per output position. */
  inputSize?: Pair;
  stride?: Pair;
  padding?: ConvPadding;
  dilation?: Pair;
  /** Learn a bias per output value (default true). */
  bias?: boolean;
  fit?: Fit;
}

/**
 * A CONV layer without weight sharing: every output position has its own K filters
 * (DeepFace). Weight [outH, outW, K, C, kh, kw], bias [K, outH, outW]; since the output grid
 * sizes the weight, the input size is fixed at construction (`inputSize`). He-normal init
 * with fanIn = C*kh*kw, zero bias.
 */
export class LocallyConnected2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly inputSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly pads: Pads;
  readonly fit: Fit;
  /** The output grid [outH, outW]. */
  readonly grid: [number, number];
  private readonly padding: ConvPadding;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: LocallyConnected2dLayerOptions = {}) {
    super();
    const op = 'LocallyConnected2d';
    checkOptionNames(opts, [...LOCALLY_CONNECTED2D_OPTIONS, 'inputSize', 'bias'], op);
    this.inChannels = positiveInt(inChannels, op, 'inChannels');
    this.outChannels = positiveInt(outChannels, op, 'outChannels');
    this.kernelSize = pair(kernelSize, 1, op, 'kernelSize');
    if (opts.inputSize === undefined) {
      throw new ConvkitError(
        `${op}: the option inputSize [height, width] is required, because the layer holds one filter bank per output position; e.g. {inputSize: [32, 32]}`,
      );
    }
    this.inputSize = pair(opts.inputSize, 1, op, 'inputSize');
    this.stride = pair(opts.stride, 1, op, 'stride');
    this.dilation = pair(opts.dilation, 1, op, 'dilation');
    this.padding = opts.padding ?? 0;
    this.pads = resolvePadding(this.padding, this.kernelSize, this.stride, this.dilation, op);
    this.fit = checkFit(opts.fit, op);
    const hasBias = biasFlag(opts.bias, op);
    this.grid = convWindow(this.inputSize, this.kernelSize, this.stride, this.pads, this.dilation, this.fit, op).out;
    const fanIn = inChannels * this.kernelSize[0] * this.kernelSize[1];
    this.weight = new Parameter(kaimingNormal([...this.grid, outChannels, inChannels, ...this.kernelSize], { fanIn }));
    this.bias = hasBias ? new Parameter(zeros([outChannels, ...this.grid])) : null;
    this.configArgs = [inChannels, outChannels, kernelSize, { ...opts }];
  }

  forward(x: Tensor): Tensor {
    if (x instanceof Tensor && x.ndim === 4) {
      if (x.shape[1] !== this.inChannels) {
        throw new ConvkitError(`expected ${this.inChannels} input channels, got ${x.shape[1]} (input ${fmtShape(x.shape)})`);
      }
      this.checkSize([x.shape[2]!, x.shape[3]!], x.shape);
    }
    return locallyConnected2d(x, this.weight, this.bias, { stride: this.stride, padding: this.pads, dilation: this.dilation, fit: this.fit });
  }

  private checkSize(size: readonly number[], shape: readonly number[]): void {
    if (size[0] !== this.inputSize[0] || size[1] !== this.inputSize[1]) {
      throw new ConvkitError(
        `expected a ${this.inputSize[0]}x${this.inputSize[1]} input (the inputSize the layer was built for), got ${size[0]}x${size[1]} (input ${fmtShape(shape)})`,
      );
    }
  }

  /** [N, C, H, W] -> [N, K, outH, outW] (or without N); H, W must be the inputSize. */
  outputShape(inputShape: readonly number[]): number[] {
    const { lead, size } = spatialInput(inputShape, this.inChannels, 'LocallyConnected2d');
    this.checkSize(size, inputShape);
    return [...lead, this.outChannels, ...this.grid];
  }

  override describe(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize=${describePair(this.kernelSize)}`, `inputSize=${describePair(this.inputSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${describePair(this.stride)}`);
    if (this.padding !== 0) parts.push(`padding=${typeof this.padding === 'string' ? `'${this.padding}'` : JSON.stringify(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${describePair(this.dilation)}`);
    if (!this.bias) parts.push('bias=false');
    if (this.fit !== 'strict') parts.push(`fit='${this.fit}'`);
    return `LocallyConnected2d(${parts.join(', ')})`;
  }
}

register('LocallyConnected2d', LocallyConnected2d);
