import { ConvkitError } from '../../tensor/errors.js';
import { imageBuffer, mapImage, sizePair, type ImageBuffer, type ImageLike } from './image-buffer.js';

/**
 * Scaling an image to a target size by separable resampling: each output pixel is a weighted
 * sum of the input pixels near its center, first along rows, then along columns. Pixel i of
 * an axis of n pixels covers [i, i + 1) and has its center at i + 0.5, so scaling maps
 * centers, not corners (PyTorch's align_corners=False, PIL's convention).
 *
 * - 'nearest': the input pixel under the output center.
 * - 'bilinear': the triangle filter; upscaling gives PyTorch's bilinear interpolation exactly.
 * - 'area': each output pixel is the mean of the input over its footprint, partial pixels
 *   weighted by how much of them it covers (downscaling by 2 averages 2x2 blocks).
 * - 'lanczos': the Lanczos-3 windowed sinc, sharper than bilinear, slightly ringing.
 *
 * With `antialias` (default true), bilinear and Lanczos widen their filter by the scale
 * factor when downscaling, so that every input pixel contributes (as PIL does); without it
 * they sample only near the output center (PyTorch's default), which aliases.
 * Weights are normalised to sum to 1, which also handles the borders (no padding needed).
 */

export type ResampleMethod = 'nearest' | 'bilinear' | 'area' | 'lanczos';
/** Every resampling method `resize` accepts. */
export const RESAMPLE_METHODS: readonly ResampleMethod[] = ['nearest', 'bilinear', 'area', 'lanczos'];

/** Options of `resize`. */
export interface ResizeOptions {
  /** Default 'bilinear'. */
  method?: ResampleMethod;
  /** Widen bilinear / Lanczos filters when downscaling (default true). */
  antialias?: boolean;
}

/** The weights of one axis: output i reads input start[i] .. start[i] + taps - 1 with weights w[i * taps ...]. */
interface AxisWeights {
  taps: number;
  start: Int32Array;
  w: Float64Array;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const p = Math.PI * x;
  return Math.sin(p) / p;
}

