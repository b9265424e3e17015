/**
 * Unary, UnaryGrad and Binary on wasm. relu, neg, abs, sqrt and square, the relu gradient, and
 * + - * / max min (and add + relu) on equal shapes run in float32 SIMD (assembly/elementwise.ts),
 * bit-identical to the js reference. Every other Unary and UnaryGrad that has a SIMD formula
 * (a named op, or a declared formula's `simd` code) runs in float64 as the reference evaluates
 * it (assembly/unary.ts); a declared formula without one runs its own scalar formula, the
 * reference's (src/backend/js/elementwise.ts); broadcasting shapes and pow in
 * assembly/broadcast.ts. Strided views (KernelTensor.strides) go to the last two through their
 * stride tables, without a copy. Arrays too small to pay for a wasm call go to js.
 */
import type { BinaryOp, KernelTensor, NamedUnaryOp, UnaryOp } from '../kernels.js';
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

const EXACT: Partial<Record<NamedUnaryOp, number>> = { relu: EOP.relu, neg: EOP.neg, abs: EOP.abs, sqrt: EOP.sqrt, square: EOP.square };
const BINARY: Partial<Record<BinaryOp, number>> = {
  add: EOP.add, sub: EOP.sub, mul: EOP.mul, div: EOP.div, maximum: EOP.maximum, minimum: EOP.minimum,
};
/** Ops whose js loop is cheap (the threshold for them is MIN_ELEMENTS). */
const CHEAP = new Set<UnaryOp>(['relu', 'neg', 'abs', 'sqrt', 'square', 'reciprocal']);

/** The float64 kernel's op code: a named op's, or a declared formula's SIMD code (undefined: none). */
const codeOf = (op: UnaryOp): number | undefined => (typeof op === 'object' ? op.simd : UOP[op]);

function run(op: number, a: Float32Array, b: Float32Array | null, alpha: number): Float32Array {
  const n = a.length;
  const rt = runtime();
  rt.begin();
  rt.args(E, { A: rt.put(a), B: b ? rt.put(b) : 0 });
  const out = rt.alloc(n);
  rt.args(E, { OP: op, OUT: out, N: n, CHUNK });
  rt.argf(E.ALPHA, alpha);
  rt.run(KIND.elementwise, Math.ceil(n / CHUNK), 0, n >= 4 * CHUNK);
  return rt.read(out, n);
}

/**
 * `shape` without its size-1 dims, adjacent dims merged where every operand walks them as one:
 * the outer dims with each operand's strides (`strides[j]` over `shape`, 0 where broadcast),
 * and last the inner run's length and strides.
 */
function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): { size: number; s: number[] }[] {
  const dims: { size: number; s: number[] }[] = [];
  shape.forEach((size, i) => {
    if (size === 1) return;
    const last = dims[dims.length - 1];
    if (last && strides.every((st, j) => last.s[j] === st[i]! * size)) {
      last.size *= size;
      last.s = strides.map((st) => st[i]!);
    } else dims.push({ size, s: strides.map((st) => st[i]!) });
  });
  return dims;
}

/** A kernel argument's strides over `outShape` (0 where broadcast), a view's own or row-major. */
function operandStrides(k: KernelTensor, outShape: readonly number[]): number[] {
  const own = k.strides ?? contiguousStrides(k.shape);
  const lead = outShape.length - k.shape.length;
  return outShape.map((_, i) => (i < lead || k.shape[i - lead] === 1 ? 0 : own[i - lead]!));
}

/** Where `k`'s first element lies in wasm memory (copied in when it lives on the JS heap). */
const place = (rt: ReturnType<typeof runtime>, k: KernelTensor) => rt.put(k.data) + 4 * (k.offset ?? 0);

/**
 * The float64 kernel: op(x), or dy * op'(x, y) when y and dy are given. Strided views are
 * read through their strides (null when they need more dims than the kernel takes).
 */
