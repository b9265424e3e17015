import { ConvkitError } from '../tensor/errors.js';
import { Generator, globalGenerator } from '../tensor/random.js';
import { keep, tidy } from '../tensor/scope.js';
import { getBackend } from '../backend/registry.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import * as F from '../functional.js';
import { NonFiniteLossError } from '../losses/loss-args.js';
import { EpochMeter, topKCorrect } from './metrics.js';
import type { EpochEvent, TrainerCallbacks } from './progress.js';
import { fileExists, readBytes, writeBytesAtomic } from '../io/files.js';
import { architectureOf, deserializeCheckpoint, serializeCheckpoint, type TrainingState } from './checkpoint.js';
import type { ModelEma, ModelEmaStateDict } from './ema.js';
import { evaluate, evaluateAsync } from './evaluate.js';

/** A batch: inputs and targets. */
export interface Batch {
  x: Tensor;
  y: Tensor;
}

/** Anything that yields the batches of one epoch each time it is iterated (a DataLoader). */
export interface BatchSource extends Iterable<Batch> {
  /** Batches per epoch. */
  readonly length: number;
}

/** What the Trainer needs of an optimizer (every `ck.optim` optimizer has it). */
export interface OptimizerLike {
  /** Updates the parameters from their gradients. */
  step(): void;
  /** Clears the parameters' gradients. */
  zeroGrad(): void;
  /** The optimizer's state, for checkpoints. */
  stateDict(): unknown;
  /** Restores a state from `stateDict`. */
  loadStateDict(state: never): void;
  /** Brings state kept on a device back to the host before `stateDict` (ck.optim's optimizers have it). */
  sync?(): Promise<void>;
  lr: number;
}

/** What the Trainer needs of a learning-rate schedule (every `ck.optim` scheduler has it). */
export interface SchedulerLike {
  /**
   * Advances one epoch. The Trainer passes the epoch's validation loss (its training loss
   * without a validation set), which ReduceLROnPlateau watches and the others ignore.
   */
  step(metric?: number): void;
  /** Called after every optimizer step, for per-step schedules (LinearWarmup). */
  stepBatch?(): void;
  /** The schedule's state, for checkpoints. */
  stateDict(): unknown;
  /** Restores a state from `stateDict`. */
  loadStateDict(state: never): void;
}

/** A loss: the model's output and the targets to a scalar tensor. */
export type LossFn = (output: Tensor, target: Tensor) => Tensor;

/** Stop when `metric` has not improved by `minDelta` for `patience` epochs. */
export interface EarlyStopping {
  metric: 'valLoss' | 'valAccuracy' | 'trainLoss';
  /** Epochs without improvement before stopping. */
  patience: number;
  minDelta?: number;
}

/** What a Trainer trains with: data, optimizer, epochs and the optional rest. */
export interface TrainerOptions {
  /** The training batches (re-iterated every epoch; a shuffling DataLoader reshuffles). */
  train: BatchSource;
  optimizer: OptimizerLike;
  epochs: number;
  scheduler?: SchedulerLike;
  /** Defaults to softmax cross-entropy on class indices. */
  loss?: LossFn;
  validation?: BatchSource;
  earlyStopping?: EarlyStopping;
  /** Written atomically after every epoch; with `resume`, read at the start. */
  checkpointPath?: string;
  resume?: boolean;
  /**
   * An average of the weights updated after every optimizer step; validation runs with the
   * averaged weights, and its state goes into the checkpoint.
   */
  ema?: ModelEma;
  /** Generators whose state must be saved and restored (the loader's shuffle, augmentation). */
  generators?: Generator[];
  callbacks?: TrainerCallbacks;
  /** Set to stop after the current step (e.g. on Ctrl-C); the last checkpoint stays valid. */
  signal?: { aborted: boolean };
  /**
   * The settings that shape the run (seed, data, batch size, optimizer, ...), saved in each
   * checkpoint; resuming with different ones is an error naming them, since it could not give
   * the results of an uninterrupted run.
   */
  settings?: Record<string, string | number | boolean | null>;
  /** Settings that may differ on resume (e.g. 'epochs', to train longer). */
  mutableSettings?: readonly string[];
}

