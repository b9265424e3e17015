// Winograd on 6x6 input tiles: F(4x4, 3x3), and F(2x2, 5x5) with the parts that differ in
// assembly/winograd-f25.ts. Two layouts: flat (see the end of winograd-f23.ts: a job transforms all
// inputs into V, then tasks of output channels run the 36 GEMMs over all tiles) and banded
// (a task is a band of tile rows of one image, all output channels; filters transformed once).
// F(4x4, 3x3) does 36 GEMMs, 2.25 multiplies per output and (input, output) channel pair instead
// of 9. Interpolation points 0, 1, -1, 1/2, -2 and infinity: half the worst-case float32 error
// of Lavin & Gray's 0, +-1, +-2 (measured 6-8e-6 against 1.4-1.8e-5 of the output's scale at 512
// channels; Barabasz et al., "Error analysis and improving the accuracy of Winograd convolution"):
//   B^T = [1 -3/2 -2 3/2 1 0; 0 -1 1/2 5/2 1 0; 0 1 -5/2 1/2 1 0; 0 -2 -1 2 1 0; 0 1/2 -1 -1/2 1 0; 0 1 -3/2 -2 3/2 1]
//   G   = [1 0 0; 1/3 1/3 1/3; -1/3 1/3 -1/3; -16/15 -8/15 -4/15; 1/15 -2/15 4/15; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 1/2 -2 0; 0 1 1 1/4 4 0; 0 1 -1 1/8 -8 1]
// Same arguments as the F(2x2) flat jobs (W_TH and W_TW4 count tiles); V, U and M have 36
// xi planes. All constants are inline literals (no static data: see assembly/job.ts).
import { copyFloats, storeRow4, storeTransposed4, zeroFloats } from './mem';
import { filterPanel25, outputs2x2 } from './winograd-f25';
import { filterPanel45, outputs4x4of8, storeBT8 } from './winograd-f45';
import { arg } from './job';
import {
  W_C, W_H, W_W, W_PT, W_PL, W_TH, W_TW4, W_WP, W_CC, W_X, W_V, W_PANELS, W_K, W_OH, W_OW, W_KB, W_KP,
  W_TC, W_N, W_G, W_Y, W_BIAS, W_RELU, W_SCALE, W_U, W_ROWS, W_TPI, planeGemms, colA0, colA1, storeRow,
} from './winograd-f23';
import { finish } from './kernel';

// @ts-ignore: decorator
@inline function plane(floats: i32): usize {
  return <usize>(floats + 16) << 2;
}
// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }

// The variants these jobs run (`variant` below): F(4x4, 3x3), F(2x2, 5x5), F(4x4, 5x5).
export const F43 = 0, F25 = 1, F45 = 2;
// F(2x2, 3x3) (winograd-f23.ts's own jobs, and the dense ones), for outputsOf.
export const D23 = 3;
// Output tile size (tiles are this far apart) and input tile size of a variant.
// @ts-ignore: decorator
@inline export function stepOf(variant: i32): i32 { return variant == F25 ? 2 : 4; }
// @ts-ignore: decorator
@inline export function tileOf(variant: i32): i32 { return variant == F45 ? 8 : 6; }

// B^T applied to x0..x5 (6 vectors, stored st bytes apart from o).
// @ts-ignore: decorator
@inline export function storeBT(o: usize, st: usize, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128): void {
  const half = sp(0.5), two = sp(2), oneHalf = sp(1.5), fiveHalf = sp(2.5);
  const x42 = f32x4.sub(x4, x2), x31 = f32x4.sub(x3, x1);
  v128.store(o, f32x4.sub(f32x4.add(f32x4.add(x0, x4), f32x4.mul(x31, oneHalf)), f32x4.mul(x2, two)));
  v128.store(o + st, f32x4.add(f32x4.sub(x4, x1), f32x4.add(f32x4.mul(x2, half), f32x4.mul(x3, fiveHalf))));
  v128.store(o + 2 * st, f32x4.add(f32x4.add(x4, x1), f32x4.sub(f32x4.mul(x3, half), f32x4.mul(x2, fiveHalf))));
  v128.store(o + 3 * st, f32x4.add(x42, f32x4.mul(x31, two)));
  v128.store(o + 4 * st, f32x4.sub(x42, f32x4.mul(x31, half)));
  v128.store(o + 5 * st, f32x4.sub(f32x4.add(f32x4.add(x1, x5), f32x4.mul(x42, oneHalf)), f32x4.mul(x3, two)));
}

