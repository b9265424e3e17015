import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A trainable tensor owned by a Module: a leaf that requires grad. Optimizers update its
 * storage in place, so views and references held elsewhere see the new values.
 */
export class Parameter extends Tensor {
  constructor(value: Tensor, requiresGrad = true) {
    const src = value.contiguous();
    super(src.values().slice(), src.shape);
    this.requiresGrad = requiresGrad;
    // A parameter outlives any tidy() scope it is created in (frozen ones too).
    keep(this);
  }

  /** Overwrites the values in place (shape must match). */
  assign(values: ArrayLike<number>): void {
    (this.data as Float32Array).set(values, this.offset);
  }
}
