import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from '../ops/conv-args.js';
import type { Fit, Pair } from '../ops/geometry.js';
import { lpPool2d, type LpPool2dOptions } from '../ops/lp-pool2d.js';
import { describePool, pooledShape, poolParams, type PoolParams } from '../ops/pool-window.js';
import { Module } from './module.js';
import { register } from './registry.js';

/** Power-average pooling, (sum of x^p over the window)^(1/p); normType 2 is L2 pooling. */
export class LPPool2d extends Module {
  readonly normType: number;
  readonly params: PoolParams;

  constructor(normType: number, kernelSize: Pair, opts: LpPool2dOptions = {}) {
    super();
    const op = 'LPPool2d';
    checkOptionNames(opts, ['stride', 'ceilMode', 'fit'], op);
    if (typeof normType !== 'number' || !Number.isFinite(normType) || normType <= 0) {
      throw new ConvkitError(`${op}: normType must be a positive finite number (2 for L2 pooling), got ${JSON.stringify(normType)}`);
    }
    this.normType = normType;
    this.params = poolParams(op, kernelSize, opts, { padding: false, dilation: false });
    this.configArgs = [normType, kernelSize, { ...opts }];
  }

  forward(x: Tensor): Tensor {
    return lpPool2d(x, this.normType, this.params.kernel, { stride: this.params.stride, fit: this.params.fit });
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
    return pooledShape(inputShape, 'LPPool2d', this.params);
  }

  override describe(): string {
    return `LPPool2d(normType=${this.normType}, ${describePool(this.params)})`;
  }
}

register('LPPool2d', LPPool2d);
