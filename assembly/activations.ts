// Activations with parameters beyond Unary's one alpha (src/backend/js/activations.ts):
// clamp / hardtanh and their gradient, softplus and its gradient, PReLU and its gradients.
// Elementwise kinds split the array into chunks (one task each); PReLU into rows that share
// a slope pattern. Every kind reproduces the reference's float32 results: clamp and PReLU
// exactly; softplus in float64 with fdlibm's exp and log1p, as Math.exp and Math.log1p.
import { arg, ARGS } from './job';
import { exp64, log1p64 } from './math64';

export const AC_X = 0, AC_DY = 1, AC_OUT = 2, AC_N = 3, AC_CHUNK = 4, AC_A = 6, AC_B = 8;

/** A float64 argument in slots i and i + 1. */
// @ts-ignore: decorator
@inline function argf64(job: usize, i: i32): f64 {
  return load<f64>(job + (<usize>(ARGS + i) << 2));
}

/** out = min(max(x, lo), hi) in float32 (A = lo, B = hi, already rounded by the caller); NaN stays NaN. */
export function clampTask(job: usize, t: i32): void {
  const n = arg(job, AC_N), chunk = arg(job, AC_CHUNK);
  const i0 = t * chunk, i1 = min(n, i0 + chunk);
  const x = <usize>arg(job, AC_X), out = <usize>arg(job, AC_OUT);
  const lo = <f32>argf64(job, AC_A), hi = <f32>argf64(job, AC_B);
  // f32.max / f32.min order -0 below +0 and propagate NaN, as Math.max / Math.min do.
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    // A NaN x keeps its own bits (the reference returns v itself).
    v128.store(out + o, v128.bitselect(v, f32x4.min(f32x4.max(v, vlo), vhi), f32x4.ne(v, v)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v != v ? v : min<f32>(max<f32>(v, lo), hi));
  }
}

/**
 * out = dy where L <= x <= U, else 0. The caller turns the float64 bounds and the inclusive /
 * exclusive rule into the float32 thresholds L and U that select the same x (NaN: none).
 */
export function clampGradTask(job: usize, t: i32): void {
  const n = arg(job, AC_N), chunk = arg(job, AC_CHUNK);
  const i0 = t * chunk, i1 = min(n, i0 + chunk);
  const x = <usize>arg(job, AC_X), dy = <usize>arg(job, AC_DY), out = <usize>arg(job, AC_OUT);
  const lo = <f32>argf64(job, AC_A), hi = <f32>argf64(job, AC_B);
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, v128.and(v128.load(dy + o), v128.and(f32x4.ge(v, vlo), f32x4.le(v, vhi))));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v >= lo && v <= hi ? load<f32>(dy + o) : 0);
  }
}

/** (max(z, 0) + log1p(exp(-|z|))) / beta with z = beta x, or x where z > threshold (A = beta, B = threshold). */
export function softplusTask(job: usize, t: i32): void {
  const n = arg(job, AC_N), chunk = arg(job, AC_CHUNK);
  const i0 = t * chunk, i1 = min(n, i0 + chunk);
  const x = <usize>arg(job, AC_X), out = <usize>arg(job, AC_OUT);
  const beta = argf64(job, AC_A), threshold = argf64(job, AC_B);
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    const v = <f64>load<f32>(x + o);
    const z = beta * v;
    store<f32>(out + o, <f32>(z > threshold ? v : (max<f64>(z, 0) + log1p64(exp64(-abs<f64>(z)))) / beta));
  }
}

/** dy / (1 + exp(-beta x)), or dy where beta x > threshold. */
export function softplusGradTask(job: usize, t: i32): void {
  const n = arg(job, AC_N), chunk = arg(job, AC_CHUNK);
  const i0 = t * chunk, i1 = min(n, i0 + chunk);
  const x = <usize>arg(job, AC_X), dy = <usize>arg(job, AC_DY), out = <usize>arg(job, AC_OUT);
  const beta = argf64(job, AC_A), threshold = argf64(job, AC_B);
  for (let i = i0; i < i1; i++) {
    const o = <usize>i << 2;
    const z = beta * <f64>load<f32>(x + o);
    const g = load<f32>(dy + o);
    store<f32>(out + o, z > threshold ? g : <f32>(<f64>g / (1 + exp64(-z))));
  }
}

// ---------------------------------------------------------------------------------------
// PReLU. The input is ROWS rows of LEN elements. MODE 0: row r has the one slope w[r % C]
// (a plane of one channel; C = 1 when a single slope is shared and the rows are chunks of the
// array, the last one shorter, N elements in all). MODE 1: every row has the same pattern of
// slopes, the row SLOPES of LEN floats (channels of INNER < 8 elements each, [N, C] inputs).
// The gradient also writes float64 partial sums of dy x over x <= 0: one per row in mode 0,
// one per (row, channel) in mode 1; the caller adds them up in a fixed order.
// ---------------------------------------------------------------------------------------

