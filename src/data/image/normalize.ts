import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { imageBuffer, mapImage, type ImageBuffer, type ImageLike } from './image-buffer.js';
import type { ImageStats } from './statistics.js';

/**
 * Normalization, the last preprocessing step: either standardize (subtract the training
 * set's mean, per channel or per pixel, and divide by its standard deviation) or rescale the
 * [0, 1] decoder range to another range such as [0, 255]. A Normalization is plain JSON, so it
 * is saved with a model and predict applies the very same transform.
 */

export type Normalization =
  | {
      kind: 'standardize';
      /** 'channel': one mean / std per channel (length C); 'pixel': a mean / std image (length C*H*W). */
      per: 'channel' | 'pixel';
      /** [C, H, W] the statistics were computed at (required for 'pixel'). */
      shape?: [number, number, number];
      mean: number[];
      /** Omitted: only subtract the mean. */
      std?: number[];
    }
  | {
      kind: 'rescale';
      /** Where [0, 1] goes, e.g. [0, 255] or [-1, 1]. */
      range: [number, number];
    };

/** The divisor for a std: a (near) zero std, a pixel that never varied in training, divides by 1 instead (mean subtraction only). */
export function safeStd(std: number, minStd = 1e-8): number {
  return std > minStd ? std : 1;
}

function checkLengths(n: Normalization & { kind: 'standardize' }, x: ImageBuffer): void {
  const expected = n.per === 'channel' ? x.channels : x.data.length;
  const bad = n.mean.length !== expected || (n.std !== undefined && n.std.length !== expected);
  if (bad) {
    const what = n.per === 'channel' ? `${x.channels} channels` : `${fmtShape([x.channels, x.height, x.width])} = ${expected} pixel values`;
    throw new ConvkitError(
      `normalize: per-${n.per} statistics of length ${n.mean.length} (std ${n.std?.length ?? 'none'}) do not fit an image of ${what}` +
        (n.shape ? ` (they were computed at ${fmtShape(n.shape)}; preprocess images to that size first)` : ''),
    );
  }
}

export function normalizeBuffer(x: ImageBuffer, n: Normalization): ImageBuffer {
  const out = imageBuffer(x.channels, x.height, x.width);
  const d = x.data;
  const o = out.data;
  if (n.kind === 'rescale') {
    const [lo, hi] = n.range;
    for (let i = 0; i < d.length; i++) o[i] = lo + d[i]! * (hi - lo);
    return out;
  }
  if (n.kind !== 'standardize') throw new ConvkitError(`normalize: kind must be 'standardize' or 'rescale', got '${String((n as { kind: unknown }).kind)}'`);
  checkLengths(n, x);
  const plane = x.height * x.width;
  for (let i = 0; i < d.length; i++) {
    const k = n.per === 'channel' ? Math.floor(i / plane) : i;
    o[i] = (d[i]! - n.mean[k]!) / (n.std ? safeStd(n.std[k]!) : 1);
  }
  return out;
}

/** The inverse of normalizeBuffer, e.g. to display a normalized image. */
export function denormalizeBuffer(x: ImageBuffer, n: Normalization): ImageBuffer {
  const out = imageBuffer(x.channels, x.height, x.width);
  const d = x.data;
  const o = out.data;
  if (n.kind === 'rescale') {
    const [lo, hi] = n.range;
    for (let i = 0; i < d.length; i++) o[i] = (d[i]! - lo) / (hi - lo);
    return out;
  }
  checkLengths(n, x);
  const plane = x.height * x.width;
  for (let i = 0; i < d.length; i++) {
    const k = n.per === 'channel' ? Math.floor(i / plane) : i;
    o[i] = d[i]! * (n.std ? safeStd(n.std[k]!) : 1) + n.mean[k]!;
  }
  return out;
}

/** Applies a normalization (scale, or subtract a mean and divide by a std) to an image or a [C, H, W] tensor. */
export function normalize<T extends ImageLike>(img: T, n: Normalization): T {
  return mapImage(img, 'normalize', (x) => normalizeBuffer(x, n));
}

/** Undoes `normalize`, e.g. to show a network's input as an image. */
export function denormalize<T extends ImageLike>(img: T, n: Normalization): T {
  return mapImage(img, 'denormalize', (x) => denormalizeBuffer(x, n));
}

/**
 * A standardizing Normalization from dataset statistics: per 'channel' (the usual choice,
 * works at any image size) or per 'pixel' (subtract the mean image, as CS231n describes).
 * `divideByStd: false` only subtracts the mean.
 */
export function normalizationFromStats(
  stats: ImageStats,
  opts: { per?: 'channel' | 'pixel'; divideByStd?: boolean } = {},
): Normalization {
  const per = opts.per ?? 'channel';
  const divide = opts.divideByStd ?? true;
  const mean = per === 'channel' ? [...stats.channelMean] : Array.from(stats.mean.data);
  const std = per === 'channel' ? [...stats.channelStd] : Array.from(stats.std.data);
  return {
    kind: 'standardize',
    per,
    shape: [...stats.shape] as [number, number, number],
    mean,
    ...(divide ? { std } : {}),
  };
}
