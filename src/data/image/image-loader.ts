import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { sizeOf } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { DataLoader, type Batch, type DataLoaderOptions, type DataLoaderState } from '../data-loader.js';
import { checkIndex, Subset, type Dataset, type Sample } from '../dataset.js';
import { asImageShape, type ImageShape } from './image-buffer.js';
import { ImageFolder } from './image-folder.js';
import { runSampleTaskSync, type SampleJob, type SampleTask } from './sample-task.js';
import type { Transform } from './transforms/transform.js';
import { defaultWorkers, sharedImagePool } from './worker-pool.js';

/**
 * A DataLoader that runs the per-sample image pipeline (decoding for an uncached ImageFolder,
 * then the augmentation) on worker threads, one batch ahead: while the caller trains on batch
 * b, the workers prepare batch b + 1, so the cores stay busy.
 *
 * Reproducibility does not depend on threads: at the start of each epoch one seed is drawn from
 * the loader's generator, and sample k of the epoch is augmented with its own generator seeded
 * from (epoch seed, k). Results are identical with 0 (calling thread), 1 or 8 workers, and
 * `state()` / `loadState()` resume mid-epoch exactly (the epoch seed is part of the state).
 * Unlike DataLoader's `transform` hook, the augmentation may change the sample shape
 * (RandomResizedCrop to a smaller size, ...).
 */

export interface ImageLoaderOptions extends Omit<DataLoaderOptions, 'transform'> {
  /** The augmentation pipeline (random transforms, drawing from the generator they are given). */
  augment?: Transform;
  /** Worker threads (default: cores - 1, at least 1); 0 runs everything in the calling thread. */
  workers?: number;
}

export interface ImageLoaderState extends DataLoaderState {
  /** The current epoch's augmentation seed (null before the first batch). */
  augmentSeed: number | null;
}

/** Seed of sample `position` of an epoch: distinct positions give unrelated streams (Generator mixes the seed). */
export function sampleSeed(epochSeed: number, position: number): number {
  return (Math.imul(position + 1, 0x9e3779b9) ^ epochSeed) >>> 0;
}

/** Labels only, so that the inner DataLoader assembles batches without decoding; workers decode instead. */
class LabelsOnly implements Dataset {
  constructor(
    readonly folder: ImageFolder,
    readonly indices: Int32Array | null,
  ) {}

  get length(): number {
    return this.indices ? this.indices.length : this.folder.length;
  }

  get sampleShape(): readonly number[] {
    return this.folder.sampleShape;
  }

  get classes(): readonly string[] {
    return this.folder.classes;
  }

  folderIndex(i: number): number {
    return this.indices ? this.indices[i]! : i;
  }

  get(index: number): Sample {
    return { input: new Float32Array(sizeOf(this.sampleShape)), label: this.readInto(index) };
  }

  readInto(index: number): number {
    checkIndex(index, this.length, 'ImageLoader');
    return this.folder.labels[this.folderIndex(index)]!;
  }
}

interface Pending {
  batch: Batch;
  state: ImageLoaderState;
  ids: number[] | null;
  x: Float32Array | null;
}

export class ImageLoader extends DataLoader {
  /** The dataset the samples come from (`dataset` may be a labels-only stand-in when workers decode). */
  readonly source: Dataset;
  readonly augment: Transform | undefined;
  readonly workers: number;
  /** Shape of the samples coming out: the augmentation's output for the dataset's samples. */
  readonly outputShape: ImageShape;
  private epochSeed: number | null = null;
  private restoredSeed: number | null = null;
  private lastState: ImageLoaderState | null = null;

  constructor(dataset: Dataset, opts: ImageLoaderOptions = {}) {
    const workers = opts.workers ?? Math.max(1, defaultWorkers() - 1);
    if (!Number.isInteger(workers) || workers < 0) throw new ConvkitError(`ImageLoader: workers must be a whole number >= 0, got ${workers}`);
    const folder = dataset instanceof ImageFolder ? dataset : dataset instanceof Subset && dataset.dataset instanceof ImageFolder ? dataset.dataset : null;
    const decodeInWorkers = workers > 0 && folder !== null && !folder.cached;
    const inner = decodeInWorkers ? new LabelsOnly(folder, dataset instanceof Subset ? dataset.indices : null) : dataset;
    const { augment: _augment, workers: _workers, ...loaderOpts } = opts;
    super(inner, loaderOpts);
    this.source = dataset;
    this.augment = opts.augment;
    this.workers = workers;
    const shape = asImageShape(dataset.sampleShape, 'ImageLoader (samples must be images [C, H, W])');
    this.outputShape = this.augment ? this.augment.outputShape(shape) : shape;
  }

