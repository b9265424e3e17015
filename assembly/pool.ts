// Pooling kernels: max pooling (with or without switches) and its gradient, average and
// adaptive average pooling and their gradients (LRN is in lrn.ts). A task is a run of
// planes, so tasks never write the same element. Semantics follow the js reference exactly
// (src/backend/js/pool2d.ts): same taps in the same order, same tie and NaN rules, float64
// sums where the reference sums in float64.
import { zeroFloats } from './mem';
import { arg, argf64 } from './job';
import { hi2, join4, lo2 } from './vmath';

// ---------------------------------------------------------------------------------------
// Max pooling. Each output row splits into a left border, an interior and a right border:
// interior windows have every column tap inside the image, so their columns need no checks
// and run 4 outputs at a time in SIMD (strides 1 and 2); border outputs take the scalar loop
// with bounds checks. Rows outside the image are skipped per output row, for both.
//
// Values: a later tap wins only if strictly greater (so the first of equal values, -0 vs +0
// included, as the reference) -- f32x4.pmax(best, v) is exactly `best < v ? v : best`, one
// maxps -- and a NaN anywhere in the window makes the output NaN (tracked with v != v;
// f32x4.max would propagate it too, but costs V8 several instructions). Switches: the first
// maximum in row-major order, or the last NaN; a window with no tap inside the image gives
// -inf and -1.
// ---------------------------------------------------------------------------------------

export const P_X = 0, P_OUT = 1, P_IDX = 2, P_H = 3, P_W = 4, P_OH = 5, P_OW = 6, P_KH = 7, P_KW = 8;
export const P_SH = 9, P_SW = 10, P_PT = 11, P_PL = 12, P_DH = 13, P_DW = 14, P_PPT = 15, P_PLANES = 16;

// @ts-ignore: decorator
@inline function even(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 0, 2, 4, 6); }
// @ts-ignore: decorator
@inline function odd(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 1, 3, 5, 7); }

/** Floor division for a positive divisor. */
// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return q * b > a ? q - 1 : q;
}

/** One output by the reference's scalar loop (bounds checks on every tap). */
function maxScalar(
  x: usize, H: i32, W: i32, i: i32, j: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32, ix: usize,
): f32 {
  let best: f32 = -Infinity;
  let am = -1;
  for (let ki = 0; ki < kh; ki++) {
    const r = i * sh - pt + ki * dh;
    if (r < 0 || r >= H) continue;
    for (let kj = 0; kj < kw; kj++) {
      const c = j * sw - pl + kj * dw;
      if (c < 0 || c >= W) continue;
      const v = load<f32>(x + (<usize>(r * W + c) << 2));
      if (am < 0 || v > best || v != v) { best = v; am = r * W + c; }
    }
  }
  if (ix) store<i32>(ix, am);
  return best;
}

/**
 * Tap kj's 4 values for outputs j..j+3 at stride 2 when that tap is taken alone: the odd
 * lanes of the 8 floats from its column - 1, so that nothing past the window's last column
 * is read (reading one float before a row is harmless; after the last plane it is not).
 */
// @ts-ignore: decorator
@inline function tapS2(row: usize, col: i32): v128 {
  const p = row + (<usize>(col - 1) << 2);
  return odd(v128.load(p), v128.load(p, 16));
}

/**
 * Interior outputs j0 <= j < j1 (j1 - j0 >= 4) of output row `o`: nr rows from r0 (step dh),
 * stride sw of 1 or 2. The last group of 4 overlaps the previous one instead of a scalar tail.
 */
function maxRowSimd(
  x: usize, W: i32, r0: i32, nr: i32, dh: i32, kw: i32, sw: i32, dw: i32, pl: i32, j0: i32, j1: i32, o: usize,
): void {
  const ninf = f32x4.splat(-Infinity);
  let j = j0;
  while (true) {
    if (j + 4 > j1) j = j1 - 4;
    let best = ninf, nan = v128.xor(ninf, ninf);
    const c0 = j * sw - pl;
    for (let rr = 0; rr < nr; rr++) {
      const row = x + (<usize>((r0 + rr * dh) * W) << 2);
      if (sw == 1) {
        for (let kj = 0; kj < kw; kj++) {
          const v = v128.load(row + (<usize>(c0 + kj * dw) << 2));
          best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
        }
      } else if (dw == 1) {
        let kj = 0;
        for (; kj + 2 <= kw; kj += 2) {
          const p = row + (<usize>(c0 + kj) << 2);
          const a = v128.load(p), b = v128.load(p, 16);
          let v = even(a, b);
          best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
          v = odd(a, b);
          best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
        }
        if (kj < kw) {
          const v = tapS2(row, c0 + kj);
          best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
        }
      } else {
        for (let kj = 0; kj < kw; kj++) {
          const v = tapS2(row, c0 + kj * dw);
          best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
        }
      }
    }
    v128.store(o + (<usize>j << 2), v128.bitselect(f32x4.splat(NaN), best, nan));
    j += 4;
    if (j >= j1) break;
  }
}

