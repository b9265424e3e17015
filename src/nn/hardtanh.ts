import type { Tensor } from '../tensor/tensor.js';
import { hardtanh } from '../ops/activations.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { ConvkitError } from '../tensor/errors.js';
import { ElementwiseLayer, finiteOption } from './elementwise-layer.js';
import { register } from './registry.js';

/** x clipped to [minVal, maxVal] (default [-1, 1]). */
export class Hardtanh extends ElementwiseLayer {
  readonly minVal: number;
  readonly maxVal: number;

  constructor(opts: { minVal?: number; maxVal?: number } = {}) {
    super();
    checkOptionNames(opts, ['minVal', 'maxVal'], 'Hardtanh');
    this.minVal = finiteOption(opts.minVal, -1, 'Hardtanh', 'minVal');
    this.maxVal = finiteOption(opts.maxVal, 1, 'Hardtanh', 'maxVal');
    if (this.minVal > this.maxVal) {
      throw new ConvkitError(`Hardtanh: minVal (${this.minVal}) must not be greater than maxVal (${this.maxVal})`);
    }
    this.configArgs = [{ ...opts }];
  }

  forward(x: Tensor): Tensor {
    return hardtanh(x, { minVal: this.minVal, maxVal: this.maxVal });
  }

  override describe(): string {
    return `Hardtanh(minVal=${this.minVal}, maxVal=${this.maxVal})`;
  }
}

register('Hardtanh', Hardtanh);