export const PR_X = 0, PR_W = 1, PR_DY = 2, PR_OUT = 3, PR_ACC = 4, PR_ROWS = 5, PR_LEN = 6, PR_C = 7, PR_MODE = 8, PR_RPT = 9;
export const PR_INNER = 10, PR_N = 11;

/** x > 0 ? x : s x, NaN included in the second branch, as `v > 0 ? v : w * v`. */
// @ts-ignore: decorator
@inline function preluV(v: v128, s: v128): v128 {
  return v128.bitselect(v, f32x4.mul(v, s), f32x4.gt(v, f32x4.splat(0)));
}

export function preluTask(job: usize, t: i32): void {
  const rows = arg(job, PR_ROWS), len = arg(job, PR_LEN), C = arg(job, PR_C), rpt = arg(job, PR_RPT);
  const mode = arg(job, PR_MODE), total = arg(job, PR_N);
  const x = <usize>arg(job, PR_X), w = <usize>arg(job, PR_W), out = <usize>arg(job, PR_OUT);
  const r0 = t * rpt, r1 = min(rows, r0 + rpt);
  for (let r = r0; r < r1; r++) {
    const base = <usize>(r * len) << 2;
    const n = min(len, total - r * len);
    if (mode == 0) {
      const s = load<f32>(w + (<usize>(r % C) << 2));
      const vs = f32x4.splat(s);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const o = base + (<usize>i << 2);
        v128.store(out + o, preluV(v128.load(x + o), vs));
      }
      for (; i < n; i++) {
        const o = base + (<usize>i << 2);
        const v = load<f32>(x + o);
        store<f32>(out + o, v > 0 ? v : s * v);
      }
    } else {
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const o = base + (<usize>i << 2);
        v128.store(out + o, preluV(v128.load(x + o), v128.load(w + (<usize>i << 2))));
      }
      for (; i < n; i++) {
        const o = base + (<usize>i << 2);
        const v = load<f32>(x + o);
        store<f32>(out + o, v > 0 ? v : load<f32>(w + (<usize>i << 2)) * v);
      }
    }
  }
}

export function preluGradTask(job: usize, t: i32): void {
  const rows = arg(job, PR_ROWS), len = arg(job, PR_LEN), C = arg(job, PR_C), rpt = arg(job, PR_RPT);
  const mode = arg(job, PR_MODE), inner = arg(job, PR_INNER), total = arg(job, PR_N);
  const x = <usize>arg(job, PR_X), w = <usize>arg(job, PR_W), dy = <usize>arg(job, PR_DY), out = <usize>arg(job, PR_OUT);
  const acc = <usize>arg(job, PR_ACC);
  const zero = f32x4.splat(0);
  const r0 = t * rpt, r1 = min(rows, r0 + rpt);
  for (let r = r0; r < r1; r++) {
    const base = <usize>(r * len) << 2;
    const n = min(len, total - r * len);
    if (mode == 0) {
      const s = load<f32>(w + (<usize>(r % C) << 2));
      const vs = f32x4.splat(s);
      let s0 = f64x2.splat(0), s1 = s0;
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const o = base + (<usize>i << 2);
        const v = v128.load(x + o), g = v128.load(dy + o);
        const pos = f32x4.gt(v, zero);
        v128.store(out + o, v128.bitselect(g, f32x4.mul(g, vs), pos));
        // dy x where x <= 0 (or NaN), exact in float64.
        const p = v128.andnot(v, pos), q = v128.andnot(g, pos);
        s0 = f64x2.add(s0, f64x2.mul(f64x2.promote_low_f32x4(p), f64x2.promote_low_f32x4(q)));
        s1 = f64x2.add(s1, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(p, p, 2, 3, 0, 1)),
          f64x2.promote_low_f32x4(v128.shuffle<f32>(q, q, 2, 3, 0, 1))));
      }
      const s2 = f64x2.add(s0, s1);
      let sum = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
      for (; i < n; i++) {
        const o = base + (<usize>i << 2);
        const v = load<f32>(x + o), g = load<f32>(dy + o);
        if (v > 0) store<f32>(out + o, g);
        else {
          store<f32>(out + o, s * g);
          sum += <f64>g * <f64>v;
        }
      }
      store<f64>(acc + (<usize>r << 3), sum);
    } else {
      const a = acc + (<usize>(r * C) << 3);
      for (let c = 0; c < C; c++) store<f64>(a + (<usize>c << 3), 0);
      for (let i = 0; i < n; i++) {
        const o = base + (<usize>i << 2);
        const v = load<f32>(x + o), g = load<f32>(dy + o);
        if (v > 0) store<f32>(out + o, g);
        else {
          store<f32>(out + o, load<f32>(w + (<usize>i << 2)) * g);
          const ac = a + (<usize>(i / inner) << 3);
          store<f64>(ac, load<f64>(ac) + <f64>g * <f64>v);
        }
      }
    }
  }
}