// G applied to a, b, c (6 vectors, stored st bytes apart from o).
// @ts-ignore: decorator
@inline function storeG(o: usize, st: usize, a: v128, b: v128, c: v128): void {
  const ac = f32x4.add(a, c), third = sp(<f32>(1.0 / 3.0));
  v128.store(o, a);
  v128.store(o + st, f32x4.mul(f32x4.add(ac, b), third));
  v128.store(o + 2 * st, f32x4.mul(f32x4.sub(b, ac), third));
  v128.store(o + 3 * st, f32x4.mul(f32x4.add(f32x4.add(f32x4.mul(a, sp(16)), f32x4.mul(b, sp(8))), f32x4.mul(c, sp(4))), sp(<f32>(-1.0 / 15.0))));
  v128.store(o + 4 * st, f32x4.mul(f32x4.add(f32x4.sub(a, f32x4.mul(b, sp(2))), f32x4.mul(c, sp(4))), sp(<f32>(1.0 / 15.0))));
  v128.store(o + 5 * st, c);
}

/**
 * Rows 0..sr-1 of the zero-padded planes of cn channels from x (image rows -pt.., columns -pl..)
 * into a slab [cn][sr][wp] at dst.
 */
export function fillSlab(x: usize, cn: i32, H: i32, Wd: i32, pt: i32, pl: i32, sr: i32, wp: i32, dst: usize): void {
  const ncopy = min(Wd, wp - pl);
  for (let c = 0; c < cn; c++) {
    for (let r = 0; r < sr; r++) {
      const d = dst + (<usize>((c * sr + r) * wp) << 2);
      const y = r - pt;
      zeroFloats(d, wp);
      if (y >= 0 && y < H && ncopy > 0) copyFloats(d + (<usize>pl << 2), x + (<usize>((c * H + y) * Wd) << 2), ncopy);
    }
  }
}

/**
 * B^T d B of 4-tile groups: tile rows 0..rowsT-1 (tw4 tiles each; tiles of the variant: 6x6, 4
 * apart for F(4x4, 3x3), 2 apart for F(2x2, 5x5); 8x8, 4 apart for F(4x4, 5x5)) of channels
 * c0..c0+cn-1 (of C) from a slab [cn][sr][wp] whose row 0 is the first tile row's, into V at v
 * (tile^2 planes xs bytes apart, panels of 8 tiles x C channels): tile (ty, tx) is V's tile
 * tl0 + ty * tw4 + tx. Each slab row goes through B once per group of 4 tiles (rb: sr rows of
 * `tile` vectors), shared by the tile rows that overlap on it.
 */
