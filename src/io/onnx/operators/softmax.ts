import * as F from '../../../functional.js';
import { sizeOf } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { asFloat, axisOf, input } from './common.js';
import type { OperatorDef, RunContext } from './op-types.js';

/**
 * Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1):
 * [d0 * ... * d(axis-1), d(axis) * ... * dn], normalized over the whole second part, then
 * reshaped back. From opset 13 the normalization runs along `axis` alone (default -1).
 */
function softmaxLike(fn: (x: Tensor, dim: number) => Tensor): OperatorDef {
  return {
    run(ctx: RunContext, inputs) {
      const x = asFloat(input(ctx, inputs, 0, 'input'));
      const rank = Math.max(x.ndim, 1);
      if (ctx.opset >= 13) return fn(x, axisOf(ctx, ctx.attrs.int('axis', -1), rank));
      // The legacy axis may equal the rank (an empty second part).
      const given = ctx.attrs.int('axis', 1);
      const axis = given < 0 ? given + x.ndim : given;
      if (axis < 0 || axis > x.ndim) ctx.fail(`axis ${given} is out of range for a ${x.ndim}-d input`);
      const rows = sizeOf(x.shape.slice(0, axis));
      const cols = sizeOf(x.shape.slice(axis));
      // Coerced to [rows, cols]; a view when x is contiguous.
      return fn(x.reshape([rows, cols]), 1).reshape(x.shape);
    },
  };
}

export const softmaxOperators: Record<string, OperatorDef> = {
  Softmax: softmaxLike(F.softmax),
  LogSoftmax: softmaxLike(F.logSoftmax),
};
