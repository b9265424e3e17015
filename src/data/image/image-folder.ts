import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Generator } from '../../tensor/random.js';
import { sizeOf } from '../../tensor/shape.js';
import { checkIndex, type Dataset, type Sample } from '../dataset.js';
import { imageBuffer, type ImageShape } from './image-buffer.js';
import { listImageFiles } from './list-images.js';
import { dequantize } from './pixels.js';
import { InputPipeline, preprocessedShape, type PreprocessSpec } from './preprocess.js';
import type { SampleTask } from './sample-task.js';
import type { Transform } from './transforms/transform.js';
import { chunk, defaultWorkers, sharedImagePool, type ImageWorkerPool } from './worker-pool.js';

/**
 * A labelled dataset from a folder tree with one sub-folder per class, as torchvision's
 * ImageFolder: root/cat/001.jpg, root/dog/xyz.png... Class names are the sub-folder names,
 * sorted, and label i is classes[i]; images are found at any depth under a class folder. Each
 * image is decoded, converted to `channels`, cropped (or padded) to the aspect of `size` and
 * scaled to it, rounded to 8 bits, then passed through the optional deterministic `transform`
 * (e.g. Normalize). With the cache (default when it fits in cacheLimitBytes), all images are
 * decoded once, in parallel on worker threads, and kept as 8-bit pixels at the target size.
 */

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

export interface ImageFolderOptions extends PreprocessSpec {
  /** Deterministic transform after preprocessing (Normalize, Grayscale, ...); augmentation goes in the loader. */
  transform?: Transform;
  /** Refuse images with more pixels than this (see decodeImage). */
  maxPixels?: number;
  /** Keep all images decoded in memory: true, false, or 'auto' (default: when they fit in cacheLimitBytes). */
  cache?: boolean | 'auto';
  /** Default 1 GiB. */
  cacheLimitBytes?: number;
  /** Worker threads decoding (default: every core). */
  workers?: number;
  /** File extensions counted as images (default IMAGE_EXTENSIONS). */
  extensions?: readonly string[];
  /**
   * Use only part of each class, for a train / test split of a single folder: with
   * { part: 'test', fraction: 0.2 }, every fifth file of each class (in sorted order) is a test
   * image and the rest train images. Deterministic: no random draw, same split every run.
   */
  holdout?: { part: 'train' | 'test'; fraction: number };
}

/** An image file of a folder dataset and its class label. */
export interface ImageFile {
  path: string;
  label: number;
}

function isHidden(name: string): boolean {
  return name.startsWith('.');
}

/** The class sub-folders of `root` (sorted), or [] when it has none. */
export function classFolders(root: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => !isHidden(e.name) && (e.isDirectory() || (e.isSymbolicLink() && statSync(join(root, e.name)).isDirectory())))
    .map((e) => e.name)
    .sort();
}

/** True when `root` looks like an ImageFolder: sub-folders, at least one holding an image. */
export function isImageFolder(root: string, extensions: readonly string[] = IMAGE_EXTENSIONS): boolean {
  return classFolders(root).some((c) => listImageFiles(join(root, c), extensions).length > 0);
}

