import { ConvkitError } from '../tensor/errors.js';
import { Module } from './module.js';

/**
 * Base of the layers whose output has the input's shape (activations, dropout, softmax,
 * identity): they share `outputShape`, which the summary uses without running anything.
 */
export abstract class ElementwiseLayer extends Module {
  /** The output shape: the input's. */
  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }
}

/** A finite number option, or an error naming the layer and the option. */
export function finiteOption(v: unknown, fallback: number, layer: string, name: string): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new ConvkitError(`${layer}: ${name} must be a finite number, got ${JSON.stringify(v)}`);
  }
  return x;
}
