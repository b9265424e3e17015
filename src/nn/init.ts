import { ConvkitError } from '../tensor/errors.js';
import { Generator, globalGenerator } from '../tensor/random.js';
import { sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Weight initializers. The default for CONV and FC weights is He/Kaiming normal,
 * std = sqrt(2 / fanIn), right for layers followed by ReLU; biases start at zero.
 */

/** fanIn of a weight: inputs per output unit (inChannels/groups * kh * kw for conv, in for linear). */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2) throw new ConvkitError(`fanIn needs a weight with at least 2 dimensions, got ${shape.length}`);
  return sizeOf(shape.slice(1));
}

/** He-normal initialisation: normal with std gain / sqrt(fanIn) (gain sqrt(2) for ReLU). */
export function kaimingNormal(shape: readonly number[], opts: { fanIn?: number; gain?: number; generator?: Generator } = {}): Tensor {
  const g = opts.generator ?? globalGenerator;
  const std = (opts.gain ?? Math.SQRT2) / Math.sqrt(opts.fanIn ?? fanIn(shape));
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = g.normal() * std;
  return new Tensor(data, shape);
}

/** U(-bound, bound); PyTorch's own default for Conv/Linear is bound = 1/sqrt(fanIn). */
export function uniform(shape: readonly number[], bound: number, generator: Generator = globalGenerator): Tensor {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (generator.uniform() * 2 - 1) * bound;
  return new Tensor(data, shape);
}

/** Glorot/Xavier uniform, for layers followed by tanh or sigmoid. */
export function xavierUniform(shape: readonly number[], generator: Generator = globalGenerator): Tensor {
  const fanOut = shape[0]! * sizeOf(shape.slice(2));
  const bound = Math.sqrt(6 / (fanIn(shape) + fanOut));
  return uniform(shape, bound, generator);
}
