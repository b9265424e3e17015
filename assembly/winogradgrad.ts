// The filter gradient of a 3x3 or 5x5 stride-1 convolution by Winograd: F(2x2, 3x3) (4x4 tiles),
// F(4x4, 3x3) and F(2x2, 5x5) (6x6), F(4x4, 5x5) (8x8), the transpose of the forward ones
// (assembly/winograd-f23.ts, winograd-f43.ts, winograd-f25.ts, winograd-f45.ts, same points): with
// y = A^T [(G g G^T) . (B^T d B)] A per output tile, the gradient of the filter g is
//   dW = G^T [ sum over images and tiles of (A dy A^T) . (B^T x B) ] G
// so the sum runs in the transformed domain (tile x tile planes), as tile^2 GEMMs whose reduction
// is over tiles (M[xi][k][c] = sum_t D[xi][t][k] V[xi][t][c]), and one inverse transform per
// filter tap set at the end: per output tile and (input, output) channel pair, tile^2 multiply-adds
// instead of r^2 per output (F(4x4, 3x3): 36 per 16 outputs instead of 144; F(2x2, 5x5): 36 per
// 4 instead of 100).
//
// The transforms run with the 4 lanes on 4 channels (x) or 4 filters (dy), so that each tile's
// transformed values land as the GEMM's packed panels (tile-major, 4 or 8 channels per k step)
// with whole-vector stores: a zero-padded slab of 4 channels is built interleaved first (4x4
// transposes of the rows), then every tile x tile window is plain loads.
//
// A task is one part of the images (their partial sums the caller adds in part order, so the bits
// never depend on timing): per chunk (tile rows of one image, or several whole small images) it transforms x and dy into
// scratch and accumulates the GEMMs into its M; its last chunk's GEMMs run block by block (4 x 8
// pairs, every plane), each block's G^T M G written into out[part] at once, so M is never read
// back in a pass of its own (nor stored at all where a task is one chunk). The GEMM's A operand (4-wide panels) is dy and its B
// operand (8-wide) x, or the other way round (SWAP) when that pads fewer channels.
import { arg } from './job';
import { EP_LOAD, kernel4x8 } from './kernel';
import { roundUp, storeTransposed4, zeroFloats } from './mem';
import { F25, F43, F45, storeBT } from './winograd-f43';
import { storeA8, storeBT8, storeGT8 } from './winograd-f45';

export const FG_X = 0, FG_DY = 1, FG_OUT = 2, FG_N = 3, FG_C = 4, FG_K = 5, FG_H = 6, FG_W = 7;
export const FG_OH = 8, FG_OW = 9, FG_PT = 10, FG_PL = 11, FG_IPP = 12, FG_RC = 13, FG_SWAP = 14, FG_IC = 15, FG_KBLK = 16;

// The variants: those of assembly/winograd-f43.ts (F43, F25, F45) and F(2x2, 3x3).
export const F23 = 3;
// Output tile size (tiles this far apart), input tile size and filter size of a variant.
// @ts-ignore: decorator
@inline function stepOf(v: i32): i32 { return v == F23 || v == F25 ? 2 : 4; }
// @ts-ignore: decorator
@inline function tileOf(v: i32): i32 { return v == F23 ? 4 : v == F45 ? 8 : 6; }
// @ts-ignore: decorator
@inline function tapsOf(v: i32): i32 { return v == F23 || v == F43 ? 3 : 5; }

// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }
// Bytes between the planes of M, A and B: whole cache lines, an odd number of them and at least
// one more than the data, so the stores of one tile's tile^2 values (one per plane) fall in
// different L1 sets (planes a multiple of 4 KB apart all hit one set: 3x slower).
// @ts-ignore: decorator
@inline function planeBytes(floats: i32): usize {
  const b = <usize>((floats + 15) & ~15) << 2;
  return b + ((b >> 6) & 1 ? 128 : 64);
}

