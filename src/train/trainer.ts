import { ConvkitError } from '../tensor/errors.js';
import { Generator, globalGenerator } from '../tensor/random.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import type { Module } from '../nn/module.js';
import * as F from '../functional.js';
import { NonFiniteLossError } from '../losses/loss-args.js';
import { EpochMeter, topKCorrect } from './metrics.js';
import type { EpochEvent, TrainerCallbacks } from './progress.js';
import { architectureOf, deserializeCheckpoint, serializeCheckpoint, type TrainingState } from './checkpoint.js';

export interface Batch {
  x: Tensor;
  y: Tensor;
}

/** Anything that yields the batches of one epoch each time it is iterated (a DataLoader). */
export interface BatchSource extends Iterable<Batch> {
  /** Batches per epoch. */
  readonly length: number;
}

export interface OptimizerLike {
  step(): void;
  zeroGrad(): void;
  stateDict(): unknown;
  loadStateDict(state: never): void;
  lr: number;
}

export interface SchedulerLike {
  step(): void;
  stateDict(): unknown;
  loadStateDict(state: never): void;
}

export type LossFn = (output: Tensor, target: Tensor) => Tensor;

export interface EarlyStopping {
  metric: 'valLoss' | 'valAccuracy' | 'trainLoss';
  /** Epochs without improvement before stopping. */
  patience: number;
  minDelta?: number;
}

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
  /** Generators whose state must be saved and restored (the loader's shuffle, augmentation). */
  generators?: Generator[];
  callbacks?: TrainerCallbacks;
  /** Set to stop after the current step (e.g. on Ctrl-C); the last checkpoint stays valid. */
  signal?: { aborted: boolean };
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  top5: number;
  count: number;
}

export interface FitResult {
  history: EpochEvent[];
  epochsRun: number;
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
    const { opts, model } = this;
    let history: EpochEvent[] = [];
    let startEpoch = 0;
    let best = Infinity;
    let sinceBest = 0;
    if (opts.resume && opts.checkpointPath) {
      const state = await this.readCheckpoint(opts.checkpointPath);
      if (state) {
        model.loadStateDict(state.model);
        opts.optimizer.loadStateDict(state.optimizer as never);
        if (opts.scheduler && state.scheduler) opts.scheduler.loadStateDict(state.scheduler as never);
        const gens = this.generators();
        if (state.generators.length !== gens.length) {
          throw new ConvkitError(`${opts.checkpointPath}: holds ${state.generators.length} generator states but this run uses ${gens.length}`);
        }
        gens.forEach((g, i) => g.setState(state.generators[i]!));
        history = state.history as EpochEvent[];
        startEpoch = state.epoch;
        best = (state.extra['best'] as number | undefined) ?? Infinity;
        sinceBest = (state.extra['sinceBest'] as number | undefined) ?? 0;
        opts.callbacks?.onMessage?.(`resuming from ${opts.checkpointPath} after epoch ${startEpoch}`);
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
      opts.scheduler?.step();
      if (opts.earlyStopping) {
        const { metric, minDelta = 0 } = opts.earlyStopping;
        const value = metric === 'valAccuracy' ? -(result.valAccuracy ?? 0) : metric === 'valLoss' ? result.valLoss! : result.trainLoss;
        if (value < best - minDelta) {
          best = value;
          sinceBest = 0;
        } else {
          sinceBest++;
        }
      }
      if (opts.checkpointPath) await this.writeCheckpoint(opts.checkpointPath, epoch + 1, history, { best, sinceBest });
      if (opts.earlyStopping && sinceBest >= opts.earlyStopping.patience) {
        stoppedEarly = true;
        opts.callbacks?.onMessage?.(`early stopping: ${opts.earlyStopping.metric} has not improved for ${sinceBest} epochs`);
        epoch++;
        break;
      }
    }
    return { history, epochsRun: epoch - startEpoch, stoppedEarly, interrupted };
  }

