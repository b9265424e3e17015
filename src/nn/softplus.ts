import type { Tensor } from '../tensor/tensor.js';
import { softplus } from '../ops/activations.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { ConvkitError } from '../tensor/errors.js';
import { ElementwiseLayer, finiteOption } from './elementwise-layer.js';
import { register } from './registry.js';

/** (1/beta) log(1 + e^(beta x)), a smooth ReLU; linear above beta * x > threshold. */
export class Softplus extends ElementwiseLayer {
  readonly beta: number;
  readonly threshold: number;

  constructor(opts: { beta?: number; threshold?: number } = {}) {
    super();
    checkOptionNames(opts, ['beta', 'threshold'], 'Softplus');
    this.beta = finiteOption(opts.beta, 1, 'Softplus', 'beta');
    if (this.beta === 0) throw new ConvkitError('Softplus: beta must be non-zero (it divides the result), got 0');
    this.threshold = finiteOption(opts.threshold, 20, 'Softplus', 'threshold');
    this.configArgs = [{ ...opts }];
  }

  forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }

  override describe(): string {
    return `Softplus(beta=${this.beta}, threshold=${this.threshold})`;
  }
}

register('Softplus', Softplus);
