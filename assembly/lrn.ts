// Local response normalization across channels. A task is a run of (n, c) planes; plane c
// reads the planes of its channel window. s = k + alpha/size * (sum of squares, float64, in
// channel order), y = x * s^-beta, as the reference (src/backend/js/normalization.ts), for
// beta a multiple of 1/4 (the caller sends other betas to js).
import { arg, argf64 } from './job';
import { hi2, join4, lo2 } from './vmath';

export const LR_X = 0, LR_Y = 1, LR_DY = 2, LR_A = 3, LR_B = 4, LR_C = 5, LR_INNER = 6, LR_BEFORE = 7, LR_AFTER = 8;
export const LR_PPT = 9, LR_PLANES = 10, LR_PASS = 11, LR_K = 12, LR_AOS = 14, LR_M = 16, LR_COEF = 18;

/**
 * s^(m/4) for 1 <= m <= 16 (beta = m/4 covers LRN's 0.75 everywhere, 0.5 and 1) from
 * multiplications and square roots: Math.pow would bring lookup tables into the module's
 * static data, which the job block overwrites (the module must have none).
 */
// @ts-ignore: decorator
@inline function powQuarter(s: f64, m: i32): f64 {
  let p: f64 = 1;
  for (let i = 0; i < m >> 2; i++) p *= s;
  const f = m & 3;
  if (f != 0) {
    const r = Math.sqrt(s);
    p *= f == 2 ? r : f == 1 ? Math.sqrt(r) : r * Math.sqrt(r);
  }
  return p;
}

/** powQuarter on both lanes of an f64x2 (the same operations, so the same bits). */
// @ts-ignore: decorator
@inline function powQuarter2(s: v128, m: i32): v128 {
  let p = f64x2.splat(1);
  for (let i = 0; i < m >> 2; i++) p = f64x2.mul(p, s);
  const f = m & 3;
  if (f != 0) {
    const r = f64x2.sqrt(s);
    p = f64x2.mul(p, f == 2 ? r : f == 1 ? f64x2.sqrt(r) : f64x2.mul(r, f64x2.sqrt(r)));
  }
  return p;
}

/** s at (plane p = n * C + c, q) for channel window [lo, hi]. */
// @ts-ignore: decorator
@inline function lrnS(x: usize, plane: i32, c: i32, lo: i32, hi: i32, inner: i32, q: i32, k: f64, aos: f64): f64 {
  let sum: f64 = 0;
  for (let ch = lo; ch <= hi; ch++) {
    const v = <f64>load<f32>(x + (<usize>((plane - c + ch) * inner + q) << 2));
    sum += v * v;
  }
  return k + aos * sum;
}

