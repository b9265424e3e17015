import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { expectTensor, kin, kout } from './kernel-io.js';

/**
 * Parametric ReLU: x where x > 0, else weight[c] * x, with a learned slope per channel
 * (axis 1 of [N, C, ...]) or a single slope shared by every element.
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  expectTensor(x, 'prelu', 'input');
  expectTensor(weight, 'prelu', 'weight');
  const channels = x.ndim >= 2 ? x.shape[1]! : 1;
  if (weight.ndim > 1 || (weight.size !== 1 && weight.size !== channels)) {
    throw new ConvkitError(
      `prelu: weight ${fmtShape(weight.shape)} must be 1-d with 1 element or one per channel ` +
        `(${channels}, axis 1 of the input ${fmtShape(x.shape)}); use PReLU(numParameters = ${channels}) or 1`,
    );
  }
  const y = kout(kernel('PRelu')(kin(x, 'prelu'), kin(weight, 'prelu', 'weight')), x.shape);
  return record(y, 'prelu', [x, weight], (g) => {
    const { dx, dw } = kernel('PReluGrad')(kin(x), kin(weight), kin(g));
    return [kout(dx, x.shape), kout(dw, weight.shape)];
  });
}
