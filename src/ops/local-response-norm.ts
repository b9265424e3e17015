import type { LRNAttrs } from '../backend/kernels.js';
import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from './conv-args.js';
import { expectTensor, kin, kout } from './kernel-io.js';

/** Options of `F.localResponseNorm`, as PyTorch's. */
export interface LocalResponseNormOptions {
  alpha?: number;
  beta?: number;
  k?: number;
}

function finiteNumber(v: unknown, fallback: number, op: string, name: string): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new ConvkitError(`${op}: ${name} must be a finite number, got ${JSON.stringify(v)}`);
  return x;
}

/** Validated LRN attributes (shared with the LocalResponseNorm layer's constructor). */
export function lrnAttrs(size: number, opts: LocalResponseNormOptions, op: string): LRNAttrs {
  checkOptionNames(opts, ['alpha', 'beta', 'k'], op);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new ConvkitError(`${op}: size (the number of neighbouring channels) must be a positive integer, got ${JSON.stringify(size)}`);
  }
  return {
    size,
    alpha: finiteNumber(opts.alpha, 1e-4, op, 'alpha'),
    beta: finiteNumber(opts.beta, 0.75, op, 'beta'),
    k: finiteNumber(opts.k, 1, op, 'k'),
  };
}

/**
 * AlexNet's local response normalization across channels, with PyTorch's formula:
 *   b_c = a_c / (k + alpha/size * sum of a_j^2 for j in [c - floor(size/2), c + floor((size-1)/2)])^beta
 * (channels outside [0, C) count as zeros, and the sum is divided by `size` even where the
 * window is clipped). Input [N, C, ...] with at least 3 dimensions; same shape out.
 */
export function localResponseNorm(x: Tensor, size: number, opts: LocalResponseNormOptions = {}): Tensor {
  const op = 'localResponseNorm';
  expectTensor(x, op, 'input');
  const attrs = lrnAttrs(size, opts, op);
  if (x.ndim < 3) {
    throw new ConvkitError(
      `${op}: input must have at least 3 dimensions [N, C, ...] (channels on axis 1), got shape ${fmtShape(x.shape)}; for a single image add a batch dimension`,
    );
  }
  const y = kout(kernel('LRN')(kin(x, op), attrs), x.shape);
  return record(y, op, [x], (g) => [kout(kernel('LRNGrad')(kin(x), kin(g), attrs), x.shape)]);
}
