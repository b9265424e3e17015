import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { crossEntropy, type CrossEntropyOptions } from '../losses/cross-entropy.js';
import { checkReduction } from '../losses/loss-args.js';
import { lossWeight } from './loss-weight.js';
import { Module } from './module.js';
import { register } from './registry.js';

/** Options of `CrossEntropyLoss`; `weight` may be a plain array. */
export interface CrossEntropyLossOptions extends Omit<CrossEntropyOptions, 'weight'> {
  weight?: Tensor | readonly number[] | null;
}

/** Softmax cross-entropy on logits as a module: `loss = criterion.forward(logits, target)`. See F.crossEntropy. */
export class CrossEntropyLoss extends Module {
  readonly options: CrossEntropyOptions;

  constructor(opts: CrossEntropyLossOptions = {}) {
    super();
    checkOptionNames(opts, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing'], 'CrossEntropyLoss');
    checkReduction(opts.reduction ?? 'mean', 'CrossEntropyLoss');
    const w = lossWeight(opts.weight, 'CrossEntropyLoss');
    // The weight is state saved with the module, as PyTorch's registered buffer.
    if (w.tensor) this.registerBuffer('weight', w.tensor);
    this.options = { ...opts, weight: w.tensor };
    this.configArgs = [{ ...opts, weight: w.values ?? undefined }];
  }

  forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, this.options);
  }

  override describe(): string {
    const o = this.options;
    const parts: string[] = [];
    if (o.reduction && o.reduction !== 'mean') parts.push(`reduction='${o.reduction}'`);
    if (o.labelSmoothing) parts.push(`labelSmoothing=${o.labelSmoothing}`);
    if (o.ignoreIndex !== undefined && o.ignoreIndex !== -100) parts.push(`ignoreIndex=${o.ignoreIndex}`);
    if (o.weight) parts.push('weight');
    return `CrossEntropyLoss(${parts.join(', ')})`;
  }
}

register('CrossEntropyLoss', CrossEntropyLoss);
