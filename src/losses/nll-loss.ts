import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { sum } from '../ops/reduce.js';
import { expectTensor, kernelIndices, kin, kout } from '../ops/kernel-io.js';
import { checkClassTargets, checkClassWeight, checkFinite, checkReduction, reduceLoss, type Reduction } from './loss-args.js';

/** Options of `F.nllLoss`. */
export interface NllLossOptions {
  /** Per-class weights [C]; a sample's loss is multiplied by its target class's weight. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing, and do not count in the mean; default -100. */
  ignoreIndex?: number;
  /** 'mean' (default): divided by the summed weights of the non-ignored targets; 'sum'; 'none'. */
  reduction?: Reduction;
}

/** The class dimension and the target shape for scores [N, C, d1, ...] (or [C] for one sample). */
export function classLayout(input: Tensor, op: string): { classes: number; targetShape: number[] } {
  if (input.ndim === 0) {
    throw new ConvkitError(`${op}: input must be [N, C] (or [N, C, d1, ...], or [C] for one sample), got a scalar`);
  }
  if (input.ndim === 1) return { classes: input.shape[0]!, targetShape: [] };
  return { classes: input.shape[1]!, targetShape: [input.shape[0]!, ...input.shape.slice(2)] };
}

/**
 * NLL of already-validated targets: per-position -weight[t] * logp[n, t, ...], reduced. Shared
 * with crossEntropy, which returns `denominator` to normalize its smoothing term the same way.
 */
export function nllCore(
  logp: Tensor,
  targets: Int32Array,
  targetShape: readonly number[],
  weight: Tensor | null,
  ignoreIndex: number,
  reduction: Reduction,
): { loss: Tensor; denominator: number | Tensor } {
  const w = weight ? kin(weight) : null;
  const idx = kernelIndices(targets);
  const perPos = kout(kernel('NllLoss')(kin(logp), idx, w, ignoreIndex), targetShape);
  record(perPos, 'nllLoss', [logp], (g) => [kout(kernel('NllLossGrad')(kin(g), idx, w, ignoreIndex, logp.shape), logp.shape)]);
  // PyTorch's 'mean' divides by the total weight of the targets that count (0/0 = NaN if none do).
  let denominator: number | Tensor = 0;
  if (weight && !weight.storage.onHost) {
    // Weights on a device are not read back (that would wait for it): NllLoss of a tensor of
    // -1s gives weight[t] at each counted position and 0 at ignored ones; their sum, a 0-d
    // tensor, stays there. Only 'mean' divides by it.
    if (reduction === 'mean') {
      const minusOnes = new Tensor(new Float32Array(logp.size).fill(-1), logp.shape);
      const perTarget = kout(kernel('NllLoss')(kin(minusOnes), idx, w, ignoreIndex), targetShape);
      denominator = sum(perTarget);
    }
  } else {
    const weights = weight ? weight.values() : null;
    for (const t of targets) if (t !== ignoreIndex) denominator += weights ? weights[t]! : 1;
  }
  return { loss: reduceLoss(perPos, reduction, denominator), denominator };
}

/**
 * Negative log-likelihood of class-index targets given log-probabilities (e.g. logSoftmax
 * output): input [N, C] with target [N] int32, or [N, C, d1, ...] with [N, d1, ...], or [C]
 * with a 0-d target.
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  const op = 'nllLoss';
  expectTensor(input, op, 'input');
  const { classes, targetShape } = classLayout(input, op);
  const reduction = checkReduction(opts.reduction ?? 'mean', op);
  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new ConvkitError(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  const weight = checkClassWeight(opts.weight, classes, op);
  if (input.dtype !== 'float32') throw new ConvkitError(`${op}: input must be float32 log-probabilities, got ${input.dtype} ${fmtShape(input.shape)}`);
  checkFinite(input, op);
  const targets = checkClassTargets(target, targetShape, classes, op, ignoreIndex);
  return nllCore(input, targets, targetShape, weight, ignoreIndex, reduction).loss;
}
