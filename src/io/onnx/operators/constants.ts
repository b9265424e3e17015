import * as F from '../../../functional.js';
import { sizeOf } from '../../../tensor/shape.js';
import { Tensor } from '../../../tensor/tensor.js';
import { DataType, dataTypeName, isFloatType, isSupportedDataType } from '../tensor-proto.js';
import { axisOf, checkAlloc, input, intList, intTensor } from './common.js';
import type { CheckContext, OperatorDef, RunContext } from './op-types.js';

/**
 * Operators that make values or read shapes: Constant, ConstantOfShape, Shape, Gather, Slice,
 * Cast.
 * Exporters chain them (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) to compute target
 * shapes; the integers travel as int32 tensors, and chains on constants are folded at load.
 */

function checkConstant(ctx: CheckContext): string[] {
  const problems: string[] = [];
  for (const name of ['sparse_value', 'value_string', 'value_strings']) {
    if (ctx.attrs.has(name)) problems.push(`attribute '${name}' is not supported`);
  }
  const t = ctx.attrs.tensorProto('value');
  if (t && !isSupportedDataType(t.data_type)) problems.push(`its value has data type ${dataTypeName(t.data_type)}`);
  return problems;
}

function constant(ctx: RunContext): Tensor {
  const a = ctx.attrs;
  const t = a.tensor('value');
  if (t) return t;
  const f = a.float('value_float');
  if (f !== undefined) return new Tensor(new Float32Array([f]), []);
  const fs = a.floats('value_floats');
  if (fs) return new Tensor(Float32Array.from(fs), [fs.length]);
  const i = a.int('value_int');
  if (i !== undefined) return intTensor([i], []);
  const is = a.ints('value_ints');
  if (is) return intTensor(is, [is.length]);
  return ctx.fail('has no value attribute convkit can read');
}

function checkConstantOfShape(ctx: CheckContext): string[] {
  const t = ctx.attrs.tensorProto('value');
  return t && !isSupportedDataType(t.data_type) ? [`its value has data type ${dataTypeName(t.data_type)}`] : [];
}

function constantOfShape(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const shape = intList(input(ctx, inputs, 0, 'input'));
  // The size is checked before the buffer exists: a graph may ask for absurd shapes.
  checkAlloc(ctx, shape, 'the requested shape');
  const value = ctx.attrs.tensor('value');
  const v = value ? value.values()[0] ?? 0 : 0;
  const n = sizeOf(shape);
  if (value && value.dtype === 'int32') return new Tensor(new Int32Array(n).fill(v), shape);
  return new Tensor(new Float32Array(n).fill(v), shape);
}

function shapeOf(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = input(ctx, inputs, 0, 'data');
  let dims = [...x.shape];
  if (ctx.opset >= 15) {
    const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + x.ndim : a, 0), x.ndim);
    dims = dims.slice(clampAxis(ctx.attrs.int('start', 0)), clampAxis(ctx.attrs.int('end', x.ndim)));
  }
  return intTensor(dims, [dims.length]);
}

/**
 * data[..., idx, ...] along `axis`, with `idxShape` replacing that axis in the output. Integer
 * data is copied directly; float data goes through F.gather (differentiable), with the
 * indices spread over the [outer, m, inner] layout it expects.
 */
function take(ctx: RunContext, data: Tensor, axis: number, idx: readonly number[], idxShape: readonly number[]): Tensor {
  const n = data.shape[axis]!;
  const outShape = [...data.shape.slice(0, axis), ...idxShape, ...data.shape.slice(axis + 1)];
  checkAlloc(ctx, outShape, 'the output');
  const outer = sizeOf(data.shape.slice(0, axis));
  const inner = sizeOf(data.shape.slice(axis + 1));
  const m = idx.length;
  if (data.dtype === 'int32') {
    const src = data.values();
    const out = new Int32Array(outer * m * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < m; j++) out.set(src.subarray((o * n + idx[j]!) * inner, (o * n + idx[j]! + 1) * inner), (o * m + j) * inner);
    }
    return new Tensor(out, outShape);
  }
  const spread = new Int32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) for (let j = 0; j < m; j++) spread.fill(idx[j]!, (o * m + j) * inner, (o * m + j + 1) * inner);
  return F.gather(data.reshape([outer, n, inner]), 1, new Tensor(spread, [outer, m, inner])).reshape(outShape);
}

