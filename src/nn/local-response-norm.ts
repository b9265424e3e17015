import type { LRNAttrs } from '../backend/kernels.js';
import type { Tensor } from '../tensor/tensor.js';
import { localResponseNorm, lrnAttrs, type LocalResponseNormOptions } from '../ops/local-response-norm.js';
import { Module } from './module.js';
import { register } from './registry.js';

/**
 * AlexNet's local response normalization across `size` neighbouring channels (no
 * parameters). AlexNet used size 5, alpha 1e-4, beta 0.75, k 2.
 */
export class LocalResponseNorm extends Module {
  readonly attrs: LRNAttrs;

  constructor(size: number, opts: LocalResponseNormOptions = {}) {
    super();
    this.attrs = lrnAttrs(size, opts, 'LocalResponseNorm');
    this.configArgs = [size, { ...opts }];
  }

  forward(x: Tensor): Tensor {
    const { size, alpha, beta, k } = this.attrs;
    return localResponseNorm(x, size, { alpha, beta, k });
  }

  /** The same shape: LRN normalizes in place. */
  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override describe(): string {
    const { size, alpha, beta, k } = this.attrs;
    return `LocalResponseNorm(${size}, alpha=${alpha}, beta=${beta}, k=${k})`;
  }
}

register('LocalResponseNorm', LocalResponseNorm);