function transformTiles(
  slab: usize, sr: i32, wp: i32, cn: i32, c0: i32, C: i32, rowsT: i32, tw4: i32, variant: i32,
  v: usize, xs: usize, tl0: i32, rb: usize,
): void {
  const step = stepOf(variant), tile = tileOf(variant);
  const rs = <usize>wp << 2;
  const rbs = <usize>(tile << 4); // bytes per row of rb
  for (let cl = 0; cl < cn; cl++) {
    const c = c0 + cl;
    for (let tx = 0; tx < tw4; tx += 4) {
      // Rows of the slab times B, lanes the 4 tiles.
      let p = slab + (<usize>((cl * sr) * wp + step * tx) << 2);
      for (let r = 0; r < sr; r++) {
        const a = v128.load(p), b = v128.load(p, 16), cv = v128.load(p, 32);
        const o = rb + <usize>r * rbs;
        if (step == 4) {
          // Tiles 4 apart: 4x4 transposes give columns 0..3 of the 4 tiles; column 4 + j is
          // the next tile's column j.
          const d = v128.load(p, 48), e = v128.load(p, 64);
          const u0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), u1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
          const u2 = v128.shuffle<f32>(cv, d, 0, 4, 1, 5), u3 = v128.shuffle<f32>(cv, d, 2, 6, 3, 7);
          const x0 = v128.shuffle<f32>(u0, u2, 0, 1, 4, 5), x1 = v128.shuffle<f32>(u0, u2, 2, 3, 6, 7);
          const x2 = v128.shuffle<f32>(u1, u3, 0, 1, 4, 5), x3 = v128.shuffle<f32>(u1, u3, 2, 3, 6, 7);
          const x4 = v128.shuffle<f32>(x0, e, 1, 2, 3, 4), x5 = v128.shuffle<f32>(x1, e, 1, 2, 3, 5);
          if (tile == 8) {
            const x6 = v128.shuffle<f32>(x2, e, 1, 2, 3, 6), x7 = v128.shuffle<f32>(x3, e, 1, 2, 3, 7);
            storeBT8(o, 16, x0, x1, x2, x3, x4, x5, x6, x7);
          } else {
            storeBT(o, 16, x0, x1, x2, x3, x4, x5);
          }
        } else {
          // Tiles 2 apart: column i of tile l is element 2l + i of the 12 at p.
          const x0 = v128.shuffle<f32>(a, b, 0, 2, 4, 6), x1 = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
          const x2 = v128.shuffle<f32>(x0, cv, 1, 2, 3, 4), x3 = v128.shuffle<f32>(x1, cv, 1, 2, 3, 5);
          const x4 = v128.shuffle<f32>(x2, cv, 1, 2, 3, 6), x5 = v128.shuffle<f32>(x3, cv, 1, 2, 3, 7);
          storeBT(o, 16, x0, x1, x2, x3, x4, x5);
        }
        p += rs;
      }
      // B^T (d B) of each tile row: column j of its rows, into planes i * tile + j.
      for (let ty = 0; ty < rowsT; ty++) {
        const tt = tl0 + ty * tw4 + tx;
        const dst = v + (<usize>(((tt >> 3) * C + c) * 8 + (tt & 4)) << 2);
        const q0 = rb + <usize>(step * ty) * rbs;
        for (let j = 0; j < tile; j++) {
          const q = q0 + <usize>(j << 4);
          const x0 = v128.load(q), x1 = v128.load(q + rbs), x2 = v128.load(q + 2 * rbs);
          const x3 = v128.load(q + 3 * rbs), x4 = v128.load(q + 4 * rbs), x5 = v128.load(q + 5 * rbs);
          if (tile == 8) storeBT8(dst + <usize>j * xs, 8 * xs, x0, x1, x2, x3, x4, x5, v128.load(q + 6 * rbs), v128.load(q + 7 * rbs));
          else storeBT(dst + <usize>j * xs, 6 * xs, x0, x1, x2, x3, x4, x5);
        }
      }
    }
  }
}

/** V (tile^2 planes) of image n, channels of one chunk, for the flat job (flat6Task). */
export function inputFlat6Task(job: usize, t: i32, s: usize, variant: i32): void {
  const C = arg(job, W_C), H = arg(job, W_H), Wd = arg(job, W_W), pt = arg(job, W_PT), pl = arg(job, W_PL);
  const th = arg(job, W_TH), tw4 = arg(job, W_TW4), wp = arg(job, W_WP), cc = arg(job, W_CC);
  const per = (C + cc - 1) / cc;
  const n = t / per, c0 = (t - n * per) * cc, cn = min(cc, C - c0);
  const step = stepOf(variant);
  const sr = step * th + tileOf(variant) - step;
  // Scratch: the slab, then sr rows of `tile` vectors.
  const slab = s;
  fillSlab(<usize>arg(job, W_X) + (<usize>((n * C + c0) * H * Wd) << 2), cn, H, Wd, pt, pl, sr, wp, slab);
  const rb = slab + (<usize>(cn * sr * wp + 16) << 2);
  transformTiles(slab, sr, wp, cn, c0, C, th, tw4, variant, <usize>arg(job, W_V), plane(arg(job, W_PANELS) * C * 8), n * th * tw4, rb);
}

