// The parts of Winograd F(2x2, 5x5) that differ from F(4x4, 3x3) (assembly/winograd-f43.ts, whose
// jobs run both): the filter transform and the output transform. Both take the same six
// interpolation points, 0, 1, -1, 1/2, -2 and infinity, so they share B^T and its input
// transform (6x6 tiles, here 2 apart) and the 36 GEMMs; G and A^T follow from the points (the
// Toom-Cook construction; scripts/winograd-matrices.py derives and checks them):
//   G   = [1 0 0 0 0; 1/3 1/3 1/3 1/3 1/3; -1/3 1/3 -1/3 1/3 -1/3;
//          -16/15 -8/15 -4/15 -2/15 -1/15; 1/15 -2/15 4/15 -8/15 16/15; 0 0 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 1/2 -2 1]
// 9 multiplies per output and (input, output) channel pair instead of 25. Float32 error, measured
// in numpy over 20 channels: 3-4e-6 of the output's scale (direct summation: 5e-7).
import { finish } from './kernel';
import { storeLanes } from './mem';

// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }

// G applied to a..e (6 vectors, stored st bytes apart from o).
// @ts-ignore: decorator
@inline function storeG5(o: usize, st: usize, a: v128, b: v128, c: v128, d: v128, e: v128): void {
  const third = sp(<f32>(1.0 / 3.0)), fifteenth = sp(<f32>(1.0 / 15.0));
  const ace = f32x4.add(f32x4.add(a, c), e), bd = f32x4.add(b, d);
  v128.store(o, a);
  v128.store(o + st, f32x4.mul(f32x4.add(ace, bd), third));
  v128.store(o + 2 * st, f32x4.mul(f32x4.sub(bd, ace), third));
  // -(16a + 8b + 4c + 2d + e) / 15 and (a - 2b + 4c - 8d + 16e) / 15, Horner-style.
  const two = sp(2);
  const p = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(a, two), b), two), c), two), d), two), e);
  const q = f32x4.sub(a, f32x4.mul(f32x4.sub(b, f32x4.mul(f32x4.sub(c, f32x4.mul(f32x4.sub(d, f32x4.mul(e, two)), two)), two)), two));
  v128.store(o + 3 * st, f32x4.mul(p, sp(<f32>(-1.0 / 15.0))));
  v128.store(o + 4 * st, f32x4.mul(q, fifteenth));
  v128.store(o + 5 * st, e);
}

/** Channel c of filters 4t..4t+3 of g [K, C, 5, 5] as 25 vectors at e (tap j, lanes the filters; zeros past K). */
export function gatherTaps25(g: usize, C: i32, K: i32, t: i32, c: i32, e: usize): void {
  for (let l = 0; l < 4; l++) {
    const k = t * 4 + l;
    const o = e + <usize>(l << 2);
    if (k < K) {
      const p = g + (<usize>((k * C + c) * 25) << 2);
      for (let j = 0; j < 25; j++) store<f32>(o + <usize>(j << 4), load<f32>(p + (<usize>j << 2)));
    } else {
      for (let j = 0; j < 25; j++) store<f32>(o + <usize>(j << 4), 0);
    }
  }
}

/**
 * Filters 4t..4t+3 of g [K, C, 5, 5] (all channels; filters past K as zeros) into the 36-plane
 * panel at u (planes xs bytes apart), SIMD across the 4 filters. gt: 880 bytes of scratch.
 */
export function filterPanel25(g: usize, C: i32, K: i32, t: i32, u: usize, xs: usize, gt: usize): void {
  const e = gt; // 25 vectors: tap j of the 4 filters
  const gg = gt + 400; // G g: 6 rows of 5 vectors
  for (let c = 0; c < C; c++) {
    gatherTaps25(g, C, K, t, c, e);
    // G g: each column of g (taps j, 5 + j, ..) through G.
    for (let j = 0; j < 5; j++) {
      const q = e + <usize>(j << 4);
      storeG5(gg + <usize>(j << 4), 80, v128.load(q), v128.load(q, 80), v128.load(q, 160), v128.load(q, 240), v128.load(q, 320));
    }
    // (G g) G^T: each row through G, into planes 6i..6i+5.
    const dst = u + (<usize>(c * 4) << 2);
    for (let i = 0; i < 6; i++) {
      const r = gg + <usize>(i * 80);
      storeG5(dst + <usize>(i * 6) * xs, xs, v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v128.load(r, 64));
    }
  }
}

/**
 * A^T M A of 4 tiles in a row (lanes; M's 36 planes mxi bytes apart from m) -> their 2x2
 * outputs, through the epilogue, into y (rows `rows` <= 2 of OW floats, `cols` columns from y).
 * gt: 192 bytes of scratch.
 */
// @ts-ignore: decorator
@inline export function outputs2x2(m: usize, mxi: usize, gt: usize, y: usize, OW: i32, rows: i32, cols: i32, sc: v128, b: v128, relu: bool): void {
  const half = sp(0.5), two = sp(2);
  // A^T M: each column of M, 6 rows -> 2 (at gt, rows 96 bytes apart).
  for (let cj = 0; cj < 6; cj++) {
    const q = m + <usize>cj * mxi;
    const m0 = v128.load(q), m1 = v128.load(q + 6 * mxi), m2 = v128.load(q + 12 * mxi);
    const m3 = v128.load(q + 18 * mxi), m4 = v128.load(q + 24 * mxi), m5 = v128.load(q + 30 * mxi);
    const o = gt + <usize>(cj << 4);
    v128.store(o, f32x4.add(f32x4.add(m0, f32x4.add(m1, m2)), f32x4.add(m3, m4)));
    v128.store(o, f32x4.add(f32x4.add(f32x4.sub(m1, m2), m5), f32x4.sub(f32x4.mul(m3, half), f32x4.mul(m4, two))), 96);
  }
  // Then each row -> 2 outputs per tile, interleaved back into pixel order.
  for (let r = 0; r < rows; r++) {
    const q = gt + <usize>(r * 96);
    const m0 = v128.load(q), m1 = v128.load(q, 16), m2 = v128.load(q, 32);
    const m3 = v128.load(q, 48), m4 = v128.load(q, 64), m5 = v128.load(q, 80);
    const y0 = finish(f32x4.add(f32x4.add(m0, f32x4.add(m1, m2)), f32x4.add(m3, m4)), sc, b, relu);
    const y1 = finish(f32x4.add(f32x4.add(f32x4.sub(m1, m2), m5), f32x4.sub(f32x4.mul(m3, half), f32x4.mul(m4, two))), sc, b, relu);
    const lo = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5), hi = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
    const d = y + (<usize>(r * OW) << 2);
    storeLanes(d, lo, cols);
    if (cols > 4) storeLanes(d + 16, hi, cols - 4);
  }
}
