import { ConvkitError } from '../../tensor/errors.js';
import { imageBuffer, toImageBuffer, type ImageBuffer, type ImageLike, type ImageShape } from './image-buffer.js';
import { symmetricEigen } from './symmetric-eigen.js';

/**
 * PCA and whitening fitted on a training sample: the data is centered, its covariance matrix
 * decomposed, and each input is then expressed in the top-k eigenvectors (dimensionality
 * reduction). Whitening also divides each coordinate by sqrt(eigenvalue + eps), so that the
 * result has identity covariance; ZCA whitening rotates back into pixel space, which keeps the
 * image shape (whitened images still look like images, edges emphasised).
 *
 * The covariance is D x D for D = C*H*W values per image, decomposed by Jacobi, which limits D
 * (MAX_PCA_DIMENSIONS): downscale or convert to grayscale first.
 */

export const MAX_PCA_DIMENSIONS = 512;

/** Whitening after projection: none, PCA (divide by the square root of the eigenvalues), or ZCA (rotate back after). */
export type Whitening = 'none' | 'pca' | 'zca';

/** A fitted PCA as JSON, saved with a model's input pipeline. */
export interface PcaJson {
  /** The [C, H, W] shape the PCA was fitted at. */
  shape: [number, number, number];
  mean: number[];
  /** k rows of D values, largest eigenvalue first. */
  components: number[][];
  eigenvalues: number[];
  whiten: Whitening;
  eps: number;
}

/** Options of `Pca.fit`. */
export interface PcaFitOptions {
  /** Components kept (default all D). */
  components?: number;
  whiten?: Whitening;
  /** Added to eigenvalues before dividing (default 1e-5), so near-zero directions do not explode. */
  eps?: number;
}

/** Principal component analysis of images of one shape: mean, components and eigenvalues, for projection and whitening. */
export class Pca {
  readonly shape: ImageShape;
  readonly mean: Float64Array;
  /** k x D, row-major. */
  readonly components: Float64Array;
  readonly eigenvalues: Float64Array;
  readonly whiten: Whitening;
  readonly eps: number;

  constructor(json: PcaJson) {
    const d = json.shape[0] * json.shape[1] * json.shape[2];
    if (json.mean.length !== d || json.components.some((row) => row.length !== d) || json.eigenvalues.length !== json.components.length) {
      throw new ConvkitError(
        `Pca: inconsistent data: shape [${json.shape.join(', ')}] has ${d} values but mean has ${json.mean.length}, ` +
          `${json.components.length} components of ${json.components[0]?.length ?? 0} values, ${json.eigenvalues.length} eigenvalues`,
      );
    }
    this.shape = [json.shape[0], json.shape[1], json.shape[2]];
    this.mean = Float64Array.from(json.mean);
    this.components = Float64Array.from(json.components.flat());
    this.eigenvalues = Float64Array.from(json.eigenvalues);
    this.whiten = json.whiten;
    this.eps = json.eps;
  }

  get dimensions(): number {
    return this.mean.length;
  }

  get k(): number {
    return this.eigenvalues.length;
  }

  /** Fraction of the total variance each kept component explains (of the variance of the fitted components). */
  explainedVarianceRatio(total?: number): number[] {
    const t = total ?? this.eigenvalues.reduce((a, b) => a + b, 0);
    return Array.from(this.eigenvalues, (v) => v / t);
  }

  private check(x: ImageBuffer): void {
    if (x.data.length !== this.dimensions) {
      throw new ConvkitError(
        `Pca: fitted on [${this.shape.join(', ')}] images (${this.dimensions} values), got [${x.channels}, ${x.height}, ${x.width}] ` +
          `(${x.data.length} values); preprocess to the same size first`,
      );
    }
  }

  /** The k coordinates of an image (whitened when whiten is 'pca' or 'zca'). */
  project(img: ImageLike): Float32Array {
    const x = toImageBuffer(img, 'Pca.project');
    this.check(x);
    const D = this.dimensions;
    const out = new Float32Array(this.k);
    for (let k = 0; k < this.k; k++) {
      let acc = 0;
      for (let i = 0; i < D; i++) acc += this.components[k * D + i]! * (x.data[i]! - this.mean[i]!);
      out[k] = this.whiten === 'none' ? acc : acc / Math.sqrt(Math.max(0, this.eigenvalues[k]!) + this.eps);
    }
    return out;
  }