/** Filters 4t..4t+3 into the tile^2-plane panel at u, for the variant. */
// @ts-ignore: decorator
@inline export function filterPanel6(variant: i32, g: usize, C: i32, K: i32, t: i32, u: usize, xs: usize, gt: usize): void {
  if (variant == F43) filterPanel4(g, C, K, t, u, xs, gt);
  else if (variant == F25) filterPanel25(g, C, K, t, u, xs, gt);
  else filterPanel45(g, C, K, t, u, xs, gt);
}

/** The transformed filters of all output channels into U (W_U; tile^2 planes of Kp*C floats): 4 per task. */
export function filter6Task(job: usize, t: i32, s: usize, variant: i32): void {
  const C = arg(job, W_C), Kp = arg(job, W_KP);
  filterPanel6(variant, <usize>arg(job, W_G), C, arg(job, W_K), t, <usize>arg(job, W_U) + (<usize>(t * C * 4) << 2), plane(Kp * C), s);
}

/**
 * Output channels KB*t..: their filters' transform, then per chunk of tiles the tile^2 GEMMs and
 * the output transform (gemmChunk).
 */
export function flat6Task(job: usize, t: i32, s: usize, variant: i32): void {
  const C = arg(job, W_C), K = arg(job, W_K);
  const th = arg(job, W_TH), tw4 = arg(job, W_TW4), KB = arg(job, W_KB), Kp = arg(job, W_KP);
  const panels = arg(job, W_PANELS), TC = arg(job, W_TC), N = arg(job, W_N);
  const k0 = t * KB, kbn = min(KB, Kp - k0);
  const gt = s + 128; // up to 1232 bytes for the filter transform, 512 for the output transform
  const ub = s + 2048;
  const uxs = plane(KB * C);
  const planes = tileOf(variant) * tileOf(variant);
  const mb = ub + <usize>planes * uxs;
  const g = <usize>arg(job, W_G);
  for (let p = 0; p < kbn; p += 4) filterPanel6(variant, g, C, K, (k0 + p) >> 2, ub + (<usize>(p * C) << 2), uxs, gt);
  const v = <usize>arg(job, W_V);
  const vxs = plane(panels * C * 8);
  for (let p0 = 0; p0 < panels; p0 += TC >> 3) {
    gemmChunk(job, variant, v, vxs, ub, uxs, mb, k0, kbn, p0, min(panels, p0 + (TC >> 3)), p0 << 3, N * th * tw4, s);
  }
}

/**
 * The banded job: a task is one band of tile rows (W_ROWS of them; W_TPI bands per image) of one
 * image, whose tiles it transforms itself (a chunk of channels at a time) into V in scratch and
 * runs through the GEMMs with every output channel's transformed filters (U, made once by
 * filter6Task). Many images of few channels (the CIFAR demo's 5x5 layers) stream the input once
 * this way, where the flat job streams all of V once per block of output channels.
 */
