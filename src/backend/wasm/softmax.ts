/**
 * The cross-entropy path on wasm: Softmax, LogSoftmax and their gradients along any axis
 * (assembly/softmax.ts), NllLoss and its gradient (assembly/nll.ts). Float64 exponentials, logs
 * and sums as the js reference. Inputs below a size threshold go to the js reference.
 */
import type { KernelTensor } from '../kernels.js';
import * as jsSoftmax from '../js/softmax.js';
import { nllLoss as jsNllLoss, nllLossGrad as jsNllLossGrad } from '../js/losses.js';
import { sizeOf } from '../../tensor/shape.js';
import { runSplit } from './args.js';
import { KIND, NL, SM, SMOP } from './job-layout.js';
import { runtime } from './instance.js';

/** Below this many elements the js loops are as fast as a wasm call. */
export const SOFTMAX_MIN = 512;
/** Target positions (NllLoss) or gradient elements (NllLossGrad) below which js is as fast. */
export const NLL_MIN = 2048;
export const NLL_GRAD_MIN = 8192;

function run(op: number, x: KernelTensor, dy: KernelTensor | null, axis: number): Float32Array {
  const shape = x.shape;
  const outer = sizeOf(shape.slice(0, axis));
  const n = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  const size = x.data.length;
  const rt = runtime();
  rt.begin();
  rt.args(SM, { X: rt.put(x.data), DY: dy ? rt.put(dy.data) : 0 });
  const units = inner === 1 ? outer : outer * Math.ceil(inner / 4);
  const out = rt.alloc(size);
  rt.args(SM, { OUT: out, OUTER: outer, N: n, INNER: inner, OP: op, UNITS: units });
  // Exponentials cost several element loads each: count them as such for the threading decision.
  runSplit(rt, KIND.softmax, SM.UPT, units, 4 * size);
  return rt.read(out, size);
}

const small = (x: KernelTensor) => x.data.length < SOFTMAX_MIN;

export function softmax(x: KernelTensor, axis: number): Float32Array {
  return small(x) ? jsSoftmax.softmax(x, axis) : run(SMOP.softmax, x, null, axis);
}

export function logSoftmax(x: KernelTensor, axis: number): Float32Array {
  return small(x) ? jsSoftmax.logSoftmax(x, axis) : run(SMOP.logSoftmax, x, null, axis);
}

export function softmaxGrad(y: KernelTensor, dy: KernelTensor, axis: number): Float32Array {
  return small(y) ? jsSoftmax.softmaxGrad(y, dy, axis) : run(SMOP.softmaxGrad, y, dy, axis);
}

export function logSoftmaxGrad(y: KernelTensor, dy: KernelTensor, axis: number): Float32Array {
  return small(y) ? jsSoftmax.logSoftmaxGrad(y, dy, axis) : run(SMOP.logSoftmaxGrad, y, dy, axis);
}

/** [N, C, d...] (or [C]): samples, classes and positions per sample, as the reference. */
function classLayout(shape: readonly number[]): { n: number; c: number; inner: number } {
  if (shape.length === 1) return { n: 1, c: shape[0]!, inner: 1 };
  return { n: shape[0]!, c: shape[1]!, inner: sizeOf(shape.slice(2)) };
}

function nll(
  grad: boolean, x: KernelTensor | null, dy: KernelTensor | null, target: Int32Array, weight: KernelTensor | null, ignoreIndex: number, xShape: readonly number[],
): Float32Array {
  const { n, c, inner } = classLayout(xShape);
  const rt = runtime();
  rt.begin();
  rt.args(NL, { X: x ? rt.put(x.data) : 0, DY: dy ? rt.put(dy.data) : 0, T: rt.putI32(target), W: weight ? rt.put(weight.data) : 0 });
  const size = grad ? n * c * inner : n * inner;
  const out = rt.alloc(size);
  rt.args(NL, { OUT: out, IGN: ignoreIndex, C: c, INNER: inner, N: n, GRAD: grad ? 1 : 0 });
  runSplit(rt, KIND.nll, NL.SPT, n, grad ? size : 4 * n * inner);
  return rt.read(out, size);
}

/** An ignoreIndex outside int32 never equals a target: any value that is no class does the same. */
const ignoreArg = (v: number) => (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? v : -1);

export function nllLoss(x: KernelTensor, target: Int32Array, weight: KernelTensor | null, ignoreIndex: number): Float32Array {
  if (target.length < NLL_MIN) return jsNllLoss(x, target, weight, ignoreIndex);
  return nll(false, x, null, target, weight, ignoreArg(ignoreIndex), x.shape);
}

export function nllLossGrad(dy: KernelTensor, target: Int32Array, weight: KernelTensor | null, ignoreIndex: number, xShape: readonly number[]): Float32Array {
  if (sizeOf(xShape) < NLL_GRAD_MIN) return jsNllLossGrad(dy, target, weight, ignoreIndex, xShape);
  return nll(true, null, dy, target, weight, ignoreArg(ignoreIndex), xShape);
}
