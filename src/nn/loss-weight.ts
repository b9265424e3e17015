import { ConvkitError } from '../tensor/errors.js';
import { tensor } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A loss module's per-class weight, given as a Tensor or plain numbers. Returns the tensor and
 * the numbers: the numbers go into the module's config (JSON) so that a saved model rebuilds it.
 */
export function lossWeight(weight: Tensor | readonly number[] | null | undefined, layer: string): { tensor: Tensor | null; values: number[] | null } {
  if (weight === undefined || weight === null) return { tensor: null, values: null };
  if (weight instanceof Tensor) return { tensor: weight, values: Array.from(weight.values()) };
  if (!Array.isArray(weight) || !weight.every((v) => typeof v === 'number')) {
    throw new ConvkitError(`${layer}: weight must be a Tensor or an array of numbers (one per class), got ${JSON.stringify(weight)}`);
  }
  return { tensor: tensor([...weight]), values: [...weight] };
}