// A (6x2, A^T = [1 1 1 1 1 0; 0 1 -1 1/2 -2 1]) applied to (a, b), stored st bytes apart from o.
// @ts-ignore: decorator
@inline function storeA(o: usize, st: usize, a: v128, b: v128): void {
  v128.store(o, a);
  v128.store(o + st, f32x4.add(a, b));
  v128.store(o + 2 * st, f32x4.sub(a, b));
  v128.store(o + 3 * st, f32x4.add(a, f32x4.mul(b, sp(0.5))));
  v128.store(o + 4 * st, f32x4.sub(a, f32x4.mul(b, sp(2))));
  v128.store(o + 5 * st, b);
}

// G^T (5x6) applied to m0..m5, stored st bytes apart from o (scratch vectors, or lanes scattered
// by the caller).
// @ts-ignore: decorator
@inline function storeGT(o: usize, st: usize, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): void {
  const third = sp(<f32>(1.0 / 3.0));
  const s = f32x4.mul(f32x4.add(m1, m2), third), d = f32x4.mul(f32x4.sub(m1, m2), third);
  const f = sp(<f32>(1.0 / 15.0));
  const a3 = f32x4.mul(m3, f), a4 = f32x4.mul(m4, f);
  v128.store(o, f32x4.add(f32x4.add(m0, d), f32x4.sub(a4, f32x4.mul(a3, sp(16)))));
  v128.store(o + st, f32x4.sub(s, f32x4.add(f32x4.mul(a3, sp(8)), f32x4.mul(a4, sp(2)))));
  v128.store(o + 2 * st, f32x4.add(d, f32x4.mul(f32x4.sub(a4, a3), sp(4))));
  v128.store(o + 3 * st, f32x4.sub(s, f32x4.add(f32x4.mul(a3, sp(2)), f32x4.mul(a4, sp(8)))));
  v128.store(o + 4 * st, f32x4.add(f32x4.sub(d, a3), f32x4.add(f32x4.mul(a4, sp(16)), m5)));
}

// F(2x2, 3x3) (Lavin & Gray): B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] applied to x0..x3.
// @ts-ignore: decorator
@inline function storeBT4(o: usize, st: usize, x0: v128, x1: v128, x2: v128, x3: v128): void {
  v128.store(o, f32x4.sub(x0, x2));
  v128.store(o + st, f32x4.add(x1, x2));
  v128.store(o + 2 * st, f32x4.sub(x2, x1));
  v128.store(o + 3 * st, f32x4.sub(x1, x3));
}

// F(2x2, 3x3): A (4x2, A^T = [1 1 1 0; 0 1 -1 -1]) applied to (a, b).
// @ts-ignore: decorator
@inline function storeA4(o: usize, st: usize, a: v128, b: v128): void {
  v128.store(o, a);
  v128.store(o + st, f32x4.add(a, b));
  v128.store(o + 2 * st, f32x4.sub(a, b));
  v128.store(o + 3 * st, f32x4.neg(b));
}

// F(2x2, 3x3): G^T (3x4, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]) applied to m0..m3.
// @ts-ignore: decorator
@inline function storeGT4(o: usize, st: usize, m0: v128, m1: v128, m2: v128, m3: v128): void {
  const s = f32x4.mul(f32x4.add(m1, m2), sp(0.5));
  v128.store(o, f32x4.add(m0, s));
  v128.store(o + st, f32x4.mul(f32x4.sub(m1, m2), sp(0.5)));
  v128.store(o + 2 * st, f32x4.add(s, m3));
}

