import type { Tensor } from '../tensor/tensor.js';
import { tanh } from '../ops/activations.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** The hyperbolic tangent. */
export class Tanh extends ElementwiseLayer {
  constructor() {
    super();
    this.configArgs = [];
  }

  forward(x: Tensor): Tensor {
    return tanh(x);
  }

  override describe(): string {
    return 'Tanh()';
  }
}

register('Tanh', Tanh);
