import * as F from '../../../functional.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { asFloat, axisOf, input, intList } from './common.js';
import type { OperatorDef, RunContext } from './op-types.js';

/**
 * ReduceMean, ReduceSum, ReduceMax, ReduceMin. `axes` is an attribute until it becomes an
 * input (opset 13 for ReduceSum, 18 for the others); no axes means all of them, unless
 * noop_with_empty_axes (opset 18) asks for the identity. keepdims defaults to 1.
 */
function reduceOp(fn: 'mean' | 'sum' | 'amax' | 'amin', inputSince: number): OperatorDef {
  return {
    run(ctx: RunContext, inputs: readonly (Tensor | null)[]) {
      const x = asFloat(input(ctx, inputs, 0, 'data'));
      const given = ctx.opset < inputSince ? ctx.attrs.ints('axes') : inputs[1] ? intList(inputs[1]) : undefined;
      const keepdim = ctx.attrs.int('keepdims', 1) === 1;
      if (!given || given.length === 0) {
        if (ctx.attrs.int('noop_with_empty_axes', 0) === 1) return x;
        return F[fn](x, undefined, { keepdim });
      }
      return F[fn](x, given.map((a) => axisOf(ctx, a, x.ndim)), { keepdim });
    },
  };
}

export const reduceOperators: Record<string, OperatorDef> = {
  ReduceMean: reduceOp('mean', 18),
  ReduceSum: reduceOp('sum', 13),
  ReduceMax: reduceOp('amax', 18),
  ReduceMin: reduceOp('amin', 18),
};