// F(2x2, 3x3): B^T d B of a column of `rows` tiles of vectors (tile ty at slab rows 2 ty .. 2 ty + 3
// from p, rows rs bytes apart; plane (4 i + j) of tile ty at o + ty * ts + (4 i + j) * pl), in
// registers: rows, then columns, as loadBT's (the same operations in the same order, so the same
// bits), the row stage of the two slab rows a tile shares with the next one down computed once.
// @ts-ignore: decorator
@inline function columnBT4(o: usize, pl: usize, ts: usize, p: usize, rs: usize, rows: i32): void {
  let a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
  let r00 = f32x4.sub(a0, a2), r01 = f32x4.add(a1, a2), r02 = f32x4.sub(a2, a1), r03 = f32x4.sub(a1, a3);
  p += rs;
  a0 = v128.load(p); a1 = v128.load(p, 16); a2 = v128.load(p, 32); a3 = v128.load(p, 48);
  let r10 = f32x4.sub(a0, a2), r11 = f32x4.add(a1, a2), r12 = f32x4.sub(a2, a1), r13 = f32x4.sub(a1, a3);
  const st = pl << 2;
  for (let ty = 0; ty < rows; ty++) {
    p += rs;
    a0 = v128.load(p); a1 = v128.load(p, 16); a2 = v128.load(p, 32); a3 = v128.load(p, 48);
    const r20 = f32x4.sub(a0, a2), r21 = f32x4.add(a1, a2), r22 = f32x4.sub(a2, a1), r23 = f32x4.sub(a1, a3);
    p += rs;
    a0 = v128.load(p); a1 = v128.load(p, 16); a2 = v128.load(p, 32); a3 = v128.load(p, 48);
    const r30 = f32x4.sub(a0, a2), r31 = f32x4.add(a1, a2), r32 = f32x4.sub(a2, a1), r33 = f32x4.sub(a1, a3);
    storeBT4(o, st, r00, r10, r20, r30);
    storeBT4(o + pl, st, r01, r11, r21, r31);
    storeBT4(o + 2 * pl, st, r02, r12, r22, r32);
    storeBT4(o + 3 * pl, st, r03, r13, r23, r33);
    r00 = r20; r01 = r21; r02 = r22; r03 = r23;
    r10 = r30; r11 = r31; r12 = r32; r13 = r33;
    o += ts;
  }
}

// F(2x2, 3x3): A d A^T of the 2x2 tile of vectors at p (rows rs bytes apart), plane (4 i + j) at
// o + (4 i + j) * pl, in registers; the same operations and order as loadA's rows then columns.
// @ts-ignore: decorator
@inline function tileA4(o: usize, pl: usize, p: usize, rs: usize): void {
  const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p + rs), d = v128.load(p + rs, 16);
  const st = pl << 2;
  storeA4(o, st, a, c);
  storeA4(o + pl, st, f32x4.add(a, b), f32x4.add(c, d));
  storeA4(o + 2 * pl, st, f32x4.sub(a, b), f32x4.sub(c, d));
  storeA4(o + 3 * pl, st, f32x4.neg(b), f32x4.neg(d));
}

