/**
 * Unary, UnaryGrad and Binary on wasm. relu, neg, abs, sqrt and square, the relu gradient, and
 * + - * / max min (and add + relu) on equal shapes run in float32 SIMD (assembly/elementwise.ts),
 * bit-identical to the js reference. Every other Unary and UnaryGrad runs in float64 as the
 * reference evaluates it (assembly/unary.ts); broadcasting shapes and pow in
 * assembly/broadcast.ts. Arrays too small to pay for a wasm call go to js.
 */
import type { BinaryOp, KernelTensor, UnaryOp } from '../kernels.js';
import { binary as jsBinary, unary as jsUnary, unaryGrad as jsUnaryGrad } from '../js/elementwise.js';
import { contiguousStrides, sizeOf } from '../../tensor/shape.js';
import { argF64 } from './args.js';
import { B, BOP, E, EOP, KIND, U, UOP } from './job-layout.js';
import { runtime } from './instance.js';

/** Below this many elements the js loop beats copying in and out. */
export const MIN_ELEMENTS = 4096;
/** The same for functions the js reference evaluates through Math.exp, Math.log, ... (slower loops). */
export const MIN_TRANSCENDENTAL = 1024;
const CHUNK = 1 << 15;
/** Chunk of the float64 kernels (about as much work per task as CHUNK float32 elements). */
const CHUNK_F64 = 1 << 13;

const EXACT: Partial<Record<UnaryOp, number>> = { relu: EOP.relu, neg: EOP.neg, abs: EOP.abs, sqrt: EOP.sqrt, square: EOP.square };
const BINARY: Partial<Record<BinaryOp, number>> = {
  add: EOP.add, sub: EOP.sub, mul: EOP.mul, div: EOP.div, maximum: EOP.maximum, minimum: EOP.minimum,
};
/** Ops whose js loop is cheap (the threshold for them is MIN_ELEMENTS). */
const CHEAP = new Set<UnaryOp>(['relu', 'leakyRelu', 'neg', 'abs', 'sqrt', 'square', 'reciprocal']);

function run(op: number, a: Float32Array, b: Float32Array | null, alpha: number): Float32Array {
  const n = a.length;
  const rt = runtime();
  rt.begin();
  rt.arg(E.A, rt.put(a));
  rt.arg(E.B, b ? rt.put(b) : 0);
  const out = rt.alloc(n);
  rt.arg(E.OP, op);
  rt.arg(E.OUT, out);
  rt.arg(E.N, n);
  rt.arg(E.CHUNK, CHUNK);
  rt.argf(E.ALPHA, alpha);
  rt.run(KIND.elementwise, Math.ceil(n / CHUNK), 0, n >= 4 * CHUNK);
  return rt.read(out, n);
}

/** The float64 kernel: op(x), or dy * op'(x, y) when y and dy are given. */
function runF64(op: UnaryOp, x: Float32Array, y: Float32Array | null, dy: Float32Array | null, alpha: number): Float32Array {
  const n = x.length;
  const rt = runtime();
  rt.begin();
  rt.arg(U.X, rt.put(x));
  rt.arg(U.Y, y ? rt.put(y) : 0);
  rt.arg(U.DY, dy ? rt.put(dy) : 0);
  const out = rt.alloc(n);
  rt.arg(U.OP, UOP[op]);
  rt.arg(U.OUT, out);
  rt.arg(U.N, n);
  rt.arg(U.CHUNK, CHUNK_F64);
  rt.arg(U.GRAD, dy ? 1 : 0);
  argF64(rt, U.ALPHA, alpha);
  rt.run(KIND.unary, Math.ceil(n / CHUNK_F64), 0, n >= 2 * CHUNK_F64);
  return rt.read(out, n);
}

const tooSmall = (op: UnaryOp, n: number) => n < (CHEAP.has(op) ? MIN_ELEMENTS : MIN_TRANSCENDENTAL);

export function unary(x: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  if (tooSmall(op, x.data.length)) return jsUnary(x, op, alpha);
  const code = EXACT[op];
  return code !== undefined ? run(code, x.data, null, alpha) : runF64(op, x.data, null, null, alpha);
}

export function unaryGrad(x: KernelTensor, y: KernelTensor, dy: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  const n = dy.data.length;
  if (tooSmall(op, n) || x.data.length !== n || y.data.length !== n) return jsUnaryGrad(x, y, dy, op, alpha);
  return op === 'relu' ? run(EOP.reluGrad, x.data, dy.data, 0) : runF64(op, x.data, y.data, dy.data, alpha);
}

/** Strides of `shape` as seen from `outShape` (0 where broadcast), as the reference. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const lead = outShape.length - shape.length;
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : own[i - lead]!));
}

/**
 * outShape without its size-1 dims, adjacent dims merged where both operands walk them as one:
 * the outer dims with a's and b's strides, and the inner run's length and strides (0 or 1).
 */
function collapse(a: readonly number[], b: readonly number[], outShape: readonly number[]) {
  const sa = broadcastStrides(a, outShape), sb = broadcastStrides(b, outShape);
  const dims: { size: number; sa: number; sb: number }[] = [];
  outShape.forEach((size, i) => {
    if (size === 1) return;
    const last = dims[dims.length - 1];
    if (last && last.sa === sa[i]! * size && last.sb === sb[i]! * size) {
      last.size *= size;
      last.sa = sa[i]!;
      last.sb = sb[i]!;
    } else dims.push({ size, sa: sa[i]!, sb: sb[i]! });
  });
  return dims;
}

export function binary(a: KernelTensor, b: KernelTensor, op: BinaryOp, outShape: readonly number[], activation: 'none' | 'relu' = 'none'): Float32Array {
  const relu = activation === 'relu';
  const n = sizeOf(outShape);
  const same = a.data.length === n && b.data.length === n;
  if (n < MIN_ELEMENTS && !(op === 'pow' && n >= MIN_TRANSCENDENTAL)) return jsBinary(a, b, op, outShape, activation);
  if (same && op !== 'pow') {
    const code = relu ? (op === 'add' ? EOP.addRelu : undefined) : BINARY[op];
    if (code !== undefined) return run(code, a.data, b.data, 0);
  }
  const dims = same ? [{ size: n, sa: 1, sb: 1 }] : collapse(a.shape, b.shape, outShape);
  const inner = dims.pop();
  if (!inner || dims.length > B.MAXD) return jsBinary(a, b, op, outShape, activation);
  const rt = runtime();
  rt.begin();
  rt.arg(B.A, rt.put(a.data));
  rt.arg(B.B, rt.put(b.data));
  const out = rt.alloc(n);
  rt.arg(B.OUT, out);
  rt.arg(B.OP, BOP[op]);
  rt.arg(B.N, n);
  rt.arg(B.L, inner.size);
  rt.arg(B.SA, inner.sa);
  rt.arg(B.SB, inner.sb);
  rt.arg(B.RELU, relu ? 1 : 0);
  rt.arg(B.ND, dims.length);
  dims.forEach((d, i) => {
    rt.arg(B.DIMS + i, d.size);
    rt.arg(B.STA + i, d.sa);
    rt.arg(B.STB + i, d.sb);
  });
  const chunk = op === 'pow' ? CHUNK_F64 : CHUNK;
  rt.arg(B.CHUNK, chunk);
  rt.run(KIND.broadcast, Math.ceil(n / chunk), 0, n >= 2 * chunk);
  return rt.read(out, n);
}
