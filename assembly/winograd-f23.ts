// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray, 2015): each 2x2 output
// tile costs 16 multiplies per (input, output) channel pair instead of 36.
//   U = G g G^T  (filters, 4x4 each),  V = B^T d B  (4x4 input tiles),  Y = A^T (U . V) A
// The 16 element-wise products summed over channels are 16 GEMMs, M_xi = U_xi V_xi, run on the
// same micro-kernel as everything else: U is stored as packed A panels and the input transform
// writes V directly as packed B panels (tiles are the GEMM's columns).
//
// One task is a band of tile rows of one image: it pads the band's input rows into a slab,
// transforms them (SIMD across 4 horizontally adjacent tiles), runs the 16 GEMMs per block of
// output channels, and transforms back with bias and ReLU fused. Everything a task touches
// stays in its own scratch, in L2. Tiles per row are padded to a multiple of 8 (one B panel
// never spans two rows); the padded tiles compute garbage that is never stored.
import { copyFloats, storeTransposed4, zeroFloats } from './mem';
import { arg } from './job';
import { kernel4x8 } from './kernel';
import { outputsOf, D23 } from './winograd-f43';

export const W_X = 0, W_U = 1, W_Y = 2, W_BIAS = 3, W_RELU = 4, W_N = 5, W_C = 6, W_K = 7;
export const W_H = 8, W_W = 9, W_OH = 10, W_OW = 11, W_PT = 12, W_PL = 13;
export const W_TH = 14, W_TWP = 15, W_ROWS = 16, W_TPI = 17, W_WP = 18, W_KB = 19, W_KP = 20, W_G = 21;
export const W_SCALE = 27; // per-output-channel multipliers before the bias (0: none)

// Bytes between the xi planes of V and U: `floats` and one cache line more,
// so the 16 stores of one transformed tile (or filter) do not all land in one L1 set (a plane
// of 512 channels is a multiple of 4 KB).
// @ts-ignore: decorator
@inline function flatPlane(floats: i32): usize {
  return <usize>(floats + 16) << 2;
}

// Scratch layout of a task: tmp (512 bytes), then slab, V and M, sized from the arguments.
function slabBytes(job: usize): usize {
  return <usize>(arg(job, W_C) * (2 * arg(job, W_ROWS) + 2) * arg(job, W_WP)) << 2;
}
function vBytes(job: usize): usize {
  return 16 * flatPlane(arg(job, W_C) * arg(job, W_ROWS) * arg(job, W_TWP));
}

// @ts-ignore: decorator
@inline function even(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 0, 2, 4, 6); }
// @ts-ignore: decorator
@inline function odd(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 1, 3, 5, 7); }

