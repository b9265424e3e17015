// Direct convolution for depthwise and small-group convolutions (MobileNet's 3x3 depthwise,
// ResNeXt's 32 groups of 4, ConvNeXt's 7x7 depthwise), any stride, padding and dilation.
//
// Each output element there costs only cg * kh * kw multiply-adds, so packing a GEMM panel or
// building a column matrix costs as much as the arithmetic, and a GEMM per group has a 1..16
// row A. Instead a task copies the input rows it needs into a zero-padded slab in scratch
// (padding done once, no bounds checks after), each row split into its `sw` column phases
// (phase p holds padded columns p, p + sw, p + 2 sw, ...), so that every tap reads
// consecutive output pixels with contiguous vector loads, at any stride. A table of (byte
// offset, weight) pairs, one per tap, drives the micro-kernels (depthwise-tiles.ts): 2 output
// rows x 16 pixels of one filter, or 1 row x 8 pixels of 4 filters sharing their inputs.
//
//   forward (KIND 50): a task is one image, one group and a band of output rows; for each of
//     the group's kg filters, y = scale * sum + bias, then ReLU.
//   input gradient (KIND 51): a task is one image, one group and a band of dx rows; its slab
//     holds the group's kg dy planes. dx[y, x] sums dy[(y + pt - i dh) / sh, (x + pl - j dw) / sw]
//     over the taps where both divide: per (row phase, column phase) of dx a fixed tap list,
//     so dx is computed one column phase at a time (contiguous in dy) and interleaved. This is
//     also the forward pass of a transposed convolution.
//   filter gradient (KIND 52): a task is one part of the images and one group: dW[f, c, i, j]
//     = sum of dy[f, oy, ox] * slab[c, oy sh + i dh, ox sw + j dw], vectorised along ox (the
//     reduction), eight accumulators at a time (depthwise-filter.ts). dy rows are copied
//     zero-padded to whole vectors, and the slab lanes past a row's end are masked to zero in
//     that last vector (an Inf there times dy's zero would be a NaN the reference does not have).
//
// Argument slots (mirrored in src/backend/wasm/job-layout.ts, DWC). For the input gradient X is
// dy, Y is dx and (OH, OW) are dy's sizes, as in the forward.
import { arg, scratch } from './job';
import { copyFloats, roundUp, zeroFloats } from './mem';
import { EP_BIAS_ROW, EP_RELU, EP_SCALE_ROW } from './kernel';
import { quadFilters, quadRow, rowTiles } from './depthwise-tiles';

export const DW_X = 0, DW_W = 1, DW_BIAS = 2, DW_SCALE = 3, DW_Y = 4, DW_FLAGS = 5, DW_G = 6, DW_CG = 7, DW_KG = 8;
export const DW_H = 9, DW_W_ = 10, DW_KH = 11, DW_KW = 12, DW_SH = 13, DW_SW = 14, DW_PT = 15, DW_PL = 16;
export const DW_DH = 17, DW_DW = 18, DW_OH = 19, DW_OW = 20, DW_N = 21, DW_RPB = 22, DW_IPP = 23, DW_PSTRIDE = 24;

/** floor(a / b) for b > 0 and any a. */
// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return q * b > a ? q - 1 : q;
}

/** a mod b in 0..b-1 for b > 0. */
// @ts-ignore: decorator
@inline function mod(a: i32, b: i32): i32 {
  return a - floorDiv(a, b) * b;
}

/** n floats of one input row from column c0 on, every sw-th, to dst (c0 >= 0, the last one < w). */
function gather(dst: usize, row: usize, c0: i32, sw: i32, n: i32, w: i32): void {
  const src = row + (<usize>c0 << 2);
  if (sw == 1) { copyFloats(dst, src, n); return; }
  let i = 0;
  if (sw == 2) {
    // Four outputs from two loads; only while all 8 floats read lie inside the row.
    for (; i + 4 <= n && c0 + 2 * i + 8 <= w; i += 4) {
      const s = src + (<usize>i << 3);
      v128.store(dst + (<usize>i << 2), v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
    }
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>(i * sw) << 2)));
}