/** maxRowSimd with switches. */
function maxRowSimdArg(
  x: usize, W: i32, r0: i32, nr: i32, dh: i32, kw: i32, sw: i32, dw: i32, pl: i32, j0: i32, j1: i32, o: usize, ix: usize,
): void {
  const lanes = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(sw));
  let j = j0;
  while (true) {
    if (j + 4 > j1) j = j1 - 4;
    let best = f32x4.splat(-Infinity), am = i32x4.splat(-1);
    const c0 = j * sw - pl;
    for (let rr = 0; rr < nr; rr++) {
      const r = r0 + rr * dh;
      const row = x + (<usize>(r * W) << 2);
      for (let kj = 0; kj < kw; kj++) {
        const c = c0 + kj * dw;
        let v: v128;
        if (sw == 1) v = v128.load(row + (<usize>c << 2));
        else if (dw == 1 && (kj & 1) == 0 && kj + 1 < kw) v = even(v128.load(row + (<usize>c << 2)), v128.load(row + (<usize>c << 2), 16));
        else v = tapS2(row, c);
        const ti = i32x4.add(i32x4.splat(r * W + c), lanes);
        if ((rr | kj) == 0) {
          // The first tap always wins, even if it is -inf.
          best = v; am = ti;
        } else {
          const upd = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
          best = v128.bitselect(v, best, upd);
          am = v128.bitselect(ti, am, upd);
        }
      }
    }
    v128.store(o + (<usize>j << 2), best);
    v128.store(ix + (<usize>j << 2), am);
    j += 4;
    if (j >= j1) break;
  }
}

/**
 * maxRowSimd for the common windows 2 and 3 wide at stride 2 (dilation 1), taps unrolled:
 * the 8 floats from the window's first column give taps 0 and 1 (even and odd lanes), those
 * from its second column tap 2.
 */
function maxRowS2(x: usize, W: i32, r0: i32, nr: i32, dh: i32, three: bool, pl: i32, j0: i32, j1: i32, o: usize): void {
  let j = j0;
  while (true) {
    if (j + 4 > j1) j = j1 - 4;
    let best = f32x4.splat(-Infinity), nan = v128.xor(best, best);
    let p = x + (<usize>(r0 * W + 2 * j - pl) << 2);
    const step = <usize>(dh * W) << 2;
    for (let rr = 0; rr < nr; rr++) {
      const a = v128.load(p), b = v128.load(p, 16);
      let v = even(a, b);
      best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
      v = odd(a, b);
      best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
      if (three) {
        v = odd(v128.load(p, 4), v128.load(p, 20));
        best = f32x4.pmax(best, v); nan = v128.or(nan, f32x4.ne(v, v));
      }
      p += step;
    }
    v128.store(o + (<usize>j << 2), v128.bitselect(f32x4.splat(NaN), best, nan));
    j += 4;
    if (j >= j1) break;
  }
}

// @ts-ignore: decorator
@inline function better(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
}

/** maxRowS2 with switches. */
function maxRowS2Arg(x: usize, W: i32, r0: i32, nr: i32, dh: i32, three: bool, pl: i32, j0: i32, j1: i32, o: usize, ix: usize): void {
  const lanes = i32x4(0, 2, 4, 6), one = i32x4.splat(1), two = i32x4.splat(2);
  let j = j0;
  while (true) {
    if (j + 4 > j1) j = j1 - 4;
    let p = x + (<usize>(r0 * W + 2 * j - pl) << 2);
    const step = <usize>(dh * W) << 2;
    // Row r0, tap 0 first: it wins even if it is -inf.
    let a = v128.load(p), b = v128.load(p, 16);
    let best = even(a, b);
    let base = i32x4.add(i32x4.splat(r0 * W + 2 * j - pl), lanes);
    let am = base;
    let rr = 0;
    while (true) {
      let v = odd(a, b);
      let upd = better(v, best);
      best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(base, one), am, upd);
      if (three) {
        v = odd(v128.load(p, 4), v128.load(p, 20));
        upd = better(v, best);
        best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(base, two), am, upd);
      }
      if (++rr >= nr) break;
      p += step;
      base = i32x4.add(base, i32x4.splat(dh * W));
      a = v128.load(p); b = v128.load(p, 16);
      v = even(a, b);
      upd = better(v, best);
      best = v128.bitselect(v, best, upd); am = v128.bitselect(base, am, upd);
    }
    v128.store(o + (<usize>j << 2), best);
    v128.store(ix + (<usize>j << 2), am);
    j += 4;
    if (j >= j1) break;
  }
}

// Straight-line versions for whole 2x2 and 3x3 windows at stride 2 (every row inside): the
// row loops above carry their vectors around a loop, which V8 compiles less tightly, and
// small planes (8x8) spend most of their time on per-row overhead.

// @ts-ignore: decorator
@inline function vmax(best: v128, v: v128): v128 { return f32x4.pmax(best, v); }
// @ts-ignore: decorator
@inline function isnan(v: v128): v128 { return f32x4.ne(v, v); }

