import * as F from '../../../functional.js';
import { sizeOf } from '../../../tensor/shape.js';
import { Tensor } from '../../../tensor/tensor.js';
import { asFloat, axisOf, checkAlloc, input, intList, scalarOf } from './common.js';
import type { OperatorDef, RunContext } from './op-types.js';

/**
 * Operators that move data without arithmetic: Reshape, Flatten, Transpose, Squeeze,
 * Unsqueeze, Concat, Identity, Dropout. Views where possible (reshape of a contiguous tensor,
 * permute), so gradients pass through them at no cost.
 */

/** Axes from the attribute (before `inputSince`) or from input 1 (from it on). */
function axesArg(ctx: RunContext, inputs: readonly (Tensor | null)[], inputSince: number): number[] | undefined {
  if (ctx.opset < inputSince) return ctx.attrs.ints('axes');
  return inputs[1] ? intList(inputs[1]) : undefined;
}

function reshape(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = input(ctx, inputs, 0, 'data');
  const requested = ctx.opset < 5 ? ctx.attrs.ints('shape') : inputs[1] ? intList(inputs[1]) : undefined;
  if (!requested) ctx.fail('the target shape is missing');
  const allowZero = ctx.opset >= 14 && ctx.attrs.int('allowzero', 0) === 1;
  // 0 copies the input's size at that position (unless allowzero); -1 is inferred.
  const shape = requested.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= x.ndim) ctx.fail(`shape [${requested}] copies dimension ${i} (0) but the input [${x.shape}] has only ${x.ndim}`);
      return x.shape[i]!;
    }
    return d;
  });
  if (shape.some((d) => d < -1)) ctx.fail(`shape [${requested}] has a negative size other than -1`);
  return x.reshape(shape);
}

function flatten(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = input(ctx, inputs, 0, 'input');
  const given = ctx.attrs.int('axis', 1);
  const axis = given < 0 ? given + x.ndim : given;
  if (axis < 0 || axis > x.ndim) ctx.fail(`axis ${given} is out of range for a ${x.ndim}-d input (expected ${-x.ndim}..${x.ndim})`);
  return x.reshape([sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))]);
}

function transpose(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = input(ctx, inputs, 0, 'data');
  const perm = ctx.attrs.ints('perm') ?? x.shape.map((_, i) => x.ndim - 1 - i);
  if (perm.length !== x.ndim) ctx.fail(`perm [${perm}] must list each of the input's ${x.ndim} dimensions once`);
  return x.permute(perm);
}

function squeeze(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = input(ctx, inputs, 0, 'data');
  const axes = axesArg(ctx, inputs, 13);
  const drop = new Set((axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(ctx, a, x.ndim)));
  for (const a of drop) if (x.shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${x.shape[a]} (input [${x.shape}])`);
  return x.reshape(x.shape.filter((_, i) => !drop.has(i)));
}

function unsqueeze(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = input(ctx, inputs, 0, 'data');
  const axes = axesArg(ctx, inputs, 13);
  if (!axes) ctx.fail('axes are required');
  const rank = x.ndim + axes.length;
  const at = new Set(axes.map((a) => axisOf(ctx, a, rank)));
  if (at.size !== axes.length) ctx.fail(`axes [${axes}] repeat a dimension`);
  const shape: number[] = [];
  let src = 0;
  for (let i = 0; i < rank; i++) shape.push(at.has(i) ? 1 : x.shape[src++]!);
  return x.reshape(shape);
}

function concat(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const xs = inputs.filter((t): t is Tensor => t !== null);
  if (xs.length === 0) ctx.fail('needs at least one input');
  const axis = ctx.attrs.int('axis', ctx.opset < 4 ? 1 : Number.NaN);
  if (Number.isNaN(axis)) ctx.fail("attribute 'axis' is required");
  const mixed = xs.some((t) => t.dtype !== xs[0]!.dtype);
  const parts = mixed ? xs.map(asFloat) : xs;
  if (parts[0]!.ndim === 0) ctx.fail('cannot concatenate scalars');
  const a = axisOf(ctx, axis, parts[0]!.ndim);
  const outShape = parts[0]!.shape.map((d, i) => (i === a ? parts.reduce((s, t) => s + (t.shape[a] ?? 0), 0) : d));
  checkAlloc(ctx, outShape, 'the output');
  return F.cat(parts, a);
}

/**
 * Dropout follows the model's training flag (model.train() / model.eval()), so an imported
 * network regularizes while it is fine-tuned and is the identity when it predicts.
 */
function dropout(ctx: RunContext, inputs: readonly (Tensor | null)[]): (Tensor | null)[] {
  const x = asFloat(input(ctx, inputs, 0, 'data'));
  const ratio = ctx.opset < 12 ? ctx.attrs.float('ratio', 0.5) : inputs[1] ? scalarOf(ctx, inputs[1], 'ratio') : 0.5;
  const legacyTest = ctx.opset < 7 && ctx.attrs.int('is_test', 0) === 1;
  const active = ctx.training && !legacyTest && ratio > 0;
  const wantMask = ctx.outputUsed(1);
  if (!active) {
    return [x, wantMask ? new Tensor(new Int32Array(x.size).fill(1), x.shape) : null];
  }
  if (!wantMask) return [F.dropout(x, { p: ratio, training: true })];
  const scaled = F.dropout(new Tensor(new Float32Array(x.size).fill(1), x.shape), { p: ratio, training: true });
  const mask = new Tensor(Int32Array.from(scaled.values(), (v) => (v !== 0 ? 1 : 0)), x.shape);
  return [F.mul(x, scaled), mask];
}

export const shapeOperators: Record<string, OperatorDef> = {
  Reshape: { run: reshape },
  Flatten: { run: flatten },
  Transpose: { run: transpose },
  Squeeze: { run: squeeze },
  Unsqueeze: { run: unsqueeze },
  Concat: { run: concat },
  Identity: { run: (ctx, inputs) => input(ctx, inputs, 0, 'input') },
  Dropout: { run: dropout, foldable: false },
};
