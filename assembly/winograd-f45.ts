// The transforms of Winograd F(4x4, 5x5) (run by the jobs of assembly/winograd-f43.ts): 8x8 input
// tiles 4 apart, 64 GEMMs, 4 multiplies per output and (input, output) channel pair instead of 25
// (F(2x2, 5x5): 9). Interpolation points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity (those of
// NNPACK's F(6x6, 3x3)); scripts/winograd-matrices.py derives and checks the matrices:
//   B^T = [-1 0 21/4 0 -21/4 0 1 0; 0 1 1 -17/4 -17/4 1 1 0; 0 -1 1 17/4 -17/4 -1 1 0;
//          0 1/2 1/4 -5/2 -5/4 2 1 0; 0 -1/2 1/4 5/2 -5/4 -2 1 0; 0 2 4 -5/2 -5 1/2 1 0;
//          0 -2 4 5/2 -5 -1/2 1 0; 0 -1 0 21/4 0 -21/4 0 1]
//   G   = [-1 0 0 0 0; -2/9 -2/9 -2/9 -2/9 -2/9; -2/9 2/9 -2/9 2/9 -2/9;
//          1/90 1/45 2/45 4/45 8/45; 1/90 -1/45 2/45 -4/45 8/45; 32/45 16/45 8/45 4/45 2/45;
//          32/45 -16/45 8/45 -4/45 2/45; 0 0 0 0 1]
//   A^T = [1 1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 -1/2 0; 0 1 1 4 4 1/4 1/4 0; 0 1 -1 8 -8 1/8 -1/8 1]
// Float32 error, measured in numpy over 20 channels: 1.3e-5 of the output's scale (F(2x2, 5x5):
// 4e-6), which is why 5x5 layers take it only where it saves many multiplies.
import { finish } from './kernel';
import { storeRow4 } from './mem';
import { gatherTaps25 } from './winograd-f25';

// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }

/** B^T applied to x0..x7 (8 vectors, stored st bytes apart from o). */
// @ts-ignore: decorator
@inline export function storeBT8(o: usize, st: usize, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128): void {
  const k = sp(5.25), k17 = sp(4.25);
  v128.store(o, f32x4.add(f32x4.sub(x6, x0), f32x4.mul(f32x4.sub(x2, x4), k)));
  v128.store(o + 7 * st, f32x4.add(f32x4.sub(x7, x1), f32x4.mul(f32x4.sub(x3, x5), k)));
  const a = f32x4.sub(f32x4.add(x2, x6), f32x4.mul(x4, k17));
  const b = f32x4.sub(f32x4.add(x1, x5), f32x4.mul(x3, k17));
  v128.store(o + st, f32x4.add(a, b));
  v128.store(o + 2 * st, f32x4.sub(a, b));
  const c = f32x4.add(x6, f32x4.sub(f32x4.mul(x2, sp(0.25)), f32x4.mul(x4, sp(1.25))));
  const d = f32x4.add(f32x4.sub(f32x4.mul(x1, sp(0.5)), f32x4.mul(x3, sp(2.5))), f32x4.mul(x5, sp(2)));
  v128.store(o + 3 * st, f32x4.add(c, d));
  v128.store(o + 4 * st, f32x4.sub(c, d));
  const e = f32x4.add(x6, f32x4.mul(f32x4.sub(x2, f32x4.mul(x4, sp(1.25))), sp(4)));
  const f = f32x4.add(f32x4.sub(f32x4.mul(x1, sp(2)), f32x4.mul(x3, sp(2.5))), f32x4.mul(x5, sp(0.5)));
  v128.store(o + 5 * st, f32x4.add(e, f));
  v128.store(o + 6 * st, f32x4.sub(e, f));
}