const FILTERS = {
  bilinear: { support: 1, f: (x: number) => Math.max(0, 1 - Math.abs(x)) },
  lanczos: { support: 3, f: (x: number) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

function axisWeights(inN: number, outN: number, method: ResampleMethod, antialias: boolean): AxisWeights {
  const scale = inN / outN;
  const rows: { start: number; w: number[] }[] = [];
  for (let i = 0; i < outN; i++) {
    const center = (i + 0.5) * scale;
    let start: number;
    let w: number[];
    if (method === 'nearest') {
      start = Math.min(inN - 1, Math.floor(center));
      w = [1];
    } else if (method === 'area') {
      // Overlap of input pixel [j, j + 1) with the footprint [i * scale, (i + 1) * scale).
      const lo = i * scale;
      const hi = (i + 1) * scale;
      start = Math.floor(lo);
      const end = Math.min(inN, Math.ceil(hi));
      w = [];
      for (let j = start; j < end; j++) w.push(Math.max(0, Math.min(hi, j + 1) - Math.max(lo, j)));
    } else {
      const { support, f } = FILTERS[method];
      const stretch = antialias ? Math.max(scale, 1) : 1;
      const reach = support * stretch;
      start = Math.max(0, Math.floor(center - reach));
      const end = Math.min(inN, Math.ceil(center + reach));
      w = [];
      for (let j = start; j < end; j++) w.push(f((j + 0.5 - center) / stretch));
    }
    // Trim zero weights at both ends, so that a border pixel beyond the filter costs nothing.
    while (w.length > 1 && w[w.length - 1] === 0) w.pop();
    while (w.length > 1 && w[0] === 0) {
      w.shift();
      start++;
    }
    const sum = w.reduce((a, b) => a + b, 0);
    if (!(sum > 0)) {
      // Only reachable when every tap lands on a zero of the kernel; fall back to the nearest pixel.
      start = Math.min(inN - 1, Math.floor(center));
      w = [1];
    } else {
      w = w.map((v) => v / sum);
    }
    rows.push({ start, w });
  }
  const taps = Math.max(...rows.map((r) => r.w.length));
  const start = new Int32Array(outN);
  const weights = new Float64Array(outN * taps);
  rows.forEach((r, i) => {
    // Pad short rows with zero weights; keep their reads inside the image.
    start[i] = Math.max(0, Math.min(r.start, inN - taps));
    const shift = r.start - start[i]!;
    r.w.forEach((v, k) => (weights[i * taps + shift + k] = v));
  });
  return { taps, start, w: weights };
}

/** Horizontal pass: resamples each of `count` rows (inN values each) to outN values. */
function resampleRows(src: Float32Array, dst: Float32Array, count: number, inN: number, ax: AxisWeights): void {
  const { taps, start, w } = ax;
  const outN = start.length;
  for (let row = 0; row < count; row++) {
    const s0 = row * inN;
    const d0 = row * outN;
    for (let i = 0; i < outN; i++) {
      let acc = 0;
      const p = s0 + start[i]!;
      const wo = i * taps;
      for (let k = 0; k < taps; k++) acc += w[wo + k]! * src[p + k]!;
      dst[d0 + i] = acc;
    }
  }
}

/** Resize of an ImageBuffer to height x width. */
export function resizeBuffer(x: ImageBuffer, height: number, width: number, opts: ResizeOptions = {}): ImageBuffer {
  const method = opts.method ?? 'bilinear';
  if (!RESAMPLE_METHODS.includes(method)) {
    throw new ConvkitError(`resize: method must be one of ${RESAMPLE_METHODS.join(', ')}, got '${String(method)}'`);
  }
  if (height === x.height && width === x.width) return x;
  const antialias = opts.antialias ?? true;
  const C = x.channels;
  // Rows first (H x W -> H x width), then columns (-> height x width).
  let cur = x.data;
  let curW = x.width;
  if (width !== x.width) {
    const ax = axisWeights(x.width, width, method, antialias);
    const out = new Float32Array(C * x.height * width);
    resampleRows(cur, out, C * x.height, x.width, ax);
    cur = out;
    curW = width;
  }
  if (height !== x.height) {
    const ax = axisWeights(x.height, height, method, antialias);
    const out = new Float32Array(C * height * width);
    for (let c = 0; c < C; c++) {
      const src = cur.subarray(c * x.height * curW, (c + 1) * x.height * curW);
      const dst = out.subarray(c * height * width, (c + 1) * height * width);
      // Each column is a line of x.height elements curW apart.
      resampleColumns(src, dst, curW, ax);
    }
    cur = out;
  }
  return imageBuffer(C, height, width, cur);
}

/** Vertical pass, row by row so that memory is read in order (a column at a time would stride). */
function resampleColumns(src: Float32Array, dst: Float32Array, width: number, ax: AxisWeights): void {
  const { taps, start, w } = ax;
  for (let i = 0; i < start.length; i++) {
    const d0 = i * width;
    const wo = i * taps;
    for (let k = 0; k < taps; k++) {
      const wk = w[wo + k]!;
      if (wk === 0 && k > 0) continue;
      const s0 = (start[i]! + k) * width;
      if (k === 0) for (let c = 0; c < width; c++) dst[d0 + c] = wk * src[s0 + c]!;
      else for (let c = 0; c < width; c++) dst[d0 + c] += wk * src[s0 + c]!;
    }
  }
}

/**
 * `img` scaled to `size`: a number gives a square size x size (make the aspect uniform first,
 * with uniformAspect, to avoid distortion), a pair gives [height, width].
 */
export function resize<T extends ImageLike>(img: T, size: number | readonly [number, number], opts: ResizeOptions = {}): T {
  const [h, w] = sizePair(size, 'resize');
  return mapImage(img, 'resize', (x) => resizeBuffer(x, h, w, opts));
}