// Slab channels 0..cn-1 are V's channels c0..c0+cn-1 (of C); slab tile (ry, tx) is V's tile
// t0 + ry * twp + tx (t0 a multiple of 4).
// With `scale`, V[xi] is multiplied by d_i d_j (see filterPanel): filters transformed without
// the halves.
function inputTransform(slab: usize, wp: i32, sr: i32, c0: i32, cn: i32, C: i32, rows: i32, twp: i32, t0: i32, v: usize, xiStride: usize, scale: bool): void {
  const rs = <usize>wp << 2;
  const h = f32x4.splat(scale ? 0.5 : 1), q = f32x4.splat(scale ? 0.25 : 1);
  for (let cl = 0; cl < cn; cl++) {
    const c = c0 + cl;
    for (let ry = 0; ry < rows; ry++) {
      const base = slab + (<usize>((cl * sr + 2 * ry) * wp) << 2);
      for (let tx = 0; tx < twp; tx += 4) {
        const t = t0 + ry * twp + tx;
        let p = base + (<usize>(2 * tx) << 2);
        // Row r of 4 adjacent tiles: x0..x3 are the tiles' columns (stride-2 deinterleave),
        // d B = [x0-x2, x1+x2, x2-x1, x1-x3]; then B^T (d B) combines the four rows.
        let a = v128.load(p), b = v128.load(p, 16), a2 = v128.load(p, 8), b2 = v128.load(p, 24);
        let x0 = even(a, b), x1 = odd(a, b), x2 = even(a2, b2), x3 = odd(a2, b2);
        const t00 = f32x4.sub(x0, x2), t01 = f32x4.add(x1, x2), t02 = f32x4.sub(x2, x1), t03 = f32x4.sub(x1, x3);
        p += rs;
        a = v128.load(p); b = v128.load(p, 16); a2 = v128.load(p, 8); b2 = v128.load(p, 24);
        x0 = even(a, b); x1 = odd(a, b); x2 = even(a2, b2); x3 = odd(a2, b2);
        const t10 = f32x4.sub(x0, x2), t11 = f32x4.add(x1, x2), t12 = f32x4.sub(x2, x1), t13 = f32x4.sub(x1, x3);
        p += rs;
        a = v128.load(p); b = v128.load(p, 16); a2 = v128.load(p, 8); b2 = v128.load(p, 24);
        x0 = even(a, b); x1 = odd(a, b); x2 = even(a2, b2); x3 = odd(a2, b2);
        const t20 = f32x4.sub(x0, x2), t21 = f32x4.add(x1, x2), t22 = f32x4.sub(x2, x1), t23 = f32x4.sub(x1, x3);
        // V[xi] lives at ((xi * panels + panel) * C + c) * 8 + half * 4 floats.
        const dst = v + (<usize>(((t >> 3) * C + c) * 8 + (t & 4)) << 2);
        v128.store(dst, f32x4.sub(t00, t20));
        v128.store(dst + xiStride, f32x4.mul(f32x4.sub(t01, t21), h));
        v128.store(dst + 2 * xiStride, f32x4.mul(f32x4.sub(t02, t22), h));
        v128.store(dst + 3 * xiStride, f32x4.sub(t03, t23));
        v128.store(dst + 4 * xiStride, f32x4.mul(f32x4.add(t10, t20), h));
        v128.store(dst + 5 * xiStride, f32x4.mul(f32x4.add(t11, t21), q));
        v128.store(dst + 6 * xiStride, f32x4.mul(f32x4.add(t12, t22), q));
        v128.store(dst + 7 * xiStride, f32x4.mul(f32x4.add(t13, t23), h));
        v128.store(dst + 8 * xiStride, f32x4.mul(f32x4.sub(t20, t10), h));
        v128.store(dst + 9 * xiStride, f32x4.mul(f32x4.sub(t21, t11), q));
        v128.store(dst + 10 * xiStride, f32x4.mul(f32x4.sub(t22, t12), q));
        v128.store(dst + 11 * xiStride, f32x4.mul(f32x4.sub(t23, t13), h));
        p += rs;
        a = v128.load(p); b = v128.load(p, 16); a2 = v128.load(p, 8); b2 = v128.load(p, 24);
        x0 = even(a, b); x1 = odd(a, b); x2 = even(a2, b2); x3 = odd(a2, b2);
        v128.store(dst + 12 * xiStride, f32x4.sub(t10, f32x4.sub(x0, x2)));
        v128.store(dst + 13 * xiStride, f32x4.mul(f32x4.sub(t11, f32x4.add(x1, x2)), h));
        v128.store(dst + 14 * xiStride, f32x4.mul(f32x4.sub(t12, f32x4.sub(x2, x1)), h));
        v128.store(dst + 15 * xiStride, f32x4.sub(t13, f32x4.sub(x1, x3)));
      }
    }
  }
}

// @ts-ignore: decorator
@inline export function colA0(m: usize, s: usize, j: i32): v128 {
  // (A^T M)[0][j] = m0j + m1j + m2j
  return f32x4.add(f32x4.add(v128.load(m + <usize>j * s), v128.load(m + <usize>(4 + j) * s)), v128.load(m + <usize>(8 + j) * s));
}
// @ts-ignore: decorator
@inline export function colA1(m: usize, s: usize, j: i32): v128 {
  // (A^T M)[1][j] = m1j - m2j - m3j
  return f32x4.sub(f32x4.sub(v128.load(m + <usize>(4 + j) * s), v128.load(m + <usize>(8 + j) * s)), v128.load(m + <usize>(12 + j) * s));
}

