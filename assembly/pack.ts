// Packing: copies a block of A or B into the panel order the micro-kernel reads (kernel.ts),
// zero-filling past the matrix edge so the kernel never needs bounds checks. B can come from
// a plain strided matrix or straight from an image (implicit im2col), so convolutions never
// materialise their column matrix.
import { MR, MR6, NR } from './kernel';
import { storeTransposed4 } from './mem';

/** Strided A (element (i, p) at a[i*rs + p*cs]) rows i0..i0+mc, cols p0..p0+kc -> MR-row panels. */
export function packA(a: usize, rs: i32, cs: i32, i0: i32, mc: i32, p0: i32, kc: i32, mrows: i32, dst: usize, pst: i32 = 0): void {
  // Panels pst k steps apart (0: kc): several images' k ranges packed side by side into one block.
  const panel = <usize>((pst ? pst : kc) * MR) << 2;
  for (let ib = 0; ib < mc; ib += MR) {
    const rows = min(MR, mrows - (i0 + ib));
    if (rows == MR && cs == 1) {
      // Row-major A (conv weights, MatMul): 4x4 transposes, four k steps per round.
      const rsb = <usize>rs << 2;
      let s = a + ((<usize>(i0 + ib) * <usize>rs + <usize>p0) << 2);
      let d = dst;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const r0 = v128.load(s), r1 = v128.load(s + rsb), r2 = v128.load(s + 2 * rsb), r3 = v128.load(s + 3 * rsb);
        storeTransposed4(d, r0, r1, r2, r3);
        s += 16; d += 64;
      }
      for (; p < kc; p++) {
        store<f32>(d, load<f32>(s)); store<f32>(d, load<f32>(s + rsb), 4);
        store<f32>(d, load<f32>(s + 2 * rsb), 8); store<f32>(d, load<f32>(s + 3 * rsb), 12);
        s += 4; d += 16;
      }
      dst += panel;
      continue;
    }
    if (rows == MR && rs == 1) {
      // Column-major A (W^T of the strided input gradient): the four rows of a k step are
      // adjacent, one vector load.
      let s = a + ((<usize>(i0 + ib) + <usize>p0 * <usize>cs) << 2);
      const step = <usize>cs << 2;
      let d = dst;
      for (let p = 0; p < kc; p++) { v128.store(d, v128.load(s)); s += step; d += 16; }
      dst += panel;
      continue;
    }
    for (let r = 0; r < MR; r++) {
      let d = dst + (<usize>r << 2);
      if (r >= rows) {
        for (let p = 0; p < kc; p++) { store<f32>(d, 0); d += MR << 2; }
        continue;
      }
      let s = a + ((<usize>(i0 + ib + r) * <usize>rs + <usize>p0 * <usize>cs) << 2);
      const step = <usize>cs << 2;
      for (let p = 0; p < kc; p++) { store<f32>(d, load<f32>(s)); s += step; d += MR << 2; }
    }
    dst += panel;
  }
}

/**
 * Rows of the A panel that starts `left` rows before the end of its block: 4 (kernel4x8)
 * unless `six`; else 6 (kernel6x8), but 4 for the last 4 and the last 8, so that a block of a multiple of 4 rows (32
 * filters, 64-row tiles) runs whole panels only: 32 = 6+6+6+6+4+4, not 6*5 + a 2-row panel.
 */
// @ts-ignore: decorator
@inline export function panelRows(left: i32, six: bool): i32 {
  return !six || left <= MR || left == 2 * MR ? MR : MR6;
}

/**
 * A rows i0..i0+mc, cols p0..p0+kc -> panels of panelRows rows (6: kernel6x8's layout, 6
 * rows interleaved per k step; 4: kernel4x8's). Panel
 * ib starts ib*(pst or kc) floats into dst; this block's k steps go `koff` steps into each
 * panel (several images' k ranges side by side). Rows past i0+mc are zeros.
 */
