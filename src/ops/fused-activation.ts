import { kernel } from '../backend/registry.js';
import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { kin, kout } from './kernel-io.js';

/**
 * An activation applied by the producing kernel itself (conv2d, linear, batchNorm take
 * `activation: 'relu'`): the output is written once instead of a second elementwise pass.
 * The result is exactly relu(op(...)), forward and backward.
 */
export type FusedActivation = 'none' | 'relu';

export function checkActivation(v: unknown, op: string): FusedActivation {
  const a = v ?? 'none';
  if (a !== 'none' && a !== 'relu') {
    throw new ConvkitError(`${op}: activation must be 'none' or 'relu', got ${JSON.stringify(v)}`);
  }
  return a;
}

/**
 * The gradient at the activation's input given its output y and the incoming gradient g. For
 * relu this is the separate relu's own backward rule (UnaryGrad 'relu', dy * (x > 0 ? 1 : 0))
 * read from the output: y > 0 exactly where x > 0 (NaN and 0 give 0 either way), so a fused
 * and a separate relu give the same bits.
 */
export function activationGrad(activation: FusedActivation, y: Tensor, g: Tensor): Tensor {
  if (activation === 'none') return g;
  const yk = kin(y);
  return kout(kernel('UnaryGrad')(yk, yk, kin(g), 'relu', 0), g.shape);
}

/** The tape name of a fused op ('conv2d_relu'); readers of the tape (ONNX export) see that it is not the plain op. */
export function fusedName(op: string, activation: FusedActivation): string {
  return activation === 'none' ? op : `${op}_${activation}`;
}
