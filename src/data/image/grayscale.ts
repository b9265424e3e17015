import { ConvkitError } from '../../tensor/errors.js';
import { imageBuffer, mapImage, type ImageBuffer, type ImageLike } from './image-buffer.js';

/**
 * Channel conversions: RGB to grayscale (a dimensionality reduction by 3 that keeps shape
 * information and drops colour) and between the 1, 2 (gray + alpha), 3 and 4 channel layouts
 * decoders produce, so that a folder mixing grayscale and colour files yields one shape.
 */

/** ITU-R BT.601 luma weights, as PIL's convert('L') and torchvision's rgb_to_grayscale use. */
export const LUMA = [0.299, 0.587, 0.114] as const;

function lumaPlane(img: ImageBuffer): Float32Array {
  const n = img.height * img.width;
  const d = img.data;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = LUMA[0] * d[i]! + LUMA[1] * d[n + i]! + LUMA[2] * d[2 * n + i]!;
  return out;
}

/**
 * RGB (or RGBA, alpha ignored) to one luma channel; with `outputChannels: 3` the luma is
 * repeated in three channels, for models that expect RGB input.
 */
export function rgbToGrayscale<T extends ImageLike>(img: T, opts: { outputChannels?: 1 | 3 } = {}): T {
  return mapImage(img, 'rgbToGrayscale', (x) => {
    if (x.channels !== 3 && x.channels !== 4) {
      throw new ConvkitError(`rgbToGrayscale: expected an RGB or RGBA image (3 or 4 channels), got ${x.channels} channels`);
    }
    const luma = lumaPlane(x);
    const k = opts.outputChannels ?? 1;
    const out = imageBuffer(k, x.height, x.width);
    for (let c = 0; c < k; c++) out.data.set(luma, c * luma.length);
    return out;
  });
}

/**
 * Converts between 1 (gray), 2 (gray + alpha), 3 (RGB) and 4 (RGBA) channels. Colour to gray
 * uses LUMA; gray to colour repeats the plane; alpha is dropped without compositing (as PIL's
 * convert('RGB')) or added as fully opaque (1).
 */
export function toChannels<T extends ImageLike>(img: T, channels: 1 | 2 | 3 | 4): T {
  return mapImage(img, 'toChannels', (x) => convertChannels(x, channels));
}

export function convertChannels(x: ImageBuffer, channels: number): ImageBuffer {
  if (x.channels === channels) return x;
  if (![1, 2, 3, 4].includes(x.channels) || ![1, 2, 3, 4].includes(channels)) {
    throw new ConvkitError(
      `toChannels: converts between 1, 2 (gray + alpha), 3 (RGB) and 4 (RGBA) channels; got ${x.channels} -> ${channels}`,
    );
  }
  const n = x.height * x.width;
  const hasAlpha = x.channels === 2 || x.channels === 4;
  const gray = x.channels <= 2 ? x.data.subarray(0, n) : lumaPlane(x);
  const alpha = hasAlpha ? x.data.subarray((x.channels - 1) * n, x.channels * n) : null;
  const out = imageBuffer(channels, x.height, x.width);
  const colourOut = channels >= 3;
  if (colourOut && x.channels >= 3) out.data.set(x.data.subarray(0, 3 * n));
  else if (colourOut) for (let c = 0; c < 3; c++) out.data.set(gray, c * n);
  else out.data.set(gray);
  if (channels === 2 || channels === 4) {
    const plane = out.data.subarray((channels - 1) * n);
    if (alpha) plane.set(alpha);
    else plane.fill(1);
  }
  return out;
}
