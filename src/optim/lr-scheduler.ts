import { ConvkitError } from '../tensor/errors.js';
import { Optimizer } from './optimizer.js';

/**
 * Learning-rate schedules, as torch.optim.lr_scheduler. Call `step()` once per epoch, after
 * the epoch's optimizer steps; it writes the new lr into every param group. Each schedule is
 * a closed form of the epoch and the group's lr when the schedule was made (its base lr), so
 * a value set by hand in between is overwritten at the next `step()`. Making the schedule
 * counts as epoch 0 (as in PyTorch), which already sets the lr for the first epoch.
 * One schedule per optimizer: two schedules on one optimizer each overwrite the other's lr.
 */

/** A schedule's option value as kept in its state dict. */
export type ScheduleValue = number | readonly number[];

/** A schedule's state, saved in checkpoints. */
export interface LRSchedulerStateDict {
  type: string;
  lastEpoch: number;
  baseLrs: number[];
  lastLrs: number[];
  options: { [key: string]: ScheduleValue };
}

/** The base of the learning-rate schedules: `step()` once per epoch sets each parameter group's lr from its base lr and the epoch. */
export abstract class LRScheduler<O extends object = object> {
  readonly optimizer: Optimizer;
  /** Each group's lr when the schedule was made. */
  baseLrs: number[];
  /** The epoch whose lr is in effect (0 after construction). */
  lastEpoch = -1;
  protected options: O;
  private lastLrs: number[] = [];

  protected constructor(
    readonly typeName: string,
    optimizer: Optimizer,
    options: O,
  ) {
    if (!(optimizer instanceof Optimizer)) {
      throw new ConvkitError(`${typeName}: the first argument must be an optimizer (e.g. new ck.optim.SGD(...)), got ${String(optimizer)}`);
    }
    this.optimizer = optimizer;
    this.validateOptions(options);
    this.options = { ...options };
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.step();
  }

  /** The lr of a group whose base lr is `baseLr`, at `epoch` (0, 1, ...). */
  protected abstract lrAt(baseLr: number, epoch: number): number;

  /** Throws a ConvkitError naming the bad option; runs before the first step and on load. */
  protected abstract validateOptions(options: O): void;

  /** Moves to the next epoch and sets every group's lr for it. */
  step(): void {
    this.lastEpoch++;
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.baseLrs.length) {
      throw new ConvkitError(
        `${this.typeName}: the optimizer has ${groups.length} param groups but the schedule was made for ${this.baseLrs.length}; ` +
          'make the schedule after adding every group',
      );
    }
    this.lastLrs = groups.map((g, i) => {
      g.lr = this.lrAt(this.baseLrs[i]!, this.lastEpoch);
      return g.lr;
    });
  }

  /** The lr of each group as last set by this schedule. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  /** The schedule's state (epoch, base and last lrs, options) for a checkpoint. */
  stateDict(): LRSchedulerStateDict {
    const options: { [key: string]: ScheduleValue } = {};
    for (const [key, value] of Object.entries(this.options)) {
      // Functions (LambdaLR's lrLambda) cannot be saved; the schedule is rebuilt with them.
      if (typeof value === 'number') options[key] = value;
      else if (Array.isArray(value)) options[key] = [...(value as number[])];
    }
    return { type: this.typeName, lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLrs: [...this.lastLrs], options };
  }

  /**
   * Restores the epoch counter, base lrs and options. As in PyTorch it does not touch the
   * optimizer: its own loadStateDict restores the lr in effect.
   */
  loadStateDict(state: LRSchedulerStateDict): void {
    const fail = (msg: string): never => {
      throw new ConvkitError(`${this.typeName}.loadStateDict: ${msg}`);
    };
    if (state?.type !== this.typeName) fail(`the state is from a ${String(state?.type)} schedule, not ${this.typeName}`);
    const n = this.optimizer.paramGroups.length;
    if (!Array.isArray(state.baseLrs) || state.baseLrs.length !== n) fail(`the state has ${state.baseLrs?.length} base lrs but the optimizer has ${n} param groups`);
    if (!Number.isInteger(state.lastEpoch) || state.lastEpoch < 0) fail(`lastEpoch must be an integer >= 0, got ${state.lastEpoch}`);
    const options = { ...this.options, ...state.options } as O;
    this.validateOptions(options);
    this.options = options;
    this.lastEpoch = state.lastEpoch;
    this.baseLrs = [...state.baseLrs];
    this.lastLrs = Array.isArray(state.lastLrs) ? [...state.lastLrs] : this.baseLrs.map((b) => this.lrAt(b, this.lastEpoch));
  }
}

// Checks shared by the schedules; messages name the schedule, the value and what is allowed.

function invalid(name: string, key: string, v: unknown, allowed: string): never {
  throw new ConvkitError(`${name}: invalid ${key} ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}; ${key} must be ${allowed}`);
}

function checkPositiveInt(name: string, key: string, v: unknown): void {
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) invalid(name, key, v, 'an integer >= 1');
}

function checkGamma(name: string, v: unknown): void {
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) invalid(name, 'gamma', v, 'a finite number > 0 (e.g. 0.1)');
}

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  gamma?: number;
}

/** lr = base * gamma^floor(epoch / stepSize): decay by gamma every stepSize epochs. */
export class StepLR extends LRScheduler<Required<StepLROptions>> {
  constructor(optimizer: Optimizer, options: StepLROptions) {
    super('StepLR', optimizer, { gamma: 0.1, ...options });
  }

