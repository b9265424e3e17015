// Every Unary function and its gradient (UnaryGrad), in float64 on two lanes and rounded once to
// float32, as the js reference (src/backend/js/elementwise.ts) evaluates them: the same float64
// expressions, with Math.exp / expm1 / log1p / log / tanh replaced by vmath.ts's (a few float64
// ulps), so the float32 results equal the reference's but for rare last-bit ties. The input
// array splits into chunks, one task each.
import { arg, ARGS } from './job';
import { storeLanes } from './mem';
import { exp2x, expm12x, hi2, join4, lo2, log1p2x, log2x, tanh2x } from './vmath';

export const U_OP = 0, U_X = 1, U_Y = 2, U_DY = 3, U_OUT = 4, U_N = 5, U_CHUNK = 6, U_GRAD = 7, U_ALPHA = 8; // ALPHA: float64, 8-9

export const U_RELU = 1, U_LEAKY = 2, U_ELU = 3, U_SELU = 4, U_SIGMOID = 5, U_TANH = 6, U_SOFTPLUS = 7;
export const U_EXP = 8, U_LOG = 9, U_NEG = 10, U_ABS = 11, U_SQRT = 12, U_SQUARE = 13, U_RECIPROCAL = 14;

// @ts-ignore: decorator
@inline const SELU_ALPHA: f64 = 1.6732632423543772;
// @ts-ignore: decorator
@inline const SELU_SCALE: f64 = 1.0507009873554805;

// @ts-ignore: decorator
@inline function sp(v: f64): v128 { return f64x2.splat(v); }
// @ts-ignore: decorator
@inline function pos(v: v128): v128 { return f64x2.gt(v, sp(0)); }

/** op(v) on two lanes (each `v > 0 ? a : b` is false for NaN, as in the reference). */
// @ts-ignore: decorator
@inline function fwd(op: i32, v: v128, alpha: v128): v128 {
  switch (op) {
    case U_RELU: return v128.and(v, pos(v));
    case U_LEAKY: return v128.bitselect(v, f64x2.mul(alpha, v), pos(v));
    case U_ELU: return v128.bitselect(v, f64x2.mul(alpha, expm12x(v)), pos(v));
    case U_SELU: return f64x2.mul(sp(SELU_SCALE), v128.bitselect(v, f64x2.mul(sp(SELU_ALPHA), expm12x(v)), pos(v)));
    case U_SIGMOID: return f64x2.div(sp(1), f64x2.add(sp(1), exp2x(f64x2.neg(v))));
    case U_TANH: return tanh2x(v);
    // log(1 + e^v), and v itself above 20
    case U_SOFTPLUS: return v128.bitselect(v, log1p2x(exp2x(v)), f64x2.gt(v, sp(20)));
    case U_EXP: return exp2x(v);
    case U_LOG: return log2x(v);
    case U_NEG: return f64x2.neg(v);
    case U_ABS: return f64x2.abs(v);
    case U_SQRT: return f64x2.sqrt(v);
    case U_SQUARE: return f64x2.mul(v, v);
    default: return f64x2.div(sp(1), v);
  }
}

/** d op / dx at input x, output y. */
// @ts-ignore: decorator
@inline function deriv(op: i32, x: v128, y: v128, alpha: v128): v128 {
  switch (op) {
    case U_RELU: return v128.and(sp(1), pos(x));
    case U_LEAKY: return v128.bitselect(sp(1), alpha, pos(x));
    case U_ELU: return v128.bitselect(sp(1), f64x2.add(y, alpha), pos(x));
    case U_SELU: return v128.bitselect(sp(SELU_SCALE), f64x2.mul(sp(SELU_SCALE * SELU_ALPHA), exp2x(x)), pos(x));
    case U_SIGMOID: return f64x2.mul(y, f64x2.sub(sp(1), y));
    case U_TANH: return f64x2.sub(sp(1), f64x2.mul(y, y));
    case U_SOFTPLUS: return f64x2.div(sp(1), f64x2.add(sp(1), exp2x(f64x2.neg(x))));
    case U_EXP: return y;
    case U_LOG: return f64x2.div(sp(1), x);
    case U_NEG: return sp(-1);
    case U_ABS: return v128.bitselect(sp(1), v128.and(sp(-1), f64x2.lt(x, sp(0))), pos(x));
    case U_SQRT: return f64x2.div(sp(0.5), y);
    case U_SQUARE: return f64x2.mul(sp(2), x);
    default: return f64x2.mul(f64x2.neg(y), y);
  }
}

/** Four floats at p, or the first n < 4 of them (the rest 0). */
// @ts-ignore: decorator
@inline function load4(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

function runForward(op: i32, x: usize, out: usize, n: i32, alpha: v128): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const v = load4(x + o, n - i);
    storeLanes(out + o, join4(fwd(op, lo2(v), alpha), fwd(op, hi2(v), alpha)), n - i);
  }
}

function runGrad(op: i32, x: usize, y: usize, dy: usize, out: usize, n: i32, alpha: v128): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const xv = load4(x + o, n - i), yv = load4(y + o, n - i), g = load4(dy + o, n - i);
    const r0 = f64x2.mul(lo2(g), deriv(op, lo2(xv), lo2(yv), alpha));
    const r1 = f64x2.mul(hi2(g), deriv(op, hi2(xv), hi2(yv), alpha));
    storeLanes(out + o, join4(r0, r1), n - i);
  }
}

export function unaryTask(job: usize, t: i32): void {
  const op = arg(job, U_OP), n = arg(job, U_N), chunk = arg(job, U_CHUNK);
  const i0 = t * chunk, cnt = min(chunk, n - i0);
  const off = <usize>i0 << 2;
  const alpha = f64x2.splat(load<f64>(job + (<usize>(ARGS + U_ALPHA) << 2)));
  const out = <usize>arg(job, U_OUT) + off, x = <usize>arg(job, U_X) + off;
  if (arg(job, U_GRAD)) runGrad(op, x, <usize>arg(job, U_Y) + off, <usize>arg(job, U_DY) + off, out, cnt, alpha);
  else runForward(op, x, out, cnt, alpha);
}
