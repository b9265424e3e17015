import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { copyArray } from '../tensor/copy-array.js';

/**
 * A trainable tensor owned by a Module: a leaf that requires grad. Optimizers update its
 * storage in place, so views and references held elsewhere see the new values. Like
 * torch.nn.Parameter(t), it takes over the memory of a tensor that owns all of its storage
 * (the fresh tensor an initializer returns) instead of copying it, so a layer's weights are
 * allocated once; a view or a part of a larger storage is copied.
 */
export class Parameter extends Tensor {
  constructor(value: Tensor, requiresGrad = true) {
    const src = value.contiguous();
    const whole = src.dtype === 'float32' && src.offset === 0 && !src.storage.disposed && src.storage.data.length === src.size;
    super(whole ? src.storage : copyArray(src.values()), src.shape);
    this.requiresGrad = requiresGrad;
    // A parameter outlives any tidy() scope it is created in (frozen ones too).
    keep(this);
  }

  /** Overwrites the values in place (shape must match). */
  assign(values: ArrayLike<number>): void {
    (this.storage.data as Float32Array).set(values, this.offset);
  }
}
