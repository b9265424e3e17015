import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { avgPool2d, type AvgPool2dOptions } from '../ops/avg-pool2d.js';
import { checkOptionNames } from '../ops/conv-args.js';
import type { Pair } from '../ops/geometry.js';
import { describePool, poolParams, type PoolParams } from '../ops/pool-window.js';
import { PoolLayer } from './pool-layer.js';
import { register } from './registry.js';

const OPTIONS = ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride', 'fit'];

/** Average pooling layer (no parameters); the rules are F.avgPool2d's, which are PyTorch's. */
export class AvgPool2d extends PoolLayer {
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

  override describe(): string {
    const extra = [
      ...(this.countIncludePad ? [] : ['countIncludePad=false']),
      ...(this.divisorOverride === null ? [] : [`divisorOverride=${this.divisorOverride}`]),
    ];
    return `AvgPool2d(${[describePool(this.params), ...extra].join(', ')})`;
  }
}

register('AvgPool2d', AvgPool2d);