  private async trainEpoch(epoch: number): Promise<EpochEvent | 'interrupted'> {
    const { opts, model } = this;
    model.train();
    const meter = new EpochMeter();
    const started = performance.now();
    let lastReport = 0;
    let step = 0;
    const stepsPerEpoch = Math.max(1, this.opts.train.length);
    for (const batch of this.opts.train) {
      const n = batch.x.shape[0]!;
      const diverged = (value: number) =>
        new TrainingDivergedError(
          `the loss became ${value} at epoch ${epoch + 1}, step ${step + 1}; training stopped and the last good checkpoint is kept. ` +
            `Likely causes: a learning rate too high (now ${opts.optimizer.lr}; try 10x smaller), inputs not scaled (e.g. pixels in 0..255 instead of 0..1), or no weight decay on a diverging model`,
        );
      const { loss, correct } = tidy(() => {
        const out = model.forward(batch.x);
        let lossT: Tensor;
        try {
          lossT = this.lossFn(out, batch.y);
        } catch (e) {
          // The loss ops refuse NaN/Inf logits; to the user that is divergence, not bad input.
          if (e instanceof NonFiniteLossError) throw diverged(e.value);
          throw e;
        }
        const value = lossT.item();
        if (!Number.isFinite(value)) throw diverged(value);
        lossT.backward();
        opts.optimizer.step();
        opts.optimizer.zeroGrad();
        return { loss: value, correct: out.ndim === 2 && batch.y.dtype === 'int32' ? topKCorrect(out.detach(), batch.y) : undefined };
      });
      meter.add(loss, n, correct);
      step++;
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
      // Let signals (Ctrl-C) and timers run now and then.
      if (step % 16 === 0) await yieldToEventLoop();
      if (opts.signal?.aborted) return 'interrupted';
    }
    const seconds = (performance.now() - started) / 1000;
    const event: EpochEvent = {
      epoch: epoch + 1,
      epochs: opts.epochs,
      trainLoss: meter.loss,
      trainAccuracy: meter.accuracy,
      lr: opts.optimizer.lr,
      seconds,
      imagesPerSecond: meter.count / seconds,
    };
    if (opts.validation) {
      const v = evaluate(model, opts.validation, this.lossFn);
      event.valLoss = v.loss;
      event.valAccuracy = v.accuracy;
      event.valTop5 = v.top5;
    }
    return event;
  }

  private async readCheckpoint(file: string): Promise<TrainingState | null> {
    const { readBytes } = await import('../io/files.js');
    let bytes: Uint8Array;
    try {
      bytes = await readBytes(file);
    } catch (e) {
      if (e instanceof ConvkitError && /no such file/.test(e.message)) return null;
      throw e;
    }
    return deserializeCheckpoint(bytes, file);
  }

  private async writeCheckpoint(file: string, epoch: number, history: EpochEvent[], extra: Record<string, unknown>): Promise<void> {
    const { writeBytesAtomic } = await import('../io/files.js');
    const bytes = serializeCheckpoint({
      epoch,
      architecture: architectureOf(this.model),
      model: this.model.stateDict(),
      optimizer: this.opts.optimizer.stateDict(),
      scheduler: this.opts.scheduler?.stateDict() ?? null,
      generators: this.generators().map((g) => g.getState()),
      history,
      extra,
    });
    await writeBytesAtomic(file, bytes);
  }
}

/** Loss, top-1 and top-5 accuracy over a whole source, without recording gradients. */
export function evaluate(model: Module, source: BatchSource, lossFn: LossFn = (o, y) => F.crossEntropy(o, y)): EvalResult {
  const wasTraining = model.training;
  model.eval();
  const meter = new EpochMeter();
  try {
    noGrad(() => {
      for (const batch of source) {
        tidy(() => {
          const out = model.forward(batch.x);
          const loss = lossFn(out, batch.y).item();
          meter.add(loss, batch.x.shape[0]!, out.ndim === 2 && batch.y.dtype === 'int32' ? topKCorrect(out, batch.y) : undefined);
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: meter.loss, accuracy: meter.accuracy, top5: meter.top5, count: meter.count };
}
