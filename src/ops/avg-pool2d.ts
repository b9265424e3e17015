import type { AvgPool2DAttrs } from '../backend/kernels.js';
import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from './conv-args.js';
import type { Pair } from './geometry.js';
import { expectRank, expectTensor, kin, kout } from './kernel-io.js';
import { poolWindow, type PoolWindowOptions } from './pool-window.js';

/** Options of `F.avgPool2d`, as PyTorch's (plus `fit`). */
export interface AvgPool2dOptions extends Omit<PoolWindowOptions, 'dilation'> {
  /** Count padding pixels in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this (a non-zero integer) instead. */
  divisorOverride?: number | null;
}

const OPTIONS = ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride', 'fit'];

/**
 * The AvgPool2D kernel attributes for `x`, validated. Shared with lpPool2d so that its errors
 * name it rather than the avgPool2d it is built on.
 */
export function avgPoolAttrs(x: Tensor, kernelSize: Pair, opts: AvgPool2dOptions, op: string, allowPadding = true): AvgPool2DAttrs {
  expectRank(x, 4, op, 'input', 'N, C, H, W');
  const w = poolWindow(op, [x.shape[2]!, x.shape[3]!], kernelSize, opts, { padding: allowPadding, dilation: false });
  const countIncludePad = opts.countIncludePad ?? true;
  if (typeof countIncludePad !== 'boolean') {
    throw new ConvkitError(`${op}: countIncludePad must be true or false, got ${JSON.stringify(opts.countIncludePad)}`);
  }
  const d = opts.divisorOverride ?? null;
  if (d !== null && (typeof d !== 'number' || !Number.isInteger(d) || d === 0)) {
    throw new ConvkitError(`${op}: divisorOverride must be a non-zero integer (or null for the usual divisor), got ${JSON.stringify(d)}`);
  }
  return { kernel: w.kernel, stride: w.stride, pad: w.pad, out: w.out, countIncludePad, divisorOverride: d };
}

/** Runs the AvgPool2D kernel and records its gradient. */
export function avgPoolWith(x: Tensor, attrs: AvgPool2DAttrs, op: string): Tensor {
  const outShape = [x.shape[0]!, x.shape[1]!, ...attrs.out];
  const y = kout(kernel('AvgPool2D')(kin(x, op), attrs), outShape);
  return record(y, op, [x], (g) => [kout(kernel('AvgPool2DGrad')(kin(g), x.shape, attrs), x.shape)]);
}

/**
 * Average pooling over [N, C, H, W], with PyTorch's exact rules: padding is zeros; with
 * countIncludePad (default) a window is divided by its size within the padded input, else by
 * the pixels inside the image; in ceil mode the last window may run past the padded edge and
 * is clipped there first (so its divisor is smaller than kh*kw even with countIncludePad).
 * `fit` as for maxPool2d (default 'strict'; PyTorch is 'floor', ceilMode: true is 'ceil').
 */
export function avgPool2d(x: Tensor, kernelSize: Pair, opts: AvgPool2dOptions = {}): Tensor {
  const op = 'avgPool2d';
  expectTensor(x, op, 'input');
  checkOptionNames(opts, OPTIONS, op);
  return avgPoolWith(x, avgPoolAttrs(x, kernelSize, opts, op), op);
}
