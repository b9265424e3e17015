import { ConvkitError } from '../../tensor/errors.js';
import { imageBuffer, mapImage, sizePair, type ImageBuffer, type ImageLike } from './image-buffer.js';

/**
 * Cropping: cutting a window out of an image. A window reaching past the border is filled
 * with `fill` there, so a crop is also a pad (random crops with padding rely on this).
 * Centered windows put the odd pixel on the bottom / right: top = floor((H - h) / 2).
 */

/** Per-channel fill: one value for all channels, or one per channel. */
export type Fill = number | readonly number[];

export function fillValue(fill: Fill, channel: number): number {
  return typeof fill === 'number' ? fill : (fill[channel] ?? fill[fill.length - 1] ?? 0);
}

/** The window [top, top + height) x [left, left + width) of `x`, filled with `fill` outside the image. */
export function cropBuffer(x: ImageBuffer, top: number, left: number, height: number, width: number, fill: Fill = 0): ImageBuffer {
  for (const [name, v] of [['top', top], ['left', left]] as const) {
    if (!Number.isInteger(v)) throw new ConvkitError(`crop: ${name} must be a whole number of pixels, got ${v}`);
  }
  const out = imageBuffer(x.channels, height, width);
  const { width: W, height: H } = x;
  // The part of the window inside the image: rows [r0, r1), columns [c0, c1) of the window.
  const r0 = Math.max(0, -top);
  const r1 = Math.min(height, H - top);
  const c0 = Math.max(0, -left);
  const c1 = Math.min(width, W - left);
  const inside = r0 < r1 && c0 < c1;
  for (let c = 0; c < x.channels; c++) {
    const src = c * H * W;
    const dst = c * height * width;
    const f = fillValue(fill, c);
    if (f !== 0 && (!inside || r0 > 0 || c0 > 0 || r1 < height || c1 < width)) out.data.fill(f, dst, dst + height * width);
    if (!inside) continue;
    for (let r = r0; r < r1; r++) {
      const from = src + (top + r) * W + left + c0;
      out.data.set(x.data.subarray(from, from + (c1 - c0)), dst + r * width + c0);
    }
  }
  return out;
}

/** `img` cropped to the window at (top, left) of height x width; outside the image the window holds `fill`. */
export function crop<T extends ImageLike>(img: T, top: number, left: number, height: number, width: number, opts: { fill?: Fill } = {}): T {
  const [h, w] = sizePair([height, width], 'crop');
  return mapImage(img, 'crop', (x) => cropBuffer(x, top, left, h, w, opts.fill ?? 0));
}

export function centerCropBuffer(x: ImageBuffer, height: number, width: number, fill: Fill = 0): ImageBuffer {
  if (height === x.height && width === x.width) return x;
  return cropBuffer(x, Math.floor((x.height - height) / 2), Math.floor((x.width - width) / 2), height, width, fill);
}

/** The centered window of `size` (a number for a square, or [height, width]); a larger size pads with `fill`. */
export function centerCrop<T extends ImageLike>(img: T, size: number | readonly [number, number], opts: { fill?: Fill } = {}): T {
  const [h, w] = sizePair(size, 'centerCrop');
  return mapImage(img, 'centerCrop', (x) => centerCropBuffer(x, h, w, opts.fill ?? 0));
}

/** Height and width of the largest window of the given aspect (width / height) inside H x W. */
export function aspectCropSize(height: number, width: number, aspect: number): [number, number] {
  checkAspect(aspect, 'cropToAspect');
  if (width / height > aspect) return [height, Math.max(1, Math.round(height * aspect))];
  return [Math.max(1, Math.round(width / aspect)), width];
}

export function checkAspect(aspect: number, what: string): void {
  if (!(aspect > 0) || !Number.isFinite(aspect)) {
    throw new ConvkitError(`${what}: aspect is width / height and must be a positive number (1 for square), got ${aspect}`);
  }
}

/** The largest centered window with aspect ratio width / height = `aspect` (default 1: square). */
export function cropToAspect<T extends ImageLike>(img: T, aspect = 1): T {
  return mapImage(img, 'cropToAspect', (x) => {
    const [h, w] = aspectCropSize(x.height, x.width, aspect);
    return centerCropBuffer(x, h, w);
  });
}