// @ts-ignore: decorator
@inline export function storeRow(dst: usize, y0: v128, y1: v128, cols: i32): void {
  // Interleave the two output columns of 4 tiles: [t0c0 t0c1 t1c0 t1c1 | t2c0 t2c1 t3c0 t3c1].
  const lo = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5), hi = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
  if (cols >= 8) { v128.store(dst, lo); v128.store(dst, hi, 16); return; }
  // Right edge of the image: only the columns that exist.
  if (cols > 0) store<f32>(dst, f32x4.extract_lane(lo, 0));
  if (cols > 1) store<f32>(dst, f32x4.extract_lane(lo, 1), 4);
  if (cols > 2) store<f32>(dst, f32x4.extract_lane(lo, 2), 8);
  if (cols > 3) store<f32>(dst, f32x4.extract_lane(lo, 3), 12);
  if (cols > 4) store<f32>(dst, f32x4.extract_lane(hi, 0), 16);
  if (cols > 5) store<f32>(dst, f32x4.extract_lane(hi, 1), 20);
  if (cols > 6) store<f32>(dst, f32x4.extract_lane(hi, 2), 24);
}

export function winogradTask(job: usize, t: i32, s: usize): void {
  const C = arg(job, W_C), K = arg(job, W_K), H = arg(job, W_H), Wd = arg(job, W_W);
  const OH = arg(job, W_OH), OW = arg(job, W_OW), pt = arg(job, W_PT), pl = arg(job, W_PL);
  const th = arg(job, W_TH), twp = arg(job, W_TWP), rpt = arg(job, W_ROWS), tpi = arg(job, W_TPI);
  const wp = arg(job, W_WP), KB = arg(job, W_KB), Kp = arg(job, W_KP);
  const n = t / tpi, ty0 = (t - n * tpi) * rpt;
  const rows = min(rpt, th - ty0);
  const sr = 2 * rows + 2;
  const tb = rows * twp, panels = tb >> 3;
  const tmp = s;
  const slab = s + 512;
  const v = slab + slabBytes(job);
  const mb = v + vBytes(job);

  // 1. Zero-padded slab of the band's input rows, all channels.
  const x = <usize>arg(job, W_X) + (<usize>(n * C * H * Wd) << 2);
  const ncopy = min(Wd, wp - pl);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < sr; r++) {
      const dst = slab + (<usize>((c * sr + r) * wp) << 2);
      const y = 2 * ty0 + r - pt;
      zeroFloats(dst, wp);
      if (y >= 0 && y < H && ncopy > 0) copyFloats(dst + (<usize>pl << 2), x + (<usize>((c * H + y) * Wd) << 2), ncopy);
    }
  }
  // 2. Input transform straight into packed B panels.
  inputTransform(slab, wp, sr, 0, C, C, rows, twp, 0, v, flatPlane(panels * C * 8), false);

  // 3. Per block of output channels: 16 GEMMs, then the output transform.
  const u = <usize>arg(job, W_U);
  const yBase = <usize>arg(job, W_Y) + (<usize>(n * K * OH * OW) << 2);
  const biasPtr = <usize>arg(job, W_BIAS);
  const scalePtr = <usize>arg(job, W_SCALE);
  const relu = arg(job, W_RELU) != 0;
  const mxi = <usize>(KB * tb) << 2; // bytes between xi planes of M
  for (let kb = 0; kb < Kp; kb += KB) {
    const kbn = min(KB, Kp - kb);
    for (let xi = 0; xi < 16; xi++) {
      const vx = v + <usize>xi * flatPlane(panels * C * 8);
      const ux = u + <usize>xi * flatPlane(Kp * C) + (<usize>(kb * C) << 2);
      const mx = mb + <usize>xi * mxi;
      for (let pn = 0; pn < panels; pn++) {
        const vb = vx + (<usize>(pn * C * 8) << 2);
        for (let kp = 0; kp < kbn; kp += 4) {
          kernel4x8(C, ux + (<usize>(kp * C) << 2), vb, 32, mx + (<usize>(kp * tb + pn * 8) << 2), tb, 4, 8, 0, 0, 0, tmp);
        }
      }
    }
    for (let kk = 0; kk < kbn && kb + kk < K; kk++) {
      const k = kb + kk;
      const sc = scalePtr ? load<f32>(scalePtr + (<usize>k << 2)) : 1, bk = biasPtr ? load<f32>(biasPtr + (<usize>k << 2)) : 0;
      const yk = yBase + (<usize>(k * OH * OW) << 2);
      for (let ry = 0; ry < rows; ry++) {
        const oy = 2 * (ty0 + ry);
        for (let tx = 0; tx < twp; tx += 4) {
          const ox = 2 * tx;
          if (ox >= OW) break;
          outputsOf(D23, mb + (<usize>(kk * tb + ry * twp + tx) << 2), mxi, 0, yk + (<usize>(oy * OW + ox) << 2), OW, min(2, OH - oy), OW - ox, sc, bk, relu);
        }
      }
    }
  }
}