/** Scans root/<class>/... into sorted class names and (path, label) pairs. */
export function scanImageFolder(root: string, opts: Pick<ImageFolderOptions, 'extensions' | 'holdout'> = {}): { classes: string[]; files: ImageFile[] } {
  if (!existsSync(root)) throw new ConvkitError(`ImageFolder: ${root} does not exist`);
  if (!statSync(root).isDirectory()) throw new ConvkitError(`ImageFolder: ${root} is a file; expected a folder with one sub-folder per class`);
  const extensions = (opts.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
  const classes = classFolders(root);
  if (classes.length === 0) {
    throw new ConvkitError(
      `ImageFolder: ${root} has no sub-folders; expected one sub-folder per class holding its images, e.g. ${join(root, 'cat', '001.jpg')} and ${join(root, 'dog', '001.jpg')}`,
    );
  }
  const files: ImageFile[] = [];
  const empty: string[] = [];
  const holdout = opts.holdout;
  if (holdout && !(holdout.fraction > 0 && holdout.fraction < 1)) {
    throw new ConvkitError(`ImageFolder: holdout.fraction must be between 0 and 1, got ${holdout.fraction}`);
  }
  classes.forEach((name, label) => {
    const paths = listImageFiles(join(root, name), extensions);
    if (paths.length === 0) empty.push(name);
    paths.forEach((path, rank) => {
      // Rank r is a test file when floor((r + 1) f) > floor(r f): a share f of each class, spread evenly.
      if (holdout) {
        const isTest = Math.floor((rank + 1) * holdout.fraction) > Math.floor(rank * holdout.fraction);
        if (isTest !== (holdout.part === 'test')) return;
      }
      files.push({ path, label });
    });
  });
  if (empty.length > 0) {
    throw new ConvkitError(
      `ImageFolder: ${root}: no image files (${extensions.join(', ')}) in the class folder(s) ${empty.join(', ')}; ` +
        'remove them or add images (a class without images cannot be learnt)',
    );
  }
  return { classes, files };
}

export class ImageFolder implements Dataset {
  readonly root: string;
  readonly classes: readonly string[];
  readonly files: readonly ImageFile[];
  readonly labels: Int32Array;
  readonly sampleShape: readonly number[];
  readonly name: string;
  /** Decoded picture -> sample, as JSON: save it with a trained model so that predict prepares inputs the same way. */
  readonly pipeline: InputPipeline;
  readonly workers: number;
  private readonly maxPixels: number | undefined;
  private readonly preprocessedShape: ImageShape;
  private cache: Uint8Array | null = null;

  constructor(root: string, opts: ImageFolderOptions = {}) {
    const { classes, files } = scanImageFolder(root, opts);
    this.root = root;
    this.classes = Object.freeze(classes);
    this.files = Object.freeze(files);
    this.labels = Int32Array.from(files, (f) => f.label);
    this.name = root;
    this.workers = opts.workers ?? defaultWorkers();
    this.maxPixels = opts.maxPixels;
    const preprocess: PreprocessSpec = {};
    for (const key of ['size', 'channels', 'aspect', 'resample', 'antialias', 'fill'] as const) {
      if (opts[key] !== undefined) (preprocess as Record<string, unknown>)[key] = opts[key];
    }
    this.pipeline = new InputPipeline(preprocess, opts.transform, true);
    if (preprocess.size !== undefined) {
      this.preprocessedShape = preprocessedShape(preprocess);
    } else {
      // No size: every image keeps its own, so the first one fixes the shape all must share.
      const [first] = this.pool().run([this.task([{ path: files[0]!.path }], 'uint8')]);
      this.preprocessedShape = first!.shapes[0]!;
    }
    this.sampleShape = Object.freeze([...(opts.transform ? opts.transform.outputShape(this.preprocessedShape) : this.preprocessedShape)]);
    const want = opts.cache ?? 'auto';
    const bytes = files.length * sizeOf(this.preprocessedShape);
    if (want === true || (want === 'auto' && bytes <= (opts.cacheLimitBytes ?? 2 ** 30))) this.fillCache();
  }

  get length(): number {
    return this.files.length;
  }

  /** True when every image is held decoded in memory. */
  get cached(): boolean {
    return this.cache !== null;
  }

  private pool(): ImageWorkerPool {
    return sharedImagePool(this.workers);
  }

  /** A task over `jobs` for the worker pool: decoding and preprocessing as this folder does it. */
  task(jobs: SampleTask['jobs'], output: SampleTask['output'], extra: Partial<SampleTask> = {}): SampleTask {
    return {
      jobs,
      output,
      decode: { preprocess: this.pipeline.preprocess, quantize: true, ...(this.maxPixels !== undefined ? { maxPixels: this.maxPixels } : {}) },
      ...(output === 'float32' && this.pipeline.transform ? { datasetTransform: this.pipeline.transform.toJSON() } : {}),
      expectShape: output === 'uint8' ? this.preprocessedShape : (this.sampleShape as unknown as ImageShape),
      ...extra,
    };
  }

  /** Decodes every image now, in parallel, into the 8-bit cache. */
  fillCache(): void {
    if (this.cache) return;
    const size = sizeOf(this.preprocessedShape);
    const cache = new Uint8Array(this.length * size);
    const indices = Array.from({ length: this.length }, (_, i) => i);
    const parts = chunk(indices, this.workers);
    const results = this.pool().run(
      parts.map((part) => this.task(part.map((i) => ({ path: this.files[i]!.path })), 'uint8')),
      this.workers,
    );
    let at = 0;
    results.forEach((r) => {
      cache.set(r.data as Uint8Array, at);
      at += r.data.length;
    });
    this.cache = cache;
  }

  get(index: number): Sample {
    const input = new Float32Array(sizeOf(this.sampleShape));
    const label = this.readInto(index, input, 0);
    return { input, label };
  }

  readInto(index: number, out: Float32Array, offset: number): number {
    checkIndex(index, this.length, `ImageFolder ${this.root}`);
    const size = sizeOf(this.sampleShape);
    if (this.cache) {
      const n = sizeOf(this.preprocessedShape);
      const transform = this.pipeline.transform;
      if (!transform) {
        dequantize(this.cache.subarray(index * n, (index + 1) * n), out, offset);
      } else {
        const [c, h, w] = this.preprocessedShape;
        const x = imageBuffer(c, h, w);
        dequantize(this.cache.subarray(index * n, (index + 1) * n), x.data);
        const y = transform.apply(x, new Generator(index));
        out.set(y.data, offset);
      }
    } else {
      const [r] = this.pool().run([this.task([{ path: this.files[index]!.path, index }], 'float32')]);
      out.set(r!.data.subarray(0, size) as Float32Array, offset);
    }
    return this.labels[index]!;
  }

  /**
   * The same images with another deterministic transform (or none), sharing the file list and
   * the cache: e.g. compute statistics on the plain folder, then normalize with them without
   * decoding anything again.
   */
  withTransform(transform: Transform | undefined): ImageFolder {
    const pipeline = new InputPipeline(this.pipeline.preprocess, transform, true);
    const sampleShape = Object.freeze([...(transform ? transform.outputShape(this.preprocessedShape) : this.preprocessedShape)]);
    return Object.assign(Object.create(ImageFolder.prototype) as ImageFolder, this, { pipeline, sampleShape });
  }

  /** How many images each class has, indexed by label. */
  labelCounts(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (const v of this.labels) counts[v]!++;
    return counts;
  }

  toString(): string {
    return `ImageFolder(${this.root}: ${this.length} images of ${fmtShape(this.sampleShape)}, ${this.classes.length} classes)`;
  }

  /** A file's path relative to the root, for messages. */
  relativePath(index: number): string {
    return relative(this.root, this.files[index]!.path);
  }
}

/**
 * The ImageFolder for one split of `dir`, or null when `dir` holds no class folders: the
 * split's own folder when there is one (dir/train, dir/test or dir/val), otherwise a
 * deterministic holdout of dir itself (`testFraction` of each class, default 0.2, is 'test').
 */
export function imageFolderSplit(dir: string, split: 'train' | 'test', opts: ImageFolderOptions & { testFraction?: number } = {}): ImageFolder | null {
  const { testFraction, ...folderOpts } = opts;
  const names = split === 'train' ? ['train'] : ['test', 'val'];
  for (const name of names) {
    const sub = join(dir, name);
    if (isImageFolder(sub, folderOpts.extensions)) return new ImageFolder(sub, folderOpts);
  }
  if (!isImageFolder(dir, folderOpts.extensions)) return null;
  return new ImageFolder(dir, { ...folderOpts, holdout: { part: split, fraction: testFraction ?? 0.2 } });
}