export function packA6(a: usize, rs: i32, cs: i32, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize, pst: i32, koff: i32, six: bool): void {
  const ps = pst ? pst : kc;
  const rsb = <usize>rs << 2, csb = <usize>cs << 2;
  for (let ib = 0; ib < mc; ) {
    const rp = panelRows(mc - ib, six);
    const rows = min(rp, mc - ib);
    let d = dst + ((<usize>ib * <usize>ps + <usize>koff * <usize>rp) << 2);
    let s = a + ((<usize>(i0 + ib) * <usize>rs + <usize>p0 * <usize>cs) << 2);
    const ds = <usize>rp << 2;
    let p = 0;
    if (rows == rp && cs == 1) {
      // Row-major A (conv weights, MatMul): four k steps per round, rows paired by shuffles.
      for (; p + 4 <= kc; p += 4) {
        const r0 = v128.load(s), r1 = v128.load(s + rsb), r2 = v128.load(s + 2 * rsb), r3 = v128.load(s + 3 * rsb);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const u0 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), u1 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        v128.store(d, v128.shuffle<i64>(t0, u0, 0, 2));
        v128.store(d + ds, v128.shuffle<i64>(t0, u0, 1, 3));
        v128.store(d + 2 * ds, v128.shuffle<i64>(t1, u1, 0, 2));
        v128.store(d + 3 * ds, v128.shuffle<i64>(t1, u1, 1, 3));
        if (rp == MR6) {
          const r4 = v128.load(s + 4 * rsb), r5 = v128.load(s + 5 * rsb);
          const w0 = v128.shuffle<f32>(r4, r5, 0, 4, 1, 5), w1 = v128.shuffle<f32>(r4, r5, 2, 6, 3, 7);
          v128.store64_lane(d + 16, w0, 0); v128.store64_lane(d + ds + 16, w0, 1);
          v128.store64_lane(d + 2 * ds + 16, w1, 0); v128.store64_lane(d + 3 * ds + 16, w1, 1);
        }
        s += 16; d += 4 * ds;
      }
    } else if (rows == rp && rs == 1) {
      // Column-major A (W^T of the input gradients): a k step's rows are adjacent.
      for (; p < kc; p++) {
        v128.store(d, v128.load(s));
        if (rp == MR6) store<u64>(d, load<u64>(s, 16), 16);
        s += csb; d += ds;
      }
    }
    // The rest (odd k tails, other strides, partial panels): element by element, zero rows.
    for (; p < kc; p++) {
      for (let r = 0; r < rp; r++) store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(s + <usize>r * rsb) : 0);
      s += csb; d += ds;
    }
    ib += rp;
  }
}

/** Strided B (element (p, j) at b[p*rs + j*cs]) rows p0..p0+kc, cols j0..j0+nc -> NR-col panels. */
export function packB(b: usize, rs: i32, cs: i32, p0: i32, kc: i32, j0: i32, nc: i32, ncols: i32, dst: usize, pst: i32 = 0): void {
  const panel = <usize>((pst ? pst : kc) * NR) << 2;
  for (let jb = 0; jb < nc; jb += NR) {
    const cols = min(NR, ncols - (j0 + jb));
    const base = b + ((<usize>p0 * <usize>rs + <usize>(j0 + jb) * <usize>cs) << 2);
    if (cs == 1 && cols == NR) {
      // Row-major B: each k step is two vector loads.
      let s = base; const step = <usize>rs << 2; let d = dst;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
        s += step; d += NR << 2;
      }
    } else {
      for (let q = 0; q < NR; q++) {
        let d = dst + (<usize>q << 2);
        if (q >= cols) {
          for (let p = 0; p < kc; p++) { store<f32>(d, 0); d += NR << 2; }
          continue;
        }
        let s = base + (<usize>q * <usize>cs << 2);
        const step = <usize>rs << 2;
        for (let p = 0; p < kc; p++) { store<f32>(d, load<f32>(s)); s += step; d += NR << 2; }
      }
    }
    dst += panel;
  }
}

/**
 * Convolution geometry of one image and group, as read by the implicit-im2col packers.
 * Unmanaged: it lives in per-thread scratch (changetype), never on a GC heap.
 */
@unmanaged export class Geo {
  c: i32 = 0; h: i32 = 0; w: i32 = 0; kh: i32 = 0; kw: i32 = 0;
  sh: i32 = 0; sw: i32 = 0; pt: i32 = 0; pl: i32 = 0; dh: i32 = 0; dw: i32 = 0; oh: i32 = 0; ow: i32 = 0;
}

/**
 * B = im2col(x): row p = (channel, tap i, tap j), column = output pixel. Packs rows p0..p0+kc,
 * cols j0..j0+nc. Interior panels of a stride-1 row are two vector loads per row of B.
 */
