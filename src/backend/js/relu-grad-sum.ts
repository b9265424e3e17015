import type { KernelTensor } from '../kernels.js';
import { reduce, unaryGrad } from './elementwise.js';

/**
 * ReluGradChannelSum, by definition: the relu gradient read from the output (UnaryGrad with the
 * output standing for the input: y > 0 exactly where the input was) and its sum over every
 * axis but the channels. Faster backends do both in one pass and must give these values.
 */
export function reluGradChannelSum(y: KernelTensor, dy: KernelTensor): { grad: Float32Array; sum: Float32Array } {
  const grad = unaryGrad(y, y, dy, 'relu', 0);
  const axes = dy.shape.map((_, i) => i).filter((i) => i !== 1);
  return { grad, sum: reduce({ data: grad, shape: dy.shape }, axes, 'sum') };
}
