// Winograd on small outputs (2x2 .. 14x14): the tiles of all images numbered densely, image by
// image and row by row with no padding (the flat layout of winograd-f23.ts pads every tile row to 4
// tiles, which on a 4x4 output is half (F(2x2, 3x3)) or three quarters (F(4x4, 3x3)) of the
// GEMMs' columns). V keeps the flat layout's packed panels (V[xi][panel of 8 tiles][C][8]), so
// the GEMMs are the flat ones (planeGemms); what differs is where a tile's input comes from and
// its output goes: 4 consecutive tiles (SIMD lanes) may lie in different rows or images.
//   Input: each task pads the planes of a block of images (a chunk of channels) into a slab,
//   then gathers each group of 4 tiles row by row (one or two vector loads per tile row, 4x4
//   transposes to put the tiles in lanes), d B through the rows, B^T d B through the columns.
//   Output: A^T M A of a group as in the flat jobs; straight into y when the 4 tiles are
//   adjacent in one row, else through a staging block from which each tile's real outputs are
//   copied.
// One kind of each job serves all four variants: F(2x2, 3x3) (V scaled as the flat F(2x2) job
// does, with its halves-free filter transform), F(4x4, 3x3), F(2x2, 5x5), F(4x4, 5x5).
import { zeroFloats } from './mem';
import { arg } from './job';
import { fillSlab, filterPanel6, outputsOf, storeBT, D23, F25, F45 } from './winograd-f43';
import { storeBT8 } from './winograd-f45';
import {
  filterPanelFast, planeGemms,
  W_BIAS, W_C, W_CC, W_G, W_H, W_K, W_KB, W_KP, W_N, W_OH, W_OW, W_PANELS, W_PL, W_PT, W_RELU, W_SCALE, W_TC, W_TH,
  W_U, W_V, W_W, W_WP, W_X, W_Y,
} from './winograd-f23';

/** Variant (D23 or winograd-f43.ts's F43, F25, F45), dense tiles per row, images per input task. */
export const WD_VARIANT = 28, WD_TWD = 29, WD_IB = 30;

// @ts-ignore: decorator
@inline function plane(floats: i32): usize { return <usize>(floats + 16) << 2; }
// @ts-ignore: decorator
@inline function stepD(variant: i32): i32 { return variant == D23 || variant == F25 ? 2 : 4; }
// @ts-ignore: decorator
@inline function tileD(variant: i32): i32 { return variant == D23 ? 4 : variant == F45 ? 8 : 6; }

// Columns 0..3 of the 4x4 block whose rows are a, b, c, d (lanes: the rows).
// @ts-ignore: decorator
@inline function c0of(a: v128, b: v128, c: v128, d: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 0, 4, 1, 5), 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function c1of(a: v128, b: v128, c: v128, d: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 0, 4, 1, 5), 2, 3, 6, 7);
}
// @ts-ignore: decorator
@inline function c2of(a: v128, b: v128, c: v128, d: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 6, 3, 7), v128.shuffle<f32>(c, d, 2, 6, 3, 7), 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function c3of(a: v128, b: v128, c: v128, d: v128): v128 {
  return v128.shuffle<f32>(v128.shuffle<f32>(a, b, 2, 6, 3, 7), v128.shuffle<f32>(c, d, 2, 6, 3, 7), 2, 3, 6, 7);
}

/**
 * B^T d B of 4 tiles (their top-left inputs at p0..p3, rows rs bytes apart) into V at dst
 * (tile^2 planes xs bytes apart). rb: tile^2 vectors of scratch (the rows times B).
 */
