import { fmtShape } from '../../../tensor/errors.js';
import { Tensor } from '../../../tensor/tensor.js';
import type { NodeContext, OpInputs } from './op-types.js';

/** Small helpers shared by the operator files. */

/** Input `i`, or an error naming the node when it is missing. */
export function input(ctx: NodeContext, inputs: OpInputs, i: number, what: string): Tensor {
  const t = inputs[i];
  if (!t) ctx.fail(`input ${i} (${what}) is required but missing`);
  return t;
}

/** An integer list held in a 1-d tensor (shapes, axes, pads: int64 in ONNX, int32 here). */
export function intList(t: Tensor): number[] {
  return Array.from(t.values(), (v) => Math.trunc(v));
}

/** The single value of a tensor with one element (a scalar input such as Clip's min). */
export function scalarOf(ctx: NodeContext, t: Tensor, what: string): number {
  if (t.size !== 1) ctx.fail(`${what} must hold one value, got shape ${fmtShape(t.shape)}`);
  return t.values()[0]!;
}

/** A possibly negative axis resolved against `rank`. */
export function axisOf(ctx: NodeContext, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    ctx.fail(`${what} ${axis} is out of range for a ${rank}-d tensor (expected ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** A float32 copy of an int32 tensor (ONNX graphs sometimes mix them across a Cast). */
export function asFloat(t: Tensor): Tensor {
  return t.dtype === 'float32' ? t : new Tensor(Float32Array.from(t.values()), t.shape);
}

/** An int32 tensor from integers. */
export function intTensor(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  return new Tensor(Int32Array.from(values), shape);
}

/** Element count of a shape, checked against the loader's limit before an op allocates it. */
export function checkAlloc(ctx: NodeContext, shape: readonly number[], what: string): void {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) ctx.fail(`${what} has an invalid size ${d} in ${fmtShape(shape)}`);
    n *= d;
  }
  if (n > ctx.maxElements) {
    ctx.fail(`${what} ${fmtShape(shape)} would hold ${n.toExponential(3)} elements, more than the limit of ${ctx.maxElements}; refusing to allocate it`);
  }
}
