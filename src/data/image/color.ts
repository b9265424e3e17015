import { ConvkitError } from '../../tensor/errors.js';
import { LUMA } from './grayscale.js';
import { imageBuffer, mapImage, type ImageBuffer, type ImageLike } from './image-buffer.js';

/**
 * Photometric adjustments, as torchvision defines them: each blends the image with a
 * reference by `factor` (out = factor * img + (1 - factor) * reference) and clamps to [0, 1]
 * (images are expected in [0, 1], i.e. before normalization):
 * - brightness: the reference is black, so out = factor * img;
 * - contrast: the reference is the mean gray level of the image;
 * - saturation: the reference is the image's own grayscale.
 * Factor 1 leaves the image unchanged.
 */

function checkFactor(factor: number, what: string): void {
  if (!(factor >= 0) || !Number.isFinite(factor)) throw new ConvkitError(`${what}: factor must be a number >= 0 (1 = unchanged), got ${factor}`);
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** The mean of the grayscale version (the channel itself for 1-2 channels, LUMA for colour). */
export function meanGray(x: ImageBuffer): number {
  const n = x.height * x.width;
  let sum = 0;
  if (x.channels < 3) {
    for (let i = 0; i < n; i++) sum += x.data[i]!;
  } else {
    for (let i = 0; i < n; i++) sum += LUMA[0] * x.data[i]! + LUMA[1] * x.data[n + i]! + LUMA[2] * x.data[2 * n + i]!;
  }
  return sum / n;
}

/** Number of colour channels to adjust: alpha (channel 2 of 2, 4 of 4) is left alone. */
function colourChannels(x: ImageBuffer): number {
  return x.channels === 2 || x.channels === 4 ? x.channels - 1 : x.channels;
}

function blend(x: ImageBuffer, factor: number, reference: (c: number, i: number) => number): ImageBuffer {
  const out = imageBuffer(x.channels, x.height, x.width, x.data.slice());
  const n = x.height * x.width;
  const k = colourChannels(x);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) out.data[c * n + i] = clamp01(factor * x.data[c * n + i]! + (1 - factor) * reference(c, i));
  }
  return out;
}

/** Scales every value by `factor` (0 black, 1 unchanged), clamped to [0, 1]. */
export function adjustBrightnessBuffer(x: ImageBuffer, factor: number): ImageBuffer {
  checkFactor(factor, 'adjustBrightness');
  return blend(x, factor, () => 0);
}

/** Blends with the image's mean gray by `factor` (0 flat gray, 1 unchanged), clamped to [0, 1]. */
export function adjustContrastBuffer(x: ImageBuffer, factor: number): ImageBuffer {
  checkFactor(factor, 'adjustContrast');
  const mean = meanGray(x);
  return blend(x, factor, () => mean);
}

/** Blends with the image's grayscale by `factor` (0 gray, 1 unchanged), clamped to [0, 1]. */
export function adjustSaturationBuffer(x: ImageBuffer, factor: number): ImageBuffer {
  checkFactor(factor, 'adjustSaturation');
  if (x.channels < 3) return x;
  const n = x.height * x.width;
  const gray = new Float32Array(n);
  for (let i = 0; i < n; i++) gray[i] = LUMA[0] * x.data[i]! + LUMA[1] * x.data[n + i]! + LUMA[2] * x.data[2 * n + i]!;
  return blend(x, factor, (_c, i) => gray[i]!);
}

/** Scales every value by `factor` (0 black, 1 unchanged), clamped to [0, 1]; an image or a [C, H, W] tensor. */
export function adjustBrightness<T extends ImageLike>(img: T, factor: number): T {
  return mapImage(img, 'adjustBrightness', (x) => adjustBrightnessBuffer(x, factor));
}

/** Blends with the image's mean gray by `factor` (0 flat gray, 1 unchanged), clamped to [0, 1]. */
export function adjustContrast<T extends ImageLike>(img: T, factor: number): T {
  return mapImage(img, 'adjustContrast', (x) => adjustContrastBuffer(x, factor));
}

/** Blends with the image's grayscale by `factor` (0 gray, 1 unchanged), clamped to [0, 1]. */
export function adjustSaturation<T extends ImageLike>(img: T, factor: number): T {
  return mapImage(img, 'adjustSaturation', (x) => adjustSaturationBuffer(x, factor));
}
