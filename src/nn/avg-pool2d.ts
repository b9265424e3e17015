import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { avgPool2d, type AvgPool2dOptions } from '../ops/avg-pool2d.js';
import { checkOptionNames } from '../ops/conv-args.js';
import type { Fit, Pair } from '../ops/geometry.js';
import { describePool, pooledShape, poolParams, type PoolParams } from '../ops/pool-window.js';
import { Module } from './module.js';
import { register } from './registry.js';

const OPTIONS = ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride', 'fit'];

/** Average pooling layer (no parameters); the rules are F.avgPool2d's, which are PyTorch's. */
export class AvgPool2d extends Module {
  readonly params: PoolParams;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: Pair, opts: AvgPool2dOptions = {}) {
    super();
    const op = 'AvgPool2d';
    checkOptionNames(opts, OPTIONS, op);
    this.params = poolParams(op, kernelSize, opts, { padding: true, dilation: false });
    this.countIncludePad = opts.countIncludePad ?? true;
    this.divisorOverride = opts.divisorOverride ?? null;
    if (typeof this.countIncludePad !== 'boolean') {
      throw new ConvkitError(`${op}: countIncludePad must be true or false, got ${JSON.stringify(opts.countIncludePad)}`);
    }
    const d = this.divisorOverride;
    if (d !== null && (typeof d !== 'number' || !Number.isInteger(d) || d === 0)) {
      throw new ConvkitError(`${op}: divisorOverride must be a non-zero integer (or null for the usual divisor), got ${JSON.stringify(d)}`);
    }
    this.configArgs = [kernelSize, { ...opts }];
  }

  forward(x: Tensor): Tensor {
    const p = this.params;
    return avgPool2d(x, p.kernel, {
      stride: p.stride,
      padding: p.padding,
      fit: p.fit,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  // Read like Conv2d's, so that receptive-field and summary code can treat CONV and POOL alike.
  get kernelSize(): [number, number] {
    return this.params.kernel;
  }
  get stride(): [number, number] {
    return this.params.stride;
  }
  get dilation(): [number, number] {
    return this.params.dilation;
  }
  /** [top, bottom, left, right] */
  get pads(): [number, number, number, number] {
    const [h, w] = this.params.padding;
    return [h, h, w, w];
  }
  get fit(): Fit {
    return this.params.fit;
  }

  /** [N, C, H, W] -> [N, C, outH, outW] (or [C, H, W] -> [C, outH, outW]) without computing anything. */
  outputShape(inputShape: readonly number[]): number[] {
    return pooledShape(inputShape, 'AvgPool2d', this.params);
  }

  override describe(): string {
    const extra = [
      ...(this.countIncludePad ? [] : ['countIncludePad=false']),
      ...(this.divisorOverride === null ? [] : [`divisorOverride=${this.divisorOverride}`]),
    ];
    return `AvgPool2d(${[describePool(this.params), ...extra].join(', ')})`;
  }
}

register('AvgPool2d', AvgPool2d);
