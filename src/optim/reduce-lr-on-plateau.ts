import { ConvkitError } from '../tensor/errors.js';
import { Optimizer } from './optimizer.js';

/** Options of `ReduceLROnPlateau` (PyTorch's names, camelCased; PyTorch's defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower is better (a loss); 'max': higher is better (an accuracy). */
  mode?: 'min' | 'max';
  /** Multiplier of the lr on a plateau, in (0, 1) (default 0.1). */
  factor?: number;
  /** Bad epochs tolerated before reducing (default 10). */
  patience?: number;
  /** Least improvement that counts (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs after a reduction in which bad epochs are not counted (default 0). */
  cooldown?: number;
  /** Lower bound of the lr (default 0). */
  minLr?: number;
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/** The schedule's state, saved in checkpoints. */
export interface ReduceLROnPlateauStateDict {
  type: 'ReduceLROnPlateau';
  lastEpoch: number;
  /** The best metric so far (null: none yet, i.e. +-Infinity). */
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  options: Required<ReduceLROnPlateauOptions>;
}

/**
 * Reduce the learning rate when a metric has stopped improving, as torch.optim.lr_scheduler
 * .ReduceLROnPlateau with its defaults (mode 'min', factor 0.1, patience 10, threshold 1e-4
 * relative, cooldown 0, minLr 0, eps 1e-8). Call `step(metric)` once per epoch with the
 * monitored value (e.g. the validation loss). An epoch is "bad" unless the metric beats the
 * best so far by the threshold (rel, min mode: metric < best * (1 - threshold)); after more
 * than `patience` bad epochs in a row every group's lr becomes max(lr * factor, minLr) (a
 * change smaller than eps is skipped), the bad count restarts and `cooldown` epochs follow in
 * which bad epochs are not counted. Unlike the closed-form schedules it reads and writes the
 * optimizer's current lr, so it can follow a warm-up.
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  readonly options: Required<ReduceLROnPlateauOptions>;
  /** Epochs stepped so far. */
  lastEpoch = 0;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    if (!(optimizer instanceof Optimizer)) {
      throw new ConvkitError(`ReduceLROnPlateau: the first argument must be an optimizer (e.g. new ck.optim.SGD(...)), got ${String(optimizer)}`);
    }
    this.optimizer = optimizer;
    this.options = { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...options };
    checkOptions(this.options);
    this.best = this.worst();
  }

  private worst(): number {
    return this.options.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `value` improves on the best so far by the threshold (NaN never does). */
  isBetter(value: number): boolean {
    const { mode, threshold, thresholdMode } = this.options;
    const best = this.best;
    if (mode === 'min') return thresholdMode === 'rel' ? value < best * (1 - threshold) : value < best - threshold;
    return thresholdMode === 'rel' ? value > best * (1 + threshold) : value > best + threshold;
  }

  /** Ends an epoch whose monitored value was `metric`; reduces the lr on a plateau. */
  step(metric: number): void {
    if (typeof metric !== 'number') throw new ConvkitError(`ReduceLROnPlateau.step: give the monitored value (e.g. the validation loss), got ${String(metric)}`);
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.options.patience) {
      this.reduce();
      this.cooldownCounter = this.options.cooldown;
      this.numBadEpochs = 0;
    }
  }

  private reduce(): void {
    const { factor, minLr, eps } = this.options;
    for (const g of this.optimizer.paramGroups) {
      const next = Math.max(g.lr * factor, minLr);
      if (g.lr - next > eps) g.lr = next;
    }
  }

  /** Each group's lr now. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The schedule's state (best value, bad-epoch and cooldown counters), for checkpoints. */
  stateDict(): ReduceLROnPlateauStateDict {
    return {
      type: 'ReduceLROnPlateau',
      lastEpoch: this.lastEpoch,
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      options: { ...this.options },
    };
  }

  /** Restores the counters, the best value and the options; the optimizer's own state restores the lr. */
  loadStateDict(state: ReduceLROnPlateauStateDict): void {
    const fail = (msg: string): never => {
      throw new ConvkitError(`ReduceLROnPlateau.loadStateDict: ${msg}`);
    };
    if (state?.type !== 'ReduceLROnPlateau') fail(`the state is from a ${String(state?.type)} schedule, not ReduceLROnPlateau`);
    for (const key of ['lastEpoch', 'numBadEpochs', 'cooldownCounter'] as const) {
      if (!Number.isInteger(state[key]) || state[key] < 0) fail(`${key} must be an integer >= 0, got ${String(state[key])}`);
    }
    if (state.best !== null && typeof state.best !== 'number') fail(`best must be a number or null, got ${String(state.best)}`);
    const options = { ...this.options, ...state.options };
    checkOptions(options);
    Object.assign(this.options, options);
    this.lastEpoch = state.lastEpoch;
    this.best = state.best ?? this.worst();
    this.numBadEpochs = state.numBadEpochs;
    this.cooldownCounter = state.cooldownCounter;
  }
}

function checkOptions(o: Required<ReduceLROnPlateauOptions>): void {
  const bad = (key: string, v: unknown, allowed: string): never => {
    throw new ConvkitError(`ReduceLROnPlateau: invalid ${key} ${String(v)}; ${key} must be ${allowed}`);
  };
  if (o.mode !== 'min' && o.mode !== 'max') bad('mode', o.mode, "'min' or 'max'");
  if (!(o.factor > 0 && o.factor < 1)) bad('factor', o.factor, 'in (0, 1), e.g. 0.1');
  if (!(Number.isInteger(o.patience) && o.patience >= 0)) bad('patience', o.patience, 'an integer >= 0');
  if (!(o.threshold >= 0 && Number.isFinite(o.threshold))) bad('threshold', o.threshold, 'a finite number >= 0');
  if (o.thresholdMode !== 'rel' && o.thresholdMode !== 'abs') bad('thresholdMode', o.thresholdMode, "'rel' or 'abs'");
  if (!(Number.isInteger(o.cooldown) && o.cooldown >= 0)) bad('cooldown', o.cooldown, 'an integer >= 0');
  if (!(o.minLr >= 0 && Number.isFinite(o.minLr))) bad('minLr', o.minLr, 'a finite number >= 0');
  if (!(o.eps >= 0 && Number.isFinite(o.eps))) bad('eps', o.eps, 'a finite number >= 0');
}