// G applied to a..e (8 vectors, stored st bytes apart from o).
// @ts-ignore: decorator
@inline function storeG8(o: usize, st: usize, a: v128, b: v128, c: v128, d: v128, e: v128): void {
  const ace = f32x4.add(f32x4.add(a, c), e), bd = f32x4.add(b, d);
  const p0 = f32x4.add(f32x4.add(a, f32x4.mul(c, sp(4))), f32x4.mul(e, sp(16))), p1 = f32x4.add(f32x4.mul(b, sp(2)), f32x4.mul(d, sp(8)));
  const q0 = f32x4.add(f32x4.add(f32x4.mul(a, sp(16)), f32x4.mul(c, sp(4))), e), q1 = f32x4.add(f32x4.mul(b, sp(8)), f32x4.mul(d, sp(2)));
  const n29 = sp(<f32>(-2.0 / 9.0)), r90 = sp(<f32>(1.0 / 90.0)), r245 = sp(<f32>(2.0 / 45.0));
  v128.store(o, f32x4.neg(a));
  v128.store(o + st, f32x4.mul(f32x4.add(ace, bd), n29));
  v128.store(o + 2 * st, f32x4.mul(f32x4.sub(ace, bd), n29));
  v128.store(o + 3 * st, f32x4.mul(f32x4.add(p0, p1), r90));
  v128.store(o + 4 * st, f32x4.mul(f32x4.sub(p0, p1), r90));
  v128.store(o + 5 * st, f32x4.mul(f32x4.add(q0, q1), r245));
  v128.store(o + 6 * st, f32x4.mul(f32x4.sub(q0, q1), r245));
  v128.store(o + 7 * st, e);
}

/**
 * Filters 4t..4t+3 of g [K, C, 5, 5] (all channels; filters past K as zeros) into the 64-plane
 * panel at u (planes xs bytes apart), SIMD across the 4 filters. gt: 1040 bytes of scratch.
 */
export function filterPanel45(g: usize, C: i32, K: i32, t: i32, u: usize, xs: usize, gt: usize): void {
  const e = gt; // 25 vectors: tap j of the 4 filters
  const gg = gt + 400; // G g: 8 rows of 5 vectors
  for (let c = 0; c < C; c++) {
    gatherTaps25(g, C, K, t, c, e);
    for (let j = 0; j < 5; j++) {
      const q = e + <usize>(j << 4);
      storeG8(gg + <usize>(j << 4), 80, v128.load(q), v128.load(q, 80), v128.load(q, 160), v128.load(q, 240), v128.load(q, 320));
    }
    const dst = u + (<usize>(c * 4) << 2);
    for (let i = 0; i < 8; i++) {
      const r = gg + <usize>(i * 80);
      storeG8(dst + <usize>(i * 8) * xs, xs, v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v128.load(r, 64));
    }
  }
}

// A^T applied to m0..m7: the 4 outputs, through the epilogue.
// @ts-ignore: decorator
@inline function at0(m0: v128, s12: v128, s34: v128, s56: v128): v128 { return f32x4.add(f32x4.add(m0, s12), f32x4.add(s34, s56)); }
// @ts-ignore: decorator
@inline function at1(d12: v128, d34: v128, d56: v128): v128 { return f32x4.add(d12, f32x4.add(f32x4.mul(d34, sp(2)), f32x4.mul(d56, sp(0.5)))); }
// @ts-ignore: decorator
@inline function at2(s12: v128, s34: v128, s56: v128): v128 { return f32x4.add(s12, f32x4.add(f32x4.mul(s34, sp(4)), f32x4.mul(s56, sp(0.25)))); }
// @ts-ignore: decorator
@inline function at3(d12: v128, d34: v128, d56: v128, m7: v128): v128 {
  return f32x4.add(f32x4.add(d12, m7), f32x4.add(f32x4.mul(d34, sp(8)), f32x4.mul(d56, sp(0.125))));
}

/**
 * A^T M A of 4 tiles in a row (lanes; M's 64 planes mxi bytes apart from m) -> their 4x4
 * outputs, through the epilogue, into y (rows `rows` <= 4 of OW floats, `cols` columns from y).
 * gt: 512 bytes of scratch.
 */
