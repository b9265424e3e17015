// Strided convolutions through phase planes. For stride (sh, sw), the zero-padded input splits
// into its (row, column) phases: P[a][b][u][v] = xpad[u*sh + a][v*sw + b]. Tap (ti, tj) of
// output pixel (oy, ox) reads xpad[oy*sh + ti*dh][ox*sw + tj*dw]
//   = P[(ti*dh) % sh][(tj*dw) % sw][oy + (ti*dh) / sh][ox + (tj*dw) / sw],
// so in the phase planes every im2col row is a stride-1 window again, already padded: the
// packers below copy eight contiguous floats per row of B (no bounds checks, no gathers),
// as the stride-1 path does. Only the phases some tap reads are built:
//   na = min(sh, (kh-1)*dh + 1) row phases, nb likewise, each plane PH x PW with
//   PH = oh + (kh-1)*dh / sh, PW = ow + (kw-1)*dw / sw.
// (1x1 stride s: one phase, oh x ow, which is the subsampled image: a plain GEMM operand.)
// Layout of the phase buffer: [image][channel][a][b][PH][PW]. Mirrored in src/backend/wasm/conv2d.ts.
import { arg } from './job';
import { NR } from './kernel';
import { copyFloats, zeroFloats } from './mem';
import { Geo } from './pack';

export const PS_X = 0, PS_P = 1, PS_H = 2, PS_W = 3, PS_SH = 4, PS_SW = 5, PS_PT = 6, PS_PL = 7;
export const PS_NA = 8, PS_NB = 9, PS_PH = 10, PS_PW = 11;

