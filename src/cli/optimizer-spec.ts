import { ConvkitError } from '../tensor/errors.js';
import type { Parameter } from '../nn/parameter.js';
import { SGD } from '../optim/sgd.js';
import { Adagrad } from '../optim/adagrad.js';
import { RMSprop } from '../optim/rmsprop.js';
import { Adam, AdamW } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { CosineAnnealingLR, StepLR, type LRScheduler } from '../optim/lr-scheduler.js';

// The names `summary --optimizer` sizes the memory of, so one list serves both commands.
export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const;
export const SCHEDULES = ['none', 'step', 'cosine'] as const;

/** The CLI's optimizer names -> optimizers, with defaults that train the zoo's small nets well. */
export function makeOptimizer(
  name: string,
  params: Parameter[],
  flags: { lr?: number; momentum?: number; weightDecay: number },
): Optimizer {
  const weightDecay = flags.weightDecay;
  switch (name) {
    case 'sgd':
      return new SGD(params, { lr: flags.lr ?? 0.01, momentum: flags.momentum ?? 0, weightDecay });
    case 'momentum':
      return new SGD(params, { lr: flags.lr ?? 0.01, momentum: flags.momentum ?? 0.9, weightDecay });
    case 'nesterov':
      return new SGD(params, { lr: flags.lr ?? 0.01, momentum: flags.momentum ?? 0.9, nesterov: true, weightDecay });
    case 'adagrad':
      return new Adagrad(params, { lr: flags.lr ?? 0.01, weightDecay });
    case 'rmsprop':
      return new RMSprop(params, { lr: flags.lr ?? 0.001, momentum: flags.momentum ?? 0, weightDecay });
    case 'adam':
      return new Adam(params, { lr: flags.lr ?? 0.001, weightDecay });
    case 'adamw':
      // --weight-decay is the decoupled decay here (w *= 1 - lr * wd each step).
      return new AdamW(params, { lr: flags.lr ?? 0.001, weightDecay });
    default:
      throw new ConvkitError(`unknown optimizer '${name}'; choose one of ${OPTIMIZERS.join(', ')}`);
  }
}

/** Per-epoch schedules: 'step' divides the rate by 10 after each third of training; 'cosine' anneals to 0. */
export function makeScheduler(name: string, optimizer: Optimizer, epochs: number): LRScheduler | undefined {
  switch (name) {
    case 'none':
      return undefined;
    case 'step':
      return new StepLR(optimizer, { stepSize: Math.max(1, Math.ceil(epochs / 3)), gamma: 0.1 });
    case 'cosine':
      return new CosineAnnealingLR(optimizer, { tMax: epochs });
    default:
      throw new ConvkitError(`unknown schedule '${name}'; choose none, step or cosine`);
  }
}
