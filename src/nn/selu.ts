import type { Tensor } from '../tensor/tensor.js';
import { selu } from '../ops/activations.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** scale * elu(x, alpha) with the self-normalizing constants. */
export class SELU extends ElementwiseLayer {
  constructor() {
    super();
    this.configArgs = [];
  }

  forward(x: Tensor): Tensor {
    return selu(x);
  }

  override describe(): string {
    return 'SELU()';
  }
}

register('SELU', SELU);
