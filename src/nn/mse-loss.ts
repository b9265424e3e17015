import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from '../ops/conv-args.js';
import { mseLoss } from '../losses/mse-loss.js';
import { checkReduction, type Reduction } from '../losses/loss-args.js';
import { Module } from './module.js';
import { register } from './registry.js';

/** Mean squared error as a module. See F.mseLoss. */
export class MSELoss extends Module {
  readonly reduction: Reduction;

  constructor(opts: { reduction?: Reduction } = {}) {
    super();
    checkOptionNames(opts, ['reduction'], 'MSELoss');
    this.reduction = checkReduction(opts.reduction ?? 'mean', 'MSELoss');
    this.configArgs = [{ ...opts }];
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }

  override describe(): string {
    return this.reduction === 'mean' ? 'MSELoss()' : `MSELoss(reduction='${this.reduction}')`;
  }
}

register('MSELoss', MSELoss);