  /** Back to image space from k coordinates (the inverse of project, up to the dropped components). */
  reconstruct(coords: ArrayLike<number>): ImageBuffer {
    const D = this.dimensions;
    const [C, H, W] = this.shape;
    const out = imageBuffer(C, H, W, Float32Array.from(this.mean));
    for (let k = 0; k < this.k; k++) {
      const ck = this.whiten === 'none' ? coords[k]! : coords[k]! * Math.sqrt(Math.max(0, this.eigenvalues[k]!) + this.eps);
      for (let i = 0; i < D; i++) out.data[i]! += ck * this.components[k * D + i]!;
    }
    return out;
  }

  /**
   * What a pipeline step produces: for 'zca', the whitened image in pixel space (same shape,
   * centered: reconstruct without the mean); otherwise the k coordinates as a [k, 1, 1] image.
   */
  apply(img: ImageLike): ImageBuffer {
    const coords = this.project(img);
    if (this.whiten !== 'zca') return imageBuffer(this.k, 1, 1, coords);
    const D = this.dimensions;
    const [C, H, W] = this.shape;
    const out = imageBuffer(C, H, W);
    for (let k = 0; k < this.k; k++) for (let i = 0; i < D; i++) out.data[i]! += coords[k]! * this.components[k * D + i]!;
    return out;
  }

  /** This PCA as JSON (`Pca.fromJSON` rebuilds it). */
  toJSON(): PcaJson {
    const D = this.dimensions;
    return {
      shape: [...this.shape] as [number, number, number],
      mean: Array.from(this.mean),
      components: Array.from({ length: this.k }, (_, k) => Array.from(this.components.subarray(k * D, (k + 1) * D))),
      eigenvalues: Array.from(this.eigenvalues),
      whiten: this.whiten,
      eps: this.eps,
    };
  }
}

/**
 * Fits PCA on a sample of images of one shape, in one pass: running sums of x and x x^T
 * (float64, centered on the first image to limit cancellation), then Jacobi on the covariance.
 */
export function fitPca(images: Iterable<ImageLike>, opts: PcaFitOptions = {}): Pca {
  let shape: ImageShape | null = null;
  let D = 0;
  let n = 0;
  let shift: Float64Array | null = null;
  let sum: Float64Array | null = null;
  let outer: Float64Array | null = null;
  let centered = new Float64Array(0);
  for (const img of images) {
    const x = toImageBuffer(img, 'fitPca');
    if (!shape) {
      shape = [x.channels, x.height, x.width];
      D = x.data.length;
      if (D > MAX_PCA_DIMENSIONS) {
        throw new ConvkitError(
          `fitPca: images of [${shape.join(', ')}] have ${D} values, more than the ${MAX_PCA_DIMENSIONS} this PCA handles ` +
            `(its covariance is D x D); resize smaller or convert to grayscale first (e.g. 1 x 16 x 16 = 256)`,
        );
      }
      shift = Float64Array.from(x.data);
      sum = new Float64Array(D);
      outer = new Float64Array(D * D);
      centered = new Float64Array(D);
    } else if (x.data.length !== D) {
      throw new ConvkitError(`fitPca: image ${n} is [${x.channels}, ${x.height}, ${x.width}], the first was [${shape.join(', ')}]; use one size`);
    }
    for (let i = 0; i < D; i++) {
      centered[i] = x.data[i]! - shift![i]!;
      sum![i]! += centered[i]!;
    }
    for (let i = 0; i < D; i++) {
      const ci = centered[i]!;
      if (ci === 0) continue;
      const row = i * D;
      for (let j = i; j < D; j++) outer![row + j]! += ci * centered[j]!;
    }
    n++;
  }
  if (!shape || n < 2) throw new ConvkitError(`fitPca: needs at least 2 images, got ${n}`);
  const k = opts.components ?? D;
  if (!Number.isInteger(k) || k < 1 || k > D) throw new ConvkitError(`fitPca: components must be a whole number in [1, ${D}], got ${k}`);
  const cov = new Float64Array(D * D);
  const mean = new Float64Array(D);
  for (let i = 0; i < D; i++) mean[i] = shift![i]! + sum![i]! / n;
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      // Population covariance of the shifted data (shifting does not change it).
      const v = (outer![i * D + j]! - (sum![i]! * sum![j]!) / n) / n;
      cov[i * D + j] = v;
      cov[j * D + i] = v;
    }
  }
  const eig = symmetricEigen(cov, D);
  return new Pca({
    shape: [...shape] as [number, number, number],
    mean: Array.from(mean),
    components: Array.from({ length: k }, (_, r) => Array.from(eig.vectors.subarray(r * D, (r + 1) * D))),
    eigenvalues: Array.from(eig.values.subarray(0, k), (v) => Math.max(0, v)),
    whiten: opts.whiten ?? 'none',
    eps: opts.eps ?? 1e-5,
  });
}