export function packIm2col(x: usize, g: Geo, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const khw = g.kh * g.kw;
  const ncols = g.oh * g.ow;
  const plane = g.h * g.w;
  for (let jb = 0; jb < nc; jb += NR) {
    const j = j0 + jb;
    const cols = min(NR, ncols - j);
    const oy = j / g.ow, ox = j - oy * g.ow;
    const inRow = cols == NR && ox + NR <= g.ow;
    const sameRow = inRow && g.sw == 1;
    const strided = inRow && g.sw > 1;
    let c = p0 / khw; let r = p0 - c * khw; let ti = r / g.kw; let tj = r - ti * g.kw;
    let d = dst;
    for (let p = 0; p < kc; p++) {
      const y0 = ti * g.dh - g.pt, x0 = tj * g.dw - g.pl;
      const src = x + (<usize>(c * plane) << 2);
      if (sameRow) {
        const y = oy + y0, xs = ox + x0;
        if (y >= 0 && y < g.h && xs >= 0 && xs + NR <= g.w) {
          const s = src + (<usize>(y * g.w + xs) << 2);
          v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
        } else if (y < 0 || y >= g.h) {
          v128.store(d, f32x4.splat(0)); v128.store(d, f32x4.splat(0), 16);
        } else {
          for (let q = 0; q < NR; q++) {
            const xx = xs + q;
            store<f32>(d + (<usize>q << 2), xx >= 0 && xx < g.w ? load<f32>(src + (<usize>(y * g.w + xx) << 2)) : 0);
          }
        }
      } else if (strided) {
        // Eight pixels of one output row, sw apart in the input: one bounds check for all.
        const y = oy * g.sh + y0, xs = ox * g.sw + x0;
        if (y >= 0 && y < g.h && xs >= 0 && xs + (NR - 1) * g.sw < g.w) {
          const s = src + (<usize>(y * g.w + xs) << 2);
          const st = <usize>g.sw << 2;
          for (let q = 0; q < NR; q++) store<f32>(d + (<usize>q << 2), load<f32>(s + <usize>q * st));
        } else {
          for (let q = 0; q < NR; q++) {
            const xx = xs + q * g.sw;
            store<f32>(d + (<usize>q << 2), y >= 0 && y < g.h && xx >= 0 && xx < g.w ? load<f32>(src + (<usize>(y * g.w + xx) << 2)) : 0);
          }
        }
      } else {
        let qy = oy, qx = ox;
        for (let q = 0; q < NR; q++) {
          let v: f32 = 0;
          if (q < cols) {
            const y = qy * g.sh + y0, xx = qx * g.sw + x0;
            if (y >= 0 && y < g.h && xx >= 0 && xx < g.w) v = load<f32>(src + (<usize>(y * g.w + xx) << 2));
            if (++qx == g.ow) { qx = 0; qy++; }
          }
          store<f32>(d + (<usize>q << 2), v);
        }
      }
      d += NR << 2;
      if (++tj == g.kw) { tj = 0; if (++ti == g.kh) { ti = 0; c++; } }
    }
    dst += <usize>(kc * NR) << 2;
  }
}

/**
 * B = im2col(x)^T for the filter gradient: row p = output pixel, column = (channel, tap).
 * Packs rows p0..p0+kc, cols j0..j0+nc. `tmp` holds 3*NR ints of per-column offsets.
 */
export function packIm2colT(x: usize, g: Geo, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize, tmp: usize, pst: i32 = 0): void {
  const panel = <usize>((pst ? pst : kc) * NR) << 2;
  const khw = g.kh * g.kw;
  const ncols = g.c * khw;
  const plane = g.h * g.w;
  for (let jb = 0; jb < nc; jb += NR) {
    const cols = min(NR, ncols - (j0 + jb));
    for (let q = 0; q < NR; q++) {
      const col = j0 + jb + q;
      const c = col / khw, r = col - c * khw, ti = r / g.kw, tj = r - ti * g.kw;
      store<i32>(tmp + (<usize>q << 2), c * plane);
      store<i32>(tmp + (<usize>(q + NR) << 2), ti * g.dh - g.pt);
      store<i32>(tmp + (<usize>(q + 2 * NR) << 2), tj * g.dw - g.pl);
    }
    let oy = p0 / g.ow, ox = p0 - oy * g.ow;
    let d = dst;
    for (let p = 0; p < kc; p++) {
      const by = oy * g.sh, bx = ox * g.sw;
      for (let q = 0; q < NR; q++) {
        let v: f32 = 0;
        if (q < cols) {
          const y = by + load<i32>(tmp + (<usize>(q + NR) << 2));
          const xx = bx + load<i32>(tmp + (<usize>(q + 2 * NR) << 2));
          if (y >= 0 && y < g.h && xx >= 0 && xx < g.w) {
            v = load<f32>(x + (<usize>(load<i32>(tmp + (<usize>q << 2)) + y * g.w + xx) << 2));
          }
        }
        store<f32>(d + (<usize>q << 2), v);
      }
      d += NR << 2;
      if (++ox == g.ow) { ox = 0; oy++; }
    }
    dst += panel;
  }
}