/**
 * Filter transform for one panel of 4 output channels: U[xi][panel][c][lane] = (G g G^T)[xi].
 * SIMD across the 4 filters of the panel; filters past K are zero.
 */
export function filterTask(job: usize, t: i32): void {
  const C = arg(job, W_C), K = arg(job, W_K), Kp = arg(job, W_KP);
  filterPanel(<usize>arg(job, W_G), C, K, t, <usize>arg(job, W_U) + (<usize>(t * C * 4) << 2), flatPlane(Kp * C), 0, true);
}

/**
 * Filters 4t..4t+3 of g [K, C, 3, 3], channels c0.., transformed into the panel at u (xi planes
 * xs bytes apart). Without `half`, U' = G' g G'^T with G' = 2 G's halves taken out (rows 1 and 2
 * doubled): U'[xi] = U[xi] / (d_i d_j), d = [1, 1/2, 1/2, 1], which the input transform puts
 * back into V instead (scaling by powers of two is exact: the same products, bit for bit).
 */
function filterPanel(g: usize, C: i32, K: i32, t: i32, u: usize, xs: usize, c0: i32, half: bool): void {
  for (let c = c0; c < C; c++) {
    // g[i][j] for the 4 filters, as 9 vectors (rows i of 3 taps).
    let g0 = f32x4.splat(0), g1 = g0, g2 = g0, g3 = g0, g4 = g0, g5 = g0, g6 = g0, g7 = g0, g8 = g0;
    for (let l = 0; l < 4; l++) {
      const k = t * 4 + l;
      if (k >= K) break;
      const p = g + (<usize>((k * C + c) * 9) << 2);
      const v0 = v128.load(p), v1 = v128.load(p, 16), v8 = load<f32>(p, 32);
      // Lane l of each of the 9 vectors (replace_lane needs constant lanes, hence the switch).
      if (l == 0) {
        g0 = f32x4.replace_lane(g0, 0, f32x4.extract_lane(v0, 0)); g1 = f32x4.replace_lane(g1, 0, f32x4.extract_lane(v0, 1));
        g2 = f32x4.replace_lane(g2, 0, f32x4.extract_lane(v0, 2)); g3 = f32x4.replace_lane(g3, 0, f32x4.extract_lane(v0, 3));
        g4 = f32x4.replace_lane(g4, 0, f32x4.extract_lane(v1, 0)); g5 = f32x4.replace_lane(g5, 0, f32x4.extract_lane(v1, 1));
        g6 = f32x4.replace_lane(g6, 0, f32x4.extract_lane(v1, 2)); g7 = f32x4.replace_lane(g7, 0, f32x4.extract_lane(v1, 3));
        g8 = f32x4.replace_lane(g8, 0, v8);
      } else if (l == 1) {
        g0 = f32x4.replace_lane(g0, 1, f32x4.extract_lane(v0, 0)); g1 = f32x4.replace_lane(g1, 1, f32x4.extract_lane(v0, 1));
        g2 = f32x4.replace_lane(g2, 1, f32x4.extract_lane(v0, 2)); g3 = f32x4.replace_lane(g3, 1, f32x4.extract_lane(v0, 3));
        g4 = f32x4.replace_lane(g4, 1, f32x4.extract_lane(v1, 0)); g5 = f32x4.replace_lane(g5, 1, f32x4.extract_lane(v1, 1));
        g6 = f32x4.replace_lane(g6, 1, f32x4.extract_lane(v1, 2)); g7 = f32x4.replace_lane(g7, 1, f32x4.extract_lane(v1, 3));
        g8 = f32x4.replace_lane(g8, 1, v8);
      } else if (l == 2) {
        g0 = f32x4.replace_lane(g0, 2, f32x4.extract_lane(v0, 0)); g1 = f32x4.replace_lane(g1, 2, f32x4.extract_lane(v0, 1));
        g2 = f32x4.replace_lane(g2, 2, f32x4.extract_lane(v0, 2)); g3 = f32x4.replace_lane(g3, 2, f32x4.extract_lane(v0, 3));
        g4 = f32x4.replace_lane(g4, 2, f32x4.extract_lane(v1, 0)); g5 = f32x4.replace_lane(g5, 2, f32x4.extract_lane(v1, 1));
        g6 = f32x4.replace_lane(g6, 2, f32x4.extract_lane(v1, 2)); g7 = f32x4.replace_lane(g7, 2, f32x4.extract_lane(v1, 3));
        g8 = f32x4.replace_lane(g8, 2, v8);
      } else {
        g0 = f32x4.replace_lane(g0, 3, f32x4.extract_lane(v0, 0)); g1 = f32x4.replace_lane(g1, 3, f32x4.extract_lane(v0, 1));
        g2 = f32x4.replace_lane(g2, 3, f32x4.extract_lane(v0, 2)); g3 = f32x4.replace_lane(g3, 3, f32x4.extract_lane(v0, 3));
        g4 = f32x4.replace_lane(g4, 3, f32x4.extract_lane(v1, 0)); g5 = f32x4.replace_lane(g5, 3, f32x4.extract_lane(v1, 1));
        g6 = f32x4.replace_lane(g6, 3, f32x4.extract_lane(v1, 2)); g7 = f32x4.replace_lane(g7, 3, f32x4.extract_lane(v1, 3));
        g8 = f32x4.replace_lane(g8, 3, v8);
      }
    }
    storeU(u + (<usize>(c * 4) << 2), xs, g0, g1, g2, g3, g4, g5, g6, g7, g8, half);
  }
}