  protected override validateOptions(o: Required<StepLROptions>): void {
    checkPositiveInt('StepLR', 'stepSize', o.stepSize);
    checkGamma('StepLR', o.gamma);
  }

  protected override lrAt(base: number, epoch: number): number {
    return base * this.options.gamma ** Math.floor(epoch / this.options.stepSize);
  }
}

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions {
  /** Epochs at which lr is multiplied by gamma, increasing. */
  milestones: readonly number[];
  gamma?: number;
}

/** lr = base * gamma^(number of milestones <= epoch). */
export class MultiStepLR extends LRScheduler<Required<MultiStepLROptions>> {
  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer, { gamma: 0.1, ...options });
  }

  protected override validateOptions(o: Required<MultiStepLROptions>): void {
    const m = o.milestones;
    const ok = Array.isArray(m) && m.every((x, i) => Number.isInteger(x) && x >= 0 && (i === 0 || x > m[i - 1]!));
    if (!ok) invalid('MultiStepLR', 'milestones', m, 'a list of increasing integers >= 0, e.g. [30, 80]');
    checkGamma('MultiStepLR', o.gamma);
  }

  protected override lrAt(base: number, epoch: number): number {
    let passed = 0;
    for (const m of this.options.milestones) if (m <= epoch) passed++;
    return base * this.options.gamma ** passed;
  }
}

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions {
  gamma: number;
}

/** lr = base * gamma^epoch. */
export class ExponentialLR extends LRScheduler<ExponentialLROptions> {
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer, { ...options });
  }

  protected override validateOptions(o: ExponentialLROptions): void {
    checkGamma('ExponentialLR', o.gamma);
  }

  protected override lrAt(base: number, epoch: number): number {
    return base * this.options.gamma ** epoch;
  }
}

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions {
  /** Epochs from base lr down to etaMin (half a cosine period). */
  tMax: number;
  etaMin?: number;
}

/**
 * lr = etaMin + (base - etaMin) * (1 + cos(pi * epoch / tMax)) / 2 (SGDR without restarts):
 * reaches etaMin at epoch tMax and, like PyTorch, rises again after it.
 */
export class CosineAnnealingLR extends LRScheduler<Required<CosineAnnealingLROptions>> {
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer, { etaMin: 0, ...options });
  }

  protected override validateOptions(o: Required<CosineAnnealingLROptions>): void {
    checkPositiveInt('CosineAnnealingLR', 'tMax', o.tMax);
    if (!(typeof o.etaMin === 'number' && o.etaMin >= 0 && Number.isFinite(o.etaMin))) {
      invalid('CosineAnnealingLR', 'etaMin', o.etaMin, 'a finite number >= 0');
    }
  }

  protected override lrAt(base: number, epoch: number): number {
    const { tMax, etaMin } = this.options;
    return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2;
  }
}

/** Options of `LinearLR`. */
export interface LinearLROptions {
  /** Multiplier of the base lr at epoch 0, in (0, 1]. */
  startFactor?: number;
  /** Multiplier reached at epoch totalIters and kept after, in [0, 1]. */
  endFactor?: number;
  totalIters?: number;
}

/**
 * lr = base * (startFactor + (endFactor - startFactor) * min(epoch, totalIters) / totalIters):
 * with the defaults, a linear warmup from base/3 to base over 5 epochs.
 */
export class LinearLR extends LRScheduler<Required<LinearLROptions>> {
  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer, { startFactor: 1 / 3, endFactor: 1, totalIters: 5, ...options });
  }

  protected override validateOptions(o: Required<LinearLROptions>): void {
    if (!(typeof o.startFactor === 'number' && o.startFactor > 0 && o.startFactor <= 1)) {
      invalid('LinearLR', 'startFactor', o.startFactor, 'in (0, 1]');
    }
    if (!(typeof o.endFactor === 'number' && o.endFactor >= 0 && o.endFactor <= 1)) {
      invalid('LinearLR', 'endFactor', o.endFactor, 'in [0, 1]');
    }
    checkPositiveInt('LinearLR', 'totalIters', o.totalIters);
  }

  protected override lrAt(base: number, epoch: number): number {
    const { startFactor, endFactor, totalIters } = this.options;
    return base * (startFactor + ((endFactor - startFactor) * Math.min(epoch, totalIters)) / totalIters);
  }
}

/** Options of `LambdaLR`. */
export interface LambdaLROptions {
  /** The multiplier of the base lr at an epoch, e.g. (e) => Math.min(1, (e + 1) / 5) for warmup. */
  lrLambda: (epoch: number) => number;
}

/** lr = base * lrLambda(epoch), for any schedule written as a function. */
export class LambdaLR extends LRScheduler<LambdaLROptions> {
  constructor(optimizer: Optimizer, options: LambdaLROptions) {
    super('LambdaLR', optimizer, { ...options });
  }

  protected override validateOptions(o: LambdaLROptions): void {
    if (typeof o.lrLambda !== 'function') invalid('LambdaLR', 'lrLambda', o.lrLambda, 'a function (epoch) => factor');
  }

  protected override lrAt(base: number, epoch: number): number {
    const f = this.options.lrLambda(epoch);
    if (!(typeof f === 'number' && f >= 0 && Number.isFinite(f))) {
      throw new ConvkitError(`LambdaLR: lrLambda(${epoch}) returned ${String(f)}; it must return a finite number >= 0`);
    }
    return base * f;
  }
}