export function banded6Task(job: usize, t: i32, s: usize, variant: i32): void {
  const C = arg(job, W_C), H = arg(job, W_H), Wd = arg(job, W_W), pt = arg(job, W_PT), pl = arg(job, W_PL);
  const th = arg(job, W_TH), tw4 = arg(job, W_TW4), wp = arg(job, W_WP), cc = arg(job, W_CC);
  const KB = arg(job, W_KB), Kp = arg(job, W_KP), TC = arg(job, W_TC);
  const rpb = arg(job, W_ROWS), bands = arg(job, W_TPI);
  const n = t / bands, ty0 = (t - n * bands) * rpb, rowsT = min(rpb, th - ty0);
  const tiles = rowsT * tw4, panels = (tiles + 7) >> 3;
  const vxs = plane(panels * C * 8);
  const step = stepOf(variant), planes = tileOf(variant) * tileOf(variant);
  const srb = step * rowsT + tileOf(variant) - step;
  // Scratch: micro-kernel tmp (128 bytes), gt (up to 2048), V, M, the slab, its rows through B.
  const v = s + 2048;
  const mxi = plane(KB * TC);
  const mb = v + <usize>planes * vxs;
  const slab = mb + <usize>planes * mxi;
  const rb = slab + (<usize>(cc * srb * wp + 16) << 2); // srb rows of `tile` vectors
  const x = <usize>arg(job, W_X) + (<usize>(n * C * H * Wd) << 2);
  for (let c0 = 0; c0 < C; c0 += cc) {
    const cn = min(cc, C - c0);
    fillSlab(x + (<usize>(c0 * H * Wd) << 2), cn, H, Wd, pt - step * ty0, pl, srb, wp, slab);
    transformTiles(slab, srb, wp, cn, c0, C, rowsT, tw4, variant, v, vxs, 0, rb);
  }
  // A half-empty last panel: zeros, not stale scratch (denormals would slow the GEMMs down).
  if (tiles & 4) {
    for (let xi = 0; xi < planes; xi++) {
      for (let c = 0; c < C; c++) zeroFloats(v + <usize>xi * vxs + (<usize>(((panels - 1) * C + c) * 8 + 4) << 2), 4);
    }
  }
  const u = <usize>arg(job, W_U);
  const uxs = plane(Kp * C);
  const t0 = (n * th + ty0) * tw4;
  for (let p0 = 0; p0 < panels; p0 += TC >> 3) {
    const pn1 = min(panels, p0 + (TC >> 3));
    for (let k0 = 0; k0 < Kp; k0 += KB) {
      gemmChunk(job, variant, v, vxs, u + (<usize>(k0 * C) << 2), uxs, mb, k0, min(KB, Kp - k0), p0, pn1, t0 + (p0 << 3), t0 + tiles, s);
    }
  }
}

/**
 * For output channels k0..k0+kbn-1 (their filters' panels at ub, planes uxs bytes apart) and V's
 * panels p0..pn1-1: the 36 GEMMs into M (mb, KB x TC floats per plane), then the output
 * transform of each 4-tile group into y with the epilogue. The first tile is tile tbase of the
 * whole batch (image, tile row and column follow from it); tiles from tend on are padding.
 */
function gemmChunk(
  job: usize, variant: i32, v: usize, vxs: usize, ub: usize, uxs: usize, mb: usize,
  k0: i32, kbn: i32, p0: i32, pn1: i32, tbase: i32, tend: i32, s: usize,
): void {
  const C = arg(job, W_C), K = arg(job, W_K), OH = arg(job, W_OH), OW = arg(job, W_OW);
  const th = arg(job, W_TH), tw4 = arg(job, W_TW4), KB = arg(job, W_KB), TC = arg(job, W_TC);
  const tmp = s; // 128 bytes for the micro-kernel
  const gt = s + 128; // 512 bytes for the output transform
  const step = stepOf(variant);
  const y = <usize>arg(job, W_Y);
  const biasPtr = <usize>arg(job, W_BIAS);
  const scalePtr = <usize>arg(job, W_SCALE);
  const relu = arg(job, W_RELU) != 0;
  const mxi = plane(KB * TC);
  const tcn = (pn1 - p0) << 3;
  planeGemms(tileOf(variant) * tileOf(variant), v, vxs, ub, uxs, mb, mxi, kbn, C, p0, pn1, TC, tmp);
  for (let j = 0; j < tcn; j += 4) {
    const tt = tbase + j;
    if (tt >= tend) break;
    const row = tt / tw4;
    const n = row / th, ty = row - n * th, tx = tt - row * tw4;
    const oy = step * ty, ox = step * tx;
    const cols = OW - ox;
    if (cols <= 0) continue;
    for (let kk = 0; kk < kbn && k0 + kk < K; kk++) {
      const k = k0 + kk;
      const yk = y + (<usize>((n * K + k) * OH * OW) << 2);
      outputsOf(variant, mb + (<usize>(kk * TC + j) << 2), mxi, gt, yk + (<usize>(oy * OW + ox) << 2), OW, min(step, OH - oy), cols,
        scalePtr ? load<f32>(scalePtr + (<usize>k << 2)) : 1, biasPtr ? load<f32>(biasPtr + (<usize>k << 2)) : 0, relu);
    }
  }
}

