import { ConvkitError } from '../tensor/errors.js';
import { Generator, globalGenerator } from '../tensor/random.js';
import { sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Dataset } from './dataset.js';

/** One batch: inputs [B, ...sampleShape] float32 (e.g. [B, 1, 28, 28]) and labels [B] int32. */
export interface Batch {
  x: Tensor;
  y: Tensor;
  /** Which dataset samples the batch holds, in order. */
  indices: Int32Array;
}

/**
 * A per-sample hook run on each input after it is copied into the batch (for augmentation):
 * it edits `x` (one sample, row-major `shape`) in place and draws any randomness from
 * `generator`, the loader's, so that runs are reproducible.
 */
export type SampleTransform = (x: Float32Array, generator: Generator, shape: readonly number[]) => void;

/** Options of `DataLoader`. */
export interface DataLoaderOptions {
  /** Samples per batch (default 1). See DataLoader for the three regimes of gradient descent. */
  batchSize?: number;
  /** Draw a new random order at the start of every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Skip the last batch when it has fewer than batchSize samples (default false). */
  dropLast?: boolean;
  /** Where shuffles and transforms draw from (default: the global generator of manualSeed). */
  generator?: Generator;
  transform?: SampleTransform;
}

/**
 * Where a loader is in its run, for checkpoints. `epochGeneratorState` is the generator's
 * state just before the current epoch's permutation was drawn, so the same order can be
 * drawn again; `generatorState` is its state now, so that what follows (later transforms,
 * the next permutation) continues exactly as if training had not stopped.
 */
export interface DataLoaderState {
  /** Epochs begun so far. */
  epoch: number;
  /** Batches of the current epoch already handed out. */
  batch: number;
  epochGeneratorState: number[] | null;
  generatorState: number[];
  batchSize: number;
  datasetLength: number;
}

/**
 * Iterates over a dataset in batches, as PyTorch's DataLoader: every `for (const {x, y} of
 * loader)` is one epoch. Each batch is assembled straight into one Float32Array (no tensor per
 * sample).
 *
 * The three regimes of gradient descent are only batch sizes:
 * - stochastic gradient descent: `batchSize: 1`, one update per sample;
 * - mini-batch gradient descent: `batchSize: 32` (say), the usual choice;
 * - full-batch (batch) gradient descent: `batchSize: dataset.length`, one update per epoch.
 *
 * With `shuffle`, each epoch's order is a permutation drawn from the generator, so the same
 * seed gives the same order; `state()` and `loadState()` resume mid-epoch deterministically.
 */
export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly transform: SampleTransform | undefined;
  private readonly explicitGenerator: Generator | undefined;
  private epochCount = 0;
  private order: Int32Array | null = null;
  private position = 0;
  private epochState: number[] | null = null;
  /** Set by loadState: the next iteration continues the saved epoch instead of starting one. */
  private resumePending = false;

  constructor(dataset: Dataset, opts: DataLoaderOptions = {}) {
    const batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ConvkitError(
        `DataLoader: batchSize must be a whole number >= 1, got ${batchSize}; use 1 for stochastic, ` +
          `dataset.length (${dataset.length}) for full-batch gradient descent`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.transform = opts.transform;
    this.explicitGenerator = opts.generator;
  }

  /** The generator shuffles and transforms draw from (read at use, so manualSeed applies). */
  get generator(): Generator {
    return this.explicitGenerator ?? globalGenerator;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Epochs begun so far (1 during the first). */
  get epoch(): number {
    return this.epochCount;
  }

  /** The batches of one epoch (a new shuffle each epoch when `shuffle` is set). */
  *[Symbol.iterator](): Iterator<Batch> {
    if (this.resumePending) this.resumePending = false;
    else this.beginEpoch();
    const order = this.order;
    const batches = this.length;
    while (this.position < batches) {
      const b = this.position++;
      // Counted before the yield: a state() taken while the caller works on batch b resumes at b + 1.
      yield this.assemble(order, b);
    }
  }

  /** Where the loader is (epoch, batch, generator state), for `loadState` to resume mid-epoch. */
  state(): DataLoaderState {
    return {
      epoch: this.epochCount,
      batch: this.position,
      epochGeneratorState: this.epochState ? [...this.epochState] : null,
      generatorState: this.generator.getState(),
      batchSize: this.batchSize,
      datasetLength: this.dataset.length,
    };
  }

  /**
   * Restores a state() taken earlier (e.g. from a checkpoint), including the generator's state;
   * the next iteration continues the saved epoch from its next batch, or starts the next epoch
   * if the saved one was finished.
   */
  loadState(state: DataLoaderState): void {
    if (state.batchSize !== this.batchSize || state.datasetLength !== this.dataset.length) {
      throw new ConvkitError(
        `DataLoader.loadState: the state was saved with batch size ${state.batchSize} over ${state.datasetLength} samples, ` +
          `this loader has batch size ${this.batchSize} over ${this.dataset.length}; resume with the same dataset and batch size`,
      );
    }
    this.epochCount = state.epoch;
    this.epochState = state.epochGeneratorState ? [...state.epochGeneratorState] : null;
    if (this.shuffle && this.epochState) {
      this.generator.setState(this.epochState);
      this.order = this.drawPermutation();
    } else {
      this.order = null;
    }
    this.generator.setState(state.generatorState);
    this.position = state.batch;
    this.resumePending = state.epoch > 0 && state.batch < this.length;
  }

  private beginEpoch(): void {
    this.epochCount++;
    this.position = 0;
    if (this.shuffle) {
      this.epochState = this.generator.getState();
      this.order = this.drawPermutation();
    } else {
      this.epochState = null;
      this.order = null;
    }
  }

  private drawPermutation(): Int32Array {
    const perm = new Int32Array(this.dataset.length);
    for (let i = 0; i < perm.length; i++) perm[i] = i;
    this.generator.shuffle(perm);
    return perm;
  }

  private assemble(order: Int32Array | null, b: number): Batch {
    const ds = this.dataset;
    const shape = ds.sampleShape;
    const size = sizeOf(shape);
    const start = b * this.batchSize;
    const count = Math.min(this.batchSize, ds.length - start);
    const x = new Float32Array(count * size);
    const y = new Int32Array(count);
    const indices = new Int32Array(count);
    const generator = this.transform ? this.generator : null;
    for (let k = 0; k < count; k++) {
      const index = order ? order[start + k]! : start + k;
      const offset = k * size;
      indices[k] = index;
      if (ds.readInto) {
        y[k] = ds.readInto(index, x, offset);
      } else {
        const s = ds.get(index);
        if (s.input.length !== size) {
          throw new ConvkitError(
            `DataLoader: sample ${index} has ${s.input.length} values, but the dataset's sampleShape [${shape.join(', ')}] ` +
              `needs ${size}; every sample must have the same shape`,
          );
        }
        x.set(s.input, offset);
        y[k] = s.label;
      }
      if (generator) this.transform!(x.subarray(offset, offset + size), generator, shape);
    }
    return { x: new Tensor(x, [count, ...shape]), y: new Tensor(y, [count]), indices };
  }
}
