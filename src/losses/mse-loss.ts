import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { mul, sub } from '../ops/binary.js';
import { expectTensor } from '../ops/kernel-io.js';
import { checkFinite, checkReduction, reduceLoss, type Reduction } from './loss-args.js';

/**
 * Mean squared error: (input - target)^2, averaged ('mean', default), summed or kept ('none').
 * The shapes must match: PyTorch broadcasts them with a warning, which almost always hides a
 * bug ([N, 1] against [N] gives an [N, N] loss), so here it is an error.
 */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const op = 'mseLoss';
  expectTensor(input, op, 'input');
  expectTensor(target, op, 'target');
  const reduction = checkReduction(opts.reduction ?? 'mean', op);
  if (input.shape.join() !== target.shape.join()) {
    throw new ConvkitError(
      `${op}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape; reshape one of them (e.g. .view(-1))`,
    );
  }
  for (const [t, name] of [[input, 'input'], [target, 'target']] as const) {
    if (t.dtype !== 'float32') throw new ConvkitError(`${op}: ${name} must be float32, got ${t.dtype}`);
  }
  checkFinite(input, op);
  checkFinite(target, op, 'target');
  const d = sub(input, target);
  return reduceLoss(mul(d, d), reduction, input.size);
}