// F(2x2, 3x3): G^T m G of the 4x4 planes at p (plane 4 i + j at p + (4 i + j) * ps) into the 9
// vectors at o, in registers: the same operations in the same order as loadGT's columns then
// rows, so the same bits.
// @ts-ignore: decorator
@inline function tileGT4(o: usize, p: usize, ps: usize): void {
  const h = sp(0.5);
  // Columns j: G^T along i (rows u = 0..2 of column j).
  let m0 = v128.load(p), m1 = v128.load(p + 4 * ps), m2 = v128.load(p + 8 * ps), m3 = v128.load(p + 12 * ps);
  let s = f32x4.mul(f32x4.add(m1, m2), h);
  const a00 = f32x4.add(m0, s), a10 = f32x4.mul(f32x4.sub(m1, m2), h), a20 = f32x4.add(s, m3);
  p += ps;
  m0 = v128.load(p); m1 = v128.load(p + 4 * ps); m2 = v128.load(p + 8 * ps); m3 = v128.load(p + 12 * ps);
  s = f32x4.mul(f32x4.add(m1, m2), h);
  const a01 = f32x4.add(m0, s), a11 = f32x4.mul(f32x4.sub(m1, m2), h), a21 = f32x4.add(s, m3);
  p += ps;
  m0 = v128.load(p); m1 = v128.load(p + 4 * ps); m2 = v128.load(p + 8 * ps); m3 = v128.load(p + 12 * ps);
  s = f32x4.mul(f32x4.add(m1, m2), h);
  const a02 = f32x4.add(m0, s), a12 = f32x4.mul(f32x4.sub(m1, m2), h), a22 = f32x4.add(s, m3);
  p += ps;
  m0 = v128.load(p); m1 = v128.load(p + 4 * ps); m2 = v128.load(p + 8 * ps); m3 = v128.load(p + 12 * ps);
  s = f32x4.mul(f32x4.add(m1, m2), h);
  const a03 = f32x4.add(m0, s), a13 = f32x4.mul(f32x4.sub(m1, m2), h), a23 = f32x4.add(s, m3);
  // Rows u: G^T along j.
  storeGT4(o, 16, a00, a01, a02, a03);
  storeGT4(o + 48, 16, a10, a11, a12, a13);
  storeGT4(o + 96, 16, a20, a21, a22, a23);
}

// F(4x4, 3x3): A (6x4, A^T = [1 1 1 1 1 0; 0 1 -1 1/2 -2 0; 0 1 1 1/4 4 0; 0 1 -1 1/8 -8 1])
// applied to d0..d3.
// @ts-ignore: decorator
@inline function storeA6(o: usize, st: usize, d0: v128, d1: v128, d2: v128, d3: v128): void {
  const e = f32x4.add(d0, d2), od = f32x4.add(d1, d3);
  v128.store(o, d0);
  v128.store(o + st, f32x4.add(e, od));
  v128.store(o + 2 * st, f32x4.sub(e, od));
  v128.store(o + 3 * st, f32x4.add(f32x4.add(d0, f32x4.mul(d1, sp(0.5))), f32x4.add(f32x4.mul(d2, sp(0.25)), f32x4.mul(d3, sp(0.125)))));
  v128.store(o + 4 * st, f32x4.add(f32x4.sub(d0, f32x4.mul(d1, sp(2))), f32x4.sub(f32x4.mul(d2, sp(4)), f32x4.mul(d3, sp(8)))));
  v128.store(o + 5 * st, d3);
}

// F(4x4, 3x3): G^T (3x6, G = [1 0 0; 1/3 1/3 1/3; -1/3 1/3 -1/3; -16/15 -8/15 -4/15;
// 1/15 -2/15 4/15; 0 0 1]) applied to m0..m5.
// @ts-ignore: decorator
@inline function storeGT6(o: usize, st: usize, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): void {
  const third = sp(<f32>(1.0 / 3.0)), f = sp(<f32>(1.0 / 15.0));
  const s = f32x4.mul(f32x4.add(m1, m2), third), d = f32x4.mul(f32x4.sub(m1, m2), third);
  const a3 = f32x4.mul(m3, f), a4 = f32x4.mul(m4, f);
  v128.store(o, f32x4.add(f32x4.add(m0, d), f32x4.sub(a4, f32x4.mul(a3, sp(16)))));
  v128.store(o + st, f32x4.sub(s, f32x4.add(f32x4.mul(a3, sp(8)), f32x4.mul(a4, sp(2)))));
  v128.store(o + 2 * st, f32x4.add(f32x4.add(d, m5), f32x4.mul(f32x4.sub(a4, a3), sp(4))));
}