/**
 * `rows` output rows of whole windows 2 or 3 wide and high at column stride 2: output row i
 * reads input rows at p0 + i * pstep (+ step, + 2 step when `three`) and writes o0 + i * ostep;
 * outputs [j0, j1) of each, values only.
 */
function maxRowsS2Full(p0: usize, step: usize, three: bool, j0: i32, j1: i32, o0: usize, rows: i32, pstep: usize, ostep: usize): void {
  const qnan = f32x4.splat(NaN);
  for (let i = 0; i < rows; i++) {
    const row = p0 + <usize>i * pstep, o = o0 + <usize>i * ostep;
    let j = j0;
    while (true) {
      if (j + 4 > j1) j = j1 - 4;
      const p = row + (<usize>(2 * j) << 2);
      const a0 = v128.load(p), b0 = v128.load(p, 16);
      const a1 = v128.load(p + step), b1 = v128.load(p + step, 16);
      let v = even(a0, b0);
      let best = v, nan = isnan(v);
      v = odd(a0, b0); best = vmax(best, v); nan = v128.or(nan, isnan(v));
      if (three) {
        v = odd(v128.load(p, 4), v128.load(p, 20)); best = vmax(best, v); nan = v128.or(nan, isnan(v));
      }
      v = even(a1, b1); best = vmax(best, v); nan = v128.or(nan, isnan(v));
      v = odd(a1, b1); best = vmax(best, v); nan = v128.or(nan, isnan(v));
      if (three) {
        v = odd(v128.load(p + step, 4), v128.load(p + step, 20)); best = vmax(best, v); nan = v128.or(nan, isnan(v));
        const q = p + 2 * step;
        const a2 = v128.load(q), b2 = v128.load(q, 16);
        v = even(a2, b2); best = vmax(best, v); nan = v128.or(nan, isnan(v));
        v = odd(a2, b2); best = vmax(best, v); nan = v128.or(nan, isnan(v));
        v = odd(v128.load(q, 4), v128.load(q, 20)); best = vmax(best, v); nan = v128.or(nan, isnan(v));
      }
      v128.store(o + (<usize>j << 2), v128.bitselect(qnan, best, nan));
      j += 4;
      if (j >= j1) break;
    }
  }
}

/**
 * maxRowsS2Full with switches: `at` is the plane index of row 0's first tap for j = 0, `astep`
 * how much it grows per output row; switches go to ix0 + i * ostep.
 */
function maxRowsS2FullArg(
  p0: usize, step: usize, W: i32, at: i32, three: bool, j0: i32, j1: i32, o0: usize, ix0: usize, rows: i32, pstep: usize, ostep: usize, astep: i32,
): void {
  const lanes = i32x4(0, 2, 4, 6), one = i32x4.splat(1), two = i32x4.splat(2), down = i32x4.splat(W);
  for (let i = 0; i < rows; i++) {
    const row = p0 + <usize>i * pstep, o = o0 + <usize>i * ostep, ix = ix0 + <usize>i * ostep;
    const rowAt = at + i * astep;
    let j = j0;
    while (true) {
      if (j + 4 > j1) j = j1 - 4;
      const p = row + (<usize>(2 * j) << 2);
      const a0 = v128.load(p), b0 = v128.load(p, 16);
      const a1 = v128.load(p + step), b1 = v128.load(p + step, 16);
      const i00 = i32x4.add(i32x4.splat(rowAt + 2 * j), lanes);
      let best = even(a0, b0), am = i00;
      let v = odd(a0, b0), upd = better(v, best);
      best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(i00, one), am, upd);
      if (three) {
        v = odd(v128.load(p, 4), v128.load(p, 20)); upd = better(v, best);
        best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(i00, two), am, upd);
      }
      const i10 = i32x4.add(i00, down);
      v = even(a1, b1); upd = better(v, best);
      best = v128.bitselect(v, best, upd); am = v128.bitselect(i10, am, upd);
      v = odd(a1, b1); upd = better(v, best);
      best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(i10, one), am, upd);
      if (three) {
        v = odd(v128.load(p + step, 4), v128.load(p + step, 20)); upd = better(v, best);
        best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(i10, two), am, upd);
        const q = p + 2 * step;
        const i20 = i32x4.add(i10, down);
        const a2 = v128.load(q), b2 = v128.load(q, 16);
        v = even(a2, b2); upd = better(v, best);
        best = v128.bitselect(v, best, upd); am = v128.bitselect(i20, am, upd);
        v = odd(a2, b2); upd = better(v, best);
        best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(i20, one), am, upd);
        v = odd(v128.load(q, 4), v128.load(q, 20)); upd = better(v, best);
        best = v128.bitselect(v, best, upd); am = v128.bitselect(i32x4.add(i20, two), am, upd);
      }
      v128.store(o + (<usize>j << 2), best);
      v128.store(ix + (<usize>j << 2), am);
      j += 4;
      if (j >= j1) break;
    }
  }
}