function transformGroup(variant: i32, p0: usize, p1: usize, p2: usize, p3: usize, rs: usize, dst: usize, xs: usize, rb: usize): void {
  const tile = tileD(variant);
  const rbs = <usize>(tile << 4);
  if (variant == D23) {
    // d B with V's scaling d_j (d = [1, 1/2, 1/2, 1]) on the columns, d_i below on the rows:
    // the products of powers of two of winograd-f23.ts's inputTransform, so the same bits.
    const h = f32x4.splat(0.5);
    for (let r = 0; r < 4; r++) {
      const o = <usize>r * rs;
      const a = v128.load(p0 + o), b = v128.load(p1 + o), c = v128.load(p2 + o), d = v128.load(p3 + o);
      const x0 = c0of(a, b, c, d), x1 = c1of(a, b, c, d), x2 = c2of(a, b, c, d), x3 = c3of(a, b, c, d);
      const q = rb + <usize>r * rbs;
      v128.store(q, f32x4.sub(x0, x2));
      v128.store(q, f32x4.mul(f32x4.add(x1, x2), h), 16);
      v128.store(q, f32x4.mul(f32x4.sub(x2, x1), h), 32);
      v128.store(q, f32x4.sub(x1, x3), 48);
    }
    for (let j = 0; j < 4; j++) {
      const q = rb + <usize>(j << 4);
      const y0 = v128.load(q), y1 = v128.load(q + rbs), y2 = v128.load(q + 2 * rbs), y3 = v128.load(q + 3 * rbs);
      const o = dst + <usize>j * xs;
      v128.store(o, f32x4.sub(y0, y2));
      v128.store(o + 4 * xs, f32x4.mul(f32x4.add(y1, y2), h));
      v128.store(o + 8 * xs, f32x4.mul(f32x4.sub(y2, y1), h));
      v128.store(o + 12 * xs, f32x4.sub(y1, y3));
    }
    return;
  }
  // 6x6 and 8x8 tiles: each row as two 4-column loads (columns 0..3, and 2..5 or 4..7),
  // transposed into rb (row r: its `tile` columns), then B through the rows in place and B^T
  // through the columns into V.
  const second: usize = tile == 8 ? 16 : 8;
  for (let r = 0; r < tile; r++) {
    const o = <usize>r * rs;
    const a = v128.load(p0 + o), b = v128.load(p1 + o), c = v128.load(p2 + o), d = v128.load(p3 + o);
    const e = v128.load(p0 + o + second), f = v128.load(p1 + o + second), g = v128.load(p2 + o + second), hh = v128.load(p3 + o + second);
    const q = rb + <usize>r * rbs;
    v128.store(q, c0of(a, b, c, d)); v128.store(q, c1of(a, b, c, d), 16);
    v128.store(q, c2of(a, b, c, d), 32); v128.store(q, c3of(a, b, c, d), 48);
    if (tile == 8) {
      v128.store(q, c0of(e, f, g, hh), 64); v128.store(q, c1of(e, f, g, hh), 80);
      v128.store(q, c2of(e, f, g, hh), 96); v128.store(q, c3of(e, f, g, hh), 112);
    } else {
      v128.store(q, c2of(e, f, g, hh), 64); v128.store(q, c3of(e, f, g, hh), 80);
    }
    applyBT(tile, q, 16, q, 16);
  }
  for (let j = 0; j < tile; j++) applyBT(tile, rb + <usize>(j << 4), rbs, dst + <usize>j * xs, <usize>tile * xs);
}

/** B^T of `tile` (6 or 8) vectors st bytes apart from src, stored os bytes apart from o (src may be o). */
function applyBT(tile: i32, src: usize, st: usize, o: usize, os: usize): void {
  const y0 = v128.load(src), y1 = v128.load(src + st), y2 = v128.load(src + 2 * st);
  const y3 = v128.load(src + 3 * st), y4 = v128.load(src + 4 * st), y5 = v128.load(src + 5 * st);
  if (tile == 8) storeBT8(o, os, y0, y1, y2, y3, y4, y5, v128.load(src + 6 * st), v128.load(src + 7 * st));
  else storeBT(o, os, y0, y1, y2, y3, y4, y5);
}

/**
 * V of a block of WD_IB images (the last block may have fewer), channels of one chunk: the
 * task pads the planes of a few images at a time (sub) into a slab [image][channel][sr][wp]
 * and transforms their tiles.
 * Blocks hold a multiple of 8 tiles (but the last; runDense), so no group of 4 spans two tasks
 * and no two tasks write the halves of one panel (the same cache lines); lanes
 * past the last tile repeat it (their columns of M are never stored).
 */