/** Task t: the phase planes of input plane t (image * channels + channel). */
export function phaseTask(job: usize, t: i32): void {
  const h = arg(job, PS_H), w = arg(job, PS_W), sh = arg(job, PS_SH), sw = arg(job, PS_SW);
  const pt = arg(job, PS_PT), pl = arg(job, PS_PL), na = arg(job, PS_NA), nb = arg(job, PS_NB);
  const ph = arg(job, PS_PH), pw = arg(job, PS_PW);
  const src = <usize>arg(job, PS_X) + (<usize>t * <usize>(h * w) << 2);
  let dst = <usize>arg(job, PS_P) + (<usize>t * <usize>(na * nb * ph * pw) << 2);
  for (let a = 0; a < na; a++) {
    for (let b = 0; b < nb; b++) {
      const x0 = b - pl;
      // Plane columns v whose input column v*sw + x0 lies inside the image.
      let lo = x0 >= 0 ? 0 : (-x0 + sw - 1) / sw;
      let hi = w - x0 > 0 ? (w - x0 + sw - 1) / sw : 0;
      if (hi > pw) hi = pw;
      if (lo > hi) lo = hi;
      for (let u = 0; u < ph; u++) {
        const y = u * sh + a - pt;
        if (y < 0 || y >= h || lo == hi) { zeroFloats(dst, pw); dst += <usize>pw << 2; continue; }
        if (lo > 0) zeroFloats(dst, lo);
        const s = src + (<usize>(y * w + x0) << 2);
        if (sw == 1) copyFloats(dst + (<usize>lo << 2), s + (<usize>lo << 2), hi - lo);
        else {
          let v = lo;
          if (sw == 2) {
            // Four outputs from two loads; only while all eight loaded floats are in the row.
            for (; v + 4 <= hi && 2 * v + 8 + x0 <= w; v += 4) {
              const p = s + (<usize>(2 * v) << 2);
              v128.store(dst + (<usize>v << 2), v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
            }
          }
          for (; v < hi; v++) store<f32>(dst + (<usize>v << 2), load<f32>(s + (<usize>(v * sw) << 2)));
        }
        if (hi < pw) zeroFloats(dst + (<usize>hi << 2), pw - hi);
        dst += <usize>pw << 2;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function phaseOffset(g: Geo, col: i32, khw: i32, na: i32, nb: i32, ph: i32, pw: i32): i32 {
  // Offset (floats) of im2col row `col` = (channel, ti, tj) at output pixel (0, 0).
  const c = col / khw, r = col - c * khw, ti = r / g.kw, tj = r - ti * g.kw;
  const ry = ti * g.dh, rx = tj * g.dw;
  const a = ry % g.sh, b = rx % g.sw;
  return ((c * na + a) * nb + b) * ph * pw + (ry / g.sh) * pw + rx / g.sw;
}

/**
 * B = im2col(x) read from the phase planes x of one image (and group): rows p0..p0+kc, cols
 * j0..j0+nc, as packIm2col. `tmp` holds KC + NR ints.
 */
export function packPhase(x: usize, g: Geo, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize, tmp: usize): void {
  const khw = g.kh * g.kw;
  const ncols = g.oh * g.ow;
  const na = min(g.sh, (g.kh - 1) * g.dh + 1), nb = min(g.sw, (g.kw - 1) * g.dw + 1);
  const ph = g.oh + (g.kh - 1) * g.dh / g.sh, pw = g.ow + (g.kw - 1) * g.dw / g.sw;
  for (let p = 0; p < kc; p++) store<i32>(tmp + (<usize>p << 2), phaseOffset(g, p0 + p, khw, na, nb, ph, pw));
  const coff = tmp + (<usize>kc << 2);
  for (let jb = 0; jb < nc; jb += NR) {
    const j = j0 + jb;
    const cols = min(NR, ncols - j);
    const oy = j / g.ow, ox = j - oy * g.ow;
    let d = dst;
    if (cols == NR && ox + NR <= g.ow) {
      const s = x + (<usize>(oy * pw + ox) << 2);
      for (let p = 0; p < kc; p++) {
        const sp = s + (<usize>load<i32>(tmp + (<usize>p << 2)) << 2);
        v128.store(d, v128.load(sp)); v128.store(d, v128.load(sp, 16), 16);
        d += NR << 2;
      }
    } else if (cols == NR && ox + NR <= 2 * g.ow) {
      // The panel ends a row and starts the next: columns q < r from this row, the rest from
      // the next, which in the plane is (pw - ow) floats further on; two loads and a select.
      const r = g.ow - ox;
      const lanes = i32x4(0, 1, 2, 3);
      const m0 = i32x4.lt_s(lanes, i32x4.splat(r)), m1 = i32x4.lt_s(lanes, i32x4.splat(r - 4));
      const s = x + (<usize>(oy * pw + ox) << 2);
      const delta = <usize>(pw - g.ow) << 2;
      for (let p = 0; p < kc; p++) {
        const sp = s + (<usize>load<i32>(tmp + (<usize>p << 2)) << 2);
        v128.store(d, v128.bitselect(v128.load(sp), v128.load(sp + delta), m0));
        v128.store(d, v128.bitselect(v128.load(sp, 16), v128.load(sp + delta, 16), m1), 16);
        d += NR << 2;
      }
    } else {
      // Crossing several output rows (or the last columns): per-column offsets, zeros past the end.
      let qy = oy, qx = ox;
      for (let q = 0; q < cols; q++) {
        store<i32>(coff + (<usize>q << 2), qy * pw + qx);
        if (++qx == g.ow) { qx = 0; qy++; }
      }
      for (let p = 0; p < kc; p++) {
        const sp = x + (<usize>load<i32>(tmp + (<usize>p << 2)) << 2);
        if (cols == NR) {
          for (let q = 0; q < NR; q++) store<f32>(d + (<usize>q << 2), load<f32>(sp + (<usize>load<i32>(coff + (<usize>q << 2)) << 2)));
        } else {
          v128.store(d, f32x4.splat(0)); v128.store(d, f32x4.splat(0), 16);
          for (let q = 0; q < cols; q++) store<f32>(d + (<usize>q << 2), load<f32>(sp + (<usize>load<i32>(coff + (<usize>q << 2)) << 2)));
        }
        d += NR << 2;
      }
    }
    dst += <usize>(kc * NR) << 2;
  }
}

/**
 * B = im2col(x)^T from the phase planes (the filter gradient): row p = output pixel, column =
 * (channel, tap); rows p0..p0+kc, cols j0..j0+nc, as packIm2colT. `tmp` holds NR ints.
 */
export function packPhaseT(x: usize, g: Geo, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize, tmp: usize, pst: i32 = 0): void {
  const panel = <usize>((pst ? pst : kc) * NR) << 2;
  const khw = g.kh * g.kw;
  const ncols = g.c * khw;
  const na = min(g.sh, (g.kh - 1) * g.dh + 1), nb = min(g.sw, (g.kw - 1) * g.dw + 1);
  const ph = g.oh + (g.kh - 1) * g.dh / g.sh, pw = g.ow + (g.kw - 1) * g.dw / g.sw;
  for (let jb = 0; jb < nc; jb += NR) {
    const cols = min(NR, ncols - (j0 + jb));
    for (let q = 0; q < cols; q++) store<i32>(tmp + (<usize>q << 2), phaseOffset(g, j0 + jb + q, khw, na, nb, ph, pw));
    let oy = p0 / g.ow, ox = p0 - oy * g.ow;
    let d = dst;
    if (cols == NR) {
      const o0 = load<i32>(tmp), o1 = load<i32>(tmp, 4), o2 = load<i32>(tmp, 8), o3 = load<i32>(tmp, 12);
      const o4 = load<i32>(tmp, 16), o5 = load<i32>(tmp, 20), o6 = load<i32>(tmp, 24), o7 = load<i32>(tmp, 28);
      for (let p = 0; p < kc; p++) {
        const s = x + (<usize>(oy * pw + ox) << 2);
        store<f32>(d, load<f32>(s + (<usize>o0 << 2))); store<f32>(d, load<f32>(s + (<usize>o1 << 2)), 4);
        store<f32>(d, load<f32>(s + (<usize>o2 << 2)), 8); store<f32>(d, load<f32>(s + (<usize>o3 << 2)), 12);
        store<f32>(d, load<f32>(s + (<usize>o4 << 2)), 16); store<f32>(d, load<f32>(s + (<usize>o5 << 2)), 20);
        store<f32>(d, load<f32>(s + (<usize>o6 << 2)), 24); store<f32>(d, load<f32>(s + (<usize>o7 << 2)), 28);
        d += NR << 2;
        if (++ox == g.ow) { ox = 0; oy++; }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = x + (<usize>(oy * pw + ox) << 2);
        v128.store(d, f32x4.splat(0)); v128.store(d, f32x4.splat(0), 16);
        for (let q = 0; q < cols; q++) store<f32>(d + (<usize>q << 2), load<f32>(s + (<usize>load<i32>(tmp + (<usize>q << 2)) << 2)));
        d += NR << 2;
        if (++ox == g.ow) { ox = 0; oy++; }
      }
    }
    dst += panel;
  }
}
