import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { avgPoolAttrs, avgPoolWith } from './avg-pool2d.js';
import { mul, pow } from './binary.js';
import { checkOptionNames } from './conv-args.js';
import type { Fit, Pair } from './geometry.js';
import { expectTensor, kin, kout } from './kernel-io.js';

/** Options of `F.lpPool2d`. */
export interface LpPool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair | null;
  ceilMode?: boolean;
  fit?: Fit;
}

const OPTIONS = ['stride', 'ceilMode', 'fit'];

/**
 * s^(1/p) elementwise. Its derivative (1/p) s^(1/p - 1) is infinite at s = 0 for p > 1
 * (PyTorch's lp_pool2d returns NaN gradients there); a window of zeros is common after a
 * ReLU, so we use the subgradient 0 at s = 0 instead of poisoning training with NaN. The
 * backward runs on kernels (it reads no values on the host, so it runs on device backends).
 */
function lpRoot(s: Tensor, p: number, op: string): Tensor {
  const scalar = (v: number) => new Tensor(new Float32Array([v]), []);
  const y = kout(kernel('Binary')(kin(s, op), kin(scalar(1 / p)), 'pow', s.shape), s.shape);
  return record(y, op, [s], (g) => {
    const bin = (a: Tensor, b: Tensor, o: 'mul' | 'pow') => kout(kernel('Binary')(kin(a), kin(b), o, s.shape), s.shape);
    const ds = bin(bin(g, scalar(1 / p), 'mul'), bin(s, scalar(1 / p - 1), 'pow'), 'mul');
    if (p <= 1) return [ds]; // a non-negative exponent: finite at s = 0
    // Only 0 < s < Infinity keep their gradient: at s = 0 the derivative is the infinite one
    // above; s < 0 (odd p with negative inputs) has a NaN output; s = Infinity has derivative 0.
    return [kout(kernel('ClampGrad')(kin(s), kin(ds), 0, Infinity, false), s.shape)];
  });
}

/**
 * Power-average (Lp) pooling over [N, C, H, W]: each output is (sum over the window of
 * x^p)^(1/p); normType 2 is L2 pooling, large p approaches max pooling. Computed as PyTorch
 * does, from an average pool of x^p times the kernel area, so its ceil-mode edge windows
 * (average of the pixels present, times kh*kw) match PyTorch's too. No padding.
 */
export function lpPool2d(x: Tensor, normType: number, kernelSize: Pair, opts: LpPool2dOptions = {}): Tensor {
  const op = 'lpPool2d';
  expectTensor(x, op, 'input');
  checkOptionNames(opts, OPTIONS, op);
  if (typeof normType !== 'number' || !Number.isFinite(normType) || normType <= 0) {
    throw new ConvkitError(`${op}: normType must be a positive finite number (2 for L2 pooling), got ${JSON.stringify(normType)}`);
  }
  const attrs = avgPoolAttrs(x, kernelSize, opts, op, false);
  const sums = mul(avgPoolWith(pow(x, normType), attrs, op), attrs.kernel[0] * attrs.kernel[1]);
  return lpRoot(sums, normType, op);
}