export function inputDenseTask(job: usize, t: i32, s: usize): void {
  const N = arg(job, W_N), C = arg(job, W_C), H = arg(job, W_H), Wd = arg(job, W_W), pt = arg(job, W_PT), pl = arg(job, W_PL);
  const th = arg(job, W_TH), tw = arg(job, WD_TWD), wp = arg(job, W_WP), cc = arg(job, W_CC), ib = arg(job, WD_IB);
  const variant = arg(job, WD_VARIANT);
  const per = (C + cc - 1) / cc;
  const blk = t / per, c0 = (t - blk * per) * cc, cn = min(cc, C - c0);
  const n0 = blk * ib, nb = min(ib, N - n0);
  const step = stepD(variant), tile = tileD(variant);
  const sr = step * th + tile - step;
  const tpi = th * tw;
  // Sub-blocks of the fewest images that hold a multiple of 4 tiles: the slab stays that small.
  const sub = (tpi & 3) == 0 ? 1 : (tpi & 1) == 0 ? 2 : 4;
  const img = <usize>(cn * sr * wp) << 2; // slab bytes per image
  const x = <usize>arg(job, W_X);
  const rb = s + (<usize>(sub * cc * sr * wp) << 2);
  const v = <usize>arg(job, W_V);
  const xs = plane(arg(job, W_PANELS) * C * 8);
  const rs = <usize>wp << 2, cs = <usize>(sr * wp) << 2;
  for (let i0 = 0; i0 < nb; i0 += sub) {
    const sb = min(sub, nb - i0);
    for (let i = 0; i < sb; i++) fillSlab(x + (<usize>(((n0 + i0 + i) * C + c0) * H * Wd) << 2), cn, H, Wd, pt, pl, sr, wp, s + <usize>i * img);
    const T0 = (n0 + i0) * tpi, T1 = (n0 + i0 + sb) * tpi;
    for (let g = T0; g < T1; g += 4) {
      const o0 = tileAt(g - T0, T1 - T0, tpi, tw, step, img, wp);
      const o1 = tileAt(g + 1 - T0, T1 - T0, tpi, tw, step, img, wp);
      const o2 = tileAt(g + 2 - T0, T1 - T0, tpi, tw, step, img, wp);
      const o3 = tileAt(g + 3 - T0, T1 - T0, tpi, tw, step, img, wp);
      const d0 = v + (<usize>(((g >> 3) * C + c0) * 8 + (g & 4)) << 2);
      for (let cl = 0; cl < cn; cl++) {
        const base = s + <usize>cl * cs;
        transformGroup(variant, base + o0, base + o1, base + o2, base + o3, rs, d0 + (<usize>(cl * 8) << 2), xs, rb);
      }
    }
  }
}

/** Byte offset in the slab (channel 0) of the top-left input of the block's tile `lt` (the last tile past `tiles`). */
// @ts-ignore: decorator
@inline function tileAt(lt: i32, tiles: i32, tpi: i32, tw: i32, step: i32, img: usize, wp: i32): usize {
  const t = min(lt, tiles - 1);
  const i = t / tpi, r = t - i * tpi;
  const ty = r / tw, tx = r - ty * tw;
  return <usize>i * img + (<usize>(step * (ty * wp + tx)) << 2);
}

/**
 * Output channels KB*t..: their filters' transform, then per chunk of TC tiles the tile^2 GEMMs
 * and the output transform with the epilogue (the flat jobs' structure, dense tiles).
 * Scratch: micro-kernel tmp (128 bytes), transforms' gt (up to 1232), the staging block
 * (s + 1536, 256 bytes), the lanes' output offsets (s + 1792, 48 bytes), then U and M.
 */
export function denseTask(job: usize, t: i32, s: usize): void {
  const C = arg(job, W_C), K = arg(job, W_K), KB = arg(job, W_KB), Kp = arg(job, W_KP);
  const panels = arg(job, W_PANELS), TC = arg(job, W_TC), N = arg(job, W_N);
  const th = arg(job, W_TH), tw = arg(job, WD_TWD);
  const variant = arg(job, WD_VARIANT);
  const tile = tileD(variant), planes = tile * tile;
  const k0 = t * KB, kbn = min(KB, Kp - k0);
  const gt = s + 128;
  const ub = s + 2048;
  const uxs = plane(KB * C);
  const mb = ub + <usize>planes * uxs;
  const mxi = plane(KB * TC);
  const g = <usize>arg(job, W_G);
  for (let p = 0; p < kbn; p += 4) {
    const u = ub + (<usize>(p * C) << 2);
    if (variant == D23) filterPanelFast(g, C, K, (k0 + p) >> 2, u, uxs, gt);
    else filterPanel6(variant, g, C, K, (k0 + p) >> 2, u, uxs, gt);
  }
  const v = <usize>arg(job, W_V);
  const vxs = plane(panels * C * 8);
  for (let p0 = 0; p0 < panels; p0 += TC >> 3) {
    const pn1 = min(panels, p0 + (TC >> 3));
    planeGemms(planes, v, vxs, ub, uxs, mb, mxi, kbn, C, p0, pn1, TC, s);
    denseOutputs(job, variant, mb, mxi, k0, kbn, p0 << 3, (pn1 - p0) << 3, N * th * tw, s);
  }
}

