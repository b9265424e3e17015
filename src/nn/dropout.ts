import type { Tensor } from '../tensor/tensor.js';
import { ConvkitError } from '../tensor/errors.js';
import { dropout } from '../ops/dropout.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/**
 * Inverted dropout while training (each element zeroed with probability p, survivors scaled
 * by 1/(1-p)); the identity after `eval()`. Masks come from the global seeded generator.
 */
export class Dropout extends ElementwiseLayer {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
      throw new ConvkitError(`Dropout: p must be in [0, 1) (the probability of zeroing an element), got ${JSON.stringify(p)}`);
    }
    this.p = p;
    this.configArgs = [p];
  }

  forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training });
  }

  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}

register('Dropout', Dropout);
