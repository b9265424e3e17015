// Direct convolution for depthwise and small-group convolutions (MobileNet's 3x3 depthwise,
// ResNeXt's 32 groups of 4, ConvNeXt's 7x7 depthwise), any stride, padding and dilation.
//
// Each output element there costs only cg * kh * kw multiply-adds, so packing a GEMM panel or
// building a column matrix costs as much as the arithmetic, and a GEMM per group has a 1..16
// row A. Instead a task copies the input rows it needs into a zero-padded slab in scratch
// (padding done once, no bounds checks after), each row split into its `sw` column phases
// (phase p holds padded columns p, p + sw, p + 2 sw, ...), so that every tap reads
// consecutive output pixels with contiguous vector loads, at any stride. A table of (byte
// offset, weight) pairs, one per tap, drives the micro-kernel: 2 output rows x 16 pixels in
// eight f32x4 accumulators, one weight splat and 8 loads per tap.
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
//     reduction), up to 4 taps x 2 vectors at a time in eight accumulators. dy rows are copied zero-padded
//     to whole vectors, and the slab lanes past a row's end are masked to zero in that last
//     vector (an Inf there times dy's zero would be a NaN the reference does not have).
//
// Argument slots (mirrored in src/backend/wasm/job-layout.ts, DWC). For the input gradient X is
// dy, Y is dx and (OH, OW) are dy's sizes, as in the forward.
import { madd } from './madd';
import { arg, scratch } from './job';
import { copyFloats, storeLanes, zeroFloats } from './mem';
import { EP_BIAS_ROW, EP_RELU, EP_SCALE_ROW, finish } from './kernel';

export const DW_X = 0, DW_W = 1, DW_BIAS = 2, DW_SCALE = 3, DW_Y = 4, DW_FLAGS = 5, DW_G = 6, DW_CG = 7, DW_KG = 8;
export const DW_H = 9, DW_W_ = 10, DW_KH = 11, DW_KW = 12, DW_SH = 13, DW_SW = 14, DW_PT = 15, DW_PL = 16;
export const DW_DH = 17, DW_DW = 18, DW_OH = 19, DW_OW = 20, DW_N = 21, DW_RPB = 22, DW_IPP = 23, DW_PSTRIDE = 24;