/** y = x / s^beta. */
export function lrnTask(job: usize, t: i32): void {
  const C = arg(job, LR_C), inner = arg(job, LR_INNER), before = arg(job, LR_BEFORE), after = arg(job, LR_AFTER);
  const k = argf64(job, LR_K), aos = argf64(job, LR_AOS), m = arg(job, LR_M);
  const kv = f64x2.splat(k), av = f64x2.splat(aos);
  const x = <usize>arg(job, LR_X), y = <usize>arg(job, LR_Y);
  const ppt = arg(job, LR_PPT);
  const p0 = t * ppt, p1 = min(arg(job, LR_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    const lo = max(0, c - before), hi = min(C - 1, c + after);
    let q = 0;
    for (; q + 4 <= inner; q += 4) {
      const at = <usize>(p * inner + q) << 2;
      const xv = v128.load(x + at);
      let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
      for (let ch = lo; ch <= hi; ch++) {
        const v = v128.load(x + (<usize>((p - c + ch) * inner + q) << 2));
        const a = lo2(v), b = hi2(v);
        s0 = f64x2.add(s0, f64x2.mul(a, a));
        s1 = f64x2.add(s1, f64x2.mul(b, b));
      }
      s0 = f64x2.add(kv, f64x2.mul(av, s0));
      s1 = f64x2.add(kv, f64x2.mul(av, s1));
      v128.store(y + at, join4(f64x2.div(lo2(xv), powQuarter2(s0, m)), f64x2.div(hi2(xv), powQuarter2(s1, m))));
    }
    for (; q < inner; q++) {
      const s = lrnS(x, p, c, lo, hi, inner, q, k, aos);
      const at = <usize>(p * inner + q) << 2;
      store<f32>(y + at, <f32>(<f64>load<f32>(x + at) / powQuarter(s, m)));
    }
  }
}

/**
 * The gradient in two passes over planes. Pass 0: A = s^-beta and B = dy x s^(-beta-1)
 * (float64 buffers). Pass 1: dx_j = dy_j A_j - coef x_j * (sum of B_i over the channels i
 * whose window holds j, in channel order).
 */
export function lrnGradTask(job: usize, t: i32): void {
  const C = arg(job, LR_C), inner = arg(job, LR_INNER), before = arg(job, LR_BEFORE), after = arg(job, LR_AFTER);
  const x = <usize>arg(job, LR_X), dy = <usize>arg(job, LR_DY), A = <usize>arg(job, LR_A), B = <usize>arg(job, LR_B);
  const ppt = arg(job, LR_PPT);
  const p0 = t * ppt, p1 = min(arg(job, LR_PLANES), p0 + ppt);
  if (arg(job, LR_PASS) == 0) {
    const k = argf64(job, LR_K), aos = argf64(job, LR_AOS), m = arg(job, LR_M);
    const kv = f64x2.splat(k), av = f64x2.splat(aos), one = f64x2.splat(1);
    for (let p = p0; p < p1; p++) {
      const c = p % C;
      const lo = max(0, c - before), hi = min(C - 1, c + after);
      let q = 0;
      for (; q + 4 <= inner; q += 4) {
        const e = p * inner + q;
        let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
        for (let ch = lo; ch <= hi; ch++) {
          const v = v128.load(x + (<usize>((p - c + ch) * inner + q) << 2));
          const a = lo2(v), b = hi2(v);
          s0 = f64x2.add(s0, f64x2.mul(a, a));
          s1 = f64x2.add(s1, f64x2.mul(b, b));
        }
        s0 = f64x2.add(kv, f64x2.mul(av, s0));
        s1 = f64x2.add(kv, f64x2.mul(av, s1));
        const b0 = powQuarter2(s0, m), b1 = powQuarter2(s1, m);
        const pa = A + (<usize>e << 3), pb = B + (<usize>e << 3);
        v128.store(pa, f64x2.div(one, b0));
        v128.store(pa, f64x2.div(one, b1), 16);
        const dv = v128.load(dy + (<usize>e << 2)), xv = v128.load(x + (<usize>e << 2));
        v128.store(pb, f64x2.div(f64x2.mul(lo2(dv), lo2(xv)), f64x2.mul(b0, s0)));
        v128.store(pb, f64x2.div(f64x2.mul(hi2(dv), hi2(xv)), f64x2.mul(b1, s1)), 16);
      }
      for (; q < inner; q++) {
        const s = lrnS(x, p, c, lo, hi, inner, q, k, aos);
        const e = p * inner + q;
        const sb = powQuarter(s, m);
        store<f64>(A + (<usize>e << 3), 1 / sb);
        store<f64>(B + (<usize>e << 3), <f64>load<f32>(dy + (<usize>e << 2)) * <f64>load<f32>(x + (<usize>e << 2)) / (sb * s));
      }
    }
  } else {
    const coef = argf64(job, LR_COEF);
    const cv = f64x2.splat(coef);
    const y = <usize>arg(job, LR_Y);
    for (let p = p0; p < p1; p++) {
      const c = p % C;
      // Channels i with c in window(i): [c - after, c + before].
      const lo = max(0, c - after), hi = min(C - 1, c + before);
      let q = 0;
      for (; q + 4 <= inner; q += 4) {
        let c0 = f64x2.splat(0), c1 = f64x2.splat(0);
        for (let i = lo; i <= hi; i++) {
          const pb = B + (<usize>((p - c + i) * inner + q) << 3);
          c0 = f64x2.add(c0, v128.load(pb));
          c1 = f64x2.add(c1, v128.load(pb, 16));
        }
        const e = p * inner + q;
        const xv = v128.load(x + (<usize>e << 2)), dv = v128.load(dy + (<usize>e << 2));
        const pa = A + (<usize>e << 3);
        const d0 = f64x2.sub(f64x2.mul(lo2(dv), v128.load(pa)), f64x2.mul(f64x2.mul(cv, lo2(xv)), c0));
        const d1 = f64x2.sub(f64x2.mul(hi2(dv), v128.load(pa, 16)), f64x2.mul(f64x2.mul(cv, hi2(xv)), c1));
        v128.store(y + (<usize>e << 2), join4(d0, d1));
      }
      for (; q < inner; q++) {
        let cross: f64 = 0;
        for (let i = lo; i <= hi; i++) cross += load<f64>(B + (<usize>((p - c + i) * inner + q) << 3));
        const e = p * inner + q;
        const xj = <f64>load<f32>(x + (<usize>e << 2));
        const d = <f64>load<f32>(dy + (<usize>e << 2)) * load<f64>(A + (<usize>e << 3)) - coef * xj * cross;
        store<f32>(y + (<usize>e << 2), <f32>d);
      }
    }
  }
}
