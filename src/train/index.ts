export { Trainer, evaluate, evaluateAsync, TrainingDivergedError } from './trainer.js';
export type { EvaluateOptions } from './trainer.js';
export type { Batch, BatchSource, OptimizerLike, SchedulerLike, LossFn, EarlyStopping, TrainerOptions, EvalResult, FitResult } from './trainer.js';
export { topKCorrect, EpochMeter } from './metrics.js';
export type { StepEvent, EpochEvent, TrainerCallbacks } from './progress.js';
export { ModelEma, type ModelEmaOptions, type ModelEmaStateDict } from './ema.js';
export { ttaForward, flipWidth } from './tta.js';
export { serializeCheckpoint, deserializeCheckpoint, type TrainingState } from './checkpoint.js';