/** What `fit` did: the history of epochs and why it stopped. */
export interface FitResult {
  history: EpochEvent[];
  /** Epochs run by this call (not counting those before a resume). */
  epochsRun: number;
  /** The epoch the run continued after, when it resumed from a checkpoint. */
  resumedAfter?: number;
  stoppedEarly: boolean;
  interrupted: boolean;
}

/** Thrown when the loss stops being a finite number. */
export class TrainingDivergedError extends ConvkitError {
  override name = 'TrainingDivergedError';
}

const yieldToEventLoop = () => new Promise<void>((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));

/**
 * Mini-batch gradient descent, epoch by epoch. Each step runs inside a tidy scope, so memory
 * stays flat; after every epoch it validates, steps the schedule, checks early stopping and
 * writes a checkpoint from which `resume` continues bit-for-bit.
 */
export class Trainer {
  /** The epoch of the last checkpoint written or resumed from in this run (null: none yet). */
  private lastCheckpointEpoch: number | null = null;

  constructor(
    readonly model: Module,
    readonly opts: TrainerOptions,
  ) {
    if (!Number.isInteger(opts.epochs) || opts.epochs < 1) {
      throw new ConvkitError(`Trainer: epochs must be a positive integer, got ${opts.epochs}`);
    }
    if (opts.earlyStopping && !(opts.earlyStopping.patience >= 1)) {
      throw new ConvkitError(`Trainer: earlyStopping.patience must be >= 1, got ${opts.earlyStopping.patience}`);
    }
    if (opts.earlyStopping?.metric.startsWith('val') && !opts.validation) {
      throw new ConvkitError(`Trainer: early stopping on ${opts.earlyStopping.metric} needs a validation set`);
    }
  }

  private get lossFn(): LossFn {
    return this.opts.loss ?? ((out, y) => F.crossEntropy(out, y));
  }

  private generators(): Generator[] {
    return [globalGenerator, ...(this.opts.generators ?? [])];
  }

  /** Runs the epochs (continuing from the checkpoint when resuming). */
  async fit(): Promise<FitResult> {
    const { opts } = this;
    let history: EpochEvent[] = [];
    let startEpoch = 0;
    let best = Infinity;
    let sinceBest = 0;
    let resumedAfter: number | undefined;
    if (opts.resume && opts.checkpointPath) {
      const state = await this.readCheckpoint(opts.checkpointPath);
      if (state) {
        this.restore(state, opts.checkpointPath);
        history = state.history as EpochEvent[];
        startEpoch = resumedAfter = state.epoch;
        best = (state.extra['best'] as number | undefined) ?? Infinity;
        sinceBest = (state.extra['sinceBest'] as number | undefined) ?? 0;
        this.lastCheckpointEpoch = state.epoch;
        opts.callbacks?.onMessage?.(
          startEpoch >= opts.epochs
            ? `${opts.checkpointPath} already holds ${startEpoch} epochs of training; nothing left to do for --epochs ${opts.epochs}`
            : `resuming from ${opts.checkpointPath} after epoch ${startEpoch}`,
        );
        if (state.extra['stoppedEarly'] === true) {
          opts.callbacks?.onMessage?.(`the run in ${opts.checkpointPath} had already stopped early after epoch ${startEpoch}`);
          return { history, epochsRun: 0, resumedAfter: startEpoch, stoppedEarly: true, interrupted: false };
        }
      } else {
        opts.callbacks?.onMessage?.(`no checkpoint at ${opts.checkpointPath} yet; starting from the beginning`);
      }
    }
    let stoppedEarly = false;
    let interrupted = false;
    let epoch = startEpoch;
    for (; epoch < opts.epochs; epoch++) {
      const result = await this.trainEpoch(epoch);
      if (result === 'interrupted') {
        interrupted = true;
        break;
      }
      history.push(result);
      opts.callbacks?.onEpoch?.(result);
      opts.scheduler?.step(result.valLoss ?? result.trainLoss);
      if (opts.earlyStopping) {
        const { metric, minDelta = 0 } = opts.earlyStopping;
        const value = metric === 'valAccuracy' ? -(result.valAccuracy ?? 0) : metric === 'valLoss' ? result.valLoss! : result.trainLoss;
        if (value < best - minDelta) {
          best = value;
          sinceBest = 0;
        } else {
          sinceBest++;
        }
        stoppedEarly = sinceBest >= opts.earlyStopping.patience;
      }
      if (opts.checkpointPath) await this.writeCheckpoint(opts.checkpointPath, epoch + 1, history, { best, sinceBest, stoppedEarly });
      if (stoppedEarly) {
        opts.callbacks?.onMessage?.(`early stopping: ${opts.earlyStopping!.metric} has not improved for ${sinceBest} epochs`);
        epoch++;
        break;
      }
    }
    return { history, epochsRun: epoch - startEpoch, ...(resumedAfter !== undefined ? { resumedAfter } : {}), stoppedEarly, interrupted };
  }

