import type { Tensor } from '../tensor/tensor.js';
import { elu } from '../ops/activations.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { ElementwiseLayer, finiteOption } from './elementwise-layer.js';
import { register } from './registry.js';

/** x where x > 0, else alpha * (e^x - 1) (default alpha 1). */
export class ELU extends ElementwiseLayer {
  readonly alpha: number;

  constructor(opts: { alpha?: number } = {}) {
    super();
    checkOptionNames(opts, ['alpha'], 'ELU');
    this.alpha = finiteOption(opts.alpha, 1, 'ELU', 'alpha');
    this.configArgs = [{ ...opts }];
  }

  forward(x: Tensor): Tensor {
    return elu(x, { alpha: this.alpha });
  }

  override describe(): string {
    return `ELU(alpha=${this.alpha})`;
  }
}

register('ELU', ELU);