  override *[Symbol.iterator](): Iterator<Batch> {
    const inner = super[Symbol.iterator]();
    this.lastState = null;
    let first = true;
    const pull = (): Pending | null => {
      const r = inner.next();
      if (r.done) return null;
      if (first) {
        first = false;
        this.epochSeed = this.restoredSeed ?? this.generator.nextUint32();
        this.restoredSeed = null;
      }
      const state: ImageLoaderState = { ...super.state(), augmentSeed: this.epochSeed };
      return this.start(r.value, state);
    };
    let current = pull();
    let following: Pending | null = null;
    try {
      while (current) {
        // Start the next batch before handing out this one: the workers prepare it meanwhile.
        following = pull();
        const x = this.finish(current);
        this.lastState = current.state;
        const batch = current;
        current = null;
        yield { x: new Tensor(x, [batch.batch.indices.length, ...this.outputShape]), y: batch.batch.y, indices: batch.batch.indices };
        current = following;
        following = null;
      }
    } finally {
      // Left early (break, an exception): nobody will collect the prefetched batch.
      for (const p of [current, following]) if (p?.ids) sharedImagePool(this.workers).forget(p.ids);
    }
  }

  override state(): ImageLoaderState {
    // The generator's live state: anything else drawing from it (dropout...) must resume too.
    if (this.lastState) return { ...this.lastState, generatorState: this.generator.getState() };
    return { ...super.state(), augmentSeed: this.epochSeed };
  }

  override loadState(state: DataLoaderState | ImageLoaderState): void {
    super.loadState(state);
    const seed = 'augmentSeed' in state ? state.augmentSeed : null;
    const midEpoch = state.epoch > 0 && state.batch < this.length;
    this.restoredSeed = midEpoch ? seed : null;
    this.epochSeed = seed;
    this.lastState = null;
  }

  /** The jobs of a batch: file paths for workers to decode, or the assembled values. */
  private jobs(batch: Batch, first: number): SampleJob[] {
    const size = sizeOf(this.dataset.sampleShape);
    const shape = this.dataset.sampleShape as unknown as ImageShape;
    const values = batch.x.values() as Float32Array;
    return Array.from(batch.indices, (index, k) => {
      const seed = sampleSeed(this.epochSeed!, first + k);
      if (this.dataset instanceof LabelsOnly) {
        const fi = this.dataset.folderIndex(index);
        return { path: this.dataset.folder.files[fi]!.path, index: fi, seed };
      }
      return { data: values.slice(k * size, (k + 1) * size), shape, seed };
    });
  }

  private task(jobs: SampleJob[]): SampleTask {
    const base: SampleTask =
      this.dataset instanceof LabelsOnly ? this.dataset.folder.task(jobs, 'float32') : { jobs, output: 'float32' };
    return { ...base, ...(this.augment ? { augment: this.augment.toJSON() } : {}), expectShape: this.outputShape };
  }

  private start(batch: Batch, state: ImageLoaderState): Pending {
    const first = (state.batch - 1) * this.batchSize;
    if (!this.augment && !(this.dataset instanceof LabelsOnly)) {
      return { batch, state, ids: null, x: batch.x.values() as Float32Array };
    }
    const jobs = this.jobs(batch, first);
    if (this.workers === 0) {
      return { batch, state, ids: null, x: runSampleTaskSync(this.task(jobs)).data as Float32Array };
    }
    const per = Math.ceil(jobs.length / this.workers);
    const tasks: SampleTask[] = [];
    for (let i = 0; i < jobs.length; i += per) tasks.push(this.task(jobs.slice(i, i + per)));
    return { batch, state, ids: sharedImagePool(this.workers).submit(tasks, this.workers), x: null };
  }

  private finish(p: Pending): Float32Array {
    if (p.x) return p.x;
    const results = sharedImagePool(this.workers).wait(p.ids!);
    const size = sizeOf(this.outputShape);
    const x = new Float32Array(p.batch.indices.length * size);
    let at = 0;
    for (const r of results) {
      x.set(r.data as Float32Array, at);
      at += r.data.length;
    }
    if (at !== x.length) {
      throw new ConvkitError(`ImageLoader: workers returned ${at} values for a batch of ${p.batch.indices.length} samples of ${fmtShape(this.outputShape)}`);
    }
    return x;
  }
}