/** Max pooling of planes [t * ppt, ...), with switches when `withArg`. */
function maxPoolPlanes(job: usize, t: i32, withArg: bool): void {
  const H = arg(job, P_H), W = arg(job, P_W), oh = arg(job, P_OH), ow = arg(job, P_OW);
  const kh = arg(job, P_KH), kw = arg(job, P_KW), sh = arg(job, P_SH), sw = arg(job, P_SW);
  const pt = arg(job, P_PT), pl = arg(job, P_PL), dh = arg(job, P_DH), dw = arg(job, P_DW);
  const ppt = arg(job, P_PPT);
  const p0 = t * ppt, p1 = min(arg(job, P_PLANES), p0 + ppt);
  // Interior columns [j0, j1): every column tap of the window inside the image.
  const simd = sw == 1 || sw == 2;
  let j1 = min(ow, floorDiv(W - 1 - (kw - 1) * dw + pl, sw) + 1);
  if (j1 < 0) j1 = 0;
  const j0 = min((pl + sw - 1) / sw, j1);
  const vec = simd && j1 - j0 >= 4;
  const s2k23 = sw == 2 && dw == 1 && (kw == 2 || kw == 3);
  // Output rows [i0, i1) whose windows have every row inside the image: with whole 2x2 or
  // 3x3 windows at stride 2 across, their interiors go to maxRowsS2Full in one call per plane.
  let i1 = min(oh, floorDiv(H - 1 - (kh - 1) * dh + pt, sh) + 1);
  if (i1 < 0) i1 = 0;
  const i0 = min((pt + sh - 1) / sh, i1);
  const full = vec && s2k23 && kh == kw && dh == 1 && i1 > i0;
  const rowBytes = <usize>W << 2, outRowBytes = <usize>ow << 2;
  for (let p = p0; p < p1; p++) {
    const x = <usize>arg(job, P_X) + (<usize>(p * H * W) << 2);
    const o = <usize>arg(job, P_OUT) + (<usize>(p * oh * ow) << 2);
    const ix = withArg ? <usize>arg(job, P_IDX) + (<usize>(p * oh * ow) << 2) : 0;
    for (let i = 0; i < oh; i++) {
      if (full && i == i0) {
        const at = (i0 * sh - pt) * W - pl;
        const px = x + (<usize>at << 2), po = o + (<usize>(i0 * ow) << 2);
        if (withArg) maxRowsS2FullArg(px, rowBytes, W, at, kw == 3, j0, j1, po, ix + (<usize>(i0 * ow) << 2), i1 - i0, <usize>sh * rowBytes, outRowBytes, sh * W);
        else maxRowsS2Full(px, rowBytes, kw == 3, j0, j1, po, i1 - i0, <usize>sh * rowBytes, outRowBytes);
        // Their border columns.
        for (let r = i0; r < i1; r++) {
          const orow = o + (<usize>(r * ow) << 2);
          const irow = withArg ? ix + (<usize>(r * ow) << 2) : 0;
          for (let j = 0; j < j0; j++) {
            store<f32>(orow + (<usize>j << 2), maxScalar(x, H, W, r, j, kh, kw, sh, sw, pt, pl, dh, dw, withArg ? irow + (<usize>j << 2) : 0));
          }
          for (let j = j1; j < ow; j++) {
            store<f32>(orow + (<usize>j << 2), maxScalar(x, H, W, r, j, kh, kw, sh, sw, pt, pl, dh, dw, withArg ? irow + (<usize>j << 2) : 0));
          }
        }
        i = i1 - 1;
        continue;
      }
      const orow = o + (<usize>(i * ow) << 2);
      const irow = withArg ? ix + (<usize>(i * ow) << 2) : 0;
      // Rows of the window inside the image: ki in [k0, k1).
      // (Integer division costs tens of cycles, noticeable on small planes: avoided for dh 1.)
      const top = i * sh - pt;
      const k0 = top >= 0 ? 0 : dh == 1 ? -top : (-top + dh - 1) / dh;
      const k1 = top > H - 1 ? 0 : min(kh, dh == 1 ? H - top : (H - 1 - top) / dh + 1);
      const a = vec && k1 > k0 ? j0 : ow;
      const b = vec && k1 > k0 ? j1 : ow;
      for (let j = 0; j < a; j++) {
        store<f32>(orow + (<usize>j << 2), maxScalar(x, H, W, i, j, kh, kw, sh, sw, pt, pl, dh, dw, withArg ? irow + (<usize>j << 2) : 0));
      }
      if (a < b) {
        const r0 = top + k0 * dh, nr = k1 - k0;
        if (s2k23) {
          if (withArg) maxRowS2Arg(x, W, r0, nr, dh, kw == 3, pl, a, b, orow, irow);
          else maxRowS2(x, W, r0, nr, dh, kw == 3, pl, a, b, orow);
        } else if (withArg) maxRowSimdArg(x, W, r0, nr, dh, kw, sw, dw, pl, a, b, orow, irow);
        else maxRowSimd(x, W, r0, nr, dh, kw, sw, dw, pl, a, b, orow);
      }
      for (let j = b; j < ow; j++) {
        store<f32>(orow + (<usize>j << 2), maxScalar(x, H, W, i, j, kh, kw, sh, sw, pt, pl, dh, dw, withArg ? irow + (<usize>j << 2) : 0));
      }
    }
  }
}

