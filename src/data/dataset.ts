import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Generator, globalGenerator } from '../tensor/random.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** One item of a dataset: its input as float32 values (row-major, shape `sampleShape`) and its class. */
export interface Sample {
  input: Float32Array;
  label: number;
}

/**
 * A dataset is anything with a length and random access to samples, as in PyTorch's
 * map-style `Dataset`. Inputs are plain Float32Arrays, not Tensors, so that a DataLoader can
 * copy many of them into one batch buffer without allocating a tensor per sample.
 */
export interface Dataset {
  readonly length: number;
  /** The shape of one input, e.g. [1, 28, 28] (channels, height, width). */
  readonly sampleShape: readonly number[];
  /** Class names, when known; label i names classes[i]. */
  readonly classes?: readonly string[];
  /** Sample `index` (0-based): its input and its label. */
  get(index: number): Sample;
  /**
   * Optional fast path: writes sample `index`'s input into `out` at `offset` and returns its
   * label, without allocating. DataLoader uses it when present.
   */
  readInto?(index: number, out: Float32Array, offset: number): number;
}

/** Throws unless `index` is an integer in [0, length). */
export function checkIndex(index: number, length: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new ConvkitError(`${what}: index ${index} is out of range for a dataset of ${length} samples (0 to ${length - 1})`);
  }
}

/**
 * A dataset over two tensors: inputs [N, ...sampleShape] and integer labels [N] (int32, or
 * float32 holding whole numbers). Sample i is inputs[i] with label labels[i].
 */
export class TensorDataset implements Dataset {
  readonly length: number;
  readonly sampleShape: readonly number[];
  readonly classes?: readonly string[];
  private readonly inputs: Float32Array;
  private readonly labels: Int32Array;
  private readonly sampleSize: number;

  constructor(inputs: Tensor, labels: Tensor, opts: { classes?: readonly string[] } = {}) {
    if (inputs.ndim < 1 || labels.ndim !== 1 || inputs.shape[0] !== labels.shape[0]) {
      throw new ConvkitError(
        `TensorDataset: expected inputs [N, ...] and labels [N] with the same N, got inputs ${fmtShape(inputs.shape)} ` +
          `and labels ${fmtShape(labels.shape)}; labels must be one class index per sample`,
      );
    }
    this.length = inputs.shape[0]!;
    this.sampleShape = Object.freeze(inputs.shape.slice(1));
    this.sampleSize = sizeOf(this.sampleShape);
    const values = inputs.contiguous().values();
    this.inputs = values instanceof Float32Array ? values : Float32Array.from(values);
    const raw = labels.contiguous().values();
    this.labels = new Int32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      if (!Number.isInteger(v) || v < 0) {
        throw new ConvkitError(`TensorDataset: label ${i} is ${v}; labels must be class indices (whole numbers >= 0)`);
      }
      this.labels[i] = v;
    }
    if (opts.classes) this.classes = opts.classes;
  }

  get(index: number): Sample {
    checkIndex(index, this.length, 'TensorDataset');
    const start = index * this.sampleSize;
    return { input: this.inputs.slice(start, start + this.sampleSize), label: this.labels[index]! };
  }

  readInto(index: number, out: Float32Array, offset: number): number {
    checkIndex(index, this.length, 'TensorDataset');
    const start = index * this.sampleSize;
    out.set(this.inputs.subarray(start, start + this.sampleSize), offset);
    return this.labels[index]!;
  }
}

/** The samples of `dataset` at `indices`, in that order (as PyTorch's `Subset`). */
export class Subset implements Dataset {
  readonly indices: Int32Array;
  readonly classes?: readonly string[];

  constructor(
    readonly dataset: Dataset,
    indices: ArrayLike<number>,
  ) {
    this.indices = Int32Array.from(indices);
    for (let i = 0; i < indices.length; i++) checkIndex(indices[i]!, dataset.length, `Subset (position ${i})`);
    if (dataset.classes) this.classes = dataset.classes;
  }

  get length(): number {
    return this.indices.length;
  }

  get sampleShape(): readonly number[] {
    return this.dataset.sampleShape;
  }

  get(index: number): Sample {
    checkIndex(index, this.length, 'Subset');
    return this.dataset.get(this.indices[index]!);
  }

  readInto(index: number, out: Float32Array, offset: number): number {
    checkIndex(index, this.length, 'Subset');
    const inner = this.indices[index]!;
    if (this.dataset.readInto) return this.dataset.readInto(inner, out, offset);
    const s = this.dataset.get(inner);
    out.set(s.input, offset);
    return s.label;
  }
}

/**
 * Splits a dataset into disjoint random subsets, e.g. `randomSplit(train, [55000, 5000], g)`
 * for a train/validation split. Lengths are sample counts summing to the dataset's length, or
 * fractions summing to 1 (each rounded down, the remainder handed out one by one from the
 * first subset, as PyTorch does). The permutation draws from `generator` (default: the global
 * one), so the same seed gives the same split.
 */
export function randomSplit(dataset: Dataset, lengths: readonly number[], generator: Generator = globalGenerator): Subset[] {
  const n = dataset.length;
  let counts = [...lengths];
  const total = counts.reduce((a, b) => a + b, 0);
  const fractions = counts.every((v) => v >= 0 && v <= 1) && Math.abs(total - 1) < 1e-6 && n !== 1;
  if (fractions) {
    counts = counts.map((f) => Math.floor(f * n));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]!++;
  } else if (counts.some((v) => !Number.isInteger(v) || v < 0) || total !== n) {
    throw new ConvkitError(
      `randomSplit: lengths [${lengths.join(', ')}] must be whole numbers summing to the dataset's ${n} samples ` +
        `(they sum to ${total}), or fractions summing to 1 such as [0.9, 0.1]`,
    );
  }
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  generator.shuffle(perm);
  const out: Subset[] = [];
  let start = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(start, start + c)));
    start += c;
  }
  return out;
}
