import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { div } from '../ops/binary.js';
import { multiIndex, positionOf } from '../ops/index-ops.js';
import { expectTensor } from '../ops/kernel-io.js';
import { sum } from '../ops/reduce.js';
import { copyArray } from '../tensor/copy-array.js';

/**
 * Argument checks and reductions shared by the losses. The finiteness check matters beyond
 * tidiness: the Trainer relies on a loss refusing NaN/Inf input to stop a diverged run with a
 * message instead of training on garbage. It is one pass over the scores, cheap next to the
 * forward pass that made them.
 */

export type Reduction = 'mean' | 'sum' | 'none';

export function checkReduction(reduction: unknown, op: string): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ConvkitError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
  return reduction;
}

/**
 * A loss met NaN or Infinity: its own class, so that a training loop can tell divergence
 * apart from a programming error. `position` is the multi-index of the first bad element.
 */
export class NonFiniteLossError extends ConvkitError {
  override name = 'NonFiniteLossError';
  constructor(
    message: string,
    readonly value: number,
    readonly position: readonly number[],
  ) {
    super(message);
  }
}

/** Throws at the first NaN or infinite value of a float tensor, naming its position. */
export function checkFinite(t: Tensor, op: string, what = 'input'): void {
  // Values on the GPU cannot be read without waiting for it: the Trainer checks the loss it
  // reads back every few steps instead.
  if (!t.storage.onHost) return;
  const v = t.values();
  for (let i = 0; i < v.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and +-Infinity: one comparison per element.
    if (v[i]! - v[i]! !== 0) {
      throw new NonFiniteLossError(
        `${op}: the loss ${what} has ${v[i]} at position ${positionOf(i, t.shape)} (shape ${fmtShape(t.shape)}); ` +
          (what === 'input'
            ? 'training has probably diverged: lower the learning rate, add gradient clipping or normalization, or check the data for NaN'
            : 'check the targets for NaN or infinite values'),
        v[i]!,
        multiIndex(i, t.shape),
      );
    }
  }
}

/**
 * Class-index targets: int32, the expected shape, each value in [0, numClasses) or equal to
 * ignoreIndex. Returns a private copy of the indices, so the backward reads the targets as
 * they were even if the caller reuses the buffer.
 */
export function checkClassTargets(
  target: Tensor,
  expectedShape: readonly number[],
  numClasses: number,
  op: string,
  ignoreIndex: number | null,
): Int32Array {
  expectTensor(target, op, 'target');
  if (target.dtype !== 'int32') {
    throw new ConvkitError(
      `${op}: target must be int32 class indices of shape ${fmtShape(expectedShape)}, got ${target.dtype} ${fmtShape(target.shape)}; ` +
        "create it with {dtype: 'int32'}",
    );
  }
  if (target.shape.join() !== expectedShape.join()) {
    throw new ConvkitError(
      `${op}: target has shape ${fmtShape(target.shape)} but the input needs ${fmtShape(expectedShape)} (one class index per sample` +
        `${expectedShape.length > 1 ? ' and position' : ''})`,
    );
  }
  const idx = copyArray(target.values() as Int32Array);
  for (let i = 0; i < idx.length; i++) {
    const t = idx[i]!;
    if ((t < 0 || t >= numClasses) && t !== ignoreIndex) {
      throw new ConvkitError(
        `${op}: target ${t} at position ${positionOf(i, target.shape)} is out of range for ${numClasses} classes ` +
          `(expected 0..${numClasses - 1}${ignoreIndex === null ? '' : ` or ignoreIndex ${ignoreIndex}`})`,
      );
    }
  }
  return idx;
}

/** A per-class weight: float32, 1-d with one element per class. */
export function checkClassWeight(weight: Tensor | undefined | null, numClasses: number, op: string): Tensor | null {
  if (weight === undefined || weight === null) return null;
  expectTensor(weight, op, 'weight');
  if (weight.dtype !== 'float32' || weight.ndim !== 1 || weight.shape[0] !== numClasses) {
    throw new ConvkitError(
      `${op}: weight must be a float32 tensor of shape [${numClasses}] (one weight per class), got ${weight.dtype} ${fmtShape(weight.shape)}`,
    );
  }
  return weight;
}

/**
 * 'none' keeps per-position losses; 'sum' adds them; 'mean' divides the sum by `denominator`
 * (a 0-d tensor where it was computed on a device).
 */
export function reduceLoss(losses: Tensor, reduction: Reduction, denominator: number | Tensor): Tensor {
  if (reduction === 'none') return losses;
  const total = sum(losses);
  return reduction === 'sum' ? total : div(total, denominator);
}
