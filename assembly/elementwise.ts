// Elementwise ops in SIMD, split into chunks (one task each). Only the functions whose
// float32 result is bit-identical to the js reference's are here (no exp/log/tanh, whose
// js versions round through float64); the rest stay on js.
import { arg, argf } from './job';

export const E_OP = 0, E_A = 1, E_B = 2, E_OUT = 3, E_N = 4, E_CHUNK = 5, E_ALPHA = 6;

export const OP_RELU = 1, OP_LEAKY = 2, OP_NEG = 3, OP_ABS = 4, OP_SQRT = 5, OP_SQUARE = 6;
export const OP_ADD = 10, OP_SUB = 11, OP_MUL = 12, OP_DIV = 13, OP_MAX = 14, OP_MIN = 15, OP_ADD_RELU = 16;
export const OP_RELU_GRAD = 20;

// @ts-ignore: decorator
@inline function unary(op: i32, v: v128, alpha: v128): v128 {
  const zero = f32x4.splat(0);
  switch (op) {
    case OP_RELU: return v128.and(v, f32x4.gt(v, zero)); // NaN -> 0, as `v > 0 ? v : 0`
    case OP_LEAKY: return v128.bitselect(v, f32x4.mul(v, alpha), f32x4.gt(v, zero));
    case OP_NEG: return f32x4.neg(v);
    case OP_ABS: return f32x4.abs(v);
    case OP_SQRT: return f32x4.sqrt(v);
    default: return f32x4.mul(v, v);
  }
}

// @ts-ignore: decorator
@inline function binary(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case OP_ADD: return f32x4.add(a, b);
    case OP_SUB: return f32x4.sub(a, b);
    case OP_MUL: return f32x4.mul(a, b);
    case OP_DIV: return f32x4.div(a, b);
    // The reference's `a >= b || isNaN(a) ? a : b` (keeps -0 vs +0 and NaN order exactly).
    case OP_MAX: return v128.bitselect(a, b, v128.or(f32x4.ge(a, b), f32x4.ne(a, a)));
    case OP_MIN: return v128.bitselect(a, b, v128.or(f32x4.le(a, b), f32x4.ne(a, a)));
    // relu(a + b), the residual sum: anything not > 0 (NaN included) becomes 0, as the reference.
    case OP_ADD_RELU: { const s = f32x4.add(a, b); return v128.and(s, f32x4.gt(s, f32x4.splat(0))); }
    // dy * (x > 0 ? 1 : 0), a = x, b = dy: a product, so NaN and infinite dy give NaN and negative dy -0 where masked, as the reference
    default: return f32x4.mul(b, v128.and(f32x4.splat(1), f32x4.gt(a, f32x4.splat(0))));
  }
}

// @ts-ignore: decorator
@inline function unaryLoop(op: i32, a: usize, out: usize, n: i32, alpha: v128): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, unary(op, v128.load(a + o), alpha));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(unary(op, f32x4.splat(load<f32>(a + o)), alpha), 0));
  }
}

// One loop per op, each with its op a constant (the switch in `unary` folds away): a switch
// inside the loop cost a branch per vector and ran ReLU at a third of the memory's speed.
function runUnary(op: i32, a: usize, out: usize, n: i32, alpha: v128): void {
  switch (op) {
    case OP_RELU: unaryLoop(OP_RELU, a, out, n, alpha); break;
    case OP_LEAKY: unaryLoop(OP_LEAKY, a, out, n, alpha); break;
    case OP_NEG: unaryLoop(OP_NEG, a, out, n, alpha); break;
    case OP_ABS: unaryLoop(OP_ABS, a, out, n, alpha); break;
    case OP_SQRT: unaryLoop(OP_SQRT, a, out, n, alpha); break;
    default: unaryLoop(OP_SQUARE, a, out, n, alpha);
  }
}

// @ts-ignore: decorator
@inline function binaryLoop(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, binary(op, v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(binary(op, f32x4.splat(load<f32>(a + o)), f32x4.splat(load<f32>(b + o))), 0));
  }
}

function runBinary(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  switch (op) {
    case OP_ADD: binaryLoop(OP_ADD, a, b, out, n); break;
    case OP_SUB: binaryLoop(OP_SUB, a, b, out, n); break;
    case OP_MUL: binaryLoop(OP_MUL, a, b, out, n); break;
    case OP_DIV: binaryLoop(OP_DIV, a, b, out, n); break;
    case OP_MAX: binaryLoop(OP_MAX, a, b, out, n); break;
    case OP_MIN: binaryLoop(OP_MIN, a, b, out, n); break;
    case OP_ADD_RELU: binaryLoop(OP_ADD_RELU, a, b, out, n); break;
    default: binaryLoop(OP_RELU_GRAD, a, b, out, n);
  }
}

export function eltTask(job: usize, t: i32): void {
  const op = arg(job, E_OP), n = arg(job, E_N), chunk = arg(job, E_CHUNK);
  const i0 = t * chunk, cnt = min(chunk, n - i0);
  const off = <usize>i0 << 2;
  const a = <usize>arg(job, E_A) + off, b = <usize>arg(job, E_B) + off, out = <usize>arg(job, E_OUT) + off;
  if (op < OP_ADD) runUnary(op, a, out, cnt, f32x4.splat(argf(job, E_ALPHA)));
  else runBinary(op, a, b, out, cnt);
}