// B^T of the variant applied to the `tile` vectors ps bytes apart from p, stored st bytes apart from o.
// @ts-ignore: decorator
@inline function loadBT(v: i32, o: usize, st: usize, p: usize, ps: usize): void {
  const x0 = v128.load(p), x1 = v128.load(p + ps), x2 = v128.load(p + 2 * ps), x3 = v128.load(p + 3 * ps);
  if (v == F23) { storeBT4(o, st, x0, x1, x2, x3); return; }
  const x4 = v128.load(p + 4 * ps), x5 = v128.load(p + 5 * ps);
  if (v == F45) storeBT8(o, st, x0, x1, x2, x3, x4, x5, v128.load(p + 6 * ps), v128.load(p + 7 * ps));
  else storeBT(o, st, x0, x1, x2, x3, x4, x5);
}

// A of the variant applied to the `step` vectors ps bytes apart from p, stored st bytes apart from o.
// @ts-ignore: decorator
@inline function loadA(v: i32, o: usize, st: usize, p: usize, ps: usize): void {
  const d0 = v128.load(p), d1 = v128.load(p + ps);
  if (v == F23) { storeA4(o, st, d0, d1); return; }
  if (v == F25) { storeA(o, st, d0, d1); return; }
  const d2 = v128.load(p + 2 * ps), d3 = v128.load(p + 3 * ps);
  if (v == F45) storeA8(o, st, d0, d1, d2, d3);
  else storeA6(o, st, d0, d1, d2, d3);
}

// G^T of the variant applied to the `tile` vectors ps bytes apart from p, stored st bytes apart from o.
// @ts-ignore: decorator
@inline function loadGT(v: i32, o: usize, st: usize, p: usize, ps: usize): void {
  const m0 = v128.load(p), m1 = v128.load(p + ps), m2 = v128.load(p + 2 * ps), m3 = v128.load(p + 3 * ps);
  if (v == F23) { storeGT4(o, st, m0, m1, m2, m3); return; }
  const m4 = v128.load(p + 4 * ps), m5 = v128.load(p + 5 * ps);
  if (v == F45) storeGT8(o, st, m0, m1, m2, m3, m4, m5, v128.load(p + 6 * ps), v128.load(p + 7 * ps));
  else if (v == F43) storeGT6(o, st, m0, m1, m2, m3, m4, m5);
  else storeGT(o, st, m0, m1, m2, m3, m4, m5);
}

/**
 * 4 planes (channels or filters g0..g0+3 of `count`, planes `plane` floats apart from src; those
 * past count as zeros), rows y0 - top .. of h x w, zero-padded, as an interleaved slab
 * [rows][cols][4] at dst: 4 pixels of the 4 planes per 4x4 transpose where they lie inside a row,
 * one pixel at a time at the borders.
 */
function slab4(src: usize, plane: i32, g0: i32, count: i32, h: i32, w: i32, top: i32, left: i32, rows: i32, cols: i32, dst: usize): void {
  const cn = max(0, min(4, count - g0));
  const ps = <usize>plane << 2;
  const z = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const d = dst + (<usize>(r * cols) << 4);
    const y = r - top;
    if (y < 0 || y >= h || cn == 0) { zeroFloats(d, cols * 4); continue; }
    const p0 = src + (<usize>(g0 * plane + y * w) << 2);
    let j = 0;
    while (j < cols) {
      const xs = j - left;
      if (xs >= 0 && xs + 4 <= w && j + 4 <= cols) {
        const q = p0 + (<usize>xs << 2);
        const a = v128.load(q), b = cn > 1 ? v128.load(q + ps) : z;
        const c = cn > 2 ? v128.load(q + 2 * ps) : z, e = cn > 3 ? v128.load(q + 3 * ps) : z;
        storeTransposed4(d + (<usize>j << 4), a, b, c, e);
        j += 4;
        continue;
      }
      const o = d + (<usize>j << 4);
      if (xs < 0 || xs >= w) v128.store(o, z);
      else {
        const q = p0 + (<usize>xs << 2);
        for (let i = 0; i < 4; i++) store<f32>(o + (<usize>i << 2), i < cn ? load<f32>(q + <usize>i * ps) : 0);
      }
      j++;
    }
  }
}

/**
 * Partial dW of one part of the images and one block of filters: out[part][k][c][r][r] by the
 * variant (F23, F43, F25, F45).
 */