/**
 * The output transform of 4 tiles in a row (lanes; M's tile^2 planes mxi bytes apart from m)
 * of a variant (D23 too), through the epilogue (scale, bias, ReLU), into y: `rows` rows of OW
 * floats, `cols` columns from y exist. gt: 512 bytes of scratch. One copy shared by every
 * layout (a call per group of tiles and output channel).
 */
export function outputsOf(variant: i32, m: usize, mxi: usize, gt: usize, y: usize, OW: i32, rows: i32, cols: i32, scale: f32, bias: f32, relu: bool): void {
  const sc = f32x4.splat(scale), b = f32x4.splat(bias);
  if (variant == D23) {
    const a00 = colA0(m, mxi, 0), a01 = colA0(m, mxi, 1), a02 = colA0(m, mxi, 2), a03 = colA0(m, mxi, 3);
    storeRow(y, finish(f32x4.add(f32x4.add(a00, a01), a02), sc, b, relu), finish(f32x4.sub(f32x4.sub(a01, a02), a03), sc, b, relu), cols);
    if (rows > 1) {
      const a10 = colA1(m, mxi, 0), a11 = colA1(m, mxi, 1), a12 = colA1(m, mxi, 2), a13 = colA1(m, mxi, 3);
      storeRow(y + (<usize>OW << 2), finish(f32x4.add(f32x4.add(a10, a11), a12), sc, b, relu), finish(f32x4.sub(f32x4.sub(a11, a12), a13), sc, b, relu), cols);
    }
  } else if (variant == F25) {
    outputs2x2(m, mxi, gt, y, OW, rows, cols, sc, b, relu);
  } else if (variant == F45) {
    outputs4x4of8(m, mxi, gt, y, OW, rows, cols, sc, b, relu);
  } else {
    outputs4x4of6(m, mxi, gt, y, OW, rows, cols, sc, b, relu);
  }
}

/**
 * A^T M A of 4 tiles in a row (lanes; M's 36 planes mxi bytes apart from m) -> their 4x4
 * outputs of F(4x4, 3x3), through the epilogue, into y (rows `rows` <= 4 of OW floats, `cols`
 * columns from y). gt: 384 bytes of scratch.
 */
