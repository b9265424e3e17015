import type { Tensor } from '../tensor/tensor.js';
import { ConvkitError } from '../tensor/errors.js';
import { softmax } from '../ops/softmax.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** exp(x) / sum(exp(x)) along dim (probabilities that sum to 1). */
export class Softmax extends ElementwiseLayer {
  readonly dim: number;

  constructor(dim: number) {
    super();
    if (!Number.isInteger(dim)) {
      throw new ConvkitError(`Softmax: dim must be an integer (e.g. 1 for scores [N, C]), got ${JSON.stringify(dim)}`);
    }
    this.dim = dim;
    this.configArgs = [dim];
  }

  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  override describe(): string {
    return `Softmax(dim=${this.dim})`;
  }
}

register('Softmax', Softmax);
