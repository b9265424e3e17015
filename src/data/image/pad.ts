import { ConvkitError } from '../../tensor/errors.js';
import { aspectCropSize, checkAspect, cropBuffer, fillValue, type Fill } from './crop.js';
import { imageBuffer, mapImage, type ImageBuffer, type ImageLike } from './image-buffer.js';

/**
 * Padding: growing an image by borders. 'constant' fills with a value, 'edge' repeats the
 * border pixel, 'reflect' mirrors the image without repeating the border pixel
 * (numpy's 'reflect': 1 2 3 -> 3 2 | 1 2 3 | 2 1).
 */

export type PadMode = 'constant' | 'edge' | 'reflect';

/**
 * Padding as torchvision gives it: one number for all four sides, [leftRight, topBottom],
 * or [left, top, right, bottom].
 */
export type Padding = number | readonly [number, number] | readonly [number, number, number, number];

/** How padding is filled: the mode and, for 'constant', the value. */
export interface PadOptions {
  mode?: PadMode;
  /** The value of 'constant' padding (default 0), one for all channels or one per channel. */
  fill?: Fill;
}

/** [left, top, right, bottom] from any Padding form, checked. */
export function paddingSides(padding: Padding, what: string): [number, number, number, number] {
  const p = typeof padding === 'number' ? [padding, padding, padding, padding] : padding.length === 2 ? [padding[0], padding[1], padding[0], padding[1]] : [...padding];
  if (p.length !== 4 || p.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ConvkitError(
      `${what}: padding must be whole numbers >= 0: one for all sides, [leftRight, topBottom] or [left, top, right, bottom]; got ${JSON.stringify(padding)}`,
    );
  }
  return p as [number, number, number, number];
}

function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - k;
  return k;
}

export function padBuffer(x: ImageBuffer, sides: readonly [number, number, number, number], opts: PadOptions = {}): ImageBuffer {
  const [left, top, right, bottom] = sides;
  const mode = opts.mode ?? 'constant';
  const H = x.height + top + bottom;
  const W = x.width + left + right;
  if (mode === 'constant') return cropBuffer(x, -top, -left, H, W, opts.fill ?? 0);
  if (mode !== 'edge' && mode !== 'reflect') {
    throw new ConvkitError(`pad: mode must be 'constant', 'edge' or 'reflect', got '${String(mode)}'`);
  }
  const index = mode === 'edge' ? (i: number, n: number) => Math.min(n - 1, Math.max(0, i)) : reflectIndex;
  const rows = Int32Array.from({ length: H }, (_, r) => index(r - top, x.height));
  const cols = Int32Array.from({ length: W }, (_, c) => index(c - left, x.width));
  const out = imageBuffer(x.channels, H, W);
  for (let c = 0; c < x.channels; c++) {
    const src = c * x.height * x.width;
    const dst = c * H * W;
    for (let r = 0; r < H; r++) {
      const srow = src + rows[r]! * x.width;
      const drow = dst + r * W;
      for (let k = 0; k < W; k++) out.data[drow + k] = x.data[srow + cols[k]!]!;
    }
  }
  return out;
}

/** `img` with borders added on each side. */
export function pad<T extends ImageLike>(img: T, padding: Padding, opts: PadOptions = {}): T {
  const sides = paddingSides(padding, 'pad');
  return mapImage(img, 'pad', (x) => padBuffer(x, sides, opts));
}

/** The smallest centered canvas with aspect width / height = `aspect` holding the image, the rest filled. */
export function padToAspectBuffer(x: ImageBuffer, aspect: number, opts: PadOptions = {}): ImageBuffer {
  checkAspect(aspect, 'padToAspect');
  let [h, w] = [x.height, x.width];
  if (w / h > aspect) h = Math.max(h, Math.round(w / aspect));
  else w = Math.max(w, Math.round(h * aspect));
  if (h === x.height && w === x.width) return x;
  const top = Math.floor((h - x.height) / 2);
  const left = Math.floor((w - x.width) / 2);
  return padBuffer(x, [left, top, w - x.width - left, h - x.height - top], opts);
}

/** Pads the shorter side (centered) so that width / height equals `aspect`. */
export function padToAspect<T extends ImageLike>(img: T, aspect = 1, opts: PadOptions = {}): T {
  return mapImage(img, 'padToAspect', (x) => padToAspectBuffer(x, aspect, opts));
}

/** How to make every image the same aspect ratio before scaling: crop the excess, pad the shortfall, or neither (stretch). */
export type AspectMode = 'crop' | 'pad' | 'stretch';

/** Options of `uniformAspect`. */
export interface UniformAspectOptions {
  /** 'crop' (default): the largest centered window; 'pad': the smallest centered canvas; 'stretch': unchanged. */
  mode?: AspectMode;
  /** Target width / height (default 1: square). */
  aspect?: number;
  /** How 'pad' fills (default 'constant'). */
  padMode?: PadMode;
  /** The value of constant padding (default 0). */
  fill?: Fill;
}

export function uniformAspectBuffer(x: ImageBuffer, opts: UniformAspectOptions = {}): ImageBuffer {
  const aspect = opts.aspect ?? 1;
  switch (opts.mode ?? 'crop') {
    case 'crop': {
      const [h, w] = aspectCropSize(x.height, x.width, aspect);
      if (h === x.height && w === x.width) return x;
      return cropBuffer(x, Math.floor((x.height - h) / 2), Math.floor((x.width - w) / 2), h, w);
    }
    case 'pad':
      return padToAspectBuffer(x, aspect, { mode: opts.padMode ?? 'constant', fill: opts.fill ?? 0 });
    case 'stretch':
      checkAspect(aspect, 'uniformAspect');
      return x;
    default:
      throw new ConvkitError(`uniformAspect: mode must be 'crop', 'pad' or 'stretch', got '${String(opts.mode)}'`);
  }
}

/**
 * The first preprocessing step practitioners apply: every image to one aspect ratio, by
 * center-cropping (default) or padding, so that scaling to the target size does not distort.
 */
export function uniformAspect<T extends ImageLike>(img: T, opts: UniformAspectOptions = {}): T {
  return mapImage(img, 'uniformAspect', (x) => uniformAspectBuffer(x, opts));
}