/**
 * Padded rows y0 .. y0 + rows of `planes` planes (h x w, `ps` floats apart) into a slab
 * [planes][rows][sw][wq] at dst: phase p, index q holds input (y - pt, q sw + p - pl), zero
 * outside the input. Pads may be negative (the slab then starts inside the input).
 */
export function buildSlab(x: usize, planes: i32, ps: i32, h: i32, w: i32, y0: i32, rows: i32, pt: i32, pl: i32, sw: i32, wq: i32, dst: usize): void {
  const rowF = sw * wq;
  for (let c = 0; c < planes; c++) {
    const plane = x + (<usize>(c * ps) << 2);
    for (let r = 0; r < rows; r++) {
      const yy = y0 + r - pt;
      const d = dst + (<usize>((c * rows + r) * rowF) << 2);
      if (yy < 0 || yy >= h) { zeroFloats(d, rowF); continue; }
      const src = plane + (<usize>(yy * w) << 2);
      for (let p = 0; p < sw; p++) {
        const dp = d + (<usize>(p * wq) << 2);
        // the q with 0 <= q sw + p - pl < w
        let qa = p >= pl ? 0 : (pl - p + sw - 1) / sw;
        let qb = w - 1 + pl - p < 0 ? 0 : (w - 1 + pl - p) / sw + 1;
        qa = min(qa, wq);
        qb = max(qa, min(qb, wq));
        if (qa > 0) zeroFloats(dp, qa);
        if (qb > qa) gather(dp + (<usize>qa << 2), src, qa * sw + p - pl, sw, qb - qa, w);
        if (qb < wq) zeroFloats(dp + (<usize>qb << 2), wq - qb);
      }
    }
  }
}

