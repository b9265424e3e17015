import type { BinaryOp, KernelTensor, ReduceOp, UnaryOp } from '../kernels.js';
import { contiguousStrides, sizeOf } from '../../tensor/shape.js';
import { reluInPlace } from './matmul.js';

function unaryFn(op: UnaryOp, alpha: number): (v: number) => number {
  if (typeof op === 'object') return (v) => op.forward(v, alpha);
  switch (op) {
    case 'relu': return (v) => (v > 0 ? v : 0);
    // log(1 + e^v) without overflow for large v
    case 'softplus': return (v) => (v > 20 ? v : Math.log1p(Math.exp(v)));
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'neg': return (v) => -v;
    case 'abs': return Math.abs;
    case 'sqrt': return Math.sqrt;
    case 'square': return (v) => v * v;
    case 'reciprocal': return (v) => 1 / v;
  }
}

/** d(op)/dx as a function of input x and output y. */
function unaryDerivative(op: UnaryOp, alpha: number): (x: number, y: number) => number {
  if (typeof op === 'object') return (x, y) => op.derivative(x, y, alpha);
  switch (op) {
    case 'relu': return (x) => (x > 0 ? 1 : 0);
    case 'softplus': return (x) => 1 / (1 + Math.exp(-x));
    case 'exp': return (_x, y) => y;
    case 'log': return (x) => 1 / x;
    case 'neg': return () => -1;
    case 'abs': return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'sqrt': return (_x, y) => 0.5 / y;
    case 'square': return (x) => 2 * x;
    case 'reciprocal': return (_x, y) => -y * y;
  }
}

/** Strides of `k` over its shape, in elements (a view's own, else row-major), and its first element. */
function layout(k: KernelTensor): { strides: readonly number[]; offset: number } {
  return { strides: k.strides ?? contiguousStrides(k.shape), offset: k.offset ?? 0 };
}

/**
 * Visits the elements of `shape` in row-major order: body(i, p) with p[j] the index in
 * operand j's data of element i (`strides[j]` over `shape`, 0 where broadcast).
 */
function walk(shape: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[], body: (i: number, p: readonly number[]) => void): void {
  const n = sizeOf(shape);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  const p = [...offsets];
  for (let i = 0; i < n; i++) {
    body(i, p);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      for (let j = 0; j < p.length; j++) p[j]! += strides[j]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let j = 0; j < p.length; j++) p[j]! -= strides[j]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

export function unary(x: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  const f = unaryFn(op, alpha);
  if (x.strides) {
    const out = new Float32Array(sizeOf(x.shape));
    const lx = layout(x);
    walk(x.shape, [lx.strides], [lx.offset], (i, p) => (out[i] = f(x.data[p[0]!]!)));
    return out;
  }
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]!);
  return out;
}

export function unaryGrad(x: KernelTensor, y: KernelTensor, dy: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  const d = unaryDerivative(op, alpha);
  if (x.strides || y.strides || dy.strides) {
    const out = new Float32Array(sizeOf(dy.shape));
    const [lx, ly, lg] = [layout(x), layout(y), layout(dy)];
    walk(dy.shape, [lx.strides, ly.strides, lg.strides], [lx.offset, ly.offset, lg.offset], (i, p) => {
      out[i] = dy.data[p[2]!]! * d(x.data[p[0]!]!, y.data[p[1]!]!);
    });
    return out;
  }
  const out = new Float32Array(dy.data.length);
  for (let i = 0; i < out.length; i++) out[i] = dy.data[i]! * d(x.data[i]!, y.data[i]!);
  return out;
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'maximum': return (a, b) => (a >= b || Number.isNaN(a) ? a : b);
    case 'minimum': return (a, b) => (a <= b || Number.isNaN(a) ? a : b);
  }
}

/** Strides of `shape` as seen from `outShape` (0 where broadcast); `own` for a view. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[], own: readonly number[] = contiguousStrides(shape)): number[] {
  const lead = outShape.length - shape.length;
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]!));
}

export function binary(a: KernelTensor, b: KernelTensor, op: BinaryOp, outShape: readonly number[], activation: 'none' | 'relu' = 'none'): Float32Array {
  const out = broadcastBinary(a, b, op, outShape);
  // On the rounded float32 results, as a separate relu would see them.
  if (activation === 'relu') reluInPlace(out);
  return out;
}

function broadcastBinary(a: KernelTensor, b: KernelTensor, op: BinaryOp, outShape: readonly number[]): Float32Array {
  const f = binaryFn(op);
  const n = sizeOf(outShape);
  const out = new Float32Array(n);
  if (a.data.length === n && b.data.length === n && !a.strides && !b.strides) {
    for (let i = 0; i < n; i++) out[i] = f(a.data[i]!, b.data[i]!);
    return out;
  }
  const la = layout(a);
  const lb = layout(b);
  const sa = broadcastStrides(a.shape, outShape, la.strides);
  const sb = broadcastStrides(b.shape, outShape, lb.strides);
  const nd = outShape.length;
  const idx = new Array<number>(nd).fill(0);
  let ia = la.offset;
  let ib = lb.offset;
  for (let i = 0; i < n; i++) {
    out[i] = f(a.data[ia]!, b.data[ib]!);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      ia += sa[d]!;
      ib += sb[d]!;
      if (idx[d]! < outShape[d]!) break;
      ia -= sa[d]! * outShape[d]!;
      ib -= sb[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

export function reduce(x: KernelTensor, axes: readonly number[], op: ReduceOp): Float32Array {
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = broadcastStrides(outShape, x.shape);
  const n = x.data.length;
  const out = new Float32Array(sizeOf(outShape));
  const init = op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
  out.fill(init);
  // Accumulate in float64 for sums, so long reductions do not drift.
  const acc = op === 'sum' || op === 'mean' ? new Float64Array(out.length) : null;
  const nd = x.shape.length;
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const v = x.data[i]!;
    if (acc) acc[o]! += v;
    else if (op === 'max' ? v > out[o]! || Number.isNaN(v) : v < out[o]! || Number.isNaN(v)) out[o] = v;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      o += outStrides[d]!;
      if (idx[d]! < x.shape[d]!) break;
      o -= outStrides[d]! * x.shape[d]!;
      idx[d] = 0;
    }
  }
  if (acc) {
    const count = op === 'mean' ? n / Math.max(out.length, 1) : 1;
    for (let i = 0; i < out.length; i++) out[i] = acc[i]! / count;
  }
  return out;
}
