import type { Tensor } from '../tensor/tensor.js';
import { relu } from '../ops/activations.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** The RELU layer: max(0, x). `inplace` overwrites the input (see F.relu). */
export class ReLU extends ElementwiseLayer {
  readonly inplace: boolean;

  constructor(opts: { inplace?: boolean } = {}) {
    super();
    checkOptionNames(opts, ['inplace'], 'ReLU');
    this.inplace = opts.inplace ?? false;
    this.configArgs = [{ ...opts }];
  }

  forward(x: Tensor): Tensor {
    return relu(x, { inplace: this.inplace });
  }

  override describe(): string {
    return this.inplace ? 'ReLU(inplace=true)' : 'ReLU()';
  }
}

register('ReLU', ReLU);
