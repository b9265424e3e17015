// Binary functions with NumPy broadcasting, and pow (src/backend/js/elementwise.ts). The caller
// collapses the output shape to outer dims and one inner run of L elements along which a and b
// each advance (stride 1), stay (stride 0, a broadcast value) or step (a strided view, gathered): [N, C, H, W] op
// [1, C, 1, 1] is N * C rows of H * W against one b value each. A task is a range of output
// elements, which may start and end inside rows.
import { arg } from './job';
import { storeLanes } from './mem';
import { exp2x, hi2, join4, lo2, log2x } from './vmath';

export const B_OP = 0, B_A = 1, B_B = 2, B_OUT = 3, B_N = 4, B_CHUNK = 5, B_L = 6, B_SA = 7, B_SB = 8, B_RELU = 9, B_ND = 10;
/** Outer dims (up to 6, outermost first) from slot B_DIMS, then a's and b's strides in floats. */
export const B_DIMS = 11, B_STA = 17, B_STB = 23, B_MAXD = 6;

export const B_ADD = 1, B_SUB = 2, B_MUL = 3, B_DIV = 4, B_POW = 5, B_MAX = 6, B_MIN = 7;

// @ts-ignore: decorator
@inline function sp(v: f64): v128 { return f64x2.splat(v); }

/**
 * Math.pow on two lanes: |a|^b = e^(b ln|a|) (relative error ~1e-14 where the result is a
 * float32), then JavaScript's special cases: b == 0 -> 1 (NaN base included), NaN anywhere else
 * -> NaN, |a| == 1 with infinite b -> NaN (ln 1 * inf is NaN already), a negative base takes the
 * sign of an odd integer exponent, and a finite negative base gives NaN for a non-integer one
 * (-0 and -inf count as negative for the sign only).
 */
// @ts-ignore: decorator
@inline function pow2(a: v128, b: v128): v128 {
  let r = exp2x(f64x2.mul(b, log2x(f64x2.abs(a))));
  const fb = f64x2.floor(b);
  const isInt = f64x2.eq(fb, b); // inf counts as an even integer, as its sign rule needs
  const half = f64x2.mul(b, sp(0.5));
  const odd = v128.andnot(isInt, f64x2.eq(f64x2.floor(half), half));
  const negSign = i64x2.lt_s(a, i64x2.splat(0)); // the sign bit, -0 included
  r = v128.bitselect(f64x2.neg(r), r, v128.and(negSign, odd));
  const finiteNeg = v128.and(f64x2.lt(a, sp(0)), f64x2.ne(a, sp(-Infinity)));
  r = v128.bitselect(sp(NaN), r, v128.andnot(finiteNeg, isInt));
  return v128.bitselect(sp(1), r, f64x2.eq(b, sp(0)));
}

// @ts-ignore: decorator
@inline function op4(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case B_ADD: return f32x4.add(a, b);
    case B_SUB: return f32x4.sub(a, b);
    case B_MUL: return f32x4.mul(a, b);
    case B_DIV: return f32x4.div(a, b);
    // `a >= b || isNaN(a) ? a : b`, keeping -0 vs +0 and which NaN exactly
    case B_MAX: return v128.bitselect(a, b, v128.or(f32x4.ge(a, b), f32x4.ne(a, a)));
    case B_MIN: return v128.bitselect(a, b, v128.or(f32x4.le(a, b), f32x4.ne(a, a)));
    default: return join4(pow2(lo2(a), lo2(b)), pow2(hi2(a), hi2(b)));
  }
}

/**
 * n (<= 4 when partial) elements from p, s floats apart: contiguous (s == 1), the one value at p
 * (s == 0, a broadcast value), or gathered (any other s: a strided view's inner dim).
 */
// @ts-ignore: decorator
@inline export function load4(p: usize, s: i32, n: i32): v128 {
  if (s == 0) return f32x4.splat(load<f32>(p));
  if (s == 1 && n >= 4) return v128.load(p);
  const d = <usize>(s << 2);
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + d));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * d));
  if (n > 3) v = f32x4.replace_lane(v, 3, load<f32>(p + 3 * d));
  return v;
}

function segment(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32, relu: bool): void {
  const zero = f32x4.splat(0);
  const da = <usize>(sa << 4), db = <usize>(sb << 4);
  for (let i = 0; i < n; i += 4) {
    let r = op4(op, load4(a, sa, n - i), load4(b, sb, n - i));
    // On the rounded float32 result, as the reference's separate relu pass: NaN -> 0.
    if (relu) r = v128.and(r, f32x4.gt(r, zero));
    storeLanes(out + (<usize>i << 2), r, n - i);
    a += da;
    b += db;
  }
}

export function broadcastTask(job: usize, t: i32): void {
  const op = arg(job, B_OP), n = arg(job, B_N), chunk = arg(job, B_CHUNK), L = arg(job, B_L);
  const sa = arg(job, B_SA), sb = arg(job, B_SB), nd = arg(job, B_ND), relu = arg(job, B_RELU) != 0;
  const A = <usize>arg(job, B_A), B = <usize>arg(job, B_B), out = <usize>arg(job, B_OUT);
  let i = t * chunk;
  const end = min(n, i + chunk);
  let row = i / L, col = i % L;
  while (i < end) {
    // a's and b's offsets of this row, from its index over the outer dims
    let ia = 0, ib = 0, r = row;
    for (let d = nd - 1; d >= 0; d--) {
      const size = arg(job, B_DIMS + d);
      const k = r % size;
      r /= size;
      ia += k * arg(job, B_STA + d);
      ib += k * arg(job, B_STB + d);
    }
    const cnt = min(L - col, end - i);
    segment(op, A + (<usize>(ia + col * sa) << 2), sa, B + (<usize>(ib + col * sb) << 2), sb, out + (<usize>i << 2), cnt, relu);
    i += cnt;
    row++;
    col = 0;
  }
}