/** Max over each window with its switch. */
export function maxPoolTask(job: usize, t: i32): void {
  maxPoolPlanes(job, t, true);
}

/** Max over each window, no switches (inference). */
export function maxPoolValuesTask(job: usize, t: i32): void {
  maxPoolPlanes(job, t, false);
}

export const PG_DY = 0, PG_IDX = 1, PG_DX = 2, PG_HW = 3, PG_OHW = 4, PG_PPT = 5, PG_PLANES = 6;
export const PG_H = 7, PG_W = 8, PG_OH = 9, PG_OW = 10;

/** dx = 0, then dx[switch] += dy: the reference's order, for any switches. */
function scatterPlane(dx: usize, dy: usize, ix: usize, hw: i32, ohw: i32): void {
  zeroFloats(dx, hw);
  for (let o = 0; o < ohw; o++) {
    const k = load<i32>(ix + (<usize>o << 2));
    if (k >= 0) {
      const d = dx + (<usize>k << 2);
      store<f32>(d, load<f32>(d) + load<f32>(dy + (<usize>o << 2)));
    }
  }
}

/**
 * One plane's gradient when every switch lies in its own output's 2x2 window at stride 2
 * (rows 2i, 2i + 1, columns 2j, 2j + 1: windows that never overlap, so each dx pixel gets at
 * most one dy): dx is written once, row pair by row pair, four windows at a time, instead of
 * zeroed and scattered into. False, with dx partly written, as soon as a switch lies
 * elsewhere (other windows, or -1); the caller then scatters.
 */
function windows2x2Plane(dx: usize, dy: usize, ix: usize, H: i32, W: i32, oh: i32, ow: i32): bool {
  const zero = f32x4.splat(0);
  const lanes = i32x4(0, 2, 4, 6), one = i32x4.splat(1), down = i32x4.splat(W), downOne = i32x4.splat(W + 1);
  const rowBytes = <usize>W << 2;
  for (let i = 0; i < oh; i++) {
    const r0 = dx + <usize>(2 * i) * rowBytes, r1 = r0 + rowBytes;
    const gy = dy + (<usize>(i * ow) << 2), gi = ix + (<usize>(i * ow) << 2);
    const ow4 = ow & ~3;
    for (let j = 0; j < ow4; j += 4) {
      const k = v128.load(gi + (<usize>j << 2));
      const b00 = i32x4.add(i32x4.splat(2 * i * W + 2 * j), lanes);
      const m00 = i32x4.eq(k, b00), m01 = i32x4.eq(k, i32x4.add(b00, one));
      const m10 = i32x4.eq(k, i32x4.add(b00, down)), m11 = i32x4.eq(k, i32x4.add(b00, downOne));
      if (!i32x4.all_true(v128.or(v128.or(m00, m01), v128.or(m10, m11)))) return false;
      // 0 + dy as the reference's accumulation into zeros (-0 becomes +0).
      const g = f32x4.add(v128.load(gy + (<usize>j << 2)), zero);
      const t0 = v128.and(g, m00), t1 = v128.and(g, m01), u0 = v128.and(g, m10), u1 = v128.and(g, m11);
      const o = <usize>(2 * j) << 2;
      v128.store(r0 + o, v128.shuffle<f32>(t0, t1, 0, 4, 1, 5));
      v128.store(r0 + o, v128.shuffle<f32>(t0, t1, 2, 6, 3, 7), 16);
      v128.store(r1 + o, v128.shuffle<f32>(u0, u1, 0, 4, 1, 5));
      v128.store(r1 + o, v128.shuffle<f32>(u0, u1, 2, 6, 3, 7), 16);
    }
    // The last ow % 4 windows one by one.
    for (let j = ow4; j < ow; j++) {
      const k = load<i32>(gi + (<usize>j << 2)) - (2 * i * W + 2 * j);
      if (k != 0 && k != 1 && k != W && k != W + 1) return false;
      const g = load<f32>(gy + (<usize>j << 2)) + 0;
      const o = <usize>(2 * j) << 2;
      store<f32>(r0 + o, k == 0 ? g : 0); store<f32>(r0 + o, k == 1 ? g : 0, 4);
      store<f32>(r1 + o, k == W ? g : 0); store<f32>(r1 + o, k == W + 1 ? g : 0, 4);
    }
    // Columns past the last window (odd W, or floor-mode leftovers).
    for (let c = 2 * ow; c < W; c++) { store<f32>(r0 + (<usize>c << 2), 0); store<f32>(r1 + (<usize>c << 2), 0); }
  }
  // Rows past the last window.
  if (2 * oh < H) zeroFloats(dx + <usize>(2 * oh) * rowBytes, (H - 2 * oh) * W);
  return true;
}