/**
 * The output transform, with the epilogue, of the tiles tbase..tbase+tcn-1 (of the batch's
 * dense numbering; none from tend on) for output channels k0..k0+kbn-1 from M (mb: KB x TC
 * floats per plane, planes mxi bytes apart; column 0 is tile tbase). 4 tiles adjacent in one
 * row go straight into y, others through a staging block from which each tile's real outputs
 * are copied. Scratch s: gt (s + 128, 512 bytes), the staging block (s + 1536, 256 bytes), the
 * lanes' output offsets (s + 1792, 48 bytes).
 */
function denseOutputs(job: usize, variant: i32, mb: usize, mxi: usize, k0: i32, kbn: i32, tbase: i32, tcn: i32, tend: i32, s: usize): void {
  const K = arg(job, W_K), KB = arg(job, W_KB), TC = arg(job, W_TC);
  const OH = arg(job, W_OH), OW = arg(job, W_OW), th = arg(job, W_TH), tw = arg(job, WD_TWD);
  const step = stepD(variant);
  const gt = s + 128, stage = s + 1536, lanes = s + 1792;
  const y = <usize>arg(job, W_Y);
  const biasPtr = <usize>arg(job, W_BIAS);
  const scalePtr = <usize>arg(job, W_SCALE);
  const relu = arg(job, W_RELU) != 0;
  const tpi = th * tw, ohw = OH * OW;
  const sw = 4 * step; // staging row: 4 tiles side by side
  for (let j = 0; j < tcn; j += 4) {
    const tt = tbase + j;
    if (tt >= tend) break;
    // Each lane's first output (image offset included; + k * ohw per channel), rows and columns.
    const inRow = tt + 3 < tend && (tt % tpi) % tw + 3 < tw;
    for (let l = 0; l < 4; l++) {
      const q = lanes + <usize>(l * 12);
      if (tt + l >= tend) { store<i32>(q, 0, 4); store<i32>(q, 0, 8); continue; }
      const n = (tt + l) / tpi, r = tt + l - n * tpi;
      const ty = r / tw, tx = r - ty * tw;
      store<i32>(q, n * K * ohw + step * (ty * OW + tx));
      store<i32>(q, min(step, OH - step * ty), 4);
      store<i32>(q, min(step, OW - step * tx), 8);
    }
    for (let kk = 0; kk < kbn && k0 + kk < K; kk++) {
      const k = k0 + kk;
      const sc = scalePtr ? load<f32>(scalePtr + (<usize>k << 2)) : 1, b = biasPtr ? load<f32>(biasPtr + (<usize>k << 2)) : 0;
      const m = mb + (<usize>(kk * TC + j) << 2);
      const yk = y + (<usize>(k * ohw) << 2);
      if (inRow) {
        // Adjacent tiles of one row: the columns left of the image's right edge.
        const off = load<i32>(lanes);
        const ox = (off % ohw) % OW;
        outputsOf(variant, m, mxi, gt, yk + (<usize>off << 2), OW, load<i32>(lanes, 4), OW - ox, sc, b, relu);
        continue;
      }
      outputsOf(variant, m, mxi, gt, stage, sw, step, sw, sc, b, relu);
      for (let l = 0; l < 4; l++) {
        const q = lanes + <usize>(l * 12);
        const rows = load<i32>(q, 4), cols = load<i32>(q, 8);
        const dst = yk + (<usize>load<i32>(q) << 2);
        const src = stage + (<usize>(l * step) << 2);
        for (let r = 0; r < rows; r++) {
          const d = dst + (<usize>(r * OW) << 2), sp = src + (<usize>(r * sw) << 2);
          if (cols == 4) v128.store(d, v128.load(sp));
          else if (cols == 2) store<f64>(d, load<f64>(sp));
          else for (let c = 0; c < cols; c++) store<f32>(d + (<usize>c << 2), load<f32>(sp + (<usize>c << 2)));
        }
      }
    }
  }
}

/**
 * The transformed filters of all output channels into U (W_U: tile^2 planes of Kp*C floats, as
 * the dense job's own blocks make them): a panel of 4 output channels per task. Scratch: 2048
 * bytes (the transforms' gt).
 */
export function denseFilterTask(job: usize, t: i32, s: usize): void {
  const C = arg(job, W_C), K = arg(job, W_K), Kp = arg(job, W_KP);
  const variant = arg(job, WD_VARIANT);
  const g = <usize>arg(job, W_G);
  const u = <usize>arg(job, W_U) + (<usize>(t * C * 4) << 2);
  if (variant == D23) filterPanelFast(g, C, K, t, u, plane(Kp * C), s);
  else filterPanel6(variant, g, C, K, t, u, plane(Kp * C), s);
}

