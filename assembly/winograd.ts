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
import { copyFloats, zeroFloats } from './mem';
import { arg } from './job';
import { kernel4x8 } from './kernel';

export const W_X = 0, W_U = 1, W_Y = 2, W_BIAS = 3, W_RELU = 4, W_N = 5, W_C = 6, W_K = 7;
export const W_H = 8, W_W = 9, W_OH = 10, W_OW = 11, W_PT = 12, W_PL = 13;
export const W_TH = 14, W_TWP = 15, W_ROWS = 16, W_TPI = 17, W_WP = 18, W_KB = 19, W_KP = 20, W_G = 21;

// Scratch layout of a task: tmp (512 bytes), then slab, V and M, sized from the arguments.
function slabBytes(job: usize): usize {
  return <usize>(arg(job, W_C) * (2 * arg(job, W_ROWS) + 2) * arg(job, W_WP)) << 2;
}
function vBytes(job: usize): usize {
  return <usize>(16 * arg(job, W_C) * arg(job, W_ROWS) * arg(job, W_TWP)) << 2;
}

// @ts-ignore: decorator
@inline function even(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 0, 2, 4, 6); }
// @ts-ignore: decorator
@inline function odd(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 1, 3, 5, 7); }

function inputTransform(slab: usize, wp: i32, sr: i32, C: i32, rows: i32, twp: i32, v: usize, panels: i32): void {
  const rs = <usize>wp << 2;
  const xiStride = <usize>(panels * C * 8) << 2; // bytes between xi planes of V
  for (let c = 0; c < C; c++) {
    for (let ry = 0; ry < rows; ry++) {
      const base = slab + (<usize>((c * sr + 2 * ry) * wp) << 2);
      for (let tx = 0; tx < twp; tx += 4) {
        const t = ry * twp + tx;
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
        v128.store(dst + xiStride, f32x4.sub(t01, t21));
        v128.store(dst + 2 * xiStride, f32x4.sub(t02, t22));
        v128.store(dst + 3 * xiStride, f32x4.sub(t03, t23));
        v128.store(dst + 4 * xiStride, f32x4.add(t10, t20));
        v128.store(dst + 5 * xiStride, f32x4.add(t11, t21));
        v128.store(dst + 6 * xiStride, f32x4.add(t12, t22));
        v128.store(dst + 7 * xiStride, f32x4.add(t13, t23));
        v128.store(dst + 8 * xiStride, f32x4.sub(t20, t10));
        v128.store(dst + 9 * xiStride, f32x4.sub(t21, t11));
        v128.store(dst + 10 * xiStride, f32x4.sub(t22, t12));
        v128.store(dst + 11 * xiStride, f32x4.sub(t23, t13));
        p += rs;
        a = v128.load(p); b = v128.load(p, 16); a2 = v128.load(p, 8); b2 = v128.load(p, 24);
        x0 = even(a, b); x1 = odd(a, b); x2 = even(a2, b2); x3 = odd(a2, b2);
        v128.store(dst + 12 * xiStride, f32x4.sub(t10, f32x4.sub(x0, x2)));
        v128.store(dst + 13 * xiStride, f32x4.sub(t11, f32x4.add(x1, x2)));
        v128.store(dst + 14 * xiStride, f32x4.sub(t12, f32x4.sub(x2, x1)));
        v128.store(dst + 15 * xiStride, f32x4.sub(t13, f32x4.sub(x1, x3)));
      }
    }
  }
}

// @ts-ignore: decorator
@inline function colA0(m: usize, s: usize, j: i32): v128 {
  // (A^T M)[0][j] = m0j + m1j + m2j
  return f32x4.add(f32x4.add(v128.load(m + <usize>j * s), v128.load(m + <usize>(4 + j) * s)), v128.load(m + <usize>(8 + j) * s));
}
// @ts-ignore: decorator
@inline function colA1(m: usize, s: usize, j: i32): v128 {
  // (A^T M)[1][j] = m1j - m2j - m3j
  return f32x4.sub(f32x4.sub(v128.load(m + <usize>(4 + j) * s), v128.load(m + <usize>(8 + j) * s)), v128.load(m + <usize>(12 + j) * s));
}

// @ts-ignore: decorator
@inline function finish(v: v128, b: v128, relu: bool): v128 {
  const y = f32x4.add(v, b);
  return relu ? v128.and(y, f32x4.gt(y, f32x4.splat(0))) : y;
}

