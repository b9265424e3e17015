import { ConvkitError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';

/** Options of `ModelEma`. */
export interface ModelEmaOptions {
  /** In [0, 1): the weight kept from the average at each update, e.g. 0.999. */
  decay: number;
}

/** What `ModelEma.stateDict` saves: the decay, the number of updates and the averaged tensors. */
export interface ModelEmaStateDict {
  decay: number;
  updates: number;
  /** The averaged tensors by stateDict name. */
  tensors: Record<string, Float32Array>;
}

/**
 * An exponential moving average of a model's weights: every float tensor of its stateDict
 * (parameters AND batch-norm running statistics), updated after each optimizer step as
 *
 *     ema = decay * ema + (1 - decay) * w      (computed in float64, stored as float32)
 *
 * starting from the weights when it is made. Integer tensors (counters) are not averaged: the
 * model's own are used. Evaluating with the average (`withAverage`, `copyTo`) usually gives a
 * steadier and slightly better model than the last weights (Polyak averaging).
 */
export class ModelEma {
  readonly decay: number;
  /** Updates made so far. */
  updates = 0;
  private readonly average = new Map<string, Float32Array>();

  constructor(
    readonly model: Module,
    options: ModelEmaOptions,
  ) {
    const decay = options?.decay;
    if (!(typeof decay === 'number' && decay >= 0 && decay < 1)) {
      throw new ConvkitError(`ModelEma: decay must be a number in [0, 1) such as 0.999, got ${String(decay)}`);
    }
    this.decay = decay;
    for (const [name, t] of model.stateDict()) {
      const v = t.values();
      if (v instanceof Float32Array) this.average.set(name, v.slice());
    }
  }

  /** Folds the model's current weights into the average (call after each optimizer step). */
  update(): void {
    const d = this.decay;
    const keep = 1 - d;
    for (const [name, t] of this.model.stateDict()) {
      const avg = this.average.get(name);
      if (!avg) continue;
      const w = t.values() as Float32Array;
      for (let i = 0; i < avg.length; i++) avg[i] = d * avg[i]! + keep * w[i]!;
    }
    this.updates++;
  }

  /** The averaged tensors (copies), with the model's own integer tensors: a stateDict to load. */
  stateDictForModel(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.model.stateDict()) {
      const avg = this.average.get(name);
      out.set(name, avg ? new Tensor(avg.slice(), t.shape) : new Tensor(t.contiguous().values().slice(), t.shape));
    }
    return out;
  }

  /** Puts the averaged weights into `model` (default: the averaged model itself). */
  copyTo(model: Module = this.model): void {
    model.loadStateDict(this.stateDictForModel());
  }

  /** Runs `fn` with the model holding the averaged weights, then puts its own weights back. */
  withAverage<T>(fn: () => T): T {
    const own = new Map([...this.model.stateDict()].map(([k, t]) => [k, new Tensor(t.contiguous().values().slice(), t.shape)]));
    this.copyTo();
    try {
      return fn();
    } finally {
      this.model.loadStateDict(own);
    }
  }

  /** The average (copies), for checkpoints. */
  stateDict(): ModelEmaStateDict {
    return { decay: this.decay, updates: this.updates, tensors: Object.fromEntries([...this.average].map(([k, v]) => [k, v.slice()])) };
  }

  /** Restores an average saved by `stateDict` (a checkpoint's), checking names and sizes first. */
  loadStateDict(state: ModelEmaStateDict): void {
    const fail = (msg: string): never => {
      throw new ConvkitError(`ModelEma.loadStateDict: ${msg}`);
    };
    if (!state || typeof state !== 'object' || !state.tensors) fail('the state has no averaged tensors');
    if (state.decay !== this.decay) fail(`the state was averaged with decay ${state.decay}, this average uses ${this.decay}`);
    if (!Number.isInteger(state.updates) || state.updates < 0) fail(`updates must be an integer >= 0, got ${String(state.updates)}`);
    for (const [name, avg] of this.average) {
      const saved = state.tensors[name];
      if (!(saved instanceof Float32Array) || saved.length !== avg.length) fail(`tensor '${name}' is missing or has the wrong size`);
    }
    const extra = Object.keys(state.tensors).filter((k) => !this.average.has(k));
    if (extra.length) fail(`the state has tensors this model lacks: ${extra.join(', ')}`);
    for (const [name, avg] of this.average) avg.set(state.tensors[name]!);
    this.updates = state.updates;
  }
}
