// The filter gradient of a 5x5 stride-1 convolution by Winograd F(2x2, 5x5) or F(4x4, 5x5), the
// transpose of the forward ones (assembly/winograd25.ts, winograd45.ts, same points): with
// y = A^T [(G g G^T) . (B^T d B)] A per output tile, the gradient of the filter g is
//   dW = G^T [ sum over images and tiles of (A dy A^T) . (B^T x B) ] G
// so the sum runs in the transformed domain (6x6 or 8x8), as 36 or 64 GEMMs whose reduction is over tiles
// (M[xi][k][c] = sum_t D[xi][t][k] V[xi][t][c]), and one inverse transform per filter tap set
// at the end: 36 multiply-adds per 2x2 tile and (input, output) channel pair instead of 100
// (F(4x4, 5x5): 64 per 4x4 tile instead of 400).
//
// The transforms run with the 4 lanes on 4 channels (x) or 4 filters (dy), so that each tile's
// transformed values land as the GEMM's packed panels (tile-major, 4 or 8 channels per k step)
// with whole-vector stores: a zero-padded slab of 4 channels is interleaved first (4x4
// transposes), then every 6x6 window is 36 plain loads.
//
// A task is one part of the images (their partial sums the caller adds in part order, so the bits
// never depend on timing): per chunk of tile rows of one image it transforms x and dy into
// scratch and accumulates the 36 GEMMs into its M; at the end it writes G^T M G of every
// (filter, channel) pair into out[part]. The GEMM's A operand (4-wide panels) is dy and its B
// operand (8-wide) x, or the other way round (SWAP) when that pads fewer channels.
import { arg } from './job';
import { EP_LOAD, kernel4x8 } from './kernel';
import { storeTransposed4, zeroFloats } from './mem';
import { F45, fillSlab, storeBT } from './winograd4';
import { storeA8, storeBT8, storeGT8 } from './winograd45';

export const FG_X = 0, FG_DY = 1, FG_OUT = 2, FG_N = 3, FG_C = 4, FG_K = 5, FG_H = 6, FG_W = 7;
export const FG_OH = 8, FG_OW = 9, FG_PT = 10, FG_PL = 11, FG_IPP = 12, FG_RC = 13, FG_SWAP = 14;

// @ts-ignore: decorator
@inline function sp(x: f32): v128 { return f32x4.splat(x); }
// @ts-ignore: decorator
@inline function roundUp(a: i32, b: i32): i32 { return (a + b - 1) / b * b; }
// @ts-ignore: decorator
@inline function planeBytes(floats: i32): usize { return <usize>(floats + 16) << 2; }

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

/**
 * Rows 0..rows-1, columns 0..cols-1 of 4 planes of a slab [4][rows][cols] (cols a multiple of 4)
 * interleaved into dst [rows][cols][4].
 */
function interleave4(src: usize, rows: i32, cols: i32, dst: usize): void {
  const ps = <usize>(rows * cols) << 2;
  const n = rows * cols;
  for (let i = 0; i < n; i += 4) {
    const p = src + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p + ps), c = v128.load(p + 2 * ps), d = v128.load(p + 3 * ps);
    storeTransposed4(dst + (<usize>i << 4), a, b, c, d);
  }
}

/**
 * 4 planes (channels or filters g0..g0+3 of `count`, planes `plane` floats apart from src; those
 * past count as zeros), rows y0 - top .. of h x w, zero-padded, into an interleaved slab [rows][cols][4]
 * at dst, through the plain slab at tmp.
 */
function slab4(src: usize, plane: i32, g0: i32, count: i32, h: i32, w: i32, top: i32, left: i32, rows: i32, cols: i32, tmp: usize, dst: usize): void {
  const cn = max(0, min(4, count - g0));
  fillSlab(src + (<usize>(g0 * plane) << 2), cn, h, w, top, left, rows, cols, tmp);
  if (cn < 4) zeroFloats(tmp + (<usize>(cn * rows * cols) << 2), (4 - cn) * rows * cols);
  interleave4(tmp, rows, cols, dst);
}

/**
 * Partial dW of one part of the images: out[part][k][c][5][5], by F(2x2, 5x5) (F25: 6x6 tiles 2
 * apart) or F(4x4, 5x5) (F45: 8x8 tiles 4 apart).
 */
