// Reduce (sum, mean, max, min) over any set of axes (src/backend/js/elementwise.ts). The caller
// collapses x into alternating runs of kept and reduced dims (size-1 dims dropped) and passes
// the kept dims and the reduced dims with their strides in x. Two modes by x's innermost run:
//   0, reduced innermost: a task is a range of output elements, each the reduction of runs of
//      R contiguous floats (four lanes at a time);
//   1, kept innermost (K contiguous outputs): a task is a chunk of one output row, accumulated
//      over every reduced position in order, four outputs at a time.
// Sums in float64 (order differs from the reference's only in mode 0's lanes). Max and min keep
// the reference's rule exactly: a value replaces the running one if greater (less) or NaN, so
// the first of equal values (-0 vs +0) wins and NaN sticks.
import { arg, ARGS } from './job';
import { hi2, join4, lo2 } from './vmath';

export const R_X = 0, R_OUT = 1, R_OP = 2, R_MODE = 3, R_UPT = 4, R_UNITS = 5, R_NK = 6, R_NR = 7, R_INNER = 8, R_DIV = 9, R_CHUNKS = 11;
/** Kept dims' sizes and x strides, reduced dims' sizes and x strides (up to 6 each, outermost first). */
export const R_KD = 12, R_KS = 18, R_RD = 24, R_RS = 30;
export const R_SUM = 0, R_MEAN = 1, R_MAX = 2, R_MIN = 3;
/** Mode 1 outputs per task chunk (its float64 sums live in the thread's scratch). */
export const R_KC = 512;

// @ts-ignore: decorator
@inline function better(isMax: bool, v: v128, cur: v128): v128 {
  const gt = isMax ? f32x4.gt(v, cur) : f32x4.lt(v, cur);
  return v128.bitselect(v, cur, v128.or(gt, f32x4.ne(v, v)));
}

// @ts-ignore: decorator
@inline function better1(isMax: bool, v: f32, cur: f32): f32 {
  return (isMax ? v > cur : v < cur) || v != v ? v : cur;
}

/** x offset (floats) of position `r` over `n` dims whose sizes and strides start at slots d and s. */
// @ts-ignore: decorator
@inline function offsetOf(job: usize, r: i32, n: i32, d: i32, s: i32): i32 {
  let off = 0;
  for (let k = n - 1; k >= 0; k--) {
    const size = arg(job, d + k);
    off += (r % size) * arg(job, s + k);
    r /= size;
  }
  return off;
}

function count(job: usize, n: i32, d: i32): i32 {
  let c = 1;
  for (let k = 0; k < n; k++) c *= arg(job, d + k);
  return c;
}