/**
 * dx[switch] += dy, plane by plane. Windows that can be 2x2 at stride 2 (the usual POOL2)
 * take windows2x2Plane, checked switch by switch, so any switches give the reference's result.
 */
export function maxPoolGradTask(job: usize, t: i32): void {
  const hw = arg(job, PG_HW), ohw = arg(job, PG_OHW), ppt = arg(job, PG_PPT);
  const H = arg(job, PG_H), W = arg(job, PG_W), oh = arg(job, PG_OH), ow = arg(job, PG_OW);
  const tryWindows = 2 * oh <= H && 2 * ow <= W;
  const p0 = t * ppt, p1 = min(arg(job, PG_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const dx = <usize>arg(job, PG_DX) + (<usize>(p * hw) << 2);
    const dy = <usize>arg(job, PG_DY) + (<usize>(p * ohw) << 2);
    const ix = <usize>arg(job, PG_IDX) + (<usize>(p * ohw) << 2);
    if (tryWindows && windows2x2Plane(dx, dy, ix, H, W, oh, ow)) continue;
    scatterPlane(dx, dy, ix, hw, ohw);
  }
}

// ---------------------------------------------------------------------------------------
// Average pooling, plain and adaptive: the windows come as tables from the caller (rows
// [lo, hi) and the padded length per output row, the same per output column), so one kernel
// serves both. Sums in float64 in the reference's order, so results are bit-identical.
// ---------------------------------------------------------------------------------------

export const AP_X = 0, AP_OUT = 1, AP_TAB = 2, AP_H = 3, AP_W = 4, AP_OH = 5, AP_OW = 6, AP_MODE = 7, AP_DIV = 8;
export const AP_PPT = 9, AP_PLANES = 10, AP_KW = 11, AP_SW = 12, AP_PL = 13, AP_J0 = 14, AP_J1 = 15;
/** Divisor: the pixels inside the image, the window within the padded input, or a constant. */
export const AVG_INSIDE = 0, AVG_PADDED = 1, AVG_FIXED = 2;

// @ts-ignore: decorator
@inline function tab(t: usize, i: i32): i32 { return load<i32>(t + (<usize>i << 2)); }

// @ts-ignore: decorator
@inline function avgDivisor(mode: i32, fixed: i32, rows: i32, cols: i32, rpad: i32, cpad: i32): f64 {
  return mode == AVG_FIXED ? <f64>fixed : mode == AVG_PADDED ? <f64>(rpad * cpad) : <f64>(rows * cols);
}


/**
 * Interior outputs j0 <= j < j1 (j1 - j0 >= 4) of one output row: every window kw wide at
 * column j * sw - pl, fully inside the image, over rows [rlo, rhi), all with divisor `div`.
 * Four outputs at a time, each lane summing in float64 in the reference's order.
 */
function avgRowSimd(x: usize, W: i32, rlo: i32, rhi: i32, kw: i32, sw: i32, pl: i32, j0: i32, j1: i32, div: f64, o: usize): void {
  const d = f64x2.splat(div);
  let j = j0;
  while (true) {
    if (j + 4 > j1) j = j1 - 4;
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    const c0 = j * sw - pl;
    for (let r = rlo; r < rhi; r++) {
      const row = x + (<usize>(r * W) << 2);
      let kj = 0;
      if (sw == 2) {
        for (; kj + 2 <= kw; kj += 2) {
          const p = row + (<usize>(c0 + kj) << 2);
          const a = v128.load(p), b = v128.load(p, 16);
          let v = even(a, b);
          s0 = f64x2.add(s0, lo2(v)); s1 = f64x2.add(s1, hi2(v));
          v = odd(a, b);
          s0 = f64x2.add(s0, lo2(v)); s1 = f64x2.add(s1, hi2(v));
        }
      }
      for (; kj < kw; kj++) {
        const v = sw == 1 ? v128.load(row + (<usize>(c0 + kj) << 2)) : tapS2(row, c0 + kj);
        s0 = f64x2.add(s0, lo2(v)); s1 = f64x2.add(s1, hi2(v));
      }
    }
    v128.store(o + (<usize>j << 2), join4(f64x2.div(s0, d), f64x2.div(s1, d)));
    j += 4;
    if (j >= j1) break;
  }
}

/**
 * Table layout: rlo[oh], rhi[oh], rpad[oh], clo[ow], chi[ow], cpad[ow]. Outputs [j0, j1) of
 * every row are interior windows kw wide at stride sw (1 or 2; j0 = j1 when there are none).
 */
/**
 * Whole planes (global average pooling): the float64 sums of 8 planes at once, each adding its
 * floats in the reference's order (lanes are planes, so 4 independent chains instead of one),
 * for planes p .. p + 8 of hw floats each at x; outputs sum / div at o.
 */
function planeMeans8(x: usize, hw: i32, div: f64, o: usize): void {
  const ps = <usize>hw << 2;
  let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
  let i = 0;
  for (; i + 4 <= hw; i += 4) {
    const q = x + (<usize>i << 2);
    // Two 4x4 transposes: u_k / w_k hold element i + k of planes 0-3 / 4-7.
    const a0 = v128.load(q), a1 = v128.load(q + ps), a2 = v128.load(q + 2 * ps), a3 = v128.load(q + 3 * ps);
    const b0 = v128.load(q + 4 * ps), b1 = v128.load(q + 5 * ps), b2 = v128.load(q + 6 * ps), b3 = v128.load(q + 7 * ps);
    const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
    const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
    const r0 = v128.shuffle<f32>(b0, b1, 0, 4, 1, 5), r1 = v128.shuffle<f32>(b0, b1, 2, 6, 3, 7);
    const r2 = v128.shuffle<f32>(b2, b3, 0, 4, 1, 5), r3 = v128.shuffle<f32>(b2, b3, 2, 6, 3, 7);
    // Element i + k of planes (0, 1), (2, 3), (4, 5), (6, 7), for k = 0 .. 3 in order.
    s0 = f64x2.add(s0, lo2(t0)); s1 = f64x2.add(s1, lo2(t2)); s2 = f64x2.add(s2, lo2(r0)); s3 = f64x2.add(s3, lo2(r2));
    s0 = f64x2.add(s0, hi2(t0)); s1 = f64x2.add(s1, hi2(t2)); s2 = f64x2.add(s2, hi2(r0)); s3 = f64x2.add(s3, hi2(r2));
    s0 = f64x2.add(s0, lo2(t1)); s1 = f64x2.add(s1, lo2(t3)); s2 = f64x2.add(s2, lo2(r1)); s3 = f64x2.add(s3, lo2(r3));
    s0 = f64x2.add(s0, hi2(t1)); s1 = f64x2.add(s1, hi2(t3)); s2 = f64x2.add(s2, hi2(r1)); s3 = f64x2.add(s3, hi2(r3));
  }
  for (let k = 0; k < 8; k++) {
    const v = k < 2 ? s0 : k < 4 ? s1 : k < 6 ? s2 : s3;
    let sum = k & 1 ? f64x2.extract_lane(v, 1) : f64x2.extract_lane(v, 0);
    const plane = x + <usize>k * ps;
    for (let j = i; j < hw; j++) sum += <f64>load<f32>(plane + (<usize>j << 2));
    store<f32>(o + (<usize>k << 2), <f32>(sum / div));
  }
}

export function avgPoolTask(job: usize, t: i32): void {
  const H = arg(job, AP_H), W = arg(job, AP_W), oh = arg(job, AP_OH), ow = arg(job, AP_OW);
  const mode = arg(job, AP_MODE), fixed = arg(job, AP_DIV), ppt = arg(job, AP_PPT);
  const kw = arg(job, AP_KW), sw = arg(job, AP_SW), pl = arg(job, AP_PL), j0 = arg(job, AP_J0), j1 = arg(job, AP_J1);
  const vec = j1 - j0 >= 4 && (sw == 1 || sw == 2);
  const tb = <usize>arg(job, AP_TAB);
  const ct = tb + (<usize>(3 * oh) << 2);
  let p0 = t * ppt;
  const p1 = min(arg(job, AP_PLANES), p0 + ppt);
  // One window over the whole plane (global average pooling): eight planes at a time.
  if (oh == 1 && ow == 1 && tab(tb, 0) == 0 && tab(tb, 1) == H && tab(ct, 0) == 0 && tab(ct, 1) == W) {
    const div = avgDivisor(mode, fixed, H, W, tab(tb, 2), tab(ct, 2));
    for (; p0 + 8 <= p1; p0 += 8) planeMeans8(<usize>arg(job, AP_X) + (<usize>(p0 * H * W) << 2), H * W, div, <usize>arg(job, AP_OUT) + (<usize>p0 << 2));
  }
  for (let p = p0; p < p1; p++) {
    const x = <usize>arg(job, AP_X) + (<usize>(p * H * W) << 2);
    let o = <usize>arg(job, AP_OUT) + (<usize>(p * oh * ow) << 2);
    for (let i = 0; i < oh; i++) {
      const rlo = tab(tb, i), rhi = tab(tb, oh + i), rpad = tab(tb, 2 * oh + i);
      const simd = vec && rhi > rlo;
      if (simd) {
        avgRowSimd(x, W, rlo, rhi, kw, sw, pl, j0, j1, avgDivisor(mode, fixed, rhi - rlo, kw, rpad, kw), o);
      }
      for (let j = 0; j < ow; j++) {
        if (simd && j == j0) { j = j1 - 1; o += <usize>(j1 - j0) << 2; continue; }
        const clo = tab(ct, j), chi = tab(ct, ow + j);
        let out: f32 = 0;
        if (rhi > rlo && chi > clo) {
          let sum: f64 = 0;
          for (let r = rlo; r < rhi; r++) {
            const row = x + (<usize>(r * W) << 2);
            for (let c = clo; c < chi; c++) sum += <f64>load<f32>(row + (<usize>c << 2));
          }
          out = <f32>(sum / avgDivisor(mode, fixed, rhi - rlo, chi - clo, rpad, tab(ct, 2 * ow + j)));
        }
        store<f32>(o, out);
        o += 4;
      }
    }
  }
}

/**
 * The gradient of interior outputs j0 <= j < j1 (j1 - j0 >= 4) of one output row for 2-wide
 * windows at stride 2, which do not overlap: each dx pixel gets 0 + dy / div (float64, then
 * rounded; adding the zero turns -0 into +0 as the reference's accumulation does).
 */
function avgGradRow2x2(dx: usize, W: i32, rlo: i32, rhi: i32, pl: i32, j0: i32, j1: i32, div: f64, dy: usize): void {
  const d = f64x2.splat(div), zero = f32x4.splat(0);
  let j = j0;
  while (true) {
    if (j + 4 > j1) j = j1 - 4;
    const v = v128.load(dy + (<usize>j << 2));
    const g = f32x4.add(join4(f64x2.div(lo2(v), d), f64x2.div(hi2(v), d)), zero);
    const g01 = v128.shuffle<f32>(g, g, 0, 0, 1, 1), g23 = v128.shuffle<f32>(g, g, 2, 2, 3, 3);
    for (let r = rlo; r < rhi; r++) {
      const p = dx + (<usize>(r * W + 2 * j - pl) << 2);
      v128.store(p, g01);
      v128.store(p, g23, 16);
    }
    j += 4;
    if (j >= j1) break;
  }
}

/**
 * dx[window] += dy / divisor, outputs in order (float64 adds rounded per store, as the
 * reference); 2x2 stride 2 interiors in SIMD.
 */
export function avgPoolGradTask(job: usize, t: i32): void {
  const H = arg(job, AP_H), W = arg(job, AP_W), oh = arg(job, AP_OH), ow = arg(job, AP_OW);
  const mode = arg(job, AP_MODE), fixed = arg(job, AP_DIV), ppt = arg(job, AP_PPT);
  const kw = arg(job, AP_KW), sw = arg(job, AP_SW), pl = arg(job, AP_PL), j0 = arg(job, AP_J0), j1 = arg(job, AP_J1);
  const vec = j1 - j0 >= 4 && sw == 2 && kw == 2;
  const tb = <usize>arg(job, AP_TAB);
  const ct = tb + (<usize>(3 * oh) << 2);
  const p0 = t * ppt, p1 = min(arg(job, AP_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const dx = <usize>arg(job, AP_OUT) + (<usize>(p * H * W) << 2);
    let dy = <usize>arg(job, AP_X) + (<usize>(p * oh * ow) << 2);
    zeroFloats(dx, H * W);
    if (oh == 1 && ow == 1) {
      // One window (global pooling): every pixel in it gets the same 0 + g.
      const rlo = tab(tb, 0), rhi = tab(tb, 1), clo = tab(ct, 0), chi = tab(ct, 1);
      if (rhi > rlo && chi > clo) {
        const g = <f32>(<f64>load<f32>(dy) / avgDivisor(mode, fixed, rhi - rlo, chi - clo, tab(tb, 2), tab(ct, 2))) + 0;
        const gv = f32x4.splat(g);
        for (let r = rlo; r < rhi; r++) {
          const row = dx + (<usize>(r * W) << 2);
          let c = clo;
          for (; c + 4 <= chi; c += 4) v128.store(row + (<usize>c << 2), gv);
          for (; c < chi; c++) store<f32>(row + (<usize>c << 2), g);
        }
      }
      continue;
    }
    for (let i = 0; i < oh; i++) {
      const rlo = tab(tb, i), rhi = tab(tb, oh + i), rpad = tab(tb, 2 * oh + i);
      const simd = vec && rhi > rlo;
      if (simd) avgGradRow2x2(dx, W, rlo, rhi, pl, j0, j1, avgDivisor(mode, fixed, rhi - rlo, 2, rpad, 2), dy);
      for (let j = 0; j < ow; j++) {
        if (simd && j == j0) { j = j1 - 1; dy += <usize>(j1 - j0) << 2; continue; }
        const clo = tab(ct, j), chi = tab(ct, ow + j);
        if (rhi > rlo && chi > clo) {
          const g = <f64>load<f32>(dy) / avgDivisor(mode, fixed, rhi - rlo, chi - clo, rpad, tab(ct, 2 * ow + j));
          for (let r = rlo; r < rhi; r++) {
            const row = dx + (<usize>(r * W) << 2);
            for (let c = clo; c < chi; c++) {
              const d = row + (<usize>c << 2);
              store<f32>(d, <f32>(<f64>load<f32>(d) + g));
            }
          }
        }
        dy += 4;
      }
    }
  }
}