/** Forward: one image, group and band of output rows. */
export function dwConvTask(job: usize, t: i32, tid: i32): void {
  const G = arg(job, DW_G), cg = arg(job, DW_CG), kg = arg(job, DW_KG), h = arg(job, DW_H), w = arg(job, DW_W_);
  const kh = arg(job, DW_KH), kw = arg(job, DW_KW), sh = arg(job, DW_SH), sw = arg(job, DW_SW);
  const pt = arg(job, DW_PT), pl = arg(job, DW_PL), dh = arg(job, DW_DH), dw = arg(job, DW_DW);
  const oh = arg(job, DW_OH), ow = arg(job, DW_OW), rpb = arg(job, DW_RPB), flags = arg(job, DW_FLAGS);
  const nb = (oh + rpb - 1) / rpb;
  const band = t % nb, rest = t / nb;
  const grp = rest % G, img = rest / G;
  const oy0 = band * rpb, oy1 = min(oh, oy0 + rpb);
  if (oy0 >= oy1) return;
  const K = cg * kh * kw;
  const wq = roundUp(ow, 4) + (kw - 1) * dw / sw;
  const rowF = sw * wq;
  const sr = (oy1 - oy0 - 1) * sh + (kh - 1) * dh + 1;
  const tab = scratch(job, tid);
  const qtab = tab + <usize>roundUp(kg * K * 8, 64);
  const sb = qtab + <usize>roundUp(K * 32, 64);
  const slab = sb + 64;
  const x = <usize>arg(job, DW_X) + (<usize>(img * G + grp) * <usize>(cg * h * w) << 2);
  buildSlab(x, cg, h * w, h, w, oy0 * sh, sr, pt, pl, sw, wq, slab);
  const wp = <usize>arg(job, DW_W) + (<usize>(grp * kg * K) << 2);
  for (let f = 0; f < kg; f++) {
    for (let c = 0; c < cg; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const k = (c * kh + i) * kw + j;
          const e = tab + (<usize>(f * K + k) << 3);
          store<i32>(e, ((c * sr + i * dh) * rowF + (j * dw) % sw * wq + j * dw / sw) << 2);
          store<f32>(e, load<f32>(wp + (<usize>(f * K + k) << 2)), 4);
        }
      }
    }
  }
  const rd = <usize>(sh * rowF) << 2;
  const rowBytes = <usize>ow << 2;
  const r = (flags & EP_RELU) != 0;
  const ohw = oh * ow;
  const fq = quadFilters(kg);
  for (let f0 = 0; f0 < fq; f0 += 4) {
    const nf = min(4, kg - f0);
    for (let k = 0; k < K; k++) {
      const e = qtab + (<usize>k << 5);
      store<i32>(e, load<i32>(tab + (<usize>(f0 * K + k) << 3)));
      for (let i = 0; i < 4; i++) store<f32>(e + 16 + (<usize>i << 2), i < nf ? load<f32>(tab + (<usize>((f0 + i) * K + k) << 3), 4) : 0);
    }
    for (let i = 0; i < 4; i++) {
      const k = grp * kg + f0 + min(i, nf - 1);
      store<f32>(sb + (<usize>i << 2), flags & EP_SCALE_ROW ? load<f32>(<usize>arg(job, DW_SCALE) + (<usize>k << 2)) : 1);
      store<f32>(sb + (<usize>(4 + i) << 2), flags & EP_BIAS_ROW ? load<f32>(<usize>arg(job, DW_BIAS) + (<usize>k << 2)) : 0);
    }
    const yp = <usize>arg(job, DW_Y) + (<usize>(img * G * kg + grp * kg + f0) * <usize>ohw << 2);
    for (let oy = oy0; oy < oy1; oy++) {
      quadRow(qtab, qtab + (<usize>K << 5), slab + <usize>(oy - oy0) * rd, yp + <usize>oy * rowBytes, <usize>ohw << 2, nf, ow, sb, r);
    }
  }
  for (let f = fq; f < kg; f++) {
    const k = grp * kg + f;
    store<f32>(sb, flags & EP_SCALE_ROW ? load<f32>(<usize>arg(job, DW_SCALE) + (<usize>k << 2)) : 1);
    store<f32>(sb, flags & EP_BIAS_ROW ? load<f32>(<usize>arg(job, DW_BIAS) + (<usize>k << 2)) : 0, 16);
    const tf = tab + (<usize>(f * K) << 3), te = tf + (<usize>K << 3);
    const yp = <usize>arg(job, DW_Y) + (<usize>(img * G * kg + k) * <usize>(oh * ow) << 2);
    for (let oy = oy0; oy < oy1; oy += 2) {
      const oa = yp + <usize>oy * rowBytes;
      rowTiles(oy + 1 < oy1, tf, te, slab + <usize>(oy - oy0) * rd, rd, oa, oa + rowBytes, ow, sb, r);
    }
  }
}

/** dx[2q] = e[q], dx[2q + 1] = o[q] for the n floats of a dx row. */
function interleave2(dst: usize, e: usize, o: usize, n: i32): void {
  let x = 0;
  for (; x + 8 <= n; x += 8) {
    const q = <usize>x << 1;
    const ev = v128.load(e + q), ov = v128.load(o + q);
    v128.store(dst + (<usize>x << 2), v128.shuffle<f32>(ev, ov, 0, 4, 1, 5));
    v128.store(dst + (<usize>x << 2), v128.shuffle<f32>(ev, ov, 2, 6, 3, 7), 16);
  }
  for (; x < n; x++) store<f32>(dst + (<usize>x << 2), load<f32>((x & 1 ? o : e) + (<usize>(x >> 1) << 2)));
}

