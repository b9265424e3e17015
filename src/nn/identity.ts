import type { Tensor } from '../tensor/tensor.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** Returns its input unchanged: a placeholder (e.g. a removed classifier head). */
export class Identity extends ElementwiseLayer {
  constructor() {
    super();
    this.configArgs = [];
  }

  forward(x: Tensor): Tensor {
    return x;
  }

  override describe(): string {
    return 'Identity()';
  }
}

register('Identity', Identity);
