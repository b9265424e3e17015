import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { multiMarginLoss, type MultiMarginLossOptions } from '../losses/multi-margin-loss.js';
import { checkReduction } from '../losses/loss-args.js';
import { lossWeight } from './loss-weight.js';
import { Module } from './module.js';
import { register } from './registry.js';

/** Options of `MultiMarginLoss`; `weight` may be a plain array. */
export interface MultiMarginLossLayerOptions extends Omit<MultiMarginLossOptions, 'weight'> {
  weight?: Tensor | readonly number[] | null;
}

/** The multiclass SVM (hinge) loss as a module. See F.multiMarginLoss. */
export class MultiMarginLoss extends Module {
  readonly options: MultiMarginLossOptions;

  constructor(opts: MultiMarginLossLayerOptions = {}) {
    super();
    checkOptionNames(opts, ['p', 'margin', 'weight', 'reduction'], 'MultiMarginLoss');
    checkReduction(opts.reduction ?? 'mean', 'MultiMarginLoss');
    const w = lossWeight(opts.weight, 'MultiMarginLoss');
    if (w.tensor) this.registerBuffer('weight', w.tensor);
    this.options = { ...opts, weight: w.tensor };
    this.configArgs = [{ ...opts, weight: w.values ?? undefined }];
  }

  forward(scores: Tensor, target: Tensor): Tensor {
    return multiMarginLoss(scores, target, this.options);
  }

  override describe(): string {
    const o = this.options;
    const parts = [`p=${o.p ?? 1}`, `margin=${o.margin ?? 1}`];
    if (o.reduction && o.reduction !== 'mean') parts.push(`reduction='${o.reduction}'`);
    if (o.weight) parts.push('weight');
    return `MultiMarginLoss(${parts.join(', ')})`;
  }
}

register('MultiMarginLoss', MultiMarginLoss);