/** Input gradient (and transposed convolution): one image, group and band of dx rows. */
export function dwInputTask(job: usize, t: i32, tid: i32): void {
  const G = arg(job, DW_G), cg = arg(job, DW_CG), kg = arg(job, DW_KG), h = arg(job, DW_H), w = arg(job, DW_W_);
  const kh = arg(job, DW_KH), kw = arg(job, DW_KW), sh = arg(job, DW_SH), sw = arg(job, DW_SW);
  const pt = arg(job, DW_PT), pl = arg(job, DW_PL), dh = arg(job, DW_DH), dw = arg(job, DW_DW);
  const oh = arg(job, DW_OH), ow = arg(job, DW_OW), rpb = arg(job, DW_RPB);
  const nb = (h + rpb - 1) / rpb;
  const band = t % nb, rest = t / nb;
  const grp = rest % G, img = rest / G;
  const y0 = band * rpb, y1 = min(h, y0 + rpb);
  if (y0 >= y1) return;
  // Slab row 0 is dy row yb0, slab column 0 dy column cb0: the least any dx pixel reads.
  const yb0 = floorDiv(y0 + pt - (kh - 1) * dh, sh);
  const sr = floorDiv(y1 - 1 + pt, sh) - yb0 + 1;
  const cb0 = floorDiv(pl - (kw - 1) * dw, sw);
  const nqr = roundUp((w + sw - 1) / sw, 4);
  const wsl = floorDiv(sw - 1 + sw * (nqr - 1) + pl, sw) - cb0 + 1;
  const L = kg * kh * kw;
  const classes = sh * sw;
  const tab = scratch(job, tid);
  const cnt = tab + <usize>roundUp(classes * L * 32, 64);
  const sb = cnt + <usize>roundUp(classes * 4, 64);
  const buf = sb + 64;
  const bufBytes = sw > 1 ? roundUp(4 * sw * nqr * 4, 64) : 0;
  const slab = buf + <usize>bufBytes;
  const ohw = oh * ow;
  const dy = <usize>arg(job, DW_X) + (<usize>(img * G + grp) * <usize>(kg * ohw) << 2);
  buildSlab(dy, kg, ohw, oh, ow, 0, sr, -yb0, -cb0, 1, wsl, slab);
  const rd = <usize>wsl << 2;
  const rowBytes = <usize>w << 2;
  v128.store(sb, f32x4.splat(1));
  v128.store(sb, f32x4.splat(0), 16);
  const hwBytes = <usize>(h * w) << 2;
  const cq = quadFilters(cg);
  for (let ci0 = 0; ci0 < cq; ci0 += 4) {
    // Four dx channels at a time: tap lists per (row phase, column phase) as below, 4 weights each.
    const nf = min(4, cg - ci0);
    for (let ry = 0; ry < sh; ry++) {
      const rbase = floorDiv(ry - (kh - 1) * dh, sh);
      for (let cx = 0; cx < sw; cx++) {
        const x0 = mod(cx - pl, sw);
        const tl = tab + (<usize>((ry * sw + cx) * L) << 5);
        let n = 0;
        for (let f = 0; f < kg; f++) {
          const wf = <usize>arg(job, DW_W) + (<usize>(((grp * kg + f) * cg + ci0) * kh * kw) << 2);
          for (let i = 0; i < kh; i++) {
            if (mod(ry - i * dh, sh) != 0) continue;
            const ro = (ry - i * dh) / sh - rbase;
            for (let j = 0; j < kw; j++) {
              if (mod(cx - j * dw, sw) != 0) continue;
              const co = (x0 + pl - j * dw) / sw - cb0;
              const e = tl + (<usize>n << 5);
              store<i32>(e, ((f * sr + ro) * wsl + co) << 2);
              for (let q = 0; q < 4; q++) {
                store<f32>(e + 16 + (<usize>q << 2), q < nf ? load<f32>(wf + (<usize>(q * kh * kw + i * kw + j) << 2)) : 0);
              }
              n++;
            }
          }
        }
        store<i32>(cnt + (<usize>(ry * sw + cx) << 2), n);
      }
    }
    const dxp = <usize>arg(job, DW_Y) + (<usize>((img * G + grp) * cg + ci0) * hwBytes);
    for (let y = y0; y < y1; y++) {
      const Y = y + pt;
      const ry = Y % sh;
      const src = slab + <usize>(floorDiv(Y - (kh - 1) * dh, sh) - yb0) * rd;
      const o = dxp + <usize>y * rowBytes;
      for (let cx = 0; cx < sw; cx++) {
        const x0 = mod(cx - pl, sw);
        if (x0 >= w) continue;
        const nq = (w - x0 + sw - 1) / sw;
        const tl = tab + (<usize>((ry * sw + cx) * L) << 5);
        const te = tl + (<usize>load<i32>(cnt + (<usize>(ry * sw + cx) << 2)) << 5);
        if (sw == 1) quadRow(tl, te, src, o, hwBytes, nf, nq, sb, false);
        else quadRow(tl, te, src, buf + (<usize>(x0 * nqr) << 2), <usize>(sw * nqr) << 2, nf, nq, sb, false);
      }
      if (sw == 1) continue;
      for (let rr = 0; rr < nf; rr++) {
        const oo = o + <usize>rr * hwBytes;
        const bb = buf + (<usize>(rr * sw * nqr) << 2);
        if (sw == 2) { interleave2(oo, bb, bb + (<usize>nqr << 2), w); continue; }
        for (let x = 0; x < w; x++) store<f32>(oo + (<usize>(x << 2)), load<f32>(bb + (<usize>((x % sw) * nqr + x / sw) << 2)));
      }
    }
  }
  for (let ci = cq; ci < cg; ci++) {
    // Tap lists per (row phase ry of y + pt, column phase cx of x + pl).
    for (let ry = 0; ry < sh; ry++) {
      const rbase = floorDiv(ry - (kh - 1) * dh, sh);
      for (let cx = 0; cx < sw; cx++) {
        const x0 = mod(cx - pl, sw);
        const tl = tab + (<usize>((ry * sw + cx) * L) << 3);
        let n = 0;
        for (let f = 0; f < kg; f++) {
          const wf = <usize>arg(job, DW_W) + (<usize>(((grp * kg + f) * cg + ci) * kh * kw) << 2);
          for (let i = 0; i < kh; i++) {
            if (mod(ry - i * dh, sh) != 0) continue;
            const ro = (ry - i * dh) / sh - rbase;
            for (let j = 0; j < kw; j++) {
              if (mod(cx - j * dw, sw) != 0) continue;
              const co = (x0 + pl - j * dw) / sw - cb0;
              const e = tl + (<usize>n << 3);
              store<i32>(e, ((f * sr + ro) * wsl + co) << 2);
              store<f32>(e, load<f32>(wf + (<usize>(i * kw + j) << 2)), 4);
              n++;
            }
          }
        }
        store<i32>(cnt + (<usize>(ry * sw + cx) << 2), n);
      }
    }
    const dxp = <usize>arg(job, DW_Y) + (<usize>((img * G + grp) * cg + ci) * <usize>(h * w) << 2);
    // Rows y and y + sh share their taps, one dy row apart in the slab.
    for (let yb = y0; yb < y1; yb += 2 * sh) {
      for (let k = 0; k < sh; k++) {
        const ya = yb + k;
        if (ya >= y1) break;
        const two = ya + sh < y1;
        const Y = ya + pt;
        const ry = Y % sh;
        const src = slab + <usize>(floorDiv(Y - (kh - 1) * dh, sh) - yb0) * rd;
        const oa = dxp + <usize>ya * rowBytes, ob = oa + <usize>sh * rowBytes;
        for (let cx = 0; cx < sw; cx++) {
          const x0 = mod(cx - pl, sw);
          if (x0 >= w) continue;
          const nq = (w - x0 + sw - 1) / sw;
          const tl = tab + (<usize>((ry * sw + cx) * L) << 3);
          const te = tl + (<usize>load<i32>(cnt + (<usize>(ry * sw + cx) << 2)) << 3);
          if (sw == 1) {
            rowTiles(two, tl, te, src, rd, oa, ob, nq, sb, false);
          } else {
            const ca = buf + (<usize>(x0 * nqr) << 2);
            rowTiles(two, tl, te, src, rd, ca, ca + (<usize>(sw * nqr) << 2), nq, sb, false);
          }
        }
        if (sw == 1) continue;
        // The phase rows (by x mod sw) back into dx rows.
        const nrows = two ? 2 : 1;
        for (let rr = 0; rr < nrows; rr++) {
          const o = rr ? ob : oa;
          const bb = buf + (<usize>(rr * sw * nqr) << 2);
          if (sw == 2) { interleave2(o, bb, bb + (<usize>nqr << 2), w); continue; }
          for (let x = 0; x < w; x++) store<f32>(o + (<usize>x << 2), load<f32>(bb + (<usize>((x % sw) * nqr + x / sw) << 2)));
        }
      }
    }
  }
}
