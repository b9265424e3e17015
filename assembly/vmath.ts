// Transcendental functions on two float64 lanes (f64x2), for kernels whose js reference computes
// in float64 (Math.exp, Math.log, ...) and rounds once to float32: computing in float64 here too,
// to a few float64 ulps, makes the float32 results equal the reference's except when the exact
// value lies within ~1e-15 of a float32 rounding boundary (about one element in 10^8).
//
// Range reduction and polynomials: exp by x = k ln2 + r, |r| <= ln2/2, with e^r - 1 as a degree-13
// Taylor polynomial (error below 2e-17); log by the fdlibm reduction to [sqrt(2)/2, sqrt(2))
// and its minimax polynomial in s = f / (2 + f).

// @ts-ignore: decorator
@inline const LOG2E: f64 = 1.4426950408889634;
// ln 2 split so that k * LN2_HI is exact for |k| < 2^21.
// @ts-ignore: decorator
@inline const LN2_HI: f64 = 6.93147180369123816490e-01;
// @ts-ignore: decorator
@inline const LN2_LO: f64 = 1.90821492927058770002e-10;

// @ts-ignore: decorator
@inline function sp(v: f64): v128 { return f64x2.splat(v); }

/** e^r - 1 for |r| <= ln2/2 (r * (1 + r * P(r)) keeps the sign of a zero r). */
// @ts-ignore: decorator
@inline function em1(r: v128): v128 {
  let p = sp(1.0 / 6227020800.0); // 1/13!
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 479001600.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 39916800.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 3628800.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 362880.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 40320.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 5040.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 720.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 120.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 24.0));
  p = f64x2.add(f64x2.mul(p, r), sp(1.0 / 6.0));
  p = f64x2.add(f64x2.mul(p, r), sp(0.5));
  return f64x2.mul(r, f64x2.add(sp(1), f64x2.mul(r, p)));
}

// 1.5 * 2^52: adding it rounds a float64 below 2^51 in magnitude to an integer (ties to even, as
// f64x2.nearest), which then sits in the low bits of the sum's representation.
// @ts-ignore: decorator
@inline const ROUNDER: f64 = 6755399441055744.0;

/** v * 2^k, k given as t = k + ROUNDER, |k| <= 1100 (two steps, so 2^k itself never over- or underflows). */
// @ts-ignore: decorator
@inline function scale2(v: v128, t: v128): v128 {
  const k = i64x2.sub(t, f64x2.splat(ROUNDER));
  const k1 = i64x2.shr_s(k, 1);
  const k2 = i64x2.sub(k, k1);
  const bias = i64x2.splat(1023);
  const s1 = i64x2.shl(i64x2.add(k1, bias), 52);
  const s2 = i64x2.shl(i64x2.add(k2, bias), 52);
  return f64x2.mul(f64x2.mul(v, s1), s2);
}

/** Clamped to where e^x is neither 0 nor inf in float64 only at the ends (NaN stays NaN). */
// (pmin / pmax: `b < a ? b : a` and `a < b ? b : a` keep a NaN or a -0 in x as it is, in one
// instruction each.)
// @ts-ignore: decorator
@inline function reduceExp(x: v128): v128 {
  return f64x2.pmax(f64x2.pmin(x, sp(710)), sp(-746));
}

/** e^x, for every float64 x (inf -> inf, -inf -> 0, NaN -> NaN). */
// @ts-ignore: decorator
@inline export function exp2x(x: v128): v128 {
  const xc = reduceExp(x);
  const t = f64x2.add(f64x2.mul(xc, sp(LOG2E)), sp(ROUNDER));
  const kf = f64x2.sub(t, sp(ROUNDER));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(kf, sp(LN2_HI))), f64x2.mul(kf, sp(LN2_LO)));
  return scale2(f64x2.add(sp(1), em1(r)), t);
}

/** e^x - 1, accurate relative to the result near 0 as well (Math.expm1; -0 -> -0). */
// @ts-ignore: decorator
@inline export function expm12x(x: v128): v128 {
  const xc = reduceExp(x);
  const t = f64x2.add(f64x2.mul(xc, sp(LOG2E)), sp(ROUNDER));
  const kf = f64x2.sub(t, sp(ROUNDER));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(kf, sp(LN2_HI))), f64x2.mul(kf, sp(LN2_LO)));
  // k = 0 exactly when |x| <= ln2/2, where e^x - 1 is the polynomial of x itself (x, not the
  // reduced r, which would turn -0 into +0).
  const m = em1(v128.bitselect(xc, r, f64x2.eq(kf, sp(0))));
  const big = f64x2.sub(scale2(f64x2.add(sp(1), m), t), sp(1));
  return v128.bitselect(m, big, f64x2.eq(kf, sp(0)));
}