  /**
   * Puts a checkpoint's state back into the model, optimizer, schedule and generators. Every
   * check runs before anything changes, so a refused checkpoint leaves the run as it was.
   */
  private restore(state: TrainingState, file: string): void {
    const { opts, model } = this;
    const gens = this.generators();
    const saved = (state.extra['settings'] as Record<string, unknown> | undefined) ?? {};
    const mutable = new Set(opts.mutableSettings ?? []);
    const differences = Object.entries(opts.settings ?? {})
      .filter(([k, v]) => !mutable.has(k) && k in saved && saved[k] !== v)
      .map(([k, v]) => `${k} ${JSON.stringify(saved[k])} there, ${JSON.stringify(v)} now`);
    if (differences.length) {
      throw new ConvkitError(
        `${file}: cannot resume: the checkpoint was written with different settings (${differences.join('; ')}); ` +
          'resume with the same settings, or start a new run in another output folder',
      );
    }
    // After the settings: a different setting (augmentation on or off) explains a different count better.
    if (state.generators.length !== gens.length) {
      throw new ConvkitError(`${file}: holds ${state.generators.length} generator states but this run uses ${gens.length}; it was written by a different kind of run`);
    }
    const savedEma = state.extra['ema'] as ModelEmaStateDict | undefined;
    if (!!opts.ema !== !!savedEma) {
      throw new ConvkitError(`${file}: cannot resume: the checkpoint was written ${savedEma ? 'with' : 'without'} a weight average (EMA) and this run is ${opts.ema ? 'with' : 'without'} one`);
    }
    if (!!opts.scheduler !== !!state.scheduler) {
      throw new ConvkitError(`${file}: cannot resume: the checkpoint was written ${state.scheduler ? 'with' : 'without'} a learning-rate schedule and this run is ${opts.scheduler ? 'with' : 'without'} one`);
    }
    // Copies (stateDict() hands out the live tensors), to put back if a later part fails.
    const weights = new Map([...model.stateDict()].map(([k, t]) => [k, new Tensor(t.contiguous().values().slice(), t.shape)]));
    const before = { model: weights, optimizer: opts.optimizer.stateDict(), scheduler: opts.scheduler?.stateDict(), ema: opts.ema?.stateDict() };
    try {
      model.loadStateDict(state.model);
      opts.optimizer.loadStateDict(state.optimizer as never);
      if (opts.scheduler) opts.scheduler.loadStateDict(state.scheduler as never);
      if (opts.ema) opts.ema.loadStateDict(savedEma!);
    } catch (e) {
      // Put back what was loaded before the failure: never a half-restored run.
      model.loadStateDict(before.model);
      opts.optimizer.loadStateDict(before.optimizer as never);
      if (opts.scheduler && before.scheduler) opts.scheduler.loadStateDict(before.scheduler as never);
      if (opts.ema && before.ema) opts.ema.loadStateDict(before.ema);
      if (e instanceof ConvkitError) throw new ConvkitError(`${file}: cannot resume: ${e.message}`);
      throw e;
    }
    gens.forEach((g, i) => g.setState(state.generators[i]!));
  }

