import { ConvkitError } from '../tensor/errors.js';
import { cropBuffer } from './image/crop.js';
import { convertChannels } from './image/grayscale.js';
import type { ImageBuffer } from './image/image-buffer.js';
import { normalizeBuffer } from './image/normalize.js';
import { dequantize, quantize } from './image/pixels.js';
import { resizeBuffer } from './image/resize.js';

export { IMAGENET_CLASSES } from './imagenet-classes.js';

/** torchvision's ImageNet per-channel mean (of [0, 1] RGB pixels), which its pretrained models expect. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** torchvision's ImageNet per-channel standard deviation (of [0, 1] RGB pixels). */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Options of `imagenetPreprocess`; the defaults are torchvision's evaluation transform. */
export interface ImagenetPreprocessOptions {
  /** The shorter side is scaled to this (default 256). */
  resize?: number;
  /** Then the centred square of this side is kept (default 224). */
  crop?: number;
  /** Per-channel mean subtracted last (default IMAGENET_MEAN). */
  mean?: readonly number[];
  /** Per-channel standard deviation divided by (default IMAGENET_STD). */
  std?: readonly number[];
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * A decoded picture ([0, 1] values) -> the input of a torchvision ImageNet model, as
 * torchvision's `Resize(256), CenterCrop(224), ToTensor(), Normalize(mean, std)` on a PIL
 * image: RGB, the shorter side scaled to 256 (the longer to int(256 * long / short)),
 * antialiased bilinear, rounded to 8 bits as PIL keeps it, the centred 224 x 224 cut, then
 * standardized per channel.
 */
export function imagenetPreprocess(img: ImageBuffer, opts: ImagenetPreprocessOptions = {}): ImageBuffer {
  const size = opts.resize ?? 256;
  const crop = opts.crop ?? 224;
  for (const [name, v] of [['resize', size], ['crop', crop]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConvkitError(`imagenetPreprocess: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (crop > size) throw new ConvkitError(`imagenetPreprocess: crop ${crop} is larger than the resized shorter side ${size}`);
  let x = convertChannels(img, 3);
  const [h, w] = x.height <= x.width ? [size, Math.trunc((size * x.width) / x.height)] : [Math.trunc((size * x.height) / x.width), size];
  x = resizeBuffer(x, h, w, { method: 'bilinear' });
  const q = quantize(x.data);
  const data = new Float32Array(q.length);
  dequantize(q, data);
  x = cropBuffer({ ...x, data }, roundHalfEven((h - crop) / 2), roundHalfEven((w - crop) / 2), crop, crop);
  return normalizeBuffer(x, { kind: 'standardize', per: 'channel', mean: [...(opts.mean ?? IMAGENET_MEAN)], std: [...(opts.std ?? IMAGENET_STD)] });
}
