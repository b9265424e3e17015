import type { Window2D } from '../backend/kernels.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { checkFit } from './conv-args.js';
import { pair, windowOutputSize, type Fit, type Pair } from './geometry.js';

/**
 * Argument reading shared by the sliding-window pools (maxPool2d, avgPool2d, lpPool2d) and
 * their layers, so that an op and its layer's `outputShape` can never disagree.
 */

export interface PoolWindowOptions {
  /** Default: the kernel size (non-overlapping windows), as PyTorch. */
  stride?: Pair | null;
  /** Implicit padding on both sides; at most half the kernel size (PyTorch's rule). */
  padding?: Pair;
  dilation?: Pair;
  /** PyTorch's ceil_mode; `true` is the same as fit: 'ceil'. */
  ceilMode?: boolean;
  /** What to do when the windows do not tile the input exactly (see ops/geometry.ts). Default 'strict'. */
  fit?: Fit;
}

/** fit, with ceilMode: true as its alias; contradicting both is an error rather than a silent pick. */
export function resolvePoolFit(opts: PoolWindowOptions, op: string): Fit {
  if (opts.ceilMode !== undefined && typeof opts.ceilMode !== 'boolean') {
    throw new ConvkitError(`${op}: ceilMode must be true or false, got ${JSON.stringify(opts.ceilMode)}`);
  }
  const fit = checkFit(opts.fit, op);
  if (opts.ceilMode === true) {
    if (opts.fit !== undefined && fit !== 'ceil') {
      throw new ConvkitError(`${op}: ceilMode: true contradicts fit: '${fit}'; ceilMode: true means fit: 'ceil', so give only one of them`);
    }
    return 'ceil';
  }
  return fit;
}

/** Validated pooling hyperparameters (what a layer keeps). */
export interface PoolParams {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  fit: Fit;
}

/**
 * Reads and checks a pool's hyperparameters. `allow` lists which of padding and dilation
 * this pool accepts (avg pooling has no dilation, LP pooling neither padding nor dilation).
 */
export function poolParams(op: string, kernelSize: Pair, opts: PoolWindowOptions, allow: { padding: boolean; dilation: boolean }): PoolParams {
  if (kernelSize === undefined || kernelSize === null) {
    throw new ConvkitError(`${op}: kernelSize is required (a number or an [h, w] pair)`);
  }
  const kernel = pair(kernelSize, 1, op, 'kernelSize');
  const noStride = opts.stride === undefined || opts.stride === null || (Array.isArray(opts.stride) && opts.stride.length === 0);
  const stride = noStride ? kernel : pair(opts.stride as Pair, 1, op, 'stride');
  if (!allow.padding && opts.padding !== undefined) throw new ConvkitError(`${op}: takes no padding option (PyTorch's has none either)`);
  if (!allow.dilation && opts.dilation !== undefined) throw new ConvkitError(`${op}: takes no dilation option (PyTorch's has none either)`);
  const padding = pair(opts.padding, 0, op, 'padding', 0);
  const dilation = pair(opts.dilation, 1, op, 'dilation');
  const fit = resolvePoolFit(opts, op);
  ['height', 'width'].forEach((axis, i) => {
    const k = kernel[i]!;
    const p = padding[i]!;
    // Beyond half a kernel, a window could lie wholly in the padding; PyTorch refuses it too.
    if (p > Math.floor(k / 2)) {
      throw new ConvkitError(
        `${op}: ${axis} padding ${p} is more than half the kernel size ${k} (at most floor(${k}/2) = ${Math.floor(k / 2)}, as PyTorch requires); ` +
          `use padding <= ${Math.floor(k / 2)} or a kernel of at least ${2 * p}`,
      );
    }
  });
  return { kernel, stride, padding, dilation, fit };
}

/** The window of a pool with these parameters over an [h, w] image; output sizes via windowOutputSize. */
export function poolWindowOf(op: string, size: readonly [number, number], p: PoolParams): Window2D {
  const out = (['height', 'width'] as const).map((axis, i) =>
    windowOutputSize(
      { size: size[i]!, kernel: p.kernel[i]!, stride: p.stride[i]!, padBefore: p.padding[i]!, padAfter: p.padding[i]!, dilation: p.dilation[i]! },
      p.fit,
      { op, axis, pooling: true },
    ),
  ) as [number, number];
  return { kernel: p.kernel, stride: p.stride, pad: [p.padding[0], p.padding[0], p.padding[1], p.padding[1]], dilation: p.dilation, out };
}

/** poolParams then poolWindowOf. */
export function poolWindow(
  op: string,
  size: readonly [number, number],
  kernelSize: Pair,
  opts: PoolWindowOptions,
  allow: { padding: boolean; dilation: boolean },
): Window2D {
  return poolWindowOf(op, size, poolParams(op, kernelSize, opts, allow));
}

/** [N, C, H, W] or [C, H, W] -> the pooled shape (for layers' outputShape; no compute). */
export function pooledShape(inputShape: readonly number[], op: string, params: PoolParams): number[] {
  if (inputShape.length !== 3 && inputShape.length !== 4) {
    throw new ConvkitError(`${op}: outputShape needs [N, C, H, W] or [C, H, W], got ${fmtShape(inputShape)}`);
  }
  const hw: [number, number] = [inputShape[inputShape.length - 2]!, inputShape[inputShape.length - 1]!];
  return [...inputShape.slice(0, -2), ...poolWindowOf(op, hw, params).out];
}

/** A pool's hyperparameters for describe(): `kernelSize=2, stride=2` plus what differs from the defaults. */
export function describePool(p: PoolParams): string {
  const show = (v: readonly [number, number]) => (v[0] === v[1] ? `${v[0]}` : `[${v[0]}, ${v[1]}]`);
  const parts = [`kernelSize=${show(p.kernel)}`, `stride=${show(p.stride)}`];
  if (p.padding.some((v) => v !== 0)) parts.push(`padding=${show(p.padding)}`);
  if (p.dilation.some((v) => v !== 1)) parts.push(`dilation=${show(p.dilation)}`);
  if (p.fit !== 'strict') parts.push(`fit='${p.fit}'`);
  return parts.join(', ');
}
