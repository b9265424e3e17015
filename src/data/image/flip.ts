import { ConvkitError } from '../../tensor/errors.js';
import { imageBuffer, mapImage, type ImageBuffer, type ImageLike } from './image-buffer.js';

/** Exact rearrangements of pixels: mirror images and quarter turns (no resampling involved). */

export function hflipBuffer(x: ImageBuffer): ImageBuffer {
  const out = imageBuffer(x.channels, x.height, x.width);
  const W = x.width;
  for (let row = 0; row < x.channels * x.height; row++) {
    const o = row * W;
    for (let c = 0; c < W; c++) out.data[o + c] = x.data[o + W - 1 - c]!;
  }
  return out;
}

export function vflipBuffer(x: ImageBuffer): ImageBuffer {
  const out = imageBuffer(x.channels, x.height, x.width);
  const { height: H, width: W } = x;
  for (let c = 0; c < x.channels; c++) {
    for (let r = 0; r < H; r++) {
      const from = (c * H + (H - 1 - r)) * W;
      out.data.set(x.data.subarray(from, from + W), (c * H + r) * W);
    }
  }
  return out;
}

/** Mirror left-right (column c becomes column W - 1 - c). */
export function hflip<T extends ImageLike>(img: T): T {
  return mapImage(img, 'hflip', hflipBuffer);
}

/** Mirror top-bottom (row r becomes row H - 1 - r). */
export function vflip<T extends ImageLike>(img: T): T {
  return mapImage(img, 'vflip', vflipBuffer);
}

/**
 * `k` quarter turns counter-clockwise as the image is displayed (numpy's rot90): an H x W image
 * becomes W x H for odd k, and out[r][c] = in[c][W - 1 - r] for k = 1. Negative k turns clockwise.
 */
export function rot90Buffer(x: ImageBuffer, k = 1): ImageBuffer {
  if (!Number.isInteger(k)) throw new ConvkitError(`rot90: k counts quarter turns and must be a whole number, got ${k}`);
  const turns = ((k % 4) + 4) % 4;
  if (turns === 0) return imageBuffer(x.channels, x.height, x.width, x.data.slice());
  if (turns === 2) return vflipBuffer(hflipBuffer(x));
  const { height: H, width: W } = x;
  const out = imageBuffer(x.channels, W, H);
  for (let c = 0; c < x.channels; c++) {
    const src = c * H * W;
    const dst = c * H * W;
    for (let r = 0; r < W; r++) {
      for (let col = 0; col < H; col++) {
        // Counter-clockwise: out[r][col] = in[col][W - 1 - r]; clockwise: in[H - 1 - col][r].
        const v = turns === 1 ? x.data[src + col * W + (W - 1 - r)]! : x.data[src + (H - 1 - col) * W + r]!;
        out.data[dst + r * H + col] = v;
      }
    }
  }
  return out;
}

/** Turns an image (or a [C, H, W] tensor) `k` quarter turns counter-clockwise, as numpy's rot90. */
export function rot90<T extends ImageLike>(img: T, k = 1): T {
  return mapImage(img, 'rot90', (x) => rot90Buffer(x, k));
}
