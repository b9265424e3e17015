// Every Unary function and its gradient (UnaryGrad), in float64 on two lanes and rounded once to
// float32, as the js reference (src/backend/js/elementwise.ts) evaluates them: the same float64
// expressions, with Math.exp / expm1 / log1p / log / tanh replaced by vmath.ts's (a few float64
// ulps), so the float32 results equal the reference's but for rare last-bit ties. The output
// splits into chunks, one task each. Strided inputs (views) come as broadcast.ts's operands do:
// outer dims with each operand's strides and an inner run of L elements with one stride each
// (U_L == 0: every operand contiguous).
import { arg, ARGS } from './job';
import { storeLanes } from './mem';
import { load4 } from './broadcast';
import { exp2x, expm12x, hi2, join4, lo2, log1p2x, log2x, tanh2x } from './vmath';

export const U_OP = 0, U_X = 1, U_Y = 2, U_DY = 3, U_OUT = 4, U_N = 5, U_CHUNK = 6, U_GRAD = 7, U_ALPHA = 8; // ALPHA: float64, 8-9
/** Strided operands: inner run L, its strides, outer dims (up to 6, outermost first) and their strides. */
export const U_L = 10, U_SX = 11, U_SY = 12, U_SDY = 13, U_ND = 14, U_DIMS = 15, U_STX = 21, U_STY = 27, U_STDY = 33;

export const U_RELU = 1, U_LEAKY = 2, U_ELU = 3, U_SELU = 4, U_SIGMOID = 5, U_TANH = 6, U_SOFTPLUS = 7;
export const U_EXP = 8, U_LOG = 9, U_NEG = 10, U_ABS = 11, U_SQRT = 12, U_SQUARE = 13, U_RECIPROCAL = 14;
/** Declared pointwise ops (src/ops/pointwise/table.ts, each declaration's `simd`), codes 40-59. */
export const U_SILU = 40, U_HARDSIGMOID = 41, U_HARDSWISH = 42, U_RELU6 = 43, U_MISH = 44, U_GELU = 45;

// @ts-ignore: decorator
@inline const SELU_ALPHA: f64 = 1.6732632423543772;
// @ts-ignore: decorator
@inline const SELU_SCALE: f64 = 1.0507009873554805;

// @ts-ignore: decorator
@inline function sp(v: f64): v128 { return f64x2.splat(v); }
// @ts-ignore: decorator
@inline function pos(v: v128): v128 { return f64x2.gt(v, sp(0)); }
// The declared ops with transcendental formulas are calls, not inlined into both lanes of both
// loops (the wasm builds' size budget); a call is small beside the exp/log/tanh it makes.
/** tanh(softplus v) with PyTorch's threshold 20 (mish). */
function tanhSoftplus(v: v128): v128 { return tanh2x(v128.bitselect(v, log1p2x(exp2x(v)), f64x2.gt(v, sp(20)))); }
function siluFwd(v: v128): v128 { return f64x2.div(v, f64x2.add(sp(1), exp2x(f64x2.neg(v)))); }
function siluGrad(x: v128): v128 {
  const s = f64x2.div(sp(1), f64x2.add(sp(1), exp2x(f64x2.neg(x))));
  return f64x2.mul(s, f64x2.add(sp(1), f64x2.mul(x, f64x2.sub(sp(1), s))));
}
function mishFwd(v: v128): v128 { return f64x2.mul(v, tanhSoftplus(v)); }
function mishGrad(x: v128): v128 {
  const t = tanhSoftplus(x);
  return f64x2.add(t, f64x2.div(f64x2.mul(x, f64x2.sub(sp(1), f64x2.mul(t, t))), f64x2.add(sp(1), exp2x(f64x2.neg(x)))));
}

// erf a = a S(a^2) below 2: the Chebyshev series of src/ops/pointwise/table.ts (ERF_CHEB, from
// scripts/fit-erf.py), by the same Clenshaw recurrence in the same order. (Constants inline:
// the kernels keep no static data.)
// @ts-ignore: decorator
@inline function clenshaw(u2: v128, b1: v128, b2: v128, c: f64): v128 {
  return f64x2.add(f64x2.sub(f64x2.mul(u2, b1), b2), sp(c));
}

/** e^x as a call: GELU's four uses share one copy of exp2x (the wasm builds' size budget). */
function expCall(v: v128): v128 { return exp2x(v); }

