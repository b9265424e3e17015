import { needsGrad } from '../autograd/tape.js';
import type { FusedActivation } from '../ops/fused-activation.js';
import { relu } from '../ops/activations.js';
import { isKept } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { ReLU } from './relu.js';

/**
 * The pieces of layer fusion. Conv2d, Linear and BatchNorm (training or eval) can apply a ReLU
 * inside their own kernel (the `activation: 'relu'` of F.conv2d / F.linear / F.batchNorm),
 * which saves a whole pass over the activation; a Conv2d can also apply an eval batch norm as
 * a per-channel scale and shift. The result, values and gradients, is the same as the separate
 * calls; the one thing that would notice is a forward hook (the playground's activation
 * views, ck.capture, summaries), so a layer or a ReLU with hooks, or with its forward
 * overridden or replaced, runs unfused.
 *
 * Who uses what: nn.Sequential and the zoo's graph modules run a layer and the plain ReLU
 * after it as one call (runReluChain, addThen in models/graph-module.ts), which changes no value
 * and no gradient, only speed, in training as in inference. Folding a batch norm (which rounds
 * differently) and freeing activations happen only in the module
 * `ck.nn.optimizeForInference(model)` builds (optimize-for-inference.ts), where its structure
 * shows them. `runLayers` and `forwardWithRelu` are for a custom module that wants the same in
 * its own forward, said in its code.
 */

/** A layer that can end its forward with a ReLU computed by the same kernel call. */
export interface ReluFusable {
  /** True when forwardFused(x, 'relu') gives exactly relu(forward(x)) and nothing watches forward. */
  canFuseRelu(): boolean;
  /** relu(forward(x)) in one call; errors read as forward's (`features.0 (Conv2d): ...`), no hooks run. */
  forwardFused(x: Tensor, activation: 'relu'): Tensor;
}

export function fusable(m: Module): m is Module & ReluFusable {
  const f = m as Partial<ReluFusable>;
  return typeof f.canFuseRelu === 'function' && typeof f.forwardFused === 'function' && f.canFuseRelu();
}

/** An nn.ReLU of that very class (a subclass may do more), whatever watches it. */
export function isReluLayer(m: Module | undefined): m is ReLU {
  return m instanceof ReLU && m.constructor === ReLU;
}

/** A plain nn.ReLU (not a subclass), without hooks, its forward not replaced. */
export function isPlainRelu(m: Module | undefined): boolean {
  return isReluLayer(m) && m.runsPlainForward(ReLU.prototype.forward);
}

/** F.relu(layer.forward(x)), as one fused call when the layer allows it. */
export function forwardWithRelu(layer: Module, x: Tensor): Tensor {
  return fusable(layer) ? layer.forwardFused(x, 'relu') : relu(layer.forward(x));
}

/**
 * Each layer's forward in turn, except that a ReluFusable layer (Conv2d, Linear,
 * BatchNorm) and a plain nn.ReLU right after it run as one kernel call (forwardFused): the same
 * values and gradients to the bit; a hook on either runs them apart. nn.Sequential's forward.
 */
export function runReluChain(layers: readonly Module[], x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (i + 1 < layers.length && isPlainRelu(layers[i + 1]) && fusable(layer)) {
      h = layer.forwardFused(h, 'relu');
      i++;
    } else {
      h = layer.forward(h);
    }
  }
  return h;
}

/**
 * A convolution that can apply a per-channel affine map (a folded eval batch norm) in its
 * epilogue (nn.Conv2d).
 */
export interface AffineFusable extends ReluFusable {
  readonly outChannels: number;
  readonly bias: Tensor | null;
  forwardScaled(x: Tensor, scale: Tensor, shift: Tensor, activation: FusedActivation): Tensor;
}

/** Has the methods of AffineFusable (a Conv2d), whether or not it may fuse now. */
export function isAffineFusable(m: Module | undefined): m is Module & AffineFusable {
  const c = m as Partial<AffineFusable> | undefined;
  return typeof c?.forwardScaled === 'function' && typeof c.canFuseRelu === 'function' && typeof c.outChannels === 'number';
}

