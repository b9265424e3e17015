import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { imageBuffer, shapeOf, toImageBuffer, type ImageBuffer, type ImageLike, type ImageShape } from './image-buffer.js';

/**
 * Dataset statistics in one streaming pass: images are added one at a time and never kept,
 * so a dataset of any size fits. Per pixel, Welford's update keeps a running mean and sum of
 * squared deviations (M2) in float64, which stays accurate where the naive sum of squares
 * cancels catastrophically. Per-channel figures follow exactly from the per-pixel ones: every
 * pixel has the same count N, so the channel mean is the mean of the pixel means, and the
 * channel's M2 is the sum over its pixels of M2 + N (pixel mean - channel mean)^2.
 */

export interface ImageStats {
  /** Images seen. */
  count: number;
  shape: ImageShape;
  /** The mean image and the standard-deviation image (per pixel). */
  mean: ImageBuffer;
  std: ImageBuffer;
  /** Per channel, over all pixels of all images. */
  channelMean: number[];
  channelStd: number[];
  /** 0: population std (divide by N, numpy's default); 1: sample std (N - 1). */
  ddof: number;
}

/** The numbers of ImageStats as JSON (the images go to PNGs). */
export interface ImageStatsJson {
  count: number;
  shape: [number, number, number];
  channelMean: number[];
  channelStd: number[];
  ddof: number;
}

/** Per-pixel and per-channel mean and standard deviation of images, accumulated one image at a time (Welford) and mergeable. */
export class ImageStatistics {
  private n = 0;
  private shape: ImageShape | null;
  private mean: Float64Array | null = null;
  private m2: Float64Array | null = null;

  /** `shape` [C, H, W] fixes the image size up front; otherwise the first image sets it. */
  constructor(shape?: ImageShape) {
    this.shape = shape ?? null;
  }

  get count(): number {
    return this.n;
  }

  /** Adds one image; `source` names it in the error when its shape differs. */
  add(img: ImageLike, source?: string): this {
    const x = toImageBuffer(img, 'ImageStatistics.add');
    const shape = shapeOf(x);
    if (!this.shape) this.shape = shape;
    if (shape.some((v, i) => v !== this.shape![i])) {
      throw new ConvkitError(
        `ImageStatistics: ${source ?? `image ${this.n}`} is ${fmtShape(shape)} but the statistics are of ${fmtShape(this.shape)} images; ` +
          'per-pixel statistics need one size: resize (and crop to one aspect) first, e.g. with --size',
      );
    }
    if (!this.mean) {
      this.mean = new Float64Array(x.data.length);
      this.m2 = new Float64Array(x.data.length);
    }
    const mean = this.mean;
    const m2 = this.m2!;
    const n = ++this.n;
    const d = x.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      const delta = v - mean[i]!;
      mean[i]! += delta / n;
      m2[i]! += delta * (v - mean[i]!);
    }
    return this;
  }

  /** Combines another accumulator's images into this one (Chan et al.'s parallel update). */
  merge(other: ImageStatistics): this {
    if (other.n === 0) return this;
    if (this.n === 0) {
      this.n = other.n;
      this.shape = other.shape;
      this.mean = other.mean!.slice();
      this.m2 = other.m2!.slice();
      return this;
    }
    if (other.shape!.some((v, i) => v !== this.shape![i])) {
      throw new ConvkitError(`ImageStatistics.merge: shapes differ, ${fmtShape(this.shape!)} and ${fmtShape(other.shape!)}`);
    }
    const na = this.n;
    const nb = other.n;
    const n = na + nb;
    const mean = this.mean!;
    const m2 = this.m2!;
    for (let i = 0; i < mean.length; i++) {
      const delta = other.mean![i]! - mean[i]!;
      mean[i]! += (delta * nb) / n;
      m2[i]! += other.m2![i]! + (delta * delta * na * nb) / n;
    }
    this.n = n;
    return this;
  }

  /** The statistics so far; `ddof` 1 divides by n - 1 (sample variance). */
  result(opts: { ddof?: number } = {}): ImageStats {
    const ddof = opts.ddof ?? 0;
    if (!this.shape || !this.mean || this.n - ddof <= 0) {
      throw new ConvkitError(`ImageStatistics: ${this.n} image(s) seen; statistics with ddof ${ddof} need at least ${ddof + 1}`);
    }
    const [C, H, W] = this.shape;
    const plane = H * W;
    const n = this.n;
    const meanImg = imageBuffer(C, H, W, Float32Array.from(this.mean));
    const stdImg = imageBuffer(C, H, W);
    const m2 = this.m2!;
    for (let i = 0; i < m2.length; i++) stdImg.data[i] = Math.sqrt(Math.max(0, m2[i]!) / (n - ddof));
    const channelMean: number[] = [];
    const channelStd: number[] = [];
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) sum += this.mean[i]!;
      const cm = sum / plane;
      let total = 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) {
        const dm = this.mean[i]! - cm;
        total += m2[i]! + n * dm * dm;
      }
      channelMean.push(cm);
      channelStd.push(Math.sqrt(Math.max(0, total) / (n * plane - ddof)));
    }
    return { count: n, shape: this.shape, mean: meanImg, std: stdImg, channelMean, channelStd, ddof };
  }
}