/** erfc a for a >= 0 (NaN -> NaN): 1 - erf a below 2, above it the reference's continued fraction. */
function erfc2x(a: v128): v128 {
  const u = f64x2.sub(f64x2.mul(f64x2.mul(f64x2.splat(0.5), a), a), f64x2.splat(1));
  const u2 = f64x2.mul(f64x2.splat(2), u);
  // b_j = c_j + 2u b_{j+1} - b_{j+2}, j = 15 .. 1 (b16 = b17 = 0)
  const b15 = sp(-9.792167077193881e-15);
  const b14 = clenshaw(u2, b15, sp(0), 1.468158927764307e-13);
  const b13 = clenshaw(u2, b14, b15, -2.2364258593180846e-12);
  const b12 = clenshaw(u2, b13, b14, 3.188061666511051e-11);
  const b11 = clenshaw(u2, b12, b13, -4.232966199779753e-10);
  const b10 = clenshaw(u2, b11, b12, 5.207008949940454e-09);
  const b9 = clenshaw(u2, b10, b11, -5.899101542065447e-08);
  const b8 = clenshaw(u2, b9, b10, 6.113243578020899e-07);
  const b7 = clenshaw(u2, b8, b9, -5.749256557881684e-06);
  const b6 = clenshaw(u2, b7, b8, 4.862098443214613e-05);
  const b5 = clenshaw(u2, b6, b7, -0.0003658639685847416);
  const b4 = clenshaw(u2, b5, b6, 0.0024207995224336067);
  const b3 = clenshaw(u2, b4, b5, -0.013916271264722162);
  const b2 = clenshaw(u2, b3, b4, 0.06899483068983146);
  const b1 = clenshaw(u2, b2, b3, -0.30107107338659483);
  const small = f64x2.sub(f64x2.splat(1), f64x2.mul(a, f64x2.add(f64x2.sub(f64x2.mul(u, b1), b2), sp(0.7415552820424018))));
  const tail = f64x2.ge(a, f64x2.splat(2));
  if (!v128.any_true(tail)) return small;
  let f = f64x2.splat(0);
  for (let k = 40; k >= 1; k--) f = f64x2.div(f64x2.splat(<f64>k / 2), f64x2.add(a, f));
  const big = f64x2.div(f64x2.div(expCall(f64x2.neg(f64x2.mul(a, a))), f64x2.splat(1.7724538509055159)), f64x2.add(a, f));
  return v128.bitselect(big, small, tail);
}

/** The standard normal CDF: erfc(-x / sqrt 2) / 2 below 0, 1 - erfc(x / sqrt 2) / 2 above, as the reference. */
function normalCdf2x(x: v128): v128 {
  const h = f64x2.mul(f64x2.splat(0.5), erfc2x(f64x2.mul(f64x2.abs(x), f64x2.splat(0.7071067811865476))));
  return v128.bitselect(h, f64x2.sub(f64x2.splat(1), h), f64x2.lt(x, f64x2.splat(0)));
}

// GELU, as src/ops/pointwise/table.ts evaluates it: x Phi(x), or (alpha 1, approximate 'tanh')
// x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
// @ts-ignore: decorator
@inline const GELU_K: f64 = 0.7978845608028654;
// @ts-ignore: decorator
@inline const GELU_C: f64 = 0.044715;
/** 2u of the tanh form, 2 sqrt(2/pi) (x + 0.044715 x^3), as the reference rounds it (2 GELU_K u). */
function geluU2(x: v128): v128 {
  return f64x2.mul(sp(2), f64x2.mul(sp(GELU_K), f64x2.add(x, f64x2.mul(f64x2.mul(f64x2.mul(sp(GELU_C), x), x), x))));
}
// alpha is the same in both lanes and for the whole job: one form is computed, not both.
function geluFwd(x: v128, alpha: v128): v128 {
  if (f64x2.extract_lane(alpha, 0) == 1) return f64x2.div(x, f64x2.add(sp(1), expCall(f64x2.neg(geluU2(x)))));
  return f64x2.mul(x, normalCdf2x(x));
}
function geluGrad(x: v128, alpha: v128): v128 {
  if (f64x2.extract_lane(alpha, 0) != 1) {
    return f64x2.add(normalCdf2x(x), f64x2.div(f64x2.mul(x, expCall(f64x2.mul(f64x2.mul(sp(-0.5), x), x))), sp(2.5066282746310002)));
  }
  const u2 = geluU2(x);
  const s = f64x2.div(sp(1), f64x2.add(sp(1), expCall(f64x2.neg(u2))));
  const sm = f64x2.div(sp(1), f64x2.add(sp(1), expCall(u2)));
  const d = f64x2.mul(f64x2.mul(f64x2.mul(f64x2.mul(f64x2.mul(sp(2), x), s), sm), sp(GELU_K)), f64x2.add(sp(1), f64x2.mul(f64x2.mul(sp(3 * GELU_C), x), x)));
  return f64x2.add(s, d);
}

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
    case U_SILU: return siluFwd(v);
    // v <= -3: 0, v >= 3: 1 (or v), else (v + 3) / 6 (or v (v + 3) / 6); NaN falls through to the formula
    case U_HARDSIGMOID: return v128.bitselect(sp(0), v128.bitselect(sp(1), f64x2.div(f64x2.add(v, sp(3)), sp(6)), f64x2.ge(v, sp(3))), f64x2.le(v, sp(-3)));
    case U_HARDSWISH: return v128.bitselect(sp(0), v128.bitselect(v, f64x2.div(f64x2.mul(v, f64x2.add(v, sp(3))), sp(6)), f64x2.ge(v, sp(3))), f64x2.le(v, sp(-3)));
    // v > 0: min(v, 6); v <= 0: 0; NaN stays NaN
    case U_RELU6: return v128.bitselect(f64x2.min(v, sp(6)), v128.bitselect(sp(0), v, f64x2.le(v, sp(0))), pos(v));
    case U_MISH: return mishFwd(v);
    case U_GELU: return geluFwd(v, alpha);
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
    case U_SILU: return siluGrad(x);
    case U_HARDSIGMOID: return v128.and(sp(1.0 / 6.0), v128.and(f64x2.gt(x, sp(-3)), f64x2.lt(x, sp(3))));
    case U_HARDSWISH: return v128.bitselect(sp(0), v128.bitselect(f64x2.add(f64x2.div(x, sp(3)), sp(0.5)), sp(1), f64x2.le(x, sp(3))), f64x2.lt(x, sp(-3)));
    case U_RELU6: return v128.and(sp(1), v128.and(pos(x), f64x2.lt(x, sp(6))));
    case U_MISH: return mishGrad(x);
    case U_GELU: return geluGrad(x, alpha);
    default: return f64x2.mul(f64x2.neg(y), y);
  }
}

