import { kernel } from '../backend/registry.js';
import type { KernelTensor } from '../backend/kernels.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { sumToShape } from './binary.js';
import { expectTensor, kin, kout } from './kernel-io.js';

/** The values of `t` seen with another shape of the same size (no autograd node, no copy when contiguous). */
function as(t: Tensor, shape: readonly number[], arg: string): KernelTensor {
  return { data: kin(t, 'matmul', arg).data, shape };
}

/**
 * Matrix product with torch.matmul's rules: 1-d @ 1-d is a dot product (0-d result); a 1-d
 * first operand is a row vector and a 1-d second operand a column vector, and the added
 * dimension is removed from the result; otherwise [..., M, K] @ [..., K, N] -> [..., M, N]
 * with the leading (batch) dimensions broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectTensor(a, 'matmul', 'first operand');
  expectTensor(b, 'matmul', 'second operand');
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ConvkitError(
      `matmul: both operands need at least 1 dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}; multiply by a scalar with F.mul`,
    );
  }
  const aShape = a.ndim === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bShape = b.ndim === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const k = aShape[aShape.length - 1]!;
  const kb = bShape[bShape.length - 2]!;
  if (k !== kb) {
    throw new ConvkitError(
      `matmul: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}: the inner dimensions differ (${k} vs ${kb}); ` +
        'the last dimension of the first operand must equal the second-to-last of the second (transpose one of them?)',
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const nb = Math.max(aBatch.length, bBatch.length);
  const batch: number[] = [];
  for (let i = 0; i < nb; i++) {
    const da = aBatch[aBatch.length - nb + i] ?? 1;
    const db = bBatch[bBatch.length - nb + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ConvkitError(
        `matmul: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}: batch dimensions ${fmtShape(aBatch)} and ${fmtShape(bBatch)} cannot be broadcast ` +
          `(${da} vs ${db}); they must be equal or 1`,
      );
    }
    batch.push(da === 1 ? db : da);
  }
  const m = aShape[aShape.length - 2]!;
  const n = bShape[bShape.length - 1]!;
  const fullShape = [...batch, m, n];
  let outShape = fullShape;
  if (a.ndim === 1 && b.ndim === 1) outShape = [];
  else if (a.ndim === 1) outShape = [...batch, n];
  else if (b.ndim === 1) outShape = [...batch, m];
  const y = kout(kernel('MatMul')(as(a, aShape, 'first operand'), as(b, bShape, 'second operand'), false, false, null, 'none'), outShape);
  return record(y, 'matmul', [a, b], (g) => {
    const g2: KernelTensor = { data: kin(g).data, shape: fullShape };
    const ga = a.requiresGrad
      ? sumToShape(kout(kernel('MatMul')(g2, as(b, bShape, 'b'), false, true, null, 'none'), [...batch, m, k]), aShape).reshape(a.shape)
      : null;
    const gb = b.requiresGrad
      ? sumToShape(kout(kernel('MatMul')(as(a, aShape, 'a'), g2, true, false, null, 'none'), [...batch, k, n]), bShape).reshape(b.shape)
      : null;
    return [ga, gb];
  });
}