export function winograd5FilterTask(job: usize, part: i32, s: usize, variant: i32): void {
  const N = arg(job, FG_N), C = arg(job, FG_C), K = arg(job, FG_K), H = arg(job, FG_H), Wd = arg(job, FG_W);
  const OH = arg(job, FG_OH), OW = arg(job, FG_OW), pt = arg(job, FG_PT), pl = arg(job, FG_PL);
  const ipp = arg(job, FG_IPP), rc = arg(job, FG_RC), swap = arg(job, FG_SWAP) != 0;
  const f45 = variant == F45;
  const step = f45 ? 4 : 2, tile = f45 ? 8 : 6, planes = tile * tile;
  const th = (OH + step - 1) / step, tw = (OW + step - 1) / step;
  const tw4 = roundUp(tw, 4);
  // GEMM operands: A (4-wide panels, ap rows) and B (8-wide, bp columns).
  const ad = swap ? C : K, bd = swap ? K : C;
  const ap = roundUp(ad, 4), bp = roundUp(bd, 8);
  const xEnd = swap ? ap : bp, dEnd = swap ? bp : ap; // channels and filters, padded as their operands
  const tcMax = rc * tw;
  const aPlane = planeBytes(ap * tcMax), bPlane = planeBytes(bp * tcMax), mPlane = planeBytes(ap * bp);
  // Scratch: kernel tmp 128 | tile x tile vectors (and the final transform's) | M | A | B | slab | interleaved slab.
  const tmp = s, tv = s + 128;
  const tvRow = <usize>(tile << 4); // bytes per row of tile vectors at tv
  const m = s + 2048;
  const ao = m + <usize>planes * mPlane;
  const bo = ao + <usize>planes * aPlane;
  // x slab of a chunk: rows, columns (a multiple of 4).
  const sr = step * rc + tile - step, sw = step * tw4 + tile - step;
  const slab = bo + <usize>planes * bPlane;
  const islab = slab + (<usize>(4 * sr * sw) << 2);
  for (let xi = 0; xi < planes; xi++) zeroFloats(m + <usize>xi * mPlane, ap * bp);
  const i0 = part * ipp, i1 = min(N, i0 + ipp);
  const xs = <usize>arg(job, FG_X), dys = <usize>arg(job, FG_DY);
  for (let img = i0; img < i1; img++) {
    const x = xs + (<usize>(img * C * H * Wd) << 2);
    const dy = dys + (<usize>(img * K * OH * OW) << 2);
    for (let ty0 = 0; ty0 < th; ty0 += rc) {
      const rows = min(rc, th - ty0);
      const tc = rows * tw;
      // x: B^T d B of each tile, 4 channels per vector, into its operand's panels.
      const xo = swap ? ao : bo, xPlane = swap ? aPlane : bPlane, xw = swap ? 4 : 8;
      const srs = <usize>(sw * 4) << 2; // bytes per interleaved slab row
      for (let c0 = 0; c0 < xEnd; c0 += 4) {
        slab4(x, H * Wd, c0, C, H, Wd, pt - step * ty0, pl, sr, sw, slab, islab);
        const dst0 = xo + (<usize>((c0 / xw) * tc * xw + (c0 % xw)) << 2);
        for (let ty = 0; ty < rows; ty++) {
          for (let tx = 0; tx < tw; tx++) {
            let p = islab + (<usize>((step * ty * sw + step * tx) * 4) << 2);
            for (let r = 0; r < tile; r++) {
              const o = tv + <usize>r * tvRow;
              const x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48), x4 = v128.load(p, 64), x5 = v128.load(p, 80);
              if (f45) storeBT8(o, 16, x0, x1, x2, x3, x4, x5, v128.load(p, 96), v128.load(p, 112));
              else storeBT(o, 16, x0, x1, x2, x3, x4, x5);
              p += srs;
            }
            const dst = dst0 + (<usize>((ty * tw + tx) * xw) << 2);
            for (let j = 0; j < tile; j++) {
              const q = tv + <usize>(j << 4);
              const x0 = v128.load(q), x1 = v128.load(q + tvRow), x2 = v128.load(q + 2 * tvRow);
              const x3 = v128.load(q + 3 * tvRow), x4 = v128.load(q + 4 * tvRow), x5 = v128.load(q + 5 * tvRow);
              if (f45) storeBT8(dst + <usize>j * xPlane, 8 * xPlane, x0, x1, x2, x3, x4, x5, v128.load(q + 6 * tvRow), v128.load(q + 7 * tvRow));
              else storeBT(dst + <usize>j * xPlane, 6 * xPlane, x0, x1, x2, x3, x4, x5);
            }
          }
        }
      }
      // dy: A dy A^T of each step x step tile (zeros past the output's edge), 4 filters per vector.
      const dOp = swap ? bo : ao, dPlane = swap ? bPlane : aPlane, dw = swap ? 8 : 4;
      const dr = step * rows, dc = step * tw4;
      const rs = <usize>(dc * 4) << 2;
      for (let k0 = 0; k0 < dEnd; k0 += 4) {
        slab4(dy, OH * OW, k0, K, OH, OW, -step * ty0, 0, dr, dc, slab, islab);
        const dst0 = dOp + (<usize>((k0 / dw) * tc * dw + (k0 % dw)) << 2);
        for (let ty = 0; ty < rows; ty++) {
          for (let tx = 0; tx < tw; tx++) {
            const p = islab + (<usize>((step * ty * dc + step * tx) * 4) << 2);
            const dst = dst0 + (<usize>((ty * tw + tx) * dw) << 2);
            // Rows of the tile through A (tv: step rows of `tile` vectors), then each column.
            if (f45) {
              for (let r = 0; r < 4; r++) {
                const q = p + <usize>r * rs;
                storeA8(tv + <usize>r * tvRow, 16, v128.load(q), v128.load(q, 16), v128.load(q, 32), v128.load(q, 48));
              }
              for (let j = 0; j < 8; j++) {
                const q = tv + <usize>(j << 4);
                storeA8(dst + <usize>j * dPlane, 8 * dPlane, v128.load(q), v128.load(q + tvRow), v128.load(q + 2 * tvRow), v128.load(q + 3 * tvRow));
              }
            } else {
              storeA(tv, 16, v128.load(p), v128.load(p, 16));
              storeA(tv + tvRow, 16, v128.load(p + rs), v128.load(p + rs, 16));
              for (let j = 0; j < 6; j++) {
                storeA(dst + <usize>j * dPlane, 6 * dPlane, v128.load(tv + <usize>(j << 4)), v128.load(tv + <usize>(j << 4) + tvRow));
              }
            }
          }
        }
      }
      // M[xi] += A[xi]^T B[xi] over this chunk's tiles.
      for (let xi = 0; xi < planes; xi++) {
        const a = ao + <usize>xi * aPlane, b = bo + <usize>xi * bPlane, mx = m + <usize>xi * mPlane;
        for (let i = 0; i < ap; i += 4) {
          for (let j = 0; j < bp; j += 8) {
            kernel4x8(tc, a + (<usize>(i * tc) << 2), b + (<usize>(j * tc) << 2), 32, mx + (<usize>(i * bp + j) << 2), bp, 4, 8, EP_LOAD, 0, 0, tmp);
          }
        }
      }
    }
  }
  // dW = G^T M G for every (a, b) pair, 4 b's per vector, scattered into out[part][k][c][25].
  const out = <usize>arg(job, FG_OUT) + (<usize>(part * K * C * 25) << 2);
  const g1 = tv; // G^T M: 5 rows of `tile` vectors
  const g2 = tv + 5 * tvRow; // then G^T M G: 25 vectors
  for (let i = 0; i < ad; i++) {
    for (let j = 0; j < bd; j += 4) {
      const q0 = m + (<usize>(i * bp + j) << 2);
      for (let cj = 0; cj < tile; cj++) {
        const q = q0 + <usize>cj * mPlane;
        const st = <usize>tile * mPlane;
        const m0 = v128.load(q), m1 = v128.load(q + st), m2 = v128.load(q + 2 * st);
        const m3 = v128.load(q + 3 * st), m4 = v128.load(q + 4 * st), m5 = v128.load(q + 5 * st);
        if (f45) storeGT8(g1 + <usize>(cj << 4), tvRow, m0, m1, m2, m3, m4, m5, v128.load(q + 6 * st), v128.load(q + 7 * st));
        else storeGT(g1 + <usize>(cj << 4), tvRow, m0, m1, m2, m3, m4, m5);
      }
      for (let u = 0; u < 5; u++) {
        const r = g1 + <usize>u * tvRow;
        const m0 = v128.load(r), m1 = v128.load(r, 16), m2 = v128.load(r, 32), m3 = v128.load(r, 48), m4 = v128.load(r, 64), m5 = v128.load(r, 80);
        if (f45) storeGT8(g2 + <usize>(u * 80), 16, m0, m1, m2, m3, m4, m5, v128.load(r, 96), v128.load(r, 112));
        else storeGT(g2 + <usize>(u * 80), 16, m0, m1, m2, m3, m4, m5);
      }
      for (let l = 0; l < min(4, bd - j); l++) {
        const k = swap ? j + l : i, c = swap ? i : j + l;
        const o = out + (<usize>((k * C + c) * 25) << 2);
        for (let t = 0; t < 25; t++) store<f32>(o + (<usize>t << 2), load<f32>(g2 + (<usize>(t * 4 + l) << 2)));
      }
    }
  }
}