function storeRow(dst: usize, y0: v128, y1: v128, cols: i32): void {
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
  inputTransform(slab, wp, sr, C, rows, twp, v, panels);

  // 3. Per block of output channels: 16 GEMMs, then the output transform.
  const u = <usize>arg(job, W_U);
  const yBase = <usize>arg(job, W_Y) + (<usize>(n * K * OH * OW) << 2);
  const biasPtr = <usize>arg(job, W_BIAS);
  const relu = arg(job, W_RELU) != 0;
  const mxi = <usize>(KB * tb) << 2; // bytes between xi planes of M
  for (let kb = 0; kb < Kp; kb += KB) {
    const kbn = min(KB, Kp - kb);
    for (let xi = 0; xi < 16; xi++) {
      const vx = v + (<usize>(xi * panels * C * 8) << 2);
      const ux = u + (<usize>((xi * Kp + kb) * C) << 2);
      const mx = mb + <usize>xi * mxi;
      for (let pn = 0; pn < panels; pn++) {
        const vb = vx + (<usize>(pn * C * 8) << 2);
        for (let kp = 0; kp < kbn; kp += 4) {
          kernel4x8(C, ux + (<usize>(kp * C) << 2), vb, 32, mx + (<usize>(kp * tb + pn * 8) << 2), tb, 4, 8, 0, 0, tmp);
        }
      }
    }
    for (let kk = 0; kk < kbn && kb + kk < K; kk++) {
      const k = kb + kk;
      const b = f32x4.splat(biasPtr ? load<f32>(biasPtr + (<usize>k << 2)) : 0);
      const yk = yBase + (<usize>(k * OH * OW) << 2);
      for (let ry = 0; ry < rows; ry++) {
        const oy = 2 * (ty0 + ry);
        for (let tx = 0; tx < twp; tx += 4) {
          const ox = 2 * tx;
          if (ox >= OW) break;
          const m = mb + (<usize>(kk * tb + ry * twp + tx) << 2);
          const a00 = colA0(m, mxi, 0), a01 = colA0(m, mxi, 1), a02 = colA0(m, mxi, 2), a03 = colA0(m, mxi, 3);
          const y00 = finish(f32x4.add(f32x4.add(a00, a01), a02), b, relu);
          const y01 = finish(f32x4.sub(f32x4.sub(a01, a02), a03), b, relu);
          storeRow(yk + (<usize>(oy * OW + ox) << 2), y00, y01, OW - ox);
          if (oy + 1 < OH) {
            const a10 = colA1(m, mxi, 0), a11 = colA1(m, mxi, 1), a12 = colA1(m, mxi, 2), a13 = colA1(m, mxi, 3);
            const y10 = finish(f32x4.add(f32x4.add(a10, a11), a12), b, relu);
            const y11 = finish(f32x4.sub(f32x4.sub(a11, a12), a13), b, relu);
            storeRow(yk + (<usize>((oy + 1) * OW + ox) << 2), y10, y11, OW - ox);
          }
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
  const g = <usize>arg(job, W_G), u = <usize>arg(job, W_U);
  const half = f32x4.splat(0.5);
  for (let c = 0; c < C; c++) {
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
    // Rows of G g (4 rows x 3 columns): r0 = g row0, r1 = (g0+g1+g2)/2, r2 = (g0-g1+g2)/2, r3 = g row2.
    const s0 = f32x4.mul(f32x4.add(g0, g6), half), s1 = f32x4.mul(f32x4.add(g1, g7), half), s2 = f32x4.mul(f32x4.add(g2, g8), half);
    const h0 = f32x4.mul(g3, half), h1 = f32x4.mul(g4, half), h2 = f32x4.mul(g5, half);
    // r[i] = [a, b, c]; U row i = [a, (a+b+c)/2, (a-b+c)/2, c]
    const dst = u + (<usize>((t * C + c) * 4) << 2);
    const xs = <usize>(Kp * C) << 2; // bytes between xi planes
    storeURow(dst, xs, 0, g0, g1, g2, half);
    storeURow(dst, xs, 1, f32x4.add(s0, h0), f32x4.add(s1, h1), f32x4.add(s2, h2), half);
    storeURow(dst, xs, 2, f32x4.sub(s0, h0), f32x4.sub(s1, h1), f32x4.sub(s2, h2), half);
    storeURow(dst, xs, 3, g6, g7, g8, half);
  }
}

// @ts-ignore: decorator
@inline function storeURow(dst: usize, xs: usize, i: i32, a: v128, b: v128, c: v128, half: v128): void {
  const ac = f32x4.mul(f32x4.add(a, c), half), hb = f32x4.mul(b, half);
  v128.store(dst + <usize>(i * 4) * xs, a);
  v128.store(dst + <usize>(i * 4 + 1) * xs, f32x4.add(ac, hb));
  v128.store(dst + <usize>(i * 4 + 2) * xs, f32x4.sub(ac, hb));
  v128.store(dst + <usize>(i * 4 + 3) * xs, c);
}