// @ts-ignore: decorator
@inline function storeU(dst: usize, xs: usize, g0: v128, g1: v128, g2: v128, g3: v128, g4: v128, g5: v128, g6: v128, g7: v128, g8: v128, half: bool): void {
  if (half) {
    const hv = f32x4.splat(0.5);
    // Rows of G g (4 rows x 3 columns): r0 = g row0, r1 = (g0+g1+g2)/2, r2 = (g0-g1+g2)/2, r3 = g row2.
    const s0 = f32x4.mul(f32x4.add(g0, g6), hv), s1 = f32x4.mul(f32x4.add(g1, g7), hv), s2 = f32x4.mul(f32x4.add(g2, g8), hv);
    const h0 = f32x4.mul(g3, hv), h1 = f32x4.mul(g4, hv), h2 = f32x4.mul(g5, hv);
    // r[i] = [a, b, c]; U row i = [a, (a+b+c)/2, (a-b+c)/2, c]
    storeURow(dst, xs, 0, g0, g1, g2, hv);
    storeURow(dst, xs, 1, f32x4.add(s0, h0), f32x4.add(s1, h1), f32x4.add(s2, h2), hv);
    storeURow(dst, xs, 2, f32x4.sub(s0, h0), f32x4.sub(s1, h1), f32x4.sub(s2, h2), hv);
    storeURow(dst, xs, 3, g6, g7, g8, hv);
  } else {
    const s0 = f32x4.add(g0, g6), s1 = f32x4.add(g1, g7), s2 = f32x4.add(g2, g8);
    storeURowInt(dst, xs, 0, g0, g1, g2);
    storeURowInt(dst, xs, 1, f32x4.add(s0, g3), f32x4.add(s1, g4), f32x4.add(s2, g5));
    storeURowInt(dst, xs, 2, f32x4.sub(s0, g3), f32x4.sub(s1, g4), f32x4.sub(s2, g5));
    storeURowInt(dst, xs, 3, g6, g7, g8);
  }
}

// @ts-ignore: decorator
@inline function storeURowInt(dst: usize, xs: usize, i: i32, a: v128, b: v128, c: v128): void {
  const ac = f32x4.add(a, c);
  v128.store(dst + <usize>(i * 4) * xs, a);
  v128.store(dst + <usize>(i * 4 + 1) * xs, f32x4.add(ac, b));
  v128.store(dst + <usize>(i * 4 + 2) * xs, f32x4.sub(ac, b));
  v128.store(dst + <usize>(i * 4 + 3) * xs, c);
}

