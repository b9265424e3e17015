import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { flatten, flattenShape, type FlattenOptions } from '../ops/flatten.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { Module } from './module.js';
import { register } from './registry.js';

/** Merges dimensions startDim..endDim (default 1..-1): [N, C, H, W] -> [N, C*H*W] before the FC layers. */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(opts: FlattenOptions = {}) {
    super();
    checkOptionNames(opts, ['startDim', 'endDim'], 'Flatten');
    this.startDim = opts.startDim ?? 1;
    this.endDim = opts.endDim ?? -1;
    for (const [name, v] of [['startDim', this.startDim], ['endDim', this.endDim]] as const) {
      if (!Number.isInteger(v)) throw new ConvkitError(`Flatten: ${name} must be an integer, got ${JSON.stringify(v)}`);
    }
    this.configArgs = [{ ...opts }];
  }

  forward(x: Tensor): Tensor {
    return flatten(x, { startDim: this.startDim, endDim: this.endDim });
  }

  /** The output shape: dimensions startDim..endDim multiplied into one. */
  outputShape(inputShape: readonly number[]): number[] {
    return flattenShape(inputShape, { startDim: this.startDim, endDim: this.endDim }, 'Flatten');
  }

  override describe(): string {
    return this.startDim === 1 && this.endDim === -1 ? 'Flatten()' : `Flatten(startDim=${this.startDim}, endDim=${this.endDim})`;
  }
}

register('Flatten', Flatten);
