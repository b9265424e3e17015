/**
 * Unary, UnaryGrad and Binary in SIMD for the functions whose float32 results match the js
 * reference exactly (relu, leaky relu, neg, abs, sqrt, square; + - * / max min on equal
 * shapes; add + relu). The rest, broadcasting, and arrays too small to pay for the copies go to js.
 */
import type { BinaryOp, KernelTensor, UnaryOp } from '../kernels.js';
import { binary as jsBinary, unary as jsUnary, unaryGrad as jsUnaryGrad } from '../js/elementwise.js';
import { sizeOf } from '../../tensor/shape.js';
import { E, EOP, KIND } from './job-layout.js';
import { runtime } from './instance.js';

/** Below this many elements the js loop beats copying in and out. */
const MIN_ELEMENTS = 4096;
const CHUNK = 1 << 15;

const UNARY: Partial<Record<UnaryOp, number>> = {
  relu: EOP.relu, leakyRelu: EOP.leakyRelu, neg: EOP.neg, abs: EOP.abs, sqrt: EOP.sqrt, square: EOP.square,
};
const BINARY: Partial<Record<BinaryOp, number>> = {
  add: EOP.add, sub: EOP.sub, mul: EOP.mul, div: EOP.div, maximum: EOP.maximum, minimum: EOP.minimum,
};

function run(op: number, a: Float32Array, b: Float32Array | null, alpha: number): Float32Array {
  const n = a.length;
  const rt = runtime();
  rt.begin();
  const pa = rt.put(a);
  const pb = b ? rt.put(b) : 0;
  const out = rt.alloc(n);
  [[E.OP, op], [E.A, pa], [E.B, pb], [E.OUT, out], [E.N, n], [E.CHUNK, CHUNK]].forEach(([s, v]) => rt.arg(s!, v!));
  rt.argf(E.ALPHA, alpha);
  rt.run(KIND.elementwise, Math.ceil(n / CHUNK), 0, n >= 4 * CHUNK);
  return rt.read(out, n);
}

export function unary(x: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  const code = UNARY[op];
  if (code === undefined || x.data.length < MIN_ELEMENTS) return jsUnary(x, op, alpha);
  return run(code, x.data, null, alpha);
}

export function unaryGrad(x: KernelTensor, y: KernelTensor, dy: KernelTensor, op: UnaryOp, alpha: number): Float32Array {
  if (op !== 'relu' || dy.data.length < MIN_ELEMENTS || x.data.length !== dy.data.length) return jsUnaryGrad(x, y, dy, op, alpha);
  return run(EOP.reluGrad, x.data, dy.data, 0);
}

export function binary(a: KernelTensor, b: KernelTensor, op: BinaryOp, outShape: readonly number[], activation: 'none' | 'relu' = 'none'): Float32Array {
  const relu = activation === 'relu';
  const code = relu ? (op === 'add' ? EOP.addRelu : undefined) : BINARY[op];
  const n = sizeOf(outShape);
  if (code === undefined || n < MIN_ELEMENTS || a.data.length !== n || b.data.length !== n) return jsBinary(a, b, op, outShape, activation);
  return run(code, a.data, b.data, 0);
}