export function winogradFilterGradTask(job: usize, t: i32, s: usize, variant: i32): void {
  const N = arg(job, FG_N), C = arg(job, FG_C), KA = arg(job, FG_K), H = arg(job, FG_H), Wd = arg(job, FG_W);
  // Task t: filters kb0..kb0+K-1 (a block of kblk) of one part of the images.
  const kblk = arg(job, FG_KBLK), kBlocks = (KA + kblk - 1) / kblk;
  const part = t / kBlocks, kb0 = (t % kBlocks) * kblk, K = min(kblk, KA - kb0);
  const OH = arg(job, FG_OH), OW = arg(job, FG_OW), pt = arg(job, FG_PT), pl = arg(job, FG_PL);
  const ipp = arg(job, FG_IPP), rc = arg(job, FG_RC), ic = arg(job, FG_IC), swap = arg(job, FG_SWAP) != 0;
  const step = stepOf(variant), tile = tileOf(variant), r = tapsOf(variant);
  const planes = tile * tile, taps = r * r;
  const th = (OH + step - 1) / step, tw = (OW + step - 1) / step;
  const tw4 = roundUp(tw, 4);
  // GEMM operands: A (4-wide panels, ap rows) and B (8-wide, bp columns).
  const ad = swap ? C : K, bd = swap ? K : C;
  const ap = roundUp(ad, 4), bp = roundUp(bd, 8);
  const xEnd = swap ? ap : bp, dEnd = swap ? bp : ap; // channels and filters, padded as their operands
  const tcMax = ic * rc * tw; // a chunk: rc tile rows of one image, or ic whole images (rc = th)
  const aPlane = planeBytes(ap * tcMax), bPlane = planeBytes(bp * tcMax), mPlane = planeBytes(ap * bp);
  // Chunks of this task: when there is one, M is never stored (the fused pass below).
  const ipp0 = min(ipp, max(0, N - part * ipp));
  const chunks = ((ipp0 + ic - 1) / ic) * ((th + rc - 1) / rc);
  // Scratch: kernel tmp 128 | tile x tile vectors (and the final transform's) | M (none for one chunk) | A | B | interleaved slab | the fused pass's 4x8 blocks.
  const tmp = s, tv = s + 128;
  const tvRow = <usize>(tile << 4); // bytes per row of tile vectors at tv
  const m = s + 2048;
  const ao = m + (chunks > 1 ? <usize>planes * mPlane : 0);
  const bo = ao + <usize>planes * aPlane;
  // x slab of a chunk: rows, columns (whole 4-tile groups).
  const sr = step * rc + tile - step, sw = roundUp(step * tw4 + tile - step, 4);
  const islab = bo + <usize>planes * bPlane;
  const blk = islab + (<usize>(sr * sw) << 4);
  let chunk = 0;
  const i0 = part * ipp, i1 = min(N, i0 + ipp);
  const xs = <usize>arg(job, FG_X), dys = <usize>arg(job, FG_DY);
  for (let img0 = i0; img0 < i1; img0 += ic) {
    const imgs = min(ic, i1 - img0);
    for (let ty0 = 0; ty0 < th; ty0 += rc) {
      const rows = min(rc, th - ty0);
      const tpi = rows * tw; // tiles per image in this chunk
      const tc = imgs * tpi;
      for (let il = 0; il < imgs; il++) {
        const x = xs + (<usize>((img0 + il) * C * H * Wd) << 2);
        const dy = dys + (<usize>(((img0 + il) * KA + kb0) * OH * OW) << 2);
        const t0 = il * tpi;
        // x: B^T d B of each tile, 4 channels per vector, into its operand's panels.
        const xo = swap ? ao : bo, xPlane = swap ? aPlane : bPlane, xw = swap ? 4 : 8;
        const srs = <usize>(sw * 4) << 2; // bytes per interleaved slab row
        for (let c0 = 0; c0 < xEnd; c0 += 4) {
          slab4(x, H * Wd, c0, C, H, Wd, pt - step * ty0, pl, sr, sw, islab);
          const dst0 = xo + (<usize>((c0 / xw) * tc * xw + (c0 % xw)) << 2);
          if (variant == F23) {
            for (let tx = 0; tx < tw; tx++) columnBT4(dst0 + (<usize>((t0 + tx) * xw) << 2), xPlane, <usize>(tw * xw) << 2, islab + (<usize>(tx << 5)), srs, rows);
            continue;
          }
          for (let ty = 0; ty < rows; ty++) {
            for (let tx = 0; tx < tw; tx++) {
              let p = islab + (<usize>((step * ty * sw + step * tx) * 4) << 2);
              const dst = dst0 + (<usize>((t0 + ty * tw + tx) * xw) << 2);
              for (let i = 0; i < tile; i++) {
                loadBT(variant, tv + <usize>i * tvRow, 16, p, 16);
                p += srs;
              }
              for (let j = 0; j < tile; j++) loadBT(variant, dst + <usize>j * xPlane, <usize>tile * xPlane, tv + <usize>(j << 4), tvRow);
            }
          }
        }
        // dy: A dy A^T of each step x step tile (zeros past the output's edge), 4 filters per vector.
        const dOp = swap ? bo : ao, dPlane = swap ? bPlane : aPlane, dw = swap ? 8 : 4;
        const dr = step * rows, dc = step * tw4;
        const rs = <usize>(dc * 4) << 2;
        for (let k0 = 0; k0 < dEnd; k0 += 4) {
          slab4(dy, OH * OW, k0, K, OH, OW, -step * ty0, 0, dr, dc, islab);
          const dst0 = dOp + (<usize>((k0 / dw) * tc * dw + (k0 % dw)) << 2);
          for (let ty = 0; ty < rows; ty++) {
            for (let tx = 0; tx < tw; tx++) {
              const p = islab + (<usize>((step * ty * dc + step * tx) * 4) << 2);
              const dst = dst0 + (<usize>((t0 + ty * tw + tx) * dw) << 2);
              if (variant == F23) { tileA4(dst, dPlane, p, rs); continue; }
              // Rows of the tile through A (tv: step rows of `tile` vectors), then each column.
              for (let i = 0; i < step; i++) loadA(variant, tv + <usize>i * tvRow, 16, p + <usize>i * rs, 16);
              for (let j = 0; j < tile; j++) loadA(variant, dst + <usize>j * dPlane, <usize>tile * dPlane, tv + <usize>(j << 4), tvRow);
            }
          }
        }
      }
      chunk++;
      if (chunk == chunks) continue; // the last chunk's GEMMs run fused with the inverse transform below
      // M[xi] (+)= A[xi]^T B[xi] over this chunk's tiles: the first chunk stores (no zeroing pass).
      const flags = chunk == 1 ? 0 : EP_LOAD;
      for (let xi = 0; xi < planes; xi++) {
        const a = ao + <usize>xi * aPlane, b = bo + <usize>xi * bPlane, mx = m + <usize>xi * mPlane;
        for (let i = 0; i < ap; i += 4) {
          for (let j = 0; j < bp; j += 8) {
            kernel4x8(tc, a + (<usize>(i * tc) << 2), b + (<usize>(j * tc) << 2), 32, mx + (<usize>(i * bp + j) << 2), bp, 4, 8, flags, 0, 0, tmp);
          }
        }
      }
    }
  }
  // The last chunk: per 4 x 8 block of (a, b) pairs, its GEMMs on every plane (added to M when
  // earlier chunks wrote it, else into blk), then dW = G^T M G of the block, 4 b's per vector,
  // scattered into out[part][k][c][taps]: M's blocks are read back while in L1, never in a pass
  // of their own. Blocks of A rows (all planes) sized to stay in L2 while B's panels go by.
  const out = <usize>arg(job, FG_OUT) + (<usize>((part * KA + kb0) * C * taps) << 2);
  const tcl = lastTiles(N, part, ipp, ic, rc, th, tw);
  const g1 = tv; // G^T M: r rows of `tile` vectors
  const g2 = tv + <usize>r * tvRow; // then G^T M G: taps vectors
  const acc = chunks > 1;
  const flags = acc ? EP_LOAD : 0;
  const ps: usize = acc ? mPlane : 128; // bytes between the planes of one block's results
  const ldc = acc ? bp : 8;
  const ib = max(4, min(ap, <i32>(L2_BLOCK / (<usize>planes * <usize>tcl * 16)) << 2)); // rows: 4 per panel of all planes
  for (let i0 = 0; i0 < ap; i0 += ib) {
    const i1 = min(ap, i0 + ib);
    for (let j = 0; j < bp; j += 8) {
      for (let i = i0; i < i1; i += 4) {
        const c0 = acc ? m + (<usize>(i * bp + j) << 2) : blk;
        for (let xi = 0; xi < planes; xi++) {
          const a = ao + <usize>xi * aPlane + (<usize>(i * tcl) << 2), b = bo + <usize>xi * bPlane + (<usize>(j * tcl) << 2);
          kernel4x8(tcl, a, b, 32, c0 + <usize>xi * ps, ldc, 4, 8, flags, 0, 0, tmp);
        }
        const st = <usize>tile * ps;
        for (let il = 0; il < min(4, ad - i); il++) {
          for (let jl = 0; jl < min(8, bd - j); jl += 4) {
            const q0 = c0 + (<usize>(il * ldc + jl) << 2);
            if (variant == F23) tileGT4(g2, q0, ps);
            else {
              for (let cj = 0; cj < tile; cj++) loadGT(variant, g1 + <usize>(cj << 4), tvRow, q0 + <usize>cj * ps, st);
              for (let u = 0; u < r; u++) loadGT(variant, g2 + <usize>(u * r * 16), 16, g1 + <usize>u * tvRow, 16);
            }
            const ia = i + il, jb = j + jl;
            // Lane l's taps go to out[k][c] (rows of taps): 4 taps of the 4 lanes per 4x4 transpose.
            const ln = min(4, bd - jb);
            const lr = <usize>(swap ? C * taps : taps) << 2; // bytes between the lanes' (k, c) rows
            const o = out + (<usize>(((swap ? jb : ia) * C + (swap ? ia : jb)) * taps) << 2);
            let t = 0;
            if (ln == 4) {
              for (; t + 4 <= taps; t += 4) {
                const g = g2 + (<usize>t << 4);
                const v0 = v128.load(g), v1 = v128.load(g, 16), v2 = v128.load(g, 32), v3 = v128.load(g, 48);
                const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
                const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
                const q = o + (<usize>t << 2);
                v128.store(q, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
                v128.store(q + lr, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
                v128.store(q + 2 * lr, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
                v128.store(q + 3 * lr, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
              }
            }
            for (; t < taps; t++) {
              for (let l = 0; l < ln; l++) store<f32>(o + <usize>l * lr + (<usize>t << 2), load<f32>(g2 + (<usize>(t * 4 + l) << 2)));
            }
          }
        }
      }
    }
  }
}

// Bytes of A's rows (all planes) the fused pass keeps together: a share of L2.
const L2_BLOCK: usize = 192 << 10;

// Tiles of a task's last chunk: its last band of tile rows of one image, or its last group of whole images.
function lastTiles(N: i32, part: i32, ipp: i32, ic: i32, rc: i32, th: i32, tw: i32): i32 {
  const n = min(ipp, N - part * ipp);
  if (rc < th) return (th - ((th - 1) / rc) * rc) * tw;
  return (n - ((n - 1) / ic) * ic) * th * tw;
}
