import type { Tensor } from '../tensor/tensor.js';
import { sigmoid } from '../ops/activations.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** 1 / (1 + e^-x). */
export class Sigmoid extends ElementwiseLayer {
  constructor() {
    super();
    this.configArgs = [];
  }

  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }

  override describe(): string {
    return 'Sigmoid()';
  }
}

register('Sigmoid', Sigmoid);