  private async trainEpoch(epoch: number): Promise<EpochEvent | 'interrupted'> {
    const { opts, model } = this;
    model.train();
    const meter = new EpochMeter();
    const started = performance.now();
    let lastReport = 0;
    let lastYield = started;
    let step = 0;
    const stepsPerEpoch = Math.max(1, this.opts.train.length);
    // On a device backend (webgpu) a step reads nothing back: each step's loss and outputs wait
    // here and are read together every PENDING_STEPS steps.
    const device = getBackend().deviceMemory !== undefined;
    const pending: PendingStep[] = [];
    const settle = async (): Promise<void> => {
      const steps = pending.splice(0);
      await Promise.all(steps.flatMap((p) => [p.loss.storage.read(), p.out?.storage.read(), p.y.storage.read()]));
      for (const p of steps) {
        const value = p.loss.item();
        if (!Number.isFinite(value)) throw new TrainingDivergedError(this.divergedMessage(`the loss became ${value}`, epoch, p.step));
        meter.add(value, p.n, p.out ? topKCorrect(p.out, p.y) : undefined);
        p.loss.dispose();
        p.out?.dispose();
      }
    };
    for (const batch of this.opts.train) {
      const n = batch.x.shape[0]!;
      if (device) {
        pending.push(this.deviceStep(batch, step));
        step++;
        if (pending.length >= PENDING_STEPS || step === stepsPerEpoch) await settle();
        else continue;
      } else {
        const { loss, correct } = this.hostStep(batch, epoch, step);
        meter.add(loss, n, correct);
        step++;
      }
      const now = performance.now();
      if (opts.callbacks?.onStep && (now - lastReport > 100 || step === stepsPerEpoch)) {
        lastReport = now;
        opts.callbacks.onStep({
          epoch: epoch + 1,
          epochs: opts.epochs,
          step,
          stepsPerEpoch,
          loss: meter.loss,
          accuracy: meter.accuracy,
          imagesPerSecond: meter.count / ((now - started) / 1000),
          lr: opts.optimizer.lr,
        });
      }
      // Let signals (Ctrl-C) and timers run every 50 ms or so (often enough, cheap enough).
      if (now - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (opts.signal?.aborted) return 'interrupted';
    }
    // The loss is checked before each update, so the epoch's last update is checked here:
    // weights that became NaN/Inf must never reach a checkpoint.
    await settle();
    await model.sync();
    const bad = model.namedParameters().find(([, p]) => !p.values().every(Number.isFinite));
    if (bad) throw new TrainingDivergedError(this.divergedMessage(`parameter ${bad[0]} became NaN/Inf`, epoch, step - 1));
    const seconds = (performance.now() - started) / 1000;
    const event: EpochEvent = {
      epoch: epoch + 1,
      epochs: opts.epochs,
      trainLoss: meter.loss,
      trainAccuracy: meter.accuracy,
      trainTop5: meter.top5,
      lr: opts.optimizer.lr,
      seconds,
      imagesPerSecond: meter.count / seconds,
    };
    if (opts.validation) {
      const v = opts.ema ? opts.ema.withAverage(() => evaluate(model, opts.validation!, this.lossFn)) : await evaluateAsync(model, opts.validation, this.lossFn);
      if (!Number.isFinite(v.loss)) throw new TrainingDivergedError(this.divergedMessage(`the validation loss became ${v.loss}`, epoch, step - 1));
      event.valLoss = v.loss;
      event.valAccuracy = v.accuracy;
      event.valTop5 = v.top5;
    }
    return event;
  }

  /** One training step on the host backends (js, wasm): the loss is read and checked before the update. */
  private hostStep(batch: { x: Tensor; y: Tensor }, epoch: number, step: number): { loss: number; correct: { top1: number; topK: number } | undefined } {
    const { opts, model } = this;
    return tidy(() => {
      const out = model.forward(batch.x);
      let lossT: Tensor;
      try {
        lossT = this.lossFn(out, batch.y);
      } catch (e) {
        // The loss ops refuse NaN/Inf logits; to the user that is divergence, not bad input.
        if (e instanceof NonFiniteLossError) throw new TrainingDivergedError(this.divergedMessage(`the model's output became ${e.value}`, epoch, step));
        throw e;
      }
      const value = lossT.item();
      if (!Number.isFinite(value)) throw new TrainingDivergedError(this.divergedMessage(`the loss became ${value}`, epoch, step));
      lossT.backward();
      opts.optimizer.step();
      opts.optimizer.zeroGrad();
      opts.ema?.update();
      opts.scheduler?.stepBatch?.();
      return { loss: value, correct: out.ndim === 2 && batch.y.dtype === 'int32' ? topKCorrect(out.detach(), batch.y) : undefined };
    });
  }

  /** One training step on a device backend: nothing is read back; the loss and outputs are kept for later. */
  private deviceStep(batch: { x: Tensor; y: Tensor }, step: number): PendingStep {
    const { opts, model } = this;
    return tidy(() => {
      const out = model.forward(batch.x);
      const lossT = this.lossFn(out, batch.y);
      lossT.backward();
      opts.optimizer.step();
      opts.optimizer.zeroGrad();
      opts.ema?.update();
      opts.scheduler?.stepBatch?.();
      const scores = out.ndim === 2 && batch.y.dtype === 'int32' ? keep(out.detach()) : null;
      return { loss: keep(lossT.detach()), out: scores, y: batch.y, n: batch.x.shape[0]!, step };
    });
  }

  /** `problem` happened at a 0-based epoch and step; the message says where, what is kept and why. */
  private divergedMessage(problem: string, epoch: number, step: number): string {
    const { opts } = this;
    const kept =
      opts.checkpointPath && this.lastCheckpointEpoch !== null
        ? `the last good checkpoint, ${opts.checkpointPath} (after epoch ${this.lastCheckpointEpoch}), is kept unchanged`
        : opts.checkpointPath
          ? `no checkpoint was written (the first epoch had not finished)`
          : 'no checkpoint is written (no checkpointPath)';
    return (
      `${problem} at epoch ${epoch + 1}, step ${step + 1} of ${this.opts.train.length}; training stopped and ${kept}. ` +
      `Likely causes: a learning rate too high (now ${Number(opts.optimizer.lr.toPrecision(4))}; try 10x smaller), inputs not scaled ` +
      '(e.g. pixels in 0..255 instead of 0..1, or no normalization), or a model that blows up without normalization or weight decay'
    );
  }

  private async readCheckpoint(file: string): Promise<TrainingState | null> {
    if (!(await fileExists(file))) return null;
    return deserializeCheckpoint(await readBytes(file), file);
  }

  private async writeCheckpoint(file: string, epoch: number, history: EpochEvent[], extra: Record<string, unknown>): Promise<void> {
    await this.model.sync();
    await this.opts.optimizer.sync?.();
    const bytes = serializeCheckpoint({
      epoch,
      architecture: architectureOf(this.model),
      model: this.model.stateDict(),
      optimizer: this.opts.optimizer.stateDict(),
      scheduler: this.opts.scheduler?.stateDict() ?? null,
      generators: this.generators().map((g) => g.getState()),
      history,
      extra: { ...extra, settings: this.opts.settings ?? {}, ...(this.opts.ema ? { ema: this.opts.ema.stateDict() } : {}) },
    });
    await writeBytesAtomic(file, bytes, { role: 'checkpoint' });
    this.lastCheckpointEpoch = epoch;
  }
}

/** A device step's results, read back later (Trainer.trainEpoch). */
interface PendingStep {
  loss: Tensor;
  out: Tensor | null;
  y: Tensor;
  n: number;
  step: number;
}

/** Steps between two read-backs of the losses on a device backend (the progress bar's pace). */
const PENDING_STEPS = 16;

export { evaluate, evaluateAsync, type EvalResult, type EvaluateOptions } from './evaluate.js';
