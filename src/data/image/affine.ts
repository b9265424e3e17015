import { ConvkitError } from '../../tensor/errors.js';
import { fillValue, type Fill } from './crop.js';
import { imageBuffer, mapImage, type ImageBuffer, type ImageLike } from './image-buffer.js';

/**
 * General affine warps (rotation, scaling, shear, translation) by inverse mapping: for each
 * output pixel, find where it comes from in the input and sample there (bilinear by default).
 * Coordinates are pixel indices: x is the column, y the row (downwards), and pixel (x, y) has
 * its center at (x, y). Samples from outside the input take `fill`.
 */

/** A 2x3 matrix [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f. */
export type AffineMatrix = readonly [number, number, number, number, number, number];

/** An affine transform as rotation, translation, scale and shear about the image center. */
export interface AffineParams {
  /** Degrees, counter-clockwise as displayed (torchvision's convention). Default 0. */
  angle?: number;
  /** Pixels [tx, ty] (right, down) applied after the rest. Default [0, 0]. */
  translate?: readonly [number, number];
  /** Zoom factor about the center (2 doubles the size). Default 1. */
  scale?: number;
  /** Shear angles in degrees [along x, along y]. Default [0, 0]. */
  shear?: readonly [number, number];
  /** The fixed point of rotation, scale and shear, in pixels; default the image center ((W - 1) / 2, (H - 1) / 2). */
  center?: readonly [number, number];
}

/** Options of `warpAffine`: resampling and what fills pixels from outside the image. */
export interface WarpOptions {
  interpolation?: 'bilinear' | 'nearest';
  fill?: Fill;
  /** Output [height, width] (default: the input's). */
  outputSize?: readonly [number, number];
}

const RAD = Math.PI / 180;

/** Composes two affine maps: first `inner`, then `outer`. */
export function composeAffine(outer: AffineMatrix, inner: AffineMatrix): AffineMatrix {
  const [a, b, c, d, e, f] = outer;
  const [A, B, C, D, E, F] = inner;
  return [a * A + b * D, a * B + b * E, a * C + b * F + c, d * A + e * D, d * B + e * E, d * C + e * F + f];
}

/** The inverse of a 2x3 affine matrix; throws when it is singular. */
export function invertAffine(m: AffineMatrix): AffineMatrix {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (!(Math.abs(det) > 1e-12)) {
    throw new ConvkitError(`affine: the matrix [${m.join(', ')}] is singular (determinant ${det}); scale must not be 0`);
  }
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/**
 * The forward matrix of a rotation / scale / shear about `center` followed by a translation,
 * for an image of height x width: center + translate + R(angle) Shear S(scale) (p - center).
 */
export function affineMatrix(params: AffineParams, height: number, width: number): AffineMatrix {
  const angle = (params.angle ?? 0) * RAD;
  const s = params.scale ?? 1;
  const [shx, shy] = (params.shear ?? [0, 0]).map((v) => Math.tan(v * RAD)) as [number, number];
  const [cx, cy] = params.center ?? [(width - 1) / 2, (height - 1) / 2];
  const [tx, ty] = params.translate ?? [0, 0];
  if (!(s > 0)) throw new ConvkitError(`affine: scale must be > 0, got ${s}`);
  // With y pointing down, a counter-clockwise turn on screen by t is [cos t, sin t; -sin t, cos t].
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const rotate: AffineMatrix = [cos, sin, 0, -sin, cos, 0];
  const shear: AffineMatrix = [1, shx, 0, shy, 1, 0];
  const scale: AffineMatrix = [s, 0, 0, 0, s, 0];
  const toOrigin: AffineMatrix = [1, 0, -cx, 0, 1, -cy];
  const back: AffineMatrix = [1, 0, cx + tx, 0, 1, cy + ty];
  return composeAffine(back, composeAffine(rotate, composeAffine(shear, composeAffine(scale, toOrigin))));
}

// Snaps coordinates within this of a whole number, so that exact quarter turns copy pixels exactly.
const SNAP = 1e-9;
function snap(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < SNAP ? r : v;
}

/** Warps `x` by the forward matrix `m` (output pixel p takes input at m^-1 p). */
export function warpAffineBuffer(x: ImageBuffer, m: AffineMatrix, opts: WarpOptions = {}): ImageBuffer {
  const [H, W] = opts.outputSize ?? [x.height, x.width];
  const inv = invertAffine(m);
  const nearest = (opts.interpolation ?? 'bilinear') === 'nearest';
  const fill = opts.fill ?? 0;
  const out = imageBuffer(x.channels, H, W);
  const { height: h, width: w } = x;
  const plane = h * w;
  const fills = Array.from({ length: x.channels }, (_, c) => fillValue(fill, c));
  for (let r = 0; r < H; r++) {
    for (let col = 0; col < W; col++) {
      const sx = snap(inv[0] * col + inv[1] * r + inv[2]);
      const sy = snap(inv[3] * col + inv[4] * r + inv[5]);
      const o = r * W + col;
      if (nearest) {
        const ix = Math.round(sx);
        const iy = Math.round(sy);
        const inside = ix >= 0 && ix < w && iy >= 0 && iy < h;
        for (let c = 0; c < x.channels; c++) out.data[c * H * W + o] = inside ? x.data[c * plane + iy * w + ix]! : fills[c]!;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      // The four neighbours; a zero weight never reads (so no fill bleeds in at exact positions).
      const w00 = (1 - fx) * (1 - fy);
      const w10 = fx * (1 - fy);
      const w01 = (1 - fx) * fy;
      const w11 = fx * fy;
      const in0 = y0 >= 0 && y0 < h;
      const in1 = y0 + 1 >= 0 && y0 + 1 < h;
      const inL = x0 >= 0 && x0 < w;
      const inR = x0 + 1 >= 0 && x0 + 1 < w;
      const p00 = y0 * w + x0;
      for (let c = 0; c < x.channels; c++) {
        const base = c * plane + p00;
        const f = fills[c]!;
        let acc = 0;
        if (w00 !== 0) acc += w00 * (in0 && inL ? x.data[base]! : f);
        if (w10 !== 0) acc += w10 * (in0 && inR ? x.data[base + 1]! : f);
        if (w01 !== 0) acc += w01 * (in1 && inL ? x.data[base + w]! : f);
        if (w11 !== 0) acc += w11 * (in1 && inR ? x.data[base + w + 1]! : f);
        out.data[c * H * W + o] = acc;
      }
    }
  }
  return out;
}

/** `img` warped by the forward 2x3 matrix `matrix` (see affineMatrix to build one from angle / scale / shear). */
export function warpAffine<T extends ImageLike>(img: T, matrix: AffineMatrix, opts: WarpOptions = {}): T {
  return mapImage(img, 'warpAffine', (x) => warpAffineBuffer(x, matrix, opts));
}

/** Rotation, scaling, shear and translation about the center in one resampling (as torchvision's affine). */
export function affine<T extends ImageLike>(img: T, params: AffineParams, opts: WarpOptions = {}): T {
  return mapImage(img, 'affine', (x) => warpAffineBuffer(x, affineMatrix(params, x.height, x.width), opts));
}

/** Rotation by `degrees` counter-clockwise about the center, same size (corners are cut, gaps take `fill`). */
export function rotate<T extends ImageLike>(img: T, degrees: number, opts: WarpOptions = {}): T {
  return affine(img, { angle: degrees }, opts);
}
