import { kernel } from '../backend/registry.js';
import type { KernelTensor } from '../backend/kernels.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { sizeOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptionNames } from './conv-args.js';
import { activationGrad, checkActivation, fusedName, type FusedActivation } from './fused-activation.js';
import { expectTensor, kin, kout } from './kernel-io.js';

/** Options of `F.linear`. */
export interface LinearOptions {
  /**
   * 'relu' applies max(0, y) inside the MatMul kernel (after the bias): the same values and
   * gradients as F.relu(F.linear(...)) without a second pass. Default 'none'.
   */
  activation?: FusedActivation;
}

/**
 * The fully connected (FC) layer's math: y = x W^T + b with W [out, in] as in PyTorch and x
 * [..., in] (any leading dimensions, flattened into rows for one MatMul with transposeB and
 * the bias fused).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: LinearOptions = {}): Tensor {
  expectTensor(x, 'linear', 'input');
  checkOptionNames(opts, ['activation'], 'linear');
  const activation = checkActivation(opts.activation, 'linear');
  expectTensor(weight, 'linear', 'weight');
  if (bias !== undefined && bias !== null) expectTensor(bias, 'linear', 'bias');
  if (weight.ndim !== 2) {
    throw new ConvkitError(`linear: weight must be 2-d [outFeatures, inFeatures], got shape ${fmtShape(weight.shape)}`);
  }
  const [outF, inF] = weight.shape as [number, number];
  if (x.ndim === 0) throw new ConvkitError(`linear: input must have at least 1 dimension (its last is the ${inF} input features), got a scalar`);
  const got = x.shape[x.ndim - 1]!;
  if (got !== inF) {
    throw new ConvkitError(
      `linear: expected ${inF} input features, got ${got} (input ${fmtShape(x.shape)}, weight ${fmtShape(weight.shape)}); ` +
        (x.ndim > 2 ? 'flatten the input first (F.flatten / nn.Flatten) or ' : '') +
        `make the layer's inFeatures ${got}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new ConvkitError(`linear: bias must have shape [${outF}] (one per output feature), got ${fmtShape(bias.shape)}`);
  }
  const rows = sizeOf(x.shape.slice(0, -1));
  const x2: KernelTensor = { data: kin(x, 'linear', 'input').data, shape: [rows, inF] };
  const w = kin(weight, 'linear', 'weight');
  const b = bias ? kin(bias, 'linear', 'bias') : null;
  const outShape = [...x.shape.slice(0, -1), outF];
  const y = kout(kernel('MatMul')(x2, w, false, true, b, activation), outShape);
  return record(y, fusedName('linear', activation), [x, weight, bias], (dy) => {
    // Fused relu: mask dy first (the separate relu's backward), then the linear's.
    const g = activationGrad(activation, y, dy);
    const g2: KernelTensor = { data: kin(g).data, shape: [rows, outF] };
    // dx = g W, dW = g^T x, db = column sums of g.
    const dx = x.requiresGrad ? kout(kernel('MatMul', 'input')(g2, kin(weight), false, false, null, 'none'), x.shape) : null;
    const dw = weight.requiresGrad ? kout(kernel('MatMul', 'weight')(g2, x2, true, false, null, 'none'), weight.shape) : null;
    const db = bias?.requiresGrad ? kout(kernel('Reduce', 'weight')(g2, [0], 'sum'), bias.shape) : null;
    return [dx, dw, db];
  }, activation === 'none' ? [] : [y]);
}