export function reduceTask(job: usize, t: i32, scratch: usize): void {
  const op = arg(job, R_OP), upt = arg(job, R_UPT), nk = arg(job, R_NK), nr = arg(job, R_NR), inner = arg(job, R_INNER);
  const x = <usize>arg(job, R_X), out = <usize>arg(job, R_OUT);
  const div = load<f64>(job + (<usize>(ARGS + R_DIV) << 2));
  const u0 = t * upt, u1 = min(arg(job, R_UNITS), u0 + upt);
  const combos = count(job, nr, R_RD);
  const isSum = op == R_SUM || op == R_MEAN, isMax = op == R_MAX;
  if (arg(job, R_MODE) == 0) {
    const R = inner, R4 = inner & ~3;
    for (let o = u0; o < u1; o++) {
      const base = x + (<usize>offsetOf(job, o, nk, R_KD, R_KS) << 2);
      let res: f32;
      if (isSum) {
        let s0 = f64x2.splat(0), s1 = s0;
        let s: f64 = 0;
        for (let r = 0; r < combos; r++) {
          const p = base + (<usize>offsetOf(job, r, nr, R_RD, R_RS) << 2);
          for (let q = 0; q < R4; q += 4) {
            const v = v128.load(p + (<usize>q << 2));
            s0 = f64x2.add(s0, lo2(v)); s1 = f64x2.add(s1, hi2(v));
          }
          for (let q = R4; q < R; q++) s += <f64>load<f32>(p + (<usize>q << 2));
        }
        const v = f64x2.add(s0, s1);
        const sum = f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1) + s;
        res = <f32>(op == R_MEAN ? sum / div : sum);
      } else {
        let acc = f32x4.splat(isMax ? -Infinity : Infinity);
        let cur: f32 = isMax ? -Infinity : Infinity;
        for (let r = 0; r < combos; r++) {
          const p = base + (<usize>offsetOf(job, r, nr, R_RD, R_RS) << 2);
          for (let q = 0; q < R4; q += 4) acc = better(isMax, v128.load(p + (<usize>q << 2)), acc);
          for (let q = R4; q < R; q++) cur = better1(isMax, load<f32>(p + (<usize>q << 2)), cur);
        }
        cur = better1(isMax, f32x4.extract_lane(acc, 0), cur);
        cur = better1(isMax, f32x4.extract_lane(acc, 1), cur);
        cur = better1(isMax, f32x4.extract_lane(acc, 2), cur);
        cur = better1(isMax, f32x4.extract_lane(acc, 3), cur);
        // Equal zeros: the reference keeps the first in order, whose sign the lanes lost.
        if (cur == 0) {
          let found = false;
          for (let r = 0; r < combos && !found; r++) {
            const p = base + (<usize>offsetOf(job, r, nr, R_RD, R_RS) << 2);
            for (let q = 0; q < R; q++) {
              const v = load<f32>(p + (<usize>q << 2));
              if (v == 0) { cur = v; found = true; break; }
            }
          }
        }
        res = cur;
      }
      store<f32>(out + (<usize>o << 2), res);
    }
    return;
  }
  // Mode 1: unit = (row, chunk of up to R_KC outputs).
  const K = inner, chunks = arg(job, R_CHUNKS);
  for (let u = u0; u < u1; u++) {
    const row = u / chunks, k0 = (u % chunks) * R_KC;
    const cnt = min(R_KC, K - k0), c4 = cnt & ~3;
    const base = x + (<usize>(offsetOf(job, row, nk, R_KD, R_KS) + k0) << 2);
    const dst = out + (<usize>(row * K + k0) << 2);
    if (isSum) {
      for (let k = 0; k < cnt; k++) store<f64>(scratch + (<usize>k << 3), 0);
      for (let r = 0; r < combos; r++) {
        const p = base + (<usize>offsetOf(job, r, nr, R_RD, R_RS) << 2);
        for (let k = 0; k < c4; k += 4) {
          const v = v128.load(p + (<usize>k << 2));
          const a = scratch + (<usize>k << 3);
          v128.store(a, f64x2.add(v128.load(a), lo2(v)));
          v128.store(a, f64x2.add(v128.load(a, 16), hi2(v)), 16);
        }
        for (let k = c4; k < cnt; k++) {
          const a = scratch + (<usize>k << 3);
          store<f64>(a, load<f64>(a) + <f64>load<f32>(p + (<usize>k << 2)));
        }
      }
      const vd = f64x2.splat(op == R_MEAN ? div : 1);
      for (let k = 0; k < c4; k += 4) {
        const a = scratch + (<usize>k << 3);
        v128.store(dst + (<usize>k << 2), join4(f64x2.div(v128.load(a), vd), f64x2.div(v128.load(a, 16), vd)));
      }
      for (let k = c4; k < cnt; k++) store<f32>(dst + (<usize>k << 2), <f32>(load<f64>(scratch + (<usize>k << 3)) / (op == R_MEAN ? div : 1)));
    } else {
      const init: f32 = isMax ? -Infinity : Infinity;
      for (let k = 0; k < cnt; k++) store<f32>(dst + (<usize>k << 2), init);
      for (let r = 0; r < combos; r++) {
        const p = base + (<usize>offsetOf(job, r, nr, R_RD, R_RS) << 2);
        for (let k = 0; k < c4; k += 4) {
          const d = dst + (<usize>k << 2);
          v128.store(d, better(isMax, v128.load(p + (<usize>k << 2)), v128.load(d)));
        }
        for (let k = c4; k < cnt; k++) {
          const d = dst + (<usize>k << 2);
          store<f32>(d, better1(isMax, load<f32>(p + (<usize>k << 2)), load<f32>(d)));
        }
      }
    }
  }
}
