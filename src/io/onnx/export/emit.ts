import type { ExportContext } from './converter.js';

/**
 * Emitters for the ONNX operators whose form changed between opsets (the converters call
 * these and never branch on the opset themselves): Pad and Clip took attributes before
 * opset 11 and inputs since; ReduceMean/ReduceMax take `axes` as an input from opset 18;
 * Softmax and LogSoftmax before opset 13 flatten the input to 2-d at `axis`.
 */

/** Pads given in convkit's order [top, bottom, left, right] for an [N, C, H, W] value. */
export function pad2d(
  ctx: ExportContext,
  x: string,
  pads: readonly [number, number, number, number],
  mode: 'constant' | 'reflect' | 'edge',
  value: number,
  name: string,
): string {
  const [t, b, l, r] = pads;
  // ONNX: all begins (N, C, H, W), then all ends.
  const onnxPads = [0, 0, t, l, 0, 0, b, r];
  const inputs = [x, ctx.b.int64s(onnxPads, 'pads')];
  if (mode === 'constant' && value !== 0) inputs.push(ctx.b.scalar(value));
  return ctx.b.node('Pad', inputs, { mode: { s: mode } }, name);
}

/** Clip to [lo, hi] (either may be missing). */
export function clip(ctx: ExportContext, x: string, lo: number | null, hi: number | null, name: string): string {
  const inputs = [x, lo === null ? '' : ctx.b.scalar(lo), hi === null ? '' : ctx.b.scalar(hi)];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  return ctx.b.node('Clip', inputs, {}, name);
}

/** ReduceMean / ReduceMax / ReduceSum over `axes`. */
export function reduce(ctx: ExportContext, op: 'ReduceMean' | 'ReduceMax' | 'ReduceSum', x: string, axes: readonly number[], keepdims: boolean, name: string): string {
  // ReduceSum moved axes to an input at opset 13, the others at 18.
  const axesAsInput = op === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  if (axesAsInput) return ctx.b.node(op, [x, ctx.b.int64s(axes, 'axes')], { keepdims: { i: keepdims ? 1 : 0 } }, name);
  return ctx.b.node(op, [x], { axes: { ints: axes }, keepdims: { i: keepdims ? 1 : 0 } }, name);
}

/** Softmax or LogSoftmax along `axis` of a rank-`rank` value, with the same meaning at every opset. */
export function softmax(ctx: ExportContext, op: 'Softmax' | 'LogSoftmax', x: string, axis: number, rank: number, name: string): string {
  const a = axis < 0 ? axis + rank : axis;
  // Before opset 13 the op normalizes over all dimensions from `axis` on: fine for the last
  // axis; any other axis is moved last and back.
  if (ctx.opset >= 13 || a === rank - 1) return ctx.b.node(op, [x], { axis: { i: a } }, name);
  const perm = [...Array(rank).keys()].filter((d) => d !== a).concat(a);
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const moved = ctx.b.node('Transpose', [x], { perm: { ints: perm } }, `${name}.to_last`);
  const y = ctx.b.node(op, [moved], { axis: { i: rank - 1 } }, name);
  return ctx.b.node('Transpose', [y], { perm: { ints: inverse } }, `${name}.back`);
}

/** Slice along `axes` (Slice takes inputs since opset 10). */
export function slice(ctx: ExportContext, x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], name: string): string {
  return ctx.b.node('Slice', [x, ctx.b.int64s(starts, 'starts'), ctx.b.int64s(ends, 'ends'), ctx.b.int64s(axes, 'axes')], {}, name);
}

/** Reshape to `shape` (0 copies the input's size, -1 is inferred: keep the batch symbolic). */
export function reshape(ctx: ExportContext, x: string, shape: readonly number[], name: string): string {
  return ctx.b.node('Reshape', [x, ctx.b.int64s(shape, 'shape')], {}, name);
}