/**
 * filterPanel without halves, 4 channels at a time where the 4 filters exist: each filter's 36
 * taps of 4 channels are contiguous, so 9 4x4 transposes (through `gt`, 576 bytes) replace
 * the lane-by-lane gather.
 */
export function filterPanelFast(g: usize, C: i32, K: i32, t: i32, u: usize, xs: usize, gt: usize): void {
  let c = 0;
  if (t * 4 + 4 <= K) {
    const fs = <usize>(C * 9) << 2; // bytes between filters
    for (; c + 4 <= C; c += 4) {
      const p0 = g + (<usize>((t * 4 * C + c) * 9) << 2);
      for (let j = 0; j < 9; j++) {
        const q = p0 + (<usize>j << 4);
        const a = v128.load(q), b = v128.load(q + fs), cc = v128.load(q + 2 * fs), d = v128.load(q + 3 * fs);
        storeTransposed4(gt + (<usize>j << 6), a, b, cc, d);
      }
      for (let cl = 0; cl < 4; cl++) {
        const e = gt + <usize>(cl * 144);
        storeU(u + (<usize>((c + cl) * 4) << 2), xs,
          v128.load(e), v128.load(e, 16), v128.load(e, 32), v128.load(e, 48), v128.load(e, 64),
          v128.load(e, 80), v128.load(e, 96), v128.load(e, 112), v128.load(e, 128), false);
      }
    }
  }
  if (c < C) filterPanel(g, C, K, t, u, xs, c, false);
}

// @ts-ignore: decorator
@inline function storeURow(dst: usize, xs: usize, i: i32, a: v128, b: v128, c: v128, half: v128): void {
  const ac = f32x4.mul(f32x4.add(a, c), half), hb = f32x4.mul(b, half);
  v128.store(dst + <usize>(i * 4) * xs, a);
  v128.store(dst + <usize>(i * 4 + 1) * xs, f32x4.add(ac, hb));
  v128.store(dst + <usize>(i * 4 + 2) * xs, f32x4.sub(ac, hb));
  v128.store(dst + <usize>(i * 4 + 3) * xs, c);
}

// ---------------------------------------------------------------------------------------------
// Flat layout, for small images (7x7, 14x14) and their batches: the tiles of all images are
// numbered across rows and images (each tile row padded to a multiple of 4 tiles, not 8), so
// the GEMMs' 8-wide tile panels are full, and the work is split over blocks of output channels
// rather than bands of rows: each block transforms its own filters (U never goes to memory,
// which for 512 channels is 16 MB against 9.4 MB of weights) and runs the 16 GEMMs over all
// tiles, chunk by chunk. Two jobs: the input transform into V (inputFlatTask), then the blocks
// (flatTask). Every output is summed over channels in one fixed order whatever the split.
export const W_V = 22, W_TW4 = 23, W_PANELS = 24, W_TC = 25, W_CC = 26;


/** V of image n, channels cc*(t%per)..: a task is one image and a chunk of its channels. */
export function inputFlatTask(job: usize, t: i32, s: usize): void {
  const C = arg(job, W_C), H = arg(job, W_H), Wd = arg(job, W_W), pt = arg(job, W_PT), pl = arg(job, W_PL);
  const th = arg(job, W_TH), tw4 = arg(job, W_TW4), wp = arg(job, W_WP), cc = arg(job, W_CC);
  const per = (C + cc - 1) / cc;
  const n = t / per, c0 = (t - n * per) * cc, cn = min(cc, C - c0);
  const sr = 2 * th + 2;
  const x = <usize>arg(job, W_X) + (<usize>((n * C + c0) * H * Wd) << 2);
  const ncopy = min(Wd, wp - pl);
  for (let c = 0; c < cn; c++) {
    for (let r = 0; r < sr; r++) {
      const dst = s + (<usize>((c * sr + r) * wp) << 2);
      const y = r - pt;
      zeroFloats(dst, wp);
      if (y >= 0 && y < H && ncopy > 0) copyFloats(dst + (<usize>pl << 2), x + (<usize>((c * H + y) * Wd) << 2), ncopy);
    }
  }
  inputTransform(s, wp, sr, c0, cn, C, th, tw4, n * th * tw4, <usize>arg(job, W_V), flatPlane(arg(job, W_PANELS) * C * 8), true);
}