// @ts-ignore: decorator
@inline export function outputs4x4of6(m: usize, mxi: usize, gt: usize, y: usize, OW: i32, rows: i32, cols: i32, sc: v128, b: v128, relu: bool): void {
  const half = sp(0.5), quarter = sp(0.25), eighth = sp(0.125), two = sp(2), four = sp(4), eight = sp(8);
  // A^T M: each column of M, 6 rows -> 4 (24 vectors at gt); then each row -> 4 outputs.
  for (let cj = 0; cj < 6; cj++) {
    const q = m + <usize>cj * mxi;
    const m0 = v128.load(q), m1 = v128.load(q + 6 * mxi), m2 = v128.load(q + 12 * mxi);
    const m3 = v128.load(q + 18 * mxi), m4 = v128.load(q + 24 * mxi), m5 = v128.load(q + 30 * mxi);
    const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2);
    const o = gt + <usize>(cj << 4);
    v128.store(o, f32x4.add(f32x4.add(m0, s12), f32x4.add(m3, m4)));
    v128.store(o, f32x4.add(d12, f32x4.sub(f32x4.mul(m3, half), f32x4.mul(m4, two))), 96);
    v128.store(o, f32x4.add(s12, f32x4.add(f32x4.mul(m3, quarter), f32x4.mul(m4, four))), 192);
    v128.store(o, f32x4.add(f32x4.add(d12, f32x4.sub(f32x4.mul(m3, eighth), f32x4.mul(m4, eight))), m5), 288);
  }
  for (let r = 0; r < rows; r++) {
    const q = gt + <usize>(r * 96);
    const m0 = v128.load(q), m1 = v128.load(q, 16), m2 = v128.load(q, 32);
    const m3 = v128.load(q, 48), m4 = v128.load(q, 64), m5 = v128.load(q, 80);
    const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2);
    storeRow4(y + (<usize>(r * OW) << 2),
      finish(f32x4.add(f32x4.add(m0, s12), f32x4.add(m3, m4)), sc, b, relu),
      finish(f32x4.add(d12, f32x4.sub(f32x4.mul(m3, half), f32x4.mul(m4, two))), sc, b, relu),
      finish(f32x4.add(s12, f32x4.add(f32x4.mul(m3, quarter), f32x4.mul(m4, four))), sc, b, relu),
      finish(f32x4.add(f32x4.add(d12, f32x4.sub(f32x4.mul(m3, eighth), f32x4.mul(m4, eight))), m5), sc, b, relu), cols);
  }
}

/**
 * Filters 4t..4t+3 of g [K, C, 3, 3] (all channels) into the 36-plane panel at u (planes xs
 * bytes apart), SIMD across the 4 filters. gt: 1232 bytes of scratch (G g, then the taps).
 */
function filterPanel4(g: usize, C: i32, K: i32, t: i32, u: usize, xs: usize, gt: usize): void {
  const fs = <usize>(C * 9) << 2;
  const full = t * 4 + 4 <= K;
  for (let c = 0; c < C; c++) {
    // g[tap] of the 4 filters as 9 vectors at gt.
    if (full && (c & 3) == 0 && c + 4 <= C) {
      // 4 channels at once: 9 4x4 transposes into gt + 512, then taken channel by channel.
      const p0 = g + (<usize>((t * 4 * C + c) * 9) << 2);
      for (let j = 0; j < 9; j++) {
        const q = p0 + (<usize>j << 4);
        const a = v128.load(q), b = v128.load(q + fs), cc = v128.load(q + 2 * fs), d = v128.load(q + 3 * fs);
        storeTransposed4(gt + 512 + (<usize>j << 6), a, b, cc, d);
      }
    }
    let e: usize;
    if (full && c + 4 - (c & 3) <= C) {
      e = gt + 512 + <usize>((c & 3) * 144);
    } else {
      e = gt + 1088; // 9 vectors, lane by lane
      for (let i = 0; i < 36; i++) store<f32>(e + <usize>(i << 2), 0);
      for (let l = 0; l < 4; l++) {
        const k = t * 4 + l;
        if (k >= K) break;
        const p = g + (<usize>((k * C + c) * 9) << 2);
        for (let j = 0; j < 9; j++) store<f32>(e + <usize>(j * 16 + l * 4), load<f32>(p + <usize>(j << 2)));
      }
    }
    // G g: 6 rows of 3 (columns of g through G), at gt (18 vectors, row-major).
    for (let j = 0; j < 3; j++) {
      const a = v128.load(e + <usize>(j << 4)), b = v128.load(e + <usize>((3 + j) << 4)), cv = v128.load(e + <usize>((6 + j) << 4));
      storeG(gt + <usize>(j << 4), 48, a, b, cv);
    }
    // (G g) G^T: each row of 3 through G, into the planes.
    const dst = u + (<usize>(c * 4) << 2);
    for (let i = 0; i < 6; i++) {
      const r = gt + <usize>(i * 48);
      const a = v128.load(r), b = v128.load(r, 16), cv = v128.load(r, 32);
      storeG(dst + <usize>(i * 6) * xs, xs, a, b, cv);
    }
  }
}