/**
 * Dense tiles in blocks: a task is a block of WD_IB images (the last may have fewer), whose
 * tiles it transforms itself (a chunk of channels at a time) into V in scratch and runs through
 * the GEMMs with every output channel's transformed filters (U, made once by denseFilterTask),
 * then the output transform. V of a block stays in cache while all of U streams past it once:
 * the dense job instead streams all of V (the whole batch's) once per block of output channels,
 * which on a large batch is memory traffic both threads share.
 * Scratch: tmp, gt, staging and lanes as denseTask's (2048 bytes), then V, M, the slab of the
 * block's images [image][channel][sr][wp] and transformGroup's rows (16 tile^2 bytes).
 */
export function denseBandedTask(job: usize, t: i32, s: usize): void {
  const N = arg(job, W_N), C = arg(job, W_C), H = arg(job, W_H), Wd = arg(job, W_W), pt = arg(job, W_PT), pl = arg(job, W_PL);
  const th = arg(job, W_TH), tw = arg(job, WD_TWD), wp = arg(job, W_WP), cc = arg(job, W_CC), ib = arg(job, WD_IB);
  const KB = arg(job, W_KB), Kp = arg(job, W_KP), TC = arg(job, W_TC);
  const variant = arg(job, WD_VARIANT);
  const step = stepD(variant), tile = tileD(variant), planes = tile * tile;
  const sr = step * th + tile - step;
  const n0 = t * ib, nb = min(ib, N - n0);
  const tpi = th * tw, tiles = nb * tpi, panels = (tiles + 7) >> 3;
  const T0 = n0 * tpi;
  const vxs = plane(panels * C * 8);
  const v = s + 2048;
  const mxi = plane(KB * TC);
  const mb = v + <usize>planes * vxs;
  const slab = mb + <usize>planes * mxi;
  const rb = slab + (<usize>(ib * cc * sr * wp + 16) << 2);
  const x = <usize>arg(job, W_X);
  const rs = <usize>wp << 2, cs = <usize>(sr * wp) << 2;
  for (let c0 = 0; c0 < C; c0 += cc) {
    const cn = min(cc, C - c0);
    const img = <usize>(cn * sr * wp) << 2; // slab bytes per image
    for (let i = 0; i < nb; i++) fillSlab(x + (<usize>(((n0 + i) * C + c0) * H * Wd) << 2), cn, H, Wd, pt, pl, sr, wp, slab + <usize>i * img);
    for (let g = 0; g < tiles; g += 4) {
      const o0 = tileAt(g, tiles, tpi, tw, step, img, wp);
      const o1 = tileAt(g + 1, tiles, tpi, tw, step, img, wp);
      const o2 = tileAt(g + 2, tiles, tpi, tw, step, img, wp);
      const o3 = tileAt(g + 3, tiles, tpi, tw, step, img, wp);
      const d0 = v + (<usize>(((g >> 3) * C + c0) * 8 + (g & 4)) << 2);
      for (let cl = 0; cl < cn; cl++) {
        const base = slab + <usize>cl * cs;
        transformGroup(variant, base + o0, base + o1, base + o2, base + o3, rs, d0 + (<usize>(cl * 8) << 2), vxs, rb);
      }
    }
  }
  // A last panel whose upper half no group reached: zeros, not stale scratch (denormals would
  // slow the GEMMs down).
  if ((tiles & 7) != 0 && (tiles & 7) <= 4) {
    for (let xi = 0; xi < planes; xi++) {
      for (let c = 0; c < C; c++) zeroFloats(v + <usize>xi * vxs + (<usize>(((panels - 1) * C + c) * 8 + 4) << 2), 4);
    }
  }
  const u = <usize>arg(job, W_U);
  const uxs = plane(Kp * C);
  for (let p0 = 0; p0 < panels; p0 += TC >> 3) {
    const pn1 = min(panels, p0 + (TC >> 3));
    for (let k0 = 0; k0 < Kp; k0 += KB) {
      const kbn = min(KB, Kp - k0);
      planeGemms(planes, v, vxs, u + (<usize>(k0 * C) << 2), uxs, mb, mxi, kbn, C, p0, pn1, TC, s);
      denseOutputs(job, variant, mb, mxi, k0, kbn, T0 + (p0 << 3), (pn1 - p0) << 3, T0 + tiles, s);
    }
  }
}
