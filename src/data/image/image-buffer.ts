import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';

/**
 * One image as planar float32 values: `channels` planes of `height` rows of `width` values
 * ([C, H, W], the layout of one item of an NCHW batch). Every transform in this folder works
 * on this plain object rather than on Tensors: the augmentation pipeline runs per sample in
 * worker threads, where tracking tensors (scopes, finalizers) would be pure overhead.
 * Values are in [0, 1] straight from the decoder; normalization may move them anywhere.
 */
export interface ImageBuffer {
  readonly data: Float32Array;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** What the image functions accept: an ImageBuffer or a float32 Tensor [C, H, W]. */
export type ImageLike = ImageBuffer | Tensor;

/** A [C, H, W] shape as a tuple. */
export type ImageShape = readonly [channels: number, height: number, width: number];

/** A new image; zero-filled unless `data` (length C*H*W) is given. */
export function imageBuffer(channels: number, height: number, width: number, data?: Float32Array): ImageBuffer {
  for (const [name, v] of [['channels', channels], ['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConvkitError(`image ${name} must be a whole number >= 1, got ${v}`);
  }
  const size = channels * height * width;
  if (data && data.length !== size) {
    throw new ConvkitError(
      `image [${channels}, ${height}, ${width}] needs ${size} values (channels x height x width), got ${data.length}`,
    );
  }
  return { data: data ?? new Float32Array(size), channels, height, width };
}

export function shapeOf(img: ImageBuffer): ImageShape {
  return [img.channels, img.height, img.width];
}

/** The ImageBuffer view of an image: a Tensor must be float32 [C, H, W] (its values are shared when contiguous). */
export function toImageBuffer(img: ImageLike, what = 'image'): ImageBuffer {
  if (!(img instanceof Tensor)) {
    if (!(img.data instanceof Float32Array) || img.data.length !== img.channels * img.height * img.width) {
      throw new ConvkitError(
        `${what}: an ImageBuffer needs a Float32Array of channels x height x width = ` +
          `${img.channels} x ${img.height} x ${img.width} values, got ${img.data?.length ?? 'no data'}`,
      );
    }
    return img;
  }
  if (img.ndim !== 3 || img.dtype !== 'float32') {
    throw new ConvkitError(
      `${what}: expected a float32 tensor [C, H, W] (one image), got ${img.dtype} ${fmtShape(img.shape)}; ` +
        'for a batch [N, C, H, W] pass one item at a time',
    );
  }
  const [c, h, w] = img.shape as [number, number, number];
  return { data: img.values() as Float32Array, channels: c, height: h, width: w };
}

export function imageToTensor(img: ImageBuffer): Tensor {
  return new Tensor(img.data, [img.channels, img.height, img.width]);
}

/**
 * Runs an ImageBuffer function on an ImageLike and returns the same kind: a Tensor in, a Tensor
 * out. This is how the public functions (crop, resize, ...) accept both.
 */
export function mapImage<T extends ImageLike>(img: T, what: string, fn: (x: ImageBuffer) => ImageBuffer): T {
  const out = fn(toImageBuffer(img, what));
  return (img instanceof Tensor ? imageToTensor(out) : out) as T;
}

/** A [C, H, W] shape from an array-like, checked. */
export function asImageShape(shape: readonly number[], what: string): ImageShape {
  if (shape.length !== 3 || shape.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ConvkitError(`${what}: expected an image shape [C, H, W] of whole numbers >= 1, got ${fmtShape(shape)}`);
  }
  return [shape[0]!, shape[1]!, shape[2]!];
}

/** A size given as one number (square) or [height, width], checked. */
export function sizePair(size: number | readonly [number, number], what: string): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new ConvkitError(`${what}: size must be a whole number >= 1 or a pair [height, width] of them, got ${JSON.stringify(size)}`);
  }
  return [h, w];
}
