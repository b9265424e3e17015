import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError } from '../tensor/errors.js';
import { normAxis } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { expectTensor, kin, kout } from './kernel-io.js';

function resolveDim(x: Tensor, dim: unknown, op: string): number {
  if (typeof dim !== 'number') {
    throw new ConvkitError(
      `${op}: dim is required (the dimension whose entries sum to 1, e.g. 1 for logits [N, C]), got ${String(dim)}`,
    );
  }
  // A 0-d tensor is treated as one row of one element, as PyTorch does.
  return x.ndim === 0 ? normAxis(dim, 1, `${op} dim`) : normAxis(dim, x.ndim, `${op} dim`);
}

/**
 * exp(x) / sum(exp(x)) along `dim`, computed stably (each row shifted by its maximum), so
 * logits of 1000 are fine. The backward needs only the output.
 */
export function softmax(x: Tensor, dim: number): Tensor {
  expectTensor(x, 'softmax', 'input');
  const axis = resolveDim(x, dim, 'softmax');
  const shape = x.ndim === 0 ? [1] : x.shape;
  const y = kout(kernel('Softmax')({ data: kin(x, 'softmax').data, shape }, axis), x.shape);
  return record(y, 'softmax', [x], (g) => [kout(kernel('SoftmaxGrad')({ data: kin(y).data, shape }, { data: kin(g).data, shape }, axis), x.shape)], [y]);
}

/**
 * log(softmax(x)) along `dim`, computed as x - max - log(sum(exp(x - max))): finite even where
 * softmax itself underflows to 0. Feed it to nllLoss, or use crossEntropy on raw logits.
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  expectTensor(x, 'logSoftmax', 'input');
  const axis = resolveDim(x, dim, 'logSoftmax');
  const shape = x.ndim === 0 ? [1] : x.shape;
  const y = kout(kernel('LogSoftmax')({ data: kin(x, 'logSoftmax').data, shape }, axis), x.shape);
  return record(y, 'logSoftmax', [x], (g) => [kout(kernel('LogSoftmaxGrad')({ data: kin(y).data, shape }, { data: kin(g).data, shape }, axis), x.shape)], [y]);
}
