import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from '../ops/conv-args.js';
import type { Pair } from '../ops/geometry.js';
import { lpPool2d, type LpPool2dOptions } from '../ops/lp-pool2d.js';
import { describePool, poolParams, type PoolParams } from '../ops/pool-window.js';
import { PoolLayer } from './pool-layer.js';
import { register } from './registry.js';

/** Power-average pooling, (sum of x^p over the window)^(1/p); normType 2 is L2 pooling. */
export class LPPool2d extends PoolLayer {
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

  override describe(): string {
    return `LPPool2d(normType=${this.normType}, ${describePool(this.params)})`;
  }
}

register('LPPool2d', LPPool2d);
