import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { expectTensor, kernelIndices, kin, kout } from '../ops/kernel-io.js';
import { checkClassTargets, checkClassWeight, checkFinite, checkReduction, reduceLoss, type Reduction } from './loss-args.js';

/** Options of `F.multiMarginLoss`. */
export interface MultiMarginLossOptions {
  /** 1 (default): the hinge; 2: the squared hinge. */
  p?: 1 | 2;
  /** The margin the correct class's score must win by; default 1. */
  margin?: number;
  /** Per-class weights [C]; a sample's loss is multiplied by its target class's weight. */
  weight?: Tensor | null;
  /** 'mean' (default, over samples), 'sum' or 'none'. */
  reduction?: Reduction;
}

/**
 * The multiclass SVM (hinge) loss, PyTorch's multi_margin_loss: for scores x [N, C] (or [C])
 * and int32 targets y [N] (or 0-d),
 *   loss[n] = sum over i != y of max(0, margin - x[y] + x[i])^p / C,
 * times weight[y] when given. The CS231n notes sum the same terms without dividing by C.
 */
export function multiMarginLoss(x: Tensor, target: Tensor, opts: MultiMarginLossOptions = {}): Tensor {
  const op = 'multiMarginLoss';
  expectTensor(x, op, 'input');
  if (x.ndim !== 1 && x.ndim !== 2) {
    throw new ConvkitError(`${op}: input must be class scores [N, C] (or [C] for one sample), got shape ${fmtShape(x.shape)}`);
  }
  if (x.dtype !== 'float32') throw new ConvkitError(`${op}: input must be float32, got ${x.dtype}`);
  const classes = x.shape[x.ndim - 1]!;
  const targetShape = x.ndim === 1 ? [] : [x.shape[0]!];
  const p = opts.p ?? 1;
  if (p !== 1 && p !== 2) throw new ConvkitError(`${op}: p must be 1 or 2 (hinge or squared hinge), got ${String(p)}`);
  const margin = opts.margin ?? 1;
  if (typeof margin !== 'number' || !Number.isFinite(margin)) throw new ConvkitError(`${op}: margin must be a finite number, got ${String(margin)}`);
  const weight = checkClassWeight(opts.weight, classes, op);
  const reduction = checkReduction(opts.reduction ?? 'mean', op);
  checkFinite(x, op);
  const targets = checkClassTargets(target, targetShape, classes, op, null);
  const w = weight ? kin(weight) : null;
  const idx = kernelIndices(targets);
  const perSample = kout(kernel('MultiMarginLoss')(kin(x), idx, p, margin, w), targetShape);
  record(perSample, op, [x], (g) => [kout(kernel('MultiMarginLossGrad')(kin(x), idx, kin(g), p, margin, w), x.shape)]);
  return reduceLoss(perSample, reduction, targets.length);
}
