import * as F from '../../../functional.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { asFloat, input, scalarOf } from './common.js';
import type { OperatorDef, RunContext } from './op-types.js';

/** Relu, LeakyRelu, PRelu, Elu, Selu, Sigmoid, Tanh, Clip and Softplus. */

// ONNX's Selu defaults, which are the self-normalizing constants F.selu has built in.
const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

function x0(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  return asFloat(input(ctx, inputs, 0, 'X'));
}

/**
 * ONNX broadcasts the slope to X (any shape that broadcasts), while F.prelu takes one slope or
 * one per channel. The common exports ([C], [C,1,1], [1]) go to F.prelu; anything else is
 * computed as max(x, 0) + slope * min(x, 0), which is the same function.
 */
function prelu(ctx: RunContext, x: Tensor, slope: Tensor): Tensor {
  const channels = x.ndim >= 2 ? x.shape[1]! : 1;
  const dims = [...slope.shape];
  while (dims.length && dims[0] === 1 && dims.length > x.ndim - 1) dims.shift();
  // Before opset 7 a 1-d slope was one value per channel; from 7 on it broadcasts like NumPy.
  const legacy = ctx.opset < 7 && slope.ndim === 1 && slope.size === channels;
  const perChannel = legacy || (dims.length === x.ndim - 1 && dims[0] === channels && dims.slice(1).every((d) => d === 1));
  // Reshaped only when needed: a view of a Parameter made inside tidy() shares its storage.
  const flat = (n: number) => (slope.ndim === 1 ? slope : slope.reshape([n]));
  if (slope.size === 1) return F.prelu(x, flat(1));
  if (perChannel && x.ndim >= 2) return F.prelu(x, flat(channels));
  return F.add(F.maximum(x, 0), F.mul(slope, F.minimum(x, 0)));
}

function clip(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = x0(ctx, inputs);
  let lo: number | null;
  let hi: number | null;
  if (ctx.opset < 11) {
    lo = ctx.attrs.float('min') ?? null;
    hi = ctx.attrs.float('max') ?? null;
  } else {
    lo = inputs[1] ? scalarOf(ctx, inputs[1], 'min') : null;
    hi = inputs[2] ? scalarOf(ctx, inputs[2], 'max') : null;
  }
  if (lo === null && hi === null) return x;
  return F.clamp(x, lo, hi);
}

export const activationOperators: Record<string, OperatorDef> = {
  Relu: { run: (ctx, inputs) => F.relu(x0(ctx, inputs)) },
  LeakyRelu: { run: (ctx, inputs) => F.leakyRelu(x0(ctx, inputs), { negativeSlope: ctx.attrs.float('alpha', 0.01) }) },
  PRelu: { run: (ctx, inputs) => prelu(ctx, x0(ctx, inputs), asFloat(input(ctx, inputs, 1, 'slope'))) },
  Elu: { run: (ctx, inputs) => F.elu(x0(ctx, inputs), { alpha: ctx.attrs.float('alpha', 1) }) },
  Selu: {
    run(ctx, inputs) {
      const alpha = ctx.attrs.float('alpha', SELU_ALPHA);
      const gamma = ctx.attrs.float('gamma', SELU_GAMMA);
      const x = x0(ctx, inputs);
      // Float32 attributes round the constants; compare loosely.
      if (Math.abs(alpha - SELU_ALPHA) < 1e-6 && Math.abs(gamma - SELU_GAMMA) < 1e-6) return F.selu(x);
      return F.mul(F.elu(x, { alpha }), gamma);
    },
  },
  Sigmoid: { run: (ctx, inputs) => F.sigmoid(x0(ctx, inputs)) },
  Tanh: { run: (ctx, inputs) => F.tanh(x0(ctx, inputs)) },
  Softplus: { run: (ctx, inputs) => F.softplus(x0(ctx, inputs)) },
  Clip: { run: clip },
};
