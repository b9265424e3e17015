import type { Tensor } from '../tensor/tensor.js';
import { leakyRelu } from '../ops/activations.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { ElementwiseLayer, finiteOption } from './elementwise-layer.js';
import { register } from './registry.js';

/** x where x > 0, else negativeSlope * x (default 0.01). */
export class LeakyReLU extends ElementwiseLayer {
  readonly negativeSlope: number;

  constructor(opts: { negativeSlope?: number } = {}) {
    super();
    checkOptionNames(opts, ['negativeSlope'], 'LeakyReLU');
    this.negativeSlope = finiteOption(opts.negativeSlope, 0.01, 'LeakyReLU', 'negativeSlope');
    this.configArgs = [{ ...opts }];
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, { negativeSlope: this.negativeSlope });
  }

  override describe(): string {
    return `LeakyReLU(negativeSlope=${this.negativeSlope})`;
  }
}

register('LeakyReLU', LeakyReLU);