// @ts-ignore: decorator
@inline function roundUp(a: i32, b: i32): i32 {
  return (a + b - 1) / b * b;
}

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
function buildSlab(x: usize, planes: i32, ps: i32, h: i32, w: i32, y0: i32, rows: i32, pt: i32, pl: i32, sw: i32, wq: i32, dst: usize): void {
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

// @ts-ignore: decorator
@inline function put(dst: usize, v: v128, s: v128, b: v128, r: bool, n: i32): void {
  storeLanes(dst, finish(v, s, b, r), n);
}

/**
 * out rows A (and B, at slab offset rd, when `two`) of nv vectors: sum over the taps [tab, end)
 * of weight * slab[src + offset ..], then the epilogue; the last vector's first `lanes` lanes.
 */
// @ts-ignore: decorator
@inline function tileBody(nv: i32, two: bool, tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (let p = tab; p < end; p += 8) {
    const x = src + <usize>load<i32>(p);
    const wv = v128.load32_splat(p, 4);
    a0 = madd(wv, v128.load(x), a0);
    if (nv > 1) a1 = madd(wv, v128.load(x, 16), a1);
    if (nv > 2) a2 = madd(wv, v128.load(x, 32), a2);
    if (nv > 3) a3 = madd(wv, v128.load(x, 48), a3);
    if (two) {
      const y = x + rd;
      b0 = madd(wv, v128.load(y), b0);
      if (nv > 1) b1 = madd(wv, v128.load(y, 16), b1);
      if (nv > 2) b2 = madd(wv, v128.load(y, 32), b2);
      if (nv > 3) b3 = madd(wv, v128.load(y, 48), b3);
    }
  }
  put(oa, a0, s, b, r, nv == 1 ? lanes : 4);
  if (nv > 1) put(oa + 16, a1, s, b, r, nv == 2 ? lanes : 4);
  if (nv > 2) put(oa + 32, a2, s, b, r, nv == 3 ? lanes : 4);
  if (nv > 3) put(oa + 48, a3, s, b, r, lanes);
  if (two) {
    put(ob, b0, s, b, r, nv == 1 ? lanes : 4);
    if (nv > 1) put(ob + 16, b1, s, b, r, nv == 2 ? lanes : 4);
    if (nv > 2) put(ob + 32, b2, s, b, r, nv == 3 ? lanes : 4);
    if (nv > 3) put(ob + 48, b3, s, b, r, lanes);
  }
}

function t1(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(1, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function t2(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(2, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function t3(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(3, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function t4(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(4, false, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u1(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(1, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u2(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(2, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u3(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(3, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }
function u4(tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, lanes: i32, s: v128, b: v128, r: bool): void { tileBody(4, true, tab, end, src, rd, oa, ob, lanes, s, b, r); }

/** One row (or two, `two`) of n outputs, 16 at a time; see tileBody. */
function rowTiles(two: bool, tab: usize, end: usize, src: usize, rd: usize, oa: usize, ob: usize, n: i32, s: v128, b: v128, r: bool): void {
  for (let q = 0; q < n; q += 16) {
    const o = <usize>q << 2;
    const rem = n - q;
    const nv = rem >= 16 ? 4 : (rem + 3) >> 2;
    const lanes = rem >= 16 ? 4 : rem - 4 * (nv - 1);
    if (two) {
      if (nv == 4) u4(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 3) u3(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 2) u2(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else u1(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
    } else {
      if (nv == 4) t4(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 3) t3(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else if (nv == 2) t2(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
      else t1(tab, end, src + o, rd, oa + o, ob + o, lanes, s, b, r);
    }
  }
}

/** Filters (or dx channels) of a group that the 4-filter tiles take: whole quads, and a last one of 3. */
// @ts-ignore: decorator
@inline function quadFilters(kg: i32): i32 {
  return kg < 3 ? 0 : min(kg, ((kg >> 2) + ((kg & 3) == 3 ? 1 : 0)) << 2);
}

/**
 * 4 filters x nv (1, 2) vectors of one row: taps [tab, end) of 32 bytes (byte offset, then the
 * 4 filters' weights at +16), so the x loads serve four filters (grouped layers, channel
 * multipliers). Rows of filters past nf are not stored; sb holds 4 scales then 4 biases.
 */
// @ts-ignore: decorator
@inline function quadBody(nv: i32, tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, lanes: i32, sb: usize, r: bool): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  for (let p = tab; p < end; p += 32) {
    const x = src + <usize>load<i32>(p);
    const v0 = v128.load(x);
    const v1 = nv > 1 ? v128.load(x, 16) : v0;
    let w = v128.load32_splat(p, 16);
    a0 = madd(w, v0, a0);
    if (nv > 1) c0 = madd(w, v1, c0);
    w = v128.load32_splat(p, 20);
    a1 = madd(w, v0, a1);
    if (nv > 1) c1 = madd(w, v1, c1);
    w = v128.load32_splat(p, 24);
    a2 = madd(w, v0, a2);
    if (nv > 1) c2 = madd(w, v1, c2);
    w = v128.load32_splat(p, 28);
    a3 = madd(w, v0, a3);
    if (nv > 1) c3 = madd(w, v1, c3);
  }
  const l0 = nv == 1 ? lanes : 4;
  put(out, a0, v128.load32_splat(sb), v128.load32_splat(sb, 16), r, l0);
  if (nv > 1) put(out + 16, c0, v128.load32_splat(sb), v128.load32_splat(sb, 16), r, lanes);
  if (nf < 2) return;
  put(out + os, a1, v128.load32_splat(sb, 4), v128.load32_splat(sb, 20), r, l0);
  if (nv > 1) put(out + os + 16, c1, v128.load32_splat(sb, 4), v128.load32_splat(sb, 20), r, lanes);
  if (nf < 3) return;
  put(out + 2 * os, a2, v128.load32_splat(sb, 8), v128.load32_splat(sb, 24), r, l0);
  if (nv > 1) put(out + 2 * os + 16, c2, v128.load32_splat(sb, 8), v128.load32_splat(sb, 24), r, lanes);
  if (nf < 4) return;
  put(out + 3 * os, a3, v128.load32_splat(sb, 12), v128.load32_splat(sb, 28), r, l0);
  if (nv > 1) put(out + 3 * os + 16, c3, v128.load32_splat(sb, 12), v128.load32_splat(sb, 28), r, lanes);
}

function q1(tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, lanes: i32, sb: usize, r: bool): void { quadBody(1, tab, end, src, out, os, nf, lanes, sb, r); }
function q2(tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, lanes: i32, sb: usize, r: bool): void { quadBody(2, tab, end, src, out, os, nf, lanes, sb, r); }

/** One row of n outputs of up to 4 filters (`os` bytes apart), 8 at a time; see quadBody. */
function quadRow(tab: usize, end: usize, src: usize, out: usize, os: usize, nf: i32, n: i32, sb: usize, r: bool): void {
  for (let q = 0; q < n; q += 8) {
    const o = <usize>q << 2;
    const rem = n - q;
    if (rem > 4) q2(tab, end, src + o, out + o, os, nf, min(4, rem - 4), sb, r);
    else q1(tab, end, src + o, out + o, os, nf, rem, sb, r);
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
    const s = flags & EP_SCALE_ROW ? v128.load32_splat(<usize>arg(job, DW_SCALE) + (<usize>k << 2)) : f32x4.splat(1);
    const b = flags & EP_BIAS_ROW ? v128.load32_splat(<usize>arg(job, DW_BIAS) + (<usize>k << 2)) : f32x4.splat(0);
    const tf = tab + (<usize>(f * K) << 3), te = tf + (<usize>K << 3);
    const yp = <usize>arg(job, DW_Y) + (<usize>(img * G * kg + k) * <usize>(oh * ow) << 2);
    for (let oy = oy0; oy < oy1; oy += 2) {
      const oa = yp + <usize>oy * rowBytes;
      rowTiles(oy + 1 < oy1, tf, te, slab + <usize>(oy - oy0) * rd, rd, oa, oa + rowBytes, ow, s, b, r);
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
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  v128.store(sb, one);
  v128.store(sb, zero, 16);
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
            rowTiles(two, tl, te, src, rd, oa, ob, nq, one, zero, false);
          } else {
            const ca = buf + (<usize>(x0 * nqr) << 2);
            rowTiles(two, tl, te, src, rd, ca, ca + (<usize>(sw * nqr) << 2), nq, one, zero, false);
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

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

// @ts-ignore: decorator
@inline function maddMasked(d: v128, s: usize, m: v128, acc: v128): v128 {
  return madd(d, v128.and(v128.load(s), m), acc);
}

/**
 * nt (1..4) taps at offs: acc[t] += sum over nr rows of dy . slab[+ offset t]: two vectors a
 * step in separate accumulators (eight dependency chains at nt = 4, so the adds' latency does
 * not bound the loop), then an odd last whole vector, then the masked tail (1..3 lanes).
 */
// @ts-ignore: decorator
@inline function gradBody(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  const o0 = <usize>load<i32>(offs);
  const o1 = nt > 1 ? <usize>load<i32>(offs, 4) : 0;
  const o2 = nt > 2 ? <usize>load<i32>(offs, 8) : 0;
  const o3 = nt > 3 ? <usize>load<i32>(offs, 12) : 0;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(tail));
  const all = i32x4.splat(-1);
  for (let rr = 0; rr < nr; rr++) {
    let d = dyp + <usize>rr * ds, s = slab + <usize>rr * rs;
    const de = d + (<usize>(nfull & ~1) << 4);
    while (d < de) {
      const v = v128.load(d), u = v128.load(d, 16);
      a0 = madd(v, v128.load(s + o0), a0);
      b0 = madd(u, v128.load(s + o0, 16), b0);
      if (nt > 1) { a1 = madd(v, v128.load(s + o1), a1); b1 = madd(u, v128.load(s + o1, 16), b1); }
      if (nt > 2) { a2 = madd(v, v128.load(s + o2), a2); b2 = madd(u, v128.load(s + o2, 16), b2); }
      if (nt > 3) { a3 = madd(v, v128.load(s + o3), a3); b3 = madd(u, v128.load(s + o3, 16), b3); }
      d += 32; s += 32;
    }
    // The odd whole vector (all lanes) and the tail (masked), one vector each.
    for (let e = 0; e < 2; e++) {
      if (e == 0 ? (nfull & 1) == 0 : tail == 0) continue;
      const m = e == 0 ? all : mask;
      const v = v128.load(d);
      a0 = maddMasked(v, s + o0, m, a0);
      if (nt > 1) a1 = maddMasked(v, s + o1, m, a1);
      if (nt > 2) a2 = maddMasked(v, s + o2, m, a2);
      if (nt > 3) a3 = maddMasked(v, s + o3, m, a3);
      d += 16; s += 16;
    }
  }
  store<f32>(acc, load<f32>(acc) + hsum(f32x4.add(a0, b0)));
  if (nt > 1) store<f32>(acc, load<f32>(acc, 4) + hsum(f32x4.add(a1, b1)), 4);
  if (nt > 2) store<f32>(acc, load<f32>(acc, 8) + hsum(f32x4.add(a2, b2)), 8);
  if (nt > 3) store<f32>(acc, load<f32>(acc, 12) + hsum(f32x4.add(a3, b3)), 12);
}

function grad(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  switch (nt) {
    case 1: gradBody(1, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 2: gradBody(2, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 3: gradBody(3, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    default: gradBody(4, offs, dyp, slab, nr, nfull, tail, rs, ds, acc);
  }
}

/**
 * nt (1..8) taps at offs, one vector a step (enough dependency chains when taps are many):
 * acc[t] += sum over nr rows of dy . slab[+ offset t], whole vectors then the masked tail.
 */
// @ts-ignore: decorator
@inline function gradBody8(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  const o0 = <usize>load<i32>(offs);
  const o1 = nt > 1 ? <usize>load<i32>(offs, 4) : 0;
  const o2 = nt > 2 ? <usize>load<i32>(offs, 8) : 0;
  const o3 = nt > 3 ? <usize>load<i32>(offs, 12) : 0;
  const o4 = nt > 4 ? <usize>load<i32>(offs, 16) : 0;
  const o5 = nt > 5 ? <usize>load<i32>(offs, 20) : 0;
  const o6 = nt > 6 ? <usize>load<i32>(offs, 24) : 0;
  const o7 = nt > 7 ? <usize>load<i32>(offs, 28) : 0;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(tail));
  for (let rr = 0; rr < nr; rr++) {
    let d = dyp + <usize>rr * ds, s = slab + <usize>rr * rs;
    const de = d + (<usize>nfull << 4);
    while (d < de) {
      const v = v128.load(d);
      a0 = madd(v, v128.load(s + o0), a0);
      if (nt > 1) a1 = madd(v, v128.load(s + o1), a1);
      if (nt > 2) a2 = madd(v, v128.load(s + o2), a2);
      if (nt > 3) a3 = madd(v, v128.load(s + o3), a3);
      if (nt > 4) a4 = madd(v, v128.load(s + o4), a4);
      if (nt > 5) a5 = madd(v, v128.load(s + o5), a5);
      if (nt > 6) a6 = madd(v, v128.load(s + o6), a6);
      if (nt > 7) a7 = madd(v, v128.load(s + o7), a7);
      d += 16; s += 16;
    }
    if (tail) {
      const v = v128.load(d);
      a0 = madd(v, v128.and(v128.load(s + o0), mask), a0);
      if (nt > 1) a1 = madd(v, v128.and(v128.load(s + o1), mask), a1);
      if (nt > 2) a2 = madd(v, v128.and(v128.load(s + o2), mask), a2);
      if (nt > 3) a3 = madd(v, v128.and(v128.load(s + o3), mask), a3);
      if (nt > 4) a4 = madd(v, v128.and(v128.load(s + o4), mask), a4);
      if (nt > 5) a5 = madd(v, v128.and(v128.load(s + o5), mask), a5);
      if (nt > 6) a6 = madd(v, v128.and(v128.load(s + o6), mask), a6);
      if (nt > 7) a7 = madd(v, v128.and(v128.load(s + o7), mask), a7);
    }
  }
  store<f32>(acc, load<f32>(acc) + hsum(a0));
  if (nt > 1) store<f32>(acc, load<f32>(acc, 4) + hsum(a1), 4);
  if (nt > 2) store<f32>(acc, load<f32>(acc, 8) + hsum(a2), 8);
  if (nt > 3) store<f32>(acc, load<f32>(acc, 12) + hsum(a3), 12);
  if (nt > 4) store<f32>(acc, load<f32>(acc, 16) + hsum(a4), 16);
  if (nt > 5) store<f32>(acc, load<f32>(acc, 20) + hsum(a5), 20);
  if (nt > 6) store<f32>(acc, load<f32>(acc, 24) + hsum(a6), 24);
  if (nt > 7) store<f32>(acc, load<f32>(acc, 28) + hsum(a7), 28);
}

function grad8(nt: i32, offs: usize, dyp: usize, slab: usize, nr: i32, nfull: i32, tail: i32, rs: usize, ds: usize, acc: usize): void {
  switch (nt) {
    case 1: gradBody8(1, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 2: gradBody8(2, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 3: gradBody8(3, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 4: gradBody8(4, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 5: gradBody8(5, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 6: gradBody8(6, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    case 7: gradBody8(7, offs, dyp, slab, nr, nfull, tail, rs, ds, acc); break;
    default: gradBody8(8, offs, dyp, slab, nr, nfull, tail, rs, ds, acc);
  }
}

/** Filter gradient: the partial dW of one part of the images and one group, out[part][grp kg + f][k]. */
export function dwFilterTask(job: usize, t: i32, tid: i32): void {
  const G = arg(job, DW_G), cg = arg(job, DW_CG), kg = arg(job, DW_KG), h = arg(job, DW_H), w = arg(job, DW_W_);
  const kh = arg(job, DW_KH), kw = arg(job, DW_KW), sh = arg(job, DW_SH), sw = arg(job, DW_SW);
  const pt = arg(job, DW_PT), pl = arg(job, DW_PL), dh = arg(job, DW_DH), dw = arg(job, DW_DW);
  const oh = arg(job, DW_OH), ow = arg(job, DW_OW), rpb = arg(job, DW_RPB);
  const n = arg(job, DW_N), ipp = arg(job, DW_IPP);
  const part = t / G, grp = t - part * G;
  const i0 = part * ipp, i1 = min(n, i0 + ipp);
  const K = cg * kh * kw;
  const owq = roundUp(ow, 4);
  const wq = owq + (kw - 1) * dw / sw;
  const rowF = sw * wq;
  const srMax = (rpb - 1) * sh + (kh - 1) * dh + 1;
  const offs = scratch(job, tid);
  const acc = offs + <usize>roundUp(K * 4, 64);
  const slab = acc + <usize>roundUp(kg * K * 4, 64);
  const dyb = slab + <usize>roundUp(cg * srMax * rowF * 4, 64);
  zeroFloats(acc, kg * K);
  const ohw = oh * ow;
  const nfull = ow >> 2, tail = ow & 3;
  const rs = <usize>(sh * rowF) << 2, ds = <usize>owq << 2;
  // Taps in groups of near-equal size: many taps (5x5, 7x7, grouped) 8 at a time, one vector a
  // step (fewer passes over dy); few (3x3 depthwise) at most 4, two vectors a step.
  const wide = K >= 16;
  const ng = wide ? (K + 7) / 8 : (K + 3) / 4;
  for (let img = i0; img < i1; img++) {
    const x = <usize>arg(job, DW_X) + (<usize>(img * G + grp) * <usize>(cg * h * w) << 2);
    const dy = <usize>arg(job, DW_W) + (<usize>(img * G + grp) * <usize>(kg * ohw) << 2);
    for (let oy0 = 0; oy0 < oh; oy0 += rpb) {
      const nr = min(rpb, oh - oy0);
      const sr = (nr - 1) * sh + (kh - 1) * dh + 1;
      buildSlab(x, cg, h * w, h, w, oy0 * sh, sr, pt, pl, sw, wq, slab);
      for (let c = 0; c < cg; c++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            store<i32>(offs + (<usize>((c * kh + i) * kw + j) << 2), ((c * sr + i * dh) * rowF + (j * dw) % sw * wq + j * dw / sw) << 2);
          }
        }
      }
      for (let f = 0; f < kg; f++) {
        for (let r = 0; r < nr; r++) {
          const d = dyb + (<usize>((f * rpb + r) * owq) << 2);
          copyFloats(d, dy + (<usize>(f * ohw + (oy0 + r) * ow) << 2), ow);
          if (owq > ow) zeroFloats(d + (<usize>ow << 2), owq - ow);
        }
      }
      for (let f = 0; f < kg; f++) {
        const dyf = dyb + (<usize>(f * rpb * owq) << 2);
        let k0 = 0;
        for (let gi = 0; gi < ng; gi++) {
          const nt = K / ng + (gi < K % ng ? 1 : 0);
          if (wide) grad8(nt, offs + (<usize>k0 << 2), dyf, slab, nr, nfull, tail, rs, ds, acc + (<usize>(f * K + k0) << 2));
          else grad(nt, offs + (<usize>k0 << 2), dyf, slab, nr, nfull, tail, rs, ds, acc + (<usize>(f * K + k0) << 2));
          k0 += nt;
        }
      }
    }
  }
  const out = <usize>arg(job, DW_Y) + (<usize>part * <usize>arg(job, DW_PSTRIDE) + <usize>(grp * kg * K) << 2);
  copyFloats(out, acc, kg * K);
}