// fdlibm's log polynomial coefficients (Lg1..Lg7).
// @ts-ignore: decorator
@inline const LG1: f64 = 6.666666666666735130e-01;
// @ts-ignore: decorator
@inline const LG2: f64 = 3.999999999940941908e-01;
// @ts-ignore: decorator
@inline const LG3: f64 = 2.857142874366239149e-01;
// @ts-ignore: decorator
@inline const LG4: f64 = 2.222219843214978396e-01;
// @ts-ignore: decorator
@inline const LG5: f64 = 1.818357216161805012e-01;
// @ts-ignore: decorator
@inline const LG6: f64 = 1.531383769920937332e-01;
// @ts-ignore: decorator
@inline const LG7: f64 = 1.479819860511658591e-01;

/**
 * ln x for float64 x that is a normal number or one of the special values (0 -> -inf, < 0 ->
 * NaN, inf -> inf, NaN -> NaN). Float64 subnormals are not handled: every caller passes a
 * float32 value or 1 + y, which are never float64 subnormals.
 */
// @ts-ignore: decorator
@inline export function log2x(x: v128): v128 {
  // Shift the exponent so that the mantissa falls in [sqrt(2)/2, sqrt(2)).
  const ix = i64x2.add(x, i64x2.splat(0x00095f6200000000));
  const k = i64x2.sub(i64x2.shr_s(ix, 52), i64x2.splat(0x3ff));
  const m = i64x2.add(v128.and(ix, i64x2.splat(0x000fffffffffffff)), i64x2.splat(0x3fe6a09e00000000));
  // i64 -> f64 of k, |k| < 2048: through the low int32 lanes.
  const dk = f64x2.convert_low_i32x4_s(v128.shuffle<i32>(k, k, 0, 2, 0, 2));
  const f = f64x2.sub(m, sp(1));
  const hfsq = f64x2.mul(f64x2.mul(sp(0.5), f), f);
  const s = f64x2.div(f, f64x2.add(sp(2), f));
  const z = f64x2.mul(s, s);
  const w = f64x2.mul(z, z);
  const t1 = f64x2.mul(w, f64x2.add(sp(LG2), f64x2.mul(w, f64x2.add(sp(LG4), f64x2.mul(w, sp(LG6))))));
  const t2 = f64x2.mul(z, f64x2.add(sp(LG1), f64x2.mul(w, f64x2.add(sp(LG3), f64x2.mul(w, f64x2.add(sp(LG5), f64x2.mul(w, sp(LG7))))))));
  const R = f64x2.add(t2, t1);
  // s*(hfsq+R) + dk*ln2_lo - hfsq + f + dk*ln2_hi, in fdlibm's order
  let y = f64x2.add(f64x2.mul(s, f64x2.add(hfsq, R)), f64x2.mul(dk, sp(LN2_LO)));
  y = f64x2.add(f64x2.add(f64x2.sub(y, hfsq), f), f64x2.mul(dk, sp(LN2_HI)));
  const inf = sp(Infinity);
  y = v128.bitselect(y, sp(NaN), f64x2.gt(x, sp(0)));
  y = v128.bitselect(sp(-Infinity), y, f64x2.eq(x, sp(0)));
  return v128.bitselect(inf, y, f64x2.eq(x, inf));
}

/** ln(1 + y) for y >= -1, accurate for tiny y: log(u) * y / (u - 1) with u = 1 + y (y itself where u == 1). */
// @ts-ignore: decorator
@inline export function log1p2x(y: v128): v128 {
  const u = f64x2.add(sp(1), y);
  const um1 = f64x2.sub(u, sp(1));
  const r = f64x2.mul(log2x(u), f64x2.div(y, um1));
  return v128.bitselect(y, r, f64x2.eq(um1, sp(0)));
}

/** tanh x: -t / (2 + t) with t = e^(-2|x|) - 1, then the sign of x (Math.tanh; -0 -> -0). */
// @ts-ignore: decorator
@inline export function tanh2x(x: v128): v128 {
  const t = expm12x(f64x2.mul(f64x2.abs(x), sp(-2)));
  const a = f64x2.div(f64x2.neg(t), f64x2.add(sp(2), t));
  return v128.bitselect(x, a, i64x2.splat(0x8000000000000000));
}

/** Lanes 0-1 and 2-3 of four floats as two f64x2. */
// @ts-ignore: decorator
@inline export function lo2(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
// @ts-ignore: decorator
@inline export function hi2(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)); }
/** Two f64x2 rounded to four floats. */
// @ts-ignore: decorator
@inline export function join4(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}
