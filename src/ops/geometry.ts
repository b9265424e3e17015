import { ConvkitError } from '../tensor/errors.js';

/**
 * Output-size arithmetic for sliding windows (CONV and POOL), shared by ops, layers and the
 * summary. Output = (W - F_eff + P_before + P_after)/S + 1 with F_eff = D*(F-1) + 1.
 * `fit` says what to do when that is not an integer:
 *   'strict' (default): a ConvkitError showing the arithmetic and sizes that would fit;
 *   'floor': drop the last partial window (PyTorch's default);
 *   'ceil':  keep it, as if padded on the far side (PyTorch's ceil_mode).
 */
export type Fit = 'strict' | 'floor' | 'ceil';

/** One number for both spatial dimensions, or [height, width]. */
export type Pair = number | readonly [number, number];

export interface AxisWindow {
  /** Input size along this axis. */
  size: number;
  kernel: number;
  stride: number;
  padBefore: number;
  padAfter: number;
  dilation: number;
}

export interface GeometryContext {
  /** Who is asking, for the message: 'conv2d', 'features.3 (Conv2d)', ... */
  op: string;
  /** 'height' or 'width'. */
  axis: string;
  /** Pooling windows must start inside the input or the left padding (PyTorch's rule for ceil mode). */
  pooling?: boolean;
}

/** Reads a size given as a number or an [h, w] pair; checks each is an integer >= min. */
/**
 * The largest kernel, stride, padding or dilation accepted (2^24). Nothing real comes close;
 * the bound stops corrupt model files from wrapping 32-bit index arithmetic or asking for
 * absurd allocations.
 */
export const MAX_WINDOW_VALUE = 1 << 24;

export function pair(v: Pair | undefined, fallback: number, op: string, name: string, min = 1): [number, number] {
  const p: [number, number] = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number' && v !== undefined) {
    throw new ConvkitError(`${op}: ${name} must be a number or an [h, w] pair, got ${JSON.stringify(v)}`);
  }
  if (Array.isArray(v) && v.length !== 2) {
    throw new ConvkitError(`${op}: ${name} must be a number or an [h, w] pair, got ${JSON.stringify(v)}`);
  }
  for (const x of p) {
    if (!Number.isInteger(x) || x < min) {
      throw new ConvkitError(
        `${op}: ${name} must be ${min === 0 ? 'a non-negative' : min === 1 ? 'a positive' : `an integer >= ${min}`} integer, got ${JSON.stringify(v)}`,
      );
    }
    if (x > MAX_WINDOW_VALUE) {
      throw new ConvkitError(`${op}: ${name} ${JSON.stringify(v)} is too large (at most ${MAX_WINDOW_VALUE})`);
    }
  }
  return p;
}

export function effectiveKernel(kernel: number, dilation: number): number {
  return dilation * (kernel - 1) + 1;
}

function arithmetic(w: AxisWindow): string {
  const { size, kernel, stride, padBefore, padAfter, dilation } = w;
  const f = dilation === 1 ? `${kernel}` : `${effectiveKernel(kernel, dilation)}`;
  const pad = padBefore === padAfter ? `2*${padBefore}` : `${padBefore} + ${padAfter}`;
  return `(${size} - ${f} + ${pad})/${stride} + 1`;
}

function fits(size: number, fEff: number, padTotal: number, stride: number): boolean {
  return size + padTotal - fEff >= 0 && (size + padTotal - fEff) % stride === 0;
}

function suggestions(w: AxisWindow): string {
  const fEff = effectiveKernel(w.kernel, w.dilation);
  const ideas: string[] = [];
  const pads: number[] = [];
  for (let p = 0; p <= fEff && pads.length < 2; p++) {
    if (fits(w.size, fEff, 2 * p, w.stride)) pads.push(p);
  }
  if (pads.length) ideas.push(`padding ${pads.join(' or ')}`);
  const strides: number[] = [];
  for (let s = 1; s <= Math.max(fEff, 2) && strides.length < 3; s++) {
    if (s !== w.stride && fits(w.size, fEff, w.padBefore + w.padAfter, s)) strides.push(s);
  }
  if (strides.length) ideas.push(`stride ${strides.join(' or ')}`);
  const sizes: number[] = [];
  for (let d = 1; d < w.stride && sizes.length < 2; d++) {
    for (const s of [w.size - d, w.size + d]) {
      if (s > 0 && fits(s, fEff, w.padBefore + w.padAfter, w.stride) && !sizes.includes(s)) sizes.push(s);
    }
  }
  if (sizes.length) ideas.push(`an input ${sizes.join(' or ')} wide`);
  ideas.push(`fit: 'floor' to drop the last partial window (PyTorch's default) or fit: 'ceil' to keep it`);
  return ideas.join(', or ');
}

/** The output size along one axis, or a ConvkitError a person can act on. */
export function windowOutputSize(w: AxisWindow, fit: Fit, ctx: GeometryContext): number {
  const { size, kernel, stride, padBefore, padAfter, dilation } = w;
  const where = `${ctx.op}: ${ctx.axis}`;
  if (!Number.isInteger(size) || size < 1) throw new ConvkitError(`${where}: input size must be a positive integer, got ${size}`);
  if (!Number.isInteger(kernel) || kernel < 1) throw new ConvkitError(`${where}: kernel size must be a positive integer, got ${kernel}`);
  if (!Number.isInteger(stride) || stride < 1) throw new ConvkitError(`${where}: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(dilation) || dilation < 1) throw new ConvkitError(`${where}: dilation must be a positive integer, got ${dilation}`);
  if (!Number.isInteger(padBefore) || !Number.isInteger(padAfter) || padBefore < 0 || padAfter < 0) {
    throw new ConvkitError(`${where}: padding must be a non-negative integer, got ${padBefore === padAfter ? padBefore : `${padBefore}, ${padAfter}`}`);
  }
  if (fit !== 'strict' && fit !== 'floor' && fit !== 'ceil') {
    throw new ConvkitError(`${ctx.op}: fit must be 'strict', 'floor' or 'ceil', got ${JSON.stringify(fit)}`);
  }
  const fEff = effectiveKernel(kernel, dilation);
  const span = size + padBefore + padAfter - fEff;
  if (span < 0) {
    throw new ConvkitError(
      `${where}: the ${dilation > 1 ? `dilated filter (${kernel} with dilation ${dilation} spans ${fEff})` : `window (${kernel})`} ` +
        `is larger than the padded input (${size} + ${padBefore + padAfter} padding = ${size + padBefore + padAfter}); ` +
        `use a smaller kernel or more padding, or a larger input`,
    );
  }
  const exact = span / stride + 1;
  if (Number.isInteger(exact)) return exact;
  if (fit === 'floor') return Math.floor(exact);
  if (fit === 'ceil') {
    let out = Math.ceil(span / stride) + 1;
    // The last window must start inside the input or the leading padding (PyTorch's rule).
    if ((out - 1) * stride >= size + padBefore) out--;
    return out;
  }
  const shown = Math.round(exact * 1000) / 1000;
  throw new ConvkitError(
    `${where} does not fit: ${arithmetic(w)} = ${shown} is not an integer` +
      (dilation > 1 ? ` (dilated filter size D*(F-1)+1 = ${dilation}*(${kernel}-1)+1 = ${fEff})` : '') +
      `; try ${suggestions(w)}`,
  );
}
