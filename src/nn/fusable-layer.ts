import type { FusedActivation } from '../ops/fused-activation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ReluFusable } from './fusion.js';
import { Module } from './module.js';

/**
 * A layer whose kernel can apply the activation that follows it (Conv2d, Linear, BatchNorm):
 * forward is compute(x, 'none'), forwardFused the same call with the ReLU, so the two give the
 * same values and gradients by construction (see nn/fusion.ts).
 */
export abstract class FusableLayer extends Module implements ReluFusable {
  /** The layer's output with `activation` applied inside its kernel call. */
  protected abstract compute(x: Tensor, activation: FusedActivation): Tensor;

  forward(x: Tensor): Tensor {
    return this.compute(x, 'none');
  }

  /** relu(forward(x)) with the ReLU inside the layer's kernel; errors read as forward's, no hooks run. */
  forwardFused(x: Tensor, activation: 'relu'): Tensor {
    return this.located(() => this.compute(x, activation));
  }

  /** As long as nothing watches or replaces forward (a subclass overriding forward runs unfused). */
  canFuseRelu(): boolean {
    return this.runsPlainForward(FusableLayer.prototype.forward);
  }
}
