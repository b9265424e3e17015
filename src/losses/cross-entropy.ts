import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { add, mul } from '../ops/binary.js';
import { neg } from '../ops/activations.js';
import { expectTensor } from '../ops/kernel-io.js';
import { sum } from '../ops/reduce.js';
import { logSoftmax } from '../ops/softmax.js';
import { checkClassTargets, checkClassWeight, checkFinite, checkReduction, reduceLoss, type Reduction } from './loss-args.js';
import { classLayout, nllCore } from './nll-loss.js';

/** Options of `F.crossEntropy`. */
export interface CrossEntropyOptions {
  /** Per-class weights [C]. */
  weight?: Tensor | null;
  /** Class-index targets equal to this contribute nothing (not allowed with probability targets); default -100. */
  ignoreIndex?: number;
  /** 'mean' (default), 'sum' or 'none'; see crossEntropy for what 'mean' divides by. */
  reduction?: Reduction;
  /** In [0, 1]: the target becomes (1 - s) * target + s / C (uniform mixing); default 0. */
  labelSmoothing?: number;
}

/**
 * Softmax cross-entropy on raw scores (logits), with PyTorch's semantics:
 * - logits [N, C] (or [N, C, d1, ...], or [C] for one sample), class dimension 1 (0 for [C]);
 * - target int32 class indices [N] (or [N, d1, ...], or 0-d), or float32 class probabilities
 *   with the logits' shape;
 * - 'mean' with indices divides by the summed weights of the non-ignored targets (their count
 *   without weights), and label smoothing mixes (1 - s) * NLL with s/C times the weighted sum of
 *   -log p over all classes, normalized by the same denominator and zero at ignored positions;
 * - 'mean' with probabilities divides by the number of positions (N * d1 * ...), weights or not.
 * Logits with NaN or Infinity are an error naming the position (the sign of a diverged run).
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  expectTensor(logits, op, 'logits');
  expectTensor(target, op, 'target');
  const { classes, targetShape } = classLayout(logits, op);
  const classDim = logits.ndim === 1 ? 0 : 1;
  const reduction = checkReduction(opts.reduction ?? 'mean', op);
  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new ConvkitError(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  const smoothing = opts.labelSmoothing ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1)) {
    throw new ConvkitError(`${op}: labelSmoothing must be in [0, 1], got ${String(smoothing)}`);
  }
  const weight = checkClassWeight(opts.weight, classes, op);
  if (logits.dtype !== 'float32') throw new ConvkitError(`${op}: logits must be float32, got ${logits.dtype} ${fmtShape(logits.shape)}`);
  checkFinite(logits, op);
  // The weight, shaped to broadcast along the class dimension of the logits.
  const weightB = weight && weight.reshape([classes, ...logits.shape.slice(classDim + 1).map(() => 1)]);

  const probabilities = target.dtype === 'float32';
  if (probabilities) {
    if (target.shape.join() !== logits.shape.join()) {
      throw new ConvkitError(
        `${op}: a float32 target holds class probabilities and must have the logits' shape ${fmtShape(logits.shape)}, got ${fmtShape(target.shape)}; ` +
          `class indices ${fmtShape(targetShape)} must be int32 (create them with {dtype: 'int32'})`,
      );
    }
    if (ignoreIndex >= 0) {
      throw new ConvkitError(`${op}: ignoreIndex (${ignoreIndex}) applies to class-index targets only, not to probability targets`);
    }
    checkFinite(target, op, 'target');
  }
  const logp = logSoftmax(logits, classDim);

  if (probabilities) {
    const t = smoothing > 0 ? add(mul(target, 1 - smoothing), smoothing / classes) : target;
    let terms = mul(logp, t);
    if (weightB) terms = mul(terms, weightB);
    const perPos = neg(sum(terms, classDim));
    return reduceLoss(perPos, reduction, logits.size / Math.max(classes, 1));
  }

  const targets = checkClassTargets(target, targetShape, classes, op, ignoreIndex);
  const { loss: nll, denominator } = nllCore(logp, targets, targetShape, weight, ignoreIndex, reduction);
  if (smoothing === 0) return nll;
  // Smoothing term: -sum_c w[c] log p[c] at each position, zero where the target is ignored.
  const mask = new Float32Array(targets.length);
  for (let i = 0; i < mask.length; i++) mask[i] = targets[i] === ignoreIndex ? 0 : 1;
  const smooth = mul(neg(sum(weightB ? mul(logp, weightB) : logp, classDim)), new Tensor(mask, targetShape));
  const smoothReduced = reduceLoss(smooth, reduction, denominator);
  return add(mul(nll, 1 - smoothing), mul(smoothReduced, smoothing / classes));
}