// @ts-ignore: decorator
@inline export function outputs4x4of8(m: usize, mxi: usize, gt: usize, y: usize, OW: i32, rows: i32, cols: i32, sc: v128, b: v128, relu: bool): void {
  // A^T M: each column of M, 8 rows -> 4 (at gt, rows 128 bytes apart).
  for (let cj = 0; cj < 8; cj++) {
    const q = m + <usize>cj * mxi;
    const m0 = v128.load(q), m1 = v128.load(q + 8 * mxi), m2 = v128.load(q + 16 * mxi), m3 = v128.load(q + 24 * mxi);
    const m4 = v128.load(q + 32 * mxi), m5 = v128.load(q + 40 * mxi), m6 = v128.load(q + 48 * mxi), m7 = v128.load(q + 56 * mxi);
    const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2), s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
    const s56 = f32x4.add(m5, m6), d56 = f32x4.sub(m5, m6);
    const o = gt + <usize>(cj << 4);
    v128.store(o, at0(m0, s12, s34, s56));
    v128.store(o, at1(d12, d34, d56), 128);
    v128.store(o, at2(s12, s34, s56), 256);
    v128.store(o, at3(d12, d34, d56, m7), 384);
  }
  // Then each row -> 4 outputs per tile.
  for (let r = 0; r < rows; r++) {
    const q = gt + <usize>(r * 128);
    const m0 = v128.load(q), m1 = v128.load(q, 16), m2 = v128.load(q, 32), m3 = v128.load(q, 48);
    const m4 = v128.load(q, 64), m5 = v128.load(q, 80), m6 = v128.load(q, 96), m7 = v128.load(q, 112);
    const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2), s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
    const s56 = f32x4.add(m5, m6), d56 = f32x4.sub(m5, m6);
    storeRow4(y + (<usize>(r * OW) << 2),
      finish(at0(m0, s12, s34, s56), sc, b, relu), finish(at1(d12, d34, d56), sc, b, relu),
      finish(at2(s12, s34, s56), sc, b, relu), finish(at3(d12, d34, d56, m7), sc, b, relu), cols);
  }
}

/** A (8x4: A^T's transpose) applied to d0..d3 (a row or column of a 4x4 dy tile), 8 vectors st bytes apart. */
// @ts-ignore: decorator
@inline export function storeA8(o: usize, st: usize, d0: v128, d1: v128, d2: v128, d3: v128): void {
  const e = f32x4.add(d0, d2), od = f32x4.add(d1, d3);
  const e4 = f32x4.add(d0, f32x4.mul(d2, sp(4))), o4 = f32x4.add(f32x4.mul(d1, sp(2)), f32x4.mul(d3, sp(8)));
  const e14 = f32x4.add(d0, f32x4.mul(d2, sp(0.25))), o14 = f32x4.add(f32x4.mul(d1, sp(0.5)), f32x4.mul(d3, sp(0.125)));
  v128.store(o, d0);
  v128.store(o + st, f32x4.add(e, od));
  v128.store(o + 2 * st, f32x4.sub(e, od));
  v128.store(o + 3 * st, f32x4.add(e4, o4));
  v128.store(o + 4 * st, f32x4.sub(e4, o4));
  v128.store(o + 5 * st, f32x4.add(e14, o14));
  v128.store(o + 6 * st, f32x4.sub(e14, o14));
  v128.store(o + 7 * st, d3);
}

/** G^T (5x8) applied to m0..m7, 5 vectors st bytes apart. */
// @ts-ignore: decorator
@inline export function storeGT8(o: usize, st: usize, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, m6: v128, m7: v128): void {
  const s12 = f32x4.mul(f32x4.add(m1, m2), sp(<f32>(-2.0 / 9.0))), d12 = f32x4.mul(f32x4.sub(m1, m2), sp(<f32>(-2.0 / 9.0)));
  const s34 = f32x4.mul(f32x4.add(m3, m4), sp(<f32>(1.0 / 90.0))), d34 = f32x4.mul(f32x4.sub(m3, m4), sp(<f32>(1.0 / 90.0)));
  const s56 = f32x4.mul(f32x4.add(m5, m6), sp(<f32>(2.0 / 45.0))), d56 = f32x4.mul(f32x4.sub(m5, m6), sp(<f32>(2.0 / 45.0)));
  // The coefficients as multiples of 1/90 (s34, d34) and 2/45 (s56, d56).
  v128.store(o, f32x4.add(f32x4.sub(s12, m0), f32x4.add(s34, f32x4.mul(s56, sp(16)))));
  v128.store(o + st, f32x4.add(d12, f32x4.add(f32x4.mul(d34, sp(2)), f32x4.mul(d56, sp(8)))));
  v128.store(o + 2 * st, f32x4.add(s12, f32x4.add(f32x4.mul(s34, sp(4)), f32x4.mul(s56, sp(4)))));
  v128.store(o + 3 * st, f32x4.add(d12, f32x4.add(f32x4.mul(d34, sp(8)), f32x4.mul(d56, sp(2)))));
  v128.store(o + 4 * st, f32x4.add(f32x4.add(s12, m7), f32x4.add(f32x4.mul(s34, sp(16)), s56)));
}
