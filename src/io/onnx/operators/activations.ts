import * as F from '../../../functional.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { POINTWISE_OPS, pointwiseFn } from '../../../ops/pointwise/all.js';
import type { PointwiseDeclaration } from '../../../ops/pointwise/declare.js';
import { asFloat, input, scalarOf } from './common.js';
import type { OperatorDef, RunContext } from './op-types.js';

/** Relu, PRelu, Clip, Softplus, and the operators of the declared pointwise ops (src/ops/pointwise/table.ts). */

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

/**
 * A declared op's operator: the parameter from its attribute (ONNX's default is the
 * declaration's), and when the fixed attributes (absent: ONNX's defaults) differ from convkit's
 * (float32 attributes round them; compared loosely) the declared general form.
 */
function declaredOperator(decl: PointwiseDeclaration): OperatorDef {
  const fn = pointwiseFn(decl.name)!;
  const { onnx, param } = decl;
  return {
    run(ctx, inputs) {
      const x = x0(ctx, inputs);
      const fixed = onnx.fixed ?? {};
      const attrs = Object.fromEntries(Object.entries(fixed).map(([k, v]) => [k, ctx.attrs.float(k, onnx.defaults?.[k] ?? v)]));
      if (Object.entries(fixed).some(([k, v]) => Math.abs(attrs[k]! - v) > 1e-6 * Math.max(1, Math.abs(v)))) return onnx.general!(x, attrs);
      if (!param || !onnx.param) return fn(x);
      const value = param.choices ? ctx.attrs.string(onnx.param, String(param.default)) : ctx.attrs.float(onnx.param, param.default as number);
      return fn(x, { [param.name]: value });
    },
  };
}

export const activationOperators: Record<string, OperatorDef> = {
  ...Object.fromEntries(POINTWISE_OPS.filter((d) => d.onnx.op).map((d) => [d.onnx.op, declaredOperator(d)])),
  Relu: { run: (ctx, inputs) => F.relu(x0(ctx, inputs)) },
  PRelu: { run: (ctx, inputs) => prelu(ctx, x0(ctx, inputs), asFloat(input(ctx, inputs, 1, 'slope'))) },
  Softplus: { run: (ctx, inputs) => F.softplus(x0(ctx, inputs)) },
  Clip: { run: clip },
};