/** Statistics of a sequence of images (an array, a generator, a dataset's images...). */
export function computeStatistics(images: Iterable<ImageLike>, opts: { ddof?: number } = {}): ImageStats {
  const acc = new ImageStatistics();
  for (const img of images) acc.add(img);
  return acc.result(opts);
}

/** Image statistics as plain JSON numbers. */
export function statsToJson(stats: ImageStats): ImageStatsJson {
  return {
    count: stats.count,
    shape: [...stats.shape] as [number, number, number],
    channelMean: [...stats.channelMean],
    channelStd: [...stats.channelStd],
    ddof: stats.ddof,
  };
}

/**
 * The std image scaled for display: divided by its largest value, so that the pixels that
 * vary most show white and constant ones black.
 */
export function stdForDisplay(std: ImageBuffer): ImageBuffer {
  let max = 0;
  for (const v of std.data) if (v > max) max = v;
  const out = imageBuffer(std.channels, std.height, std.width);
  if (max > 0) for (let i = 0; i < out.data.length; i++) out.data[i] = std.data[i]! / max;
  return out;
}

/** What datasetImages and datasetStatistics read: any Dataset whose samples are images [C, H, W]. */
export interface ImageSource {
  readonly length: number;
  readonly sampleShape: readonly number[];
  /** Image `index` as [C, H, W] values. */
  get(index: number): { input: Float32Array };
}

/**
 * The images of a dataset one at a time (all, or those at `indices`), e.g. to fit PCA on a
 * sample of the training set: fitPca(datasetImages(train, someIndices)).
 */
export function* datasetImages(dataset: ImageSource, indices?: Iterable<number>): Generator<ImageBuffer> {
  const shape = dataset.sampleShape;
  if (shape.length !== 3) {
    throw new ConvkitError(`datasetImages: samples must be images [C, H, W], this dataset's are ${fmtShape(shape)}`);
  }
  const [c, h, w] = shape as [number, number, number];
  const order = indices ?? Array.from({ length: dataset.length }, (_, i) => i);
  for (const i of order) yield { data: dataset.get(i).input, channels: c, height: h, width: w };
}

/**
 * Statistics of a dataset's inputs, read one sample at a time: e.g. the mean and std images of
 * Fashion-MNIST's 60,000 training images.
 */
export function datasetStatistics(dataset: ImageSource, opts: { ddof?: number } = {}): ImageStats {
  const acc = new ImageStatistics(dataset.sampleShape.length === 3 ? (dataset.sampleShape as unknown as ImageShape) : undefined);
  for (const x of datasetImages(dataset)) acc.add(x);
  return acc.result(opts);
}