function runF64(op: UnaryOp, x: KernelTensor, y: KernelTensor | null, dy: KernelTensor | null, alpha: number): Float32Array | null {
  const shape = (dy ?? x).shape;
  const n = sizeOf(shape);
  const ops = dy && y ? [x, y, dy] : [x];
  const strided = ops.some((k) => k.strides);
  const dims = strided ? collapse(shape, ops.map((k) => operandStrides(k, shape))) : [];
  const inner = dims.pop();
  if (strided && (!inner || dims.length > U.MAXD)) return null;
  const code = codeOf(op);
  if (code === undefined) return null;
  const rt = runtime();
  rt.begin();
  rt.arg(U.X, place(rt, x));
  rt.arg(U.Y, y && dy ? place(rt, y) : 0);
  rt.arg(U.DY, y && dy ? place(rt, dy) : 0);
  const out = rt.alloc(n);
  rt.arg(U.OP, code);
  rt.arg(U.OUT, out);
  rt.arg(U.N, n);
  rt.arg(U.CHUNK, CHUNK_F64);
  rt.arg(U.GRAD, dy ? 1 : 0);
  argF64(rt, U.ALPHA, alpha);
  rt.arg(U.L, inner ? inner.size : 0);
  if (inner) {
    [U.SX, U.SY, U.SDY].forEach((slot, j) => rt.arg(slot, inner.s[j] ?? 0));
    rt.arg(U.ND, dims.length);
    dims.forEach((d, i) => {
      rt.arg(U.DIMS + i, d.size);
      [U.STX, U.STY, U.STDY].forEach((slot, j) => rt.arg(slot + i, d.s[j] ?? 0));
    });
  }
  rt.run(KIND.unary, Math.ceil(n / CHUNK_F64), 0, n >= 2 * CHUNK_F64);
  return rt.read(out, n);
}

const tooSmall = (op: UnaryOp, n: number) => n < ((typeof op === 'object' ? op.cheap : CHEAP.has(op)) ? MIN_ELEMENTS : MIN_TRANSCENDENTAL);

// A strided view skips the float32 kernel (contiguous only) for the float64 one, whose results
// are the same for these functions: each is one float64 operation on float32 values, rounded once.
export function unary(x: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  if (tooSmall(op, sizeOf(x.shape))) return jsUnary(x, op, alpha);
  const code = typeof op === 'string' ? EXACT[op] : undefined;
  if (code !== undefined && !x.strides) return run(code, x.data, null, alpha);
  return runF64(op, x, null, null, alpha) ?? jsUnary(x, op, alpha);
}

export function unaryGrad(x: KernelTensor, y: KernelTensor, dy: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  const n = sizeOf(dy.shape);
  if (tooSmall(op, n) || sizeOf(x.shape) !== n || sizeOf(y.shape) !== n) return jsUnaryGrad(x, y, dy, op, alpha);
  if (op === 'relu' && !x.strides && !dy.strides) return run(EOP.reluGrad, x.data, dy.data, 0);
  return runF64(op, x, y, dy, alpha) ?? jsUnaryGrad(x, y, dy, op, alpha);
}

export function binary(a: KernelTensor, b: KernelTensor, op: BinaryOp, outShape: readonly number[], activation: 'none' | 'relu' = 'none'): Float32Array {
  const relu = activation === 'relu';
  const n = sizeOf(outShape);
  const same = a.data.length === n && b.data.length === n && !a.strides && !b.strides;
  if (n < MIN_ELEMENTS && !(op === 'pow' && n >= MIN_TRANSCENDENTAL)) return jsBinary(a, b, op, outShape, activation);
  if (same && op !== 'pow') {
    const code = relu ? (op === 'add' ? EOP.addRelu : undefined) : BINARY[op];
    if (code !== undefined) return run(code, a.data, b.data, 0);
  }
  const dims = same ? [{ size: n, s: [1, 1] }] : collapse(outShape, [operandStrides(a, outShape), operandStrides(b, outShape)]);
  const inner = dims.pop();
  if (!inner || dims.length > B.MAXD) return jsBinary(a, b, op, outShape, activation);
  const rt = runtime();
  rt.begin();
  rt.arg(B.A, place(rt, a));
  rt.arg(B.B, place(rt, b));
  const out = rt.alloc(n);
  rt.arg(B.OUT, out);
  rt.arg(B.OP, BOP[op]);
  rt.arg(B.N, n);
  rt.arg(B.L, inner.size);
  rt.arg(B.SA, inner.s[0]!);
  rt.arg(B.SB, inner.s[1]!);
  rt.arg(B.RELU, relu ? 1 : 0);
  rt.arg(B.ND, dims.length);
  dims.forEach((d, i) => {
    rt.arg(B.DIMS + i, d.size);
    rt.arg(B.STA + i, d.s[0]!);
    rt.arg(B.STB + i, d.s[1]!);
  });
  const chunk = op === 'pow' ? CHUNK_F64 : CHUNK;
  rt.arg(B.CHUNK, chunk);
  rt.run(KIND.broadcast, Math.ceil(n / chunk), 0, n >= 2 * chunk);
  return rt.read(out, n);
}