function runForward(op: i32, x: usize, sx: i32, out: usize, n: i32, alpha: v128): void {
  const dx = <usize>(sx << 4);
  for (let i = 0; i < n; i += 4) {
    const v = load4(x, sx, n - i);
    storeLanes(out + (<usize>i << 2), join4(fwd(op, lo2(v), alpha), fwd(op, hi2(v), alpha)), n - i);
    x += dx;
  }
}

function runGrad(op: i32, x: usize, sx: i32, y: usize, sy: i32, dy: usize, sg: i32, out: usize, n: i32, alpha: v128): void {
  const dx = <usize>(sx << 4), dyy = <usize>(sy << 4), dg = <usize>(sg << 4);
  for (let i = 0; i < n; i += 4) {
    const xv = load4(x, sx, n - i), yv = load4(y, sy, n - i), g = load4(dy, sg, n - i);
    const r0 = f64x2.mul(lo2(g), deriv(op, lo2(xv), lo2(yv), alpha));
    const r1 = f64x2.mul(hi2(g), deriv(op, hi2(xv), hi2(yv), alpha));
    storeLanes(out + (<usize>i << 2), join4(r0, r1), n - i);
    x += dx;
    y += dyy;
    dy += dg;
  }
}

export function unaryTask(job: usize, t: i32): void {
  const op = arg(job, U_OP), n = arg(job, U_N), chunk = arg(job, U_CHUNK), grad = arg(job, U_GRAD) != 0;
  const alpha = f64x2.splat(load<f64>(job + (<usize>(ARGS + U_ALPHA) << 2)));
  const X = <usize>arg(job, U_X), Y = <usize>arg(job, U_Y), DY = <usize>arg(job, U_DY), out = <usize>arg(job, U_OUT);
  let i = t * chunk;
  const end = min(n, i + chunk);
  const L = arg(job, U_L);
  if (L == 0) {
    const off = <usize>i << 2;
    if (grad) runGrad(op, X + off, 1, Y + off, 1, DY + off, 1, out + off, end - i, alpha);
    else runForward(op, X + off, 1, out + off, end - i, alpha);
    return;
  }
  const sx = arg(job, U_SX), sy = arg(job, U_SY), sg = arg(job, U_SDY), nd = arg(job, U_ND);
  let row = i / L, col = i % L;
  while (i < end) {
    // each operand's offset of this row, from its index over the outer dims
    let ix = 0, iy = 0, ig = 0, r = row;
    for (let d = nd - 1; d >= 0; d--) {
      const size = arg(job, U_DIMS + d);
      const k = r % size;
      r /= size;
      ix += k * arg(job, U_STX + d);
      iy += k * arg(job, U_STY + d);
      ig += k * arg(job, U_STDY + d);
    }
    const cnt = min(L - col, end - i);
    const px = X + (<usize>(ix + col * sx) << 2), po = out + (<usize>i << 2);
    if (grad) runGrad(op, px, sx, Y + (<usize>(iy + col * sy) << 2), sy, DY + (<usize>(ig + col * sg) << 2), sg, po, cnt, alpha);
    else runForward(op, px, sx, po, cnt, alpha);
    i += cnt;
    row++;
    col = 0;
  }
}