/** ONNX Gather (numpy take along an axis): out = data[..., indices, ...]. */
function gather(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const data = input(ctx, inputs, 0, 'data');
  const indices = input(ctx, inputs, 1, 'indices');
  if (data.ndim === 0) ctx.fail('cannot gather from a scalar');
  const axis = axisOf(ctx, ctx.attrs.int('axis', 0), data.ndim);
  const n = data.shape[axis]!;
  const idx = intList(indices).map((v) => {
    if (v < -n || v >= n) ctx.fail(`index ${v} is out of range for axis ${axis} of size ${n}`);
    return v < 0 ? v + n : v;
  });
  return take(ctx, data, axis, idx, indices.shape);
}

/**
 * Slice: starts/ends/axes/steps as attributes before opset 10, inputs from it on. Bounds are
 * clamped as the spec says (INT64_MAX means "to the end"); each sliced axis is a take().
 */
function slice(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  let x = input(ctx, inputs, 0, 'data');
  const legacy = ctx.opset < 10;
  const starts = legacy ? ctx.attrs.ints('starts') : intList(input(ctx, inputs, 1, 'starts'));
  const ends = legacy ? ctx.attrs.ints('ends') : intList(input(ctx, inputs, 2, 'ends'));
  if (!starts || !ends || starts.length !== ends.length) ctx.fail('starts and ends must be given, one per sliced axis');
  const axes = (legacy ? ctx.attrs.ints('axes') : inputs[3] ? intList(inputs[3]) : undefined) ?? starts.map((_, i) => i);
  const steps = (!legacy && inputs[4] ? intList(inputs[4]) : undefined) ?? starts.map(() => 1);
  axes.forEach((a, i) => {
    const axis = axisOf(ctx, a, x.ndim);
    const dim = x.shape[axis]!;
    const step = steps[i]!;
    if (step === 0) ctx.fail('steps must not be 0');
    const norm = (v: number) => (v < 0 ? v + dim : v);
    const clampTo = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const start = step > 0 ? clampTo(norm(starts[i]!), 0, dim) : clampTo(norm(starts[i]!), 0, dim - 1);
    const end = step > 0 ? clampTo(norm(ends[i]!), 0, dim) : clampTo(norm(ends[i]!), -1, dim - 1);
    const idx: number[] = [];
    for (let v = start; step > 0 ? v < end : v > end; v += step) idx.push(v);
    if (idx.length === dim && step === 1) return;
    x = take(ctx, x, axis, idx, [idx.length]);
  });
  return x;
}

function checkCast(ctx: CheckContext): string[] {
  const to = ctx.attrs.int('to');
  if (to === undefined) return ["attribute 'to' is missing"];
  return isSupportedDataType(to) ? [] : [`cast to ${dataTypeName(to)} is not supported`];
}

function cast(ctx: RunContext, inputs: readonly (Tensor | null)[]): Tensor {
  const x = input(ctx, inputs, 0, 'input');
  const to = ctx.attrs.int('to', DataType.FLOAT);
  if (isFloatType(to)) return x.dtype === 'float32' ? x : new Tensor(Float32Array.from(x.values()), x.shape);
  const v = x.values();
  if (to === DataType.BOOL) return new Tensor(Int32Array.from(v, (e) => (e !== 0 ? 1 : 0)), x.shape);
  if (x.dtype === 'int32') return x;
  // Float to integer truncates toward zero, as C casts do.
  return new Tensor(Int32Array.from(v, (e) => Math.trunc(e)), x.shape);
}

export const constantOperators: Record<string, OperatorDef> = {
  Constant: { check: checkConstant, run: constant },
  ConstantOfShape: { check: checkConstantOfShape, run: constantOfShape },
  Shape: { run: shapeOf },
  Gather: { run: gather },
  Slice: { run: slice },
  Cast: { check: checkCast, run: cast },
};
