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
import { copyFloats, storeTransposed4Strided, zeroFloats } from './mem';
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
      phasePlane(src, dst, h, w, ph, pw, a, b, pt, pl, sh, sw);
      dst += <usize>(ph * pw) << 2;
    }
  }
}

/**
 * Phase plane (a, b) of the h x w plane at src for strides (sh, sw) and padding (pt, pl), ph x pw
 * floats at dst: plane[u][v] = x[u*sh + a - pt][v*sw + b - pl], zero outside x.
 */
function phasePlane(src: usize, dst: usize, h: i32, w: i32, ph: i32, pw: i32, a: i32, b: i32, pt: i32, pl: i32, sh: i32, sw: i32): void {
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

// @ts-ignore: decorator
@inline function phaseOffset(g: Geo, col: i32, khw: i32, na: i32, nb: i32, ph: i32, pw: i32): i32 {
  // Offset (floats) of im2col row `col` = (channel, ti, tj) at output pixel (0, 0).
  const c = col / khw, r = col - c * khw, ti = r / g.kw, tj = r - ti * g.kw;
  const ry = ti * g.dh, rx = tj * g.dw;
  const a = ry % g.sh, b = rx % g.sw;
  return ((c * na + a) * nb + b) * ph * pw + (ry / g.sh) * pw + rx / g.sw;
}

/** Offsets (floats) of im2col rows p0..p0+kc in one image's phase planes, kc ints at dst. */
export function phaseRowOffsets(g: Geo, p0: i32, kc: i32, dst: usize): void {
  const khw = g.kh * g.kw;
  const na = min(g.sh, (g.kh - 1) * g.dh + 1), nb = min(g.sw, (g.kw - 1) * g.dw + 1);
  const ph = g.oh + (g.kh - 1) * g.dh / g.sh, pw = g.ow + (g.kw - 1) * g.dw / g.sw;
  for (let p = 0; p < kc; p++) store<i32>(dst + (<usize>p << 2), phaseOffset(g, p0 + p, khw, na, nb, ph, pw));
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
      const o0b = <usize>o0 << 2, o1b = <usize>o1 << 2, o2b = <usize>o2 << 2, o3b = <usize>o3 << 2;
      const o4b = <usize>o4 << 2, o5b = <usize>o5 << 2, o6b = <usize>o6 << 2, o7b = <usize>o7 << 2;
      for (let p = 0; p < kc;) {
        const s = x + (<usize>(oy * pw + ox) << 2);
        if (p + 4 <= kc && ox + 4 <= g.ow) {
          // Four output pixels of one row: each column's four values are contiguous in its
          // plane, one vector load; two 4x4 transposes make them four k steps of the panel.
          storeTransposed4Strided(d, 32, v128.load(s + o0b), v128.load(s + o1b), v128.load(s + o2b), v128.load(s + o3b));
          storeTransposed4Strided(d + 16, 32, v128.load(s + o4b), v128.load(s + o5b), v128.load(s + o6b), v128.load(s + o7b));
          d += NR << 4;
          p += 4;
          ox += 4;
          if (ox == g.ow) { ox = 0; oy++; }
          continue;
        }
        p++;
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

// Dilated and transposed convolutions by phase decomposition (src/backend/wasm/dilated.ts,
// transposed.ts). A stride-1 convolution of dilation (dh, dw) is dh*dw undilated convolutions:
// output phase (a, b) (rows a + dh*u, columns b + dw*v) reads only the input phase
// xpad[a + dh*u][b + dw*v]. The split below writes those input phases, padded, as a batch of
// images [image][a][b][channel][PH][PW], so one undilated convolution (Winograd for 3x3) runs
// them all; the merge interleaves its outputs back. The merge also assembles a transposed
// convolution, whose stride phases are output channels of one stride-1 convolution.

export const DS_X = 0, DS_P = 1, DS_C = 2, DS_H = 3, DS_W = 4, DS_DH = 5, DS_DW = 6, DS_PT = 7, DS_PL = 8, DS_PH = 9, DS_PW = 10;

/**
 * Task t: input plane t (image * C + channel), h x w, into its dh*dw phase planes (PH x PW
 * each): P[image][a][b][channel][u][v] = x[a + dh*u - pt][b + dw*v - pl], zero outside x.
 */
export function dilSplitTask(job: usize, t: i32): void {
  const c = arg(job, DS_C), h = arg(job, DS_H), w = arg(job, DS_W), dh = arg(job, DS_DH), dw = arg(job, DS_DW);
  const pt = arg(job, DS_PT), pl = arg(job, DS_PL), ph = arg(job, DS_PH), pw = arg(job, DS_PW);
  const img = t / c, ch = t - img * c;
  const src = <usize>arg(job, DS_X) + (<usize>t * <usize>(h * w) << 2);
  const plane = <usize>(ph * pw) << 2;
  for (let a = 0; a < dh; a++) {
    for (let b = 0; b < dw; b++) {
      phasePlane(src, <usize>arg(job, DS_P) + <usize>(((img * dh + a) * dw + b) * c + ch) * plane, h, w, ph, pw, a, b, pt, pl, dh, dw);
    }
  }
}

export const DM_Z = 0, DM_Y = 1, DM_G = 2, DM_CG = 3, DM_PH = 4, DM_PW = 5, DM_DH = 6, DM_DW = 7;
export const DM_OT = 8, DM_OL = 9, DM_OH = 10, DM_OW = 11;

/**
 * Task t: output plane t (image * G*CG + channel), OH x OW, from the phase planes Z
 * [image][group][a][b][channel in group][PH][PW] (G = 1: [image][a][b][channel]):
 * y[r][s] = Z[a][b][(r + ot) / dh][(s + ol) / dw] with a = (r + ot) % dh, b = (s + ol) % dw;
 * zero where that row or column lies past the plane.
 */
export function dilMergeTask(job: usize, t: i32): void {
  const g = arg(job, DM_G), cg = arg(job, DM_CG), ph = arg(job, DM_PH), pw = arg(job, DM_PW);
  const dh = arg(job, DM_DH), dw = arg(job, DM_DW), ot = arg(job, DM_OT), ol = arg(job, DM_OL);
  const oh = arg(job, DM_OH), ow = arg(job, DM_OW);
  const c = g * cg;
  const img = t / c, ch = t - img * c, gi = ch / cg, cc = ch - gi * cg;
  const plane = ph * pw;
  // Float offset of phase (a, b)'s plane of this channel.
  const base = ((img * g + gi) * dh * dw * cg + cc) * plane;
  const phaseStep = cg * plane;
  const z = <usize>arg(job, DM_Z);
  let dst = <usize>arg(job, DM_Y) + (<usize>t * <usize>(oh * ow) << 2);
  // Output columns whose plane column (s + ol) / dw is inside the plane.
  let sEnd = pw * dw - ol;
  if (sEnd > ow) sEnd = ow;
  if (sEnd < 0) sEnd = 0;
  for (let r = 0; r < oh; r++) {
    const q = r + ot, a = q % dh, u = q / dh;
    if (u >= ph) { zeroFloats(dst, ow); dst += <usize>ow << 2; continue; }
    const row = z + (<usize>(base + a * dw * phaseStep + u * pw) << 2);
    if (dw == 1) copyFloats(dst, row + (<usize>ol << 2), sEnd);
    else if (dw == 2) {
      // out[2i] = r0[i + o0], out[2i + 1] = r1[i + o1].
      // Even outputs from phase b0 = ol & 1 at i + ol / 2, odd ones from the other at i + (ol + 1) / 2.
      const b0 = ol & 1, o0 = ol >> 1, o1 = (ol + 1) >> 1;
      const r0 = row + (<usize>(b0 * phaseStep) << 2), r1 = row + (<usize>((1 - b0) * phaseStep) << 2);
      let s = 0;
      for (; s + 8 <= sEnd && ((s >> 1) + 4 + max(o0, o1)) <= pw; s += 8) {
        const i = s >> 1;
        const v0 = v128.load(r0 + (<usize>(i + o0) << 2)), v1 = v128.load(r1 + (<usize>(i + o1) << 2));
        v128.store(dst + (<usize>s << 2), v128.shuffle<f32>(v0, v1, 0, 4, 1, 5));
        v128.store(dst + (<usize>s << 2), v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), 16);
      }
      for (; s < sEnd; s++) {
        const qs = s + ol;
        store<f32>(dst + (<usize>s << 2), load<f32>(z + (<usize>(base + a * dw * phaseStep + (qs & 1) * phaseStep + u * pw + (qs >> 1)) << 2)));
      }
    } else {
      for (let s = 0; s < sEnd; s++) {
        const qs = s + ol, b = qs % dw;
        store<f32>(dst + (<usize>s << 2), load<f32>(row + (<usize>(b * phaseStep + qs / dw) << 2)));
      }
    }
    if (sEnd < ow) zeroFloats(dst + (<usize>sEnd << 2), ow - sEnd);
    dst += <usize>ow << 2;
  }
}