/** Has the methods of ReluFusable (Conv2d, Linear, BatchNorm), whether or not it may fuse now. */
export function isReluFusable(m: Module | undefined): m is Module & ReluFusable {
  const f = m as Partial<ReluFusable> | undefined;
  return typeof f?.canFuseRelu === 'function' && typeof f.forwardFused === 'function';
}

/** Has the methods of FoldableNorm (a BatchNorm), whether or not it may fold now. */
export function isFoldableNorm(m: Module | undefined): m is Module & FoldableNorm {
  const n = m as Partial<FoldableNorm> | undefined;
  return typeof n?.canFold === 'function' && typeof n.foldedAffine === 'function' && typeof n.numFeatures === 'number';
}

/** A normalization that is a per-channel affine map in its current mode (eval-mode batch norm). */
export interface FoldableNorm {
  readonly numFeatures: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  canFold(): boolean;
  foldedAffine(bias: Tensor | null): { scale: Tensor; shift: Tensor };
}

/**
 * conv -> batch norm (eval) folded into one convolution call when nothing needs a gradient
 * (inference): the normalization becomes the convolution's per-channel scale and bias, so the
 * output is written once instead of twice. Same values up to float32 rounding.
 */
function foldable(conv: Module, norm: Module | undefined, x: Tensor): [AffineFusable, FoldableNorm] | null {
  const c = conv as Partial<AffineFusable>, n = norm as Partial<FoldableNorm> | undefined;
  if (typeof c.forwardScaled !== 'function' || typeof n?.canFold !== 'function') return null;
  const cv = conv as Module & AffineFusable, bn = norm as Module & FoldableNorm;
  if (!cv.canFuseRelu() || !bn.canFold() || bn.numFeatures !== cv.outChannels) return null;
  if (needsGrad(x, ...cv.parameters(), bn.weight, bn.bias)) return null;
  return [cv, bn];
}

/**
 * Runs layers one after another, running a fusable layer and a plain nn.ReLU right after it as
 * one call, and, for inference, an eval batch norm after a convolution inside the convolution;
 * activations between the layers are freed when nothing can read them any more (releaseIfDone).
 * For a custom module's forward (`return ck.nn.runLayers([this.conv, this.bn, this.relu], x)`);
 * nn.Sequential does not call it (it runs runReluChain; see optimizeForInference).
 */
export function runLayers(layers: readonly Module[], x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const prev = h;
    const folded = foldable(layer, layers[i + 1], h);
    if (folded) {
      const [conv, norm] = folded;
      const withRelu = isPlainRelu(layers[i + 2]);
      const { scale, shift } = norm.foldedAffine(conv.bias);
      h = conv.forwardScaled(h, scale, shift, withRelu ? 'relu' : 'none');
      i += withRelu ? 2 : 1;
    } else if (i + 1 < layers.length && isPlainRelu(layers[i + 1]) && fusable(layer)) {
      h = layer.forwardFused(h, 'relu');
      i++;
    } else {
      h = layer.forward(h);
    }
    releaseIfDone(prev, h, x);
  }
  return h;
}

/**
 * Inference keeps only the activations it still needs: once the next layer has run, the
 * activation between two layers is freed (its block goes back to the backend for the next
 * layers' outputs), so running VGG-16 takes the weights plus about the two largest activations
 * rather than all of them. Only when nothing can still read it: no gradient is being recorded
 * through the layer (so no backward pass saved it), it is not the caller's input nor shares its
 * storage with the input or the output (views), nobody kept it, and no forward hook anywhere
 * could have held on to it. A custom layer that stashes its input for later finds it disposed,
 * as it would after the tidy() scope around the call, with the same clear error.
 */
export function releaseIfDone(prev: Tensor, next: Tensor, input: Tensor): void {
  if (prev === input || prev.storage === input.storage || prev.storage === next.storage) return;
  if (needsGrad(next) || needsGrad(prev) || Module.forwardHooks > 0 || isKept(prev)) return;
  prev.dispose();
}