/** Output channels KB*t..: their filters' transform, the 16 GEMMs and the output transform. */
/**
 * The flat layouts' GEMMs (F(2x2): 16 xi planes, F(4x4): 36) over panels p0..pn1 of tiles:
 * M[xi][k][tile] = U[xi][k][c] x V[xi][c][tile] for the kbn filters of a block.
 */
// @ts-ignore: decorator
@inline export function planeGemms(
  planes: i32, v: usize, vxs: usize, ub: usize, uxs: usize, mb: usize, mxi: usize,
  kbn: i32, C: i32, p0: i32, pn1: i32, TC: i32, tmp: usize,
): void {
  for (let xi = 0; xi < planes; xi++) {
    const vx = v + <usize>xi * vxs;
    const ux = ub + <usize>xi * uxs;
    const mx = mb + <usize>xi * mxi;
    for (let kp = 0; kp < kbn; kp += 4) {
      const ua = ux + (<usize>(kp * C) << 2);
      for (let pn = p0; pn < pn1; pn++) {
        kernel4x8(C, ua, vx + (<usize>(pn * C * 8) << 2), 32, mx + (<usize>(kp * TC + (pn - p0) * 8) << 2), TC, 4, 8, 0, 0, 0, tmp);
      }
    }
  }
}

export function flatTask(job: usize, t: i32, s: usize): void {
  const C = arg(job, W_C), K = arg(job, W_K), OH = arg(job, W_OH), OW = arg(job, W_OW);
  const th = arg(job, W_TH), tw4 = arg(job, W_TW4), KB = arg(job, W_KB), Kp = arg(job, W_KP);
  const panels = arg(job, W_PANELS), TC = arg(job, W_TC), N = arg(job, W_N);
  const k0 = t * KB, kbn = min(KB, Kp - k0);
  const tmp = s; // 128 bytes for the micro-kernel, then 576 for filterPanelFast
  const ub = s + 1024;
  const mb = ub + 16 * flatPlane(KB * C);
  // 1. This block's filters, transformed into packed A panels (xi planes KB*C floats apart).
  const g = <usize>arg(job, W_G);
  const uxs = flatPlane(KB * C);
  for (let p = 0; p < kbn; p += 4) filterPanelFast(g, C, K, (k0 + p) >> 2, ub + (<usize>(p * C) << 2), uxs, s + 128);

  const v = <usize>arg(job, W_V);
  const vxs = flatPlane(panels * C * 8);
  const y = <usize>arg(job, W_Y);
  const biasPtr = <usize>arg(job, W_BIAS);
  const scalePtr = <usize>arg(job, W_SCALE);
  const relu = arg(job, W_RELU) != 0;
  const rowsAll = N * th;
  const mxi = <usize>(KB * TC) << 2; // bytes between xi planes of M
  for (let p0 = 0; p0 < panels; p0 += TC >> 3) {
    const pn1 = min(panels, p0 + (TC >> 3));
    const tcn = (pn1 - p0) << 3;
    // 2. 16 GEMMs over this chunk of tiles: M[xi][k][tile].
    planeGemms(16, v, vxs, ub, uxs, mb, mxi, kbn, C, p0, pn1, TC, tmp);
    // 3. Output transform, 4 tiles of a row at a time, bias and ReLU fused.
    const tbase = p0 << 3;
    for (let j = 0; j < tcn; j += 4) {
      const tt = tbase + j;
      const row = tt / tw4;
      if (row >= rowsAll) break;
      const n = row / th, ty = row - n * th, tx = tt - row * tw4;
      const oy = 2 * ty, ox = 2 * tx;
      const cols = OW - ox;
      for (let kk = 0; kk < kbn && k0 + kk < K; kk++) {
        const k = k0 + kk;
        const yk = y + (<usize>((n * K + k) * OH * OW) << 2);
        outputsOf(D23, mb + (<usize>(kk * TC + j) << 2), mxi, 0, yk + (<usize>(oy * OW + ox) << 2), OW, min(2, OH - oy), cols,
          scalePtr ? load<f32>(scalePtr + (<usize>k << 2)) : 1, biasPtr ? load<f32>(biasPtr + (<usize>k << 2)) : 0, relu);
      }
    }
  }
}
