import type { Tensor } from '../tensor/tensor.js';
import { ConvkitError } from '../tensor/errors.js';
import { logSoftmax } from '../ops/softmax.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** log(softmax(x)) along dim, computed stably; pair it with NLL loss. */
export class LogSoftmax extends ElementwiseLayer {
  readonly dim: number;

  constructor(dim: number) {
    super();
    if (!Number.isInteger(dim)) {
      throw new ConvkitError(`LogSoftmax: dim must be an integer (e.g. 1 for scores [N, C]), got ${JSON.stringify(dim)}`);
    }
    this.dim = dim;
    this.configArgs = [dim];
  }

  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }

  override describe(): string {
    return `LogSoftmax(dim=${this.dim})`;
  }
}

register('LogSoftmax', LogSoftmax);
