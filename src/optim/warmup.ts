import { ConvkitError } from '../tensor/errors.js';
import { Optimizer } from './optimizer.js';

/** What the warm-up hands over to: an epoch schedule (ck.optim's LRScheduler or ReduceLROnPlateau). */
export interface EpochSchedule {
  /** Advances one epoch (a plateau schedule reads the metric). */
  step(metric?: number): void;
  /** The schedule's state, for checkpoints. */
  stateDict(): unknown;
  /** Restores a state from `stateDict`. */
  loadStateDict(state: never): void;
}

/** Options of `LinearWarmup`. */
export interface LinearWarmupOptions {
  /** Warm-up epochs (>= 1). */
  epochs: number;
  /** Optimizer steps per epoch (batches per epoch, >= 1). */
  stepsPerEpoch: number;
  /** The schedule after the warm-up (none: the base lr stays). */
  then?: EpochSchedule;
}

/** What `LinearWarmup.stateDict` saves: where the warm-up is, and the schedule after it. */
export interface LinearWarmupStateDict {
  type: 'LinearWarmup';
  /** Optimizer steps taken. */
  stepCount: number;
  /** Epochs ended. */
  epochCount: number;
  baseLrs: number[];
  epochs: number;
  stepsPerEpoch: number;
  then: unknown;
}

/**
 * Linear warm-up of the learning rate, step by step, followed by an epoch schedule.
 *
 * With W = warm-up epochs x steps per epoch and `base` each group's lr when the warm-up is
 * made, optimizer step s (0-based, counted over the whole run) uses
 *
 *     lr(s) = base * (s + 1) / W        for s < W   (from base / W up to base)
 *
 * and from epoch `epochs` on (0-based) the schedule `then` takes over, counting its epochs
 * from 0 at the end of the warm-up: a cosine schedule made with tMax = total epochs - warm-up
 * epochs anneals over the remaining epochs; a plateau schedule starts watching then. Call
 * `stepBatch()` after every optimizer step and `step(metric)` after every epoch (the Trainer
 * does both). Making it sets the lr of step 0.
 */
export class LinearWarmup {
  readonly optimizer: Optimizer;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly then: EpochSchedule | undefined;
  baseLrs: number[];
  stepCount = 0;
  epochCount = 0;

  constructor(optimizer: Optimizer, options: LinearWarmupOptions) {
    if (!(optimizer instanceof Optimizer)) throw new ConvkitError(`LinearWarmup: the first argument must be an optimizer, got ${String(optimizer)}`);
    const { epochs, stepsPerEpoch } = options;
    if (!(Number.isInteger(epochs) && epochs >= 1)) throw new ConvkitError(`LinearWarmup: epochs must be an integer >= 1, got ${epochs}`);
    if (!(Number.isInteger(stepsPerEpoch) && stepsPerEpoch >= 1)) throw new ConvkitError(`LinearWarmup: stepsPerEpoch must be an integer >= 1, got ${stepsPerEpoch}`);
    this.optimizer = optimizer;
    this.epochs = epochs;
    this.stepsPerEpoch = stepsPerEpoch;
    this.then = options.then;
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.setLr();
  }

  /** Optimizer steps of warm-up (W). */
  get warmupSteps(): number {
    return this.epochs * this.stepsPerEpoch;
  }

  /** The multiplier of the base lr at optimizer step s: (s + 1) / W during the warm-up, then 1. */
  static factor(s: number, warmupSteps: number): number {
    return s < warmupSteps ? (s + 1) / warmupSteps : 1;
  }

  private setLr(): void {
    if (this.stepCount > this.warmupSteps) return; // the schedule after it owns the lr
    const f = LinearWarmup.factor(this.stepCount, this.warmupSteps);
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.baseLrs[i]! * f));
  }

  /** After an optimizer step: sets the lr of the next one. */
  stepBatch(): void {
    this.stepCount++;
    this.setLr();
  }

  /** After an epoch: the schedule after the warm-up steps once the warm-up epochs are over. */
  step(metric?: number): void {
    this.epochCount++;
    if (this.epochCount > this.epochs) this.then?.step(metric);
  }

  /** Each group's lr now. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The warm-up's position and the following schedule's state, for checkpoints. */
  stateDict(): LinearWarmupStateDict {
    return {
      type: 'LinearWarmup',
      stepCount: this.stepCount,
      epochCount: this.epochCount,
      baseLrs: [...this.baseLrs],
      epochs: this.epochs,
      stepsPerEpoch: this.stepsPerEpoch,
      then: this.then?.stateDict() ?? null,
    };
  }

  /** Restores the position (the optimizer's own state restores the lr in effect). */
  loadStateDict(state: LinearWarmupStateDict): void {
    const fail = (msg: string): never => {
      throw new ConvkitError(`LinearWarmup.loadStateDict: ${msg}`);
    };
    if (state?.type !== 'LinearWarmup') fail(`the state is from a ${String(state?.type)} schedule, not LinearWarmup`);
    if (state.epochs !== this.epochs || state.stepsPerEpoch !== this.stepsPerEpoch) {
      fail(`the state is of a warm-up over ${state.epochs} epochs of ${state.stepsPerEpoch} steps, this one is over ${this.epochs} of ${this.stepsPerEpoch}`);
    }
    for (const key of ['stepCount', 'epochCount'] as const) {
      if (!Number.isInteger(state[key]) || state[key] < 0) fail(`${key} must be an integer >= 0, got ${String(state[key])}`);
    }
    if (!Array.isArray(state.baseLrs) || state.baseLrs.length !== this.optimizer.paramGroups.length) fail(`the state has ${state.baseLrs?.length} base lrs for ${this.optimizer.paramGroups.length} param groups`);
    if (!!this.then !== (state.then !== null && state.then !== undefined)) fail(`the state was saved ${this.then ? 'without' : 'with'} a schedule after the warm-up`);
    this.then?.loadStateDict(state.then as never);
    this.stepCount = state.stepCount;
    this.epochCount = state.epochCount;
    this.baseLrs = [...state.baseLrs];
  }
}
