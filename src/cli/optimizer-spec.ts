import { ConvkitError } from '../tensor/errors.js';
import type { Parameter } from '../nn/parameter.js';
import { SGD } from '../optim/sgd.js';
import { Adagrad } from '../optim/adagrad.js';
import { RMSprop } from '../optim/rmsprop.js';
import { Adam, AdamW } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { CosineAnnealingLR, StepLR } from '../optim/lr-scheduler.js';
import { ReduceLROnPlateau } from '../optim/reduce-lr-on-plateau.js';
import { LinearWarmup, type EpochSchedule } from '../optim/warmup.js';

// The names `summary --optimizer` sizes the memory of, so one list serves both commands.
export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const;
export const SCHEDULES = ['none', 'step', 'cosine'] as const;
/** What `convkit train --schedule` takes: the closed-form schedules (which export-pytorch writes) and plateau. */
export const TRAIN_SCHEDULES = [...SCHEDULES, 'plateau'] as const;

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
      if (flags.momentum === 0) throw new ConvkitError('--optimizer nesterov needs --momentum above 0 (e.g. 0.9); for plain SGD use --optimizer sgd');
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

/** How a schedule is laid out: warm-up epochs first, then the schedule over the rest. */
export interface ScheduleSpec {
  epochs: number;
  /** Warm-up epochs (0: none). */
  warmup?: number;
  /** Optimizer steps per epoch (needed with a warm-up). */
  stepsPerEpoch?: number;
  plateauPatience?: number;
  plateauFactor?: number;
}

/**
 * The learning rate over a run. Per epoch: 'step' divides the rate by 10 after each third of
 * the epochs after the warm-up; 'cosine' anneals to 0 over them (tMax = epochs - warmup);
 * 'plateau' divides it by 1 / plateauFactor when the validation loss has not improved (by 1e-4
 * relative) for more than plateauPatience epochs (ReduceLROnPlateau). With `warmup` N > 0,
 * step s (0-based) of the first N epochs runs at lr * (s + 1) / (N * stepsPerEpoch), and the
 * schedule takes over after them (LinearWarmup).
 */
export function makeScheduler(name: string, optimizer: Optimizer, spec: ScheduleSpec | number): EpochSchedule | undefined {
  const { epochs, warmup = 0, stepsPerEpoch = 1, plateauPatience = 10, plateauFactor = 0.1 } = typeof spec === 'number' ? { epochs: spec } : spec;
  const rest = epochs - warmup;
  let schedule: EpochSchedule | undefined;
  switch (name) {
    case 'none':
      schedule = undefined;
      break;
    case 'step':
      schedule = new StepLR(optimizer, { stepSize: Math.max(1, Math.ceil(rest / 3)), gamma: 0.1 });
      break;
    case 'cosine':
      schedule = new CosineAnnealingLR(optimizer, { tMax: Math.max(1, rest) });
      break;
    case 'plateau':
      schedule = new ReduceLROnPlateau(optimizer, { patience: plateauPatience, factor: plateauFactor });
      break;
    default:
      throw new ConvkitError(`unknown schedule '${name}'; choose one of ${TRAIN_SCHEDULES.join(', ')}`);
  }
  if (warmup > 0) return new LinearWarmup(optimizer, { epochs: warmup, stepsPerEpoch, ...(schedule ? { then: schedule } : {}) });
  return schedule;
}
