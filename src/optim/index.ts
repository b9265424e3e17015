/**
 * `ck.optim`: optimizers with PyTorch's update rules and defaults (camelCased options),
 * learning-rate schedules and gradient clipping.
 */
export {
  Optimizer,
  type BaseHyper,
  type HyperValue,
  type ParamGroup,
  type ParamGroupInput,
  type Params,
  type ParamState,
  type StateValue,
  type SavedParamGroup,
  type OptimizerStateDict,
} from './optimizer.js';
export { SGD, type SGDOptions, type SGDHyper } from './sgd.js';
export { Adagrad, type AdagradOptions, type AdagradHyper } from './adagrad.js';
export { RMSprop, type RMSpropOptions, type RMSpropHyper } from './rmsprop.js';
export { Adam, AdamW, type AdamOptions, type AdamHyper } from './adam.js';
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
  LambdaLR,
  type LRSchedulerStateDict,
  type ScheduleValue,
  type StepLROptions,
  type MultiStepLROptions,
  type ExponentialLROptions,
  type CosineAnnealingLROptions,
  type LinearLROptions,
  type LambdaLROptions,
} from './lr-scheduler.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions, type ReduceLROnPlateauStateDict } from './reduce-lr-on-plateau.js';
export { LinearWarmup, type LinearWarmupOptions, type LinearWarmupStateDict, type EpochSchedule } from './warmup.js';
export { clipGradNorm, type ClipGradNormOptions } from './clip-grad.js';
