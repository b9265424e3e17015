// Direct convolution for few filters per group at stride 1 (LeNet, the CIFAR demo, their
// input gradients through the flipped-filter forward convolution, and their filter gradients).
//
// There each input element feeds only a handful of multiply-adds, so building or packing a
// column matrix costs as much as the multiplies. Instead a task copies the rows of the image
// it needs into a zero-padded slab in scratch (padding done once, no bounds checks after), and
// the micro-kernels read the slab in place through a table of per-tap byte offsets
// (channel, tap row, tap column): the k-th row of im2col at 8 consecutive output pixels of one
// output row is the 8 floats at slab + pixel + offset[k] (an "indirect" im2col, as XNNPACK's
// indirection buffers, but one table per layer instead of one pointer per pixel and tap).
//
//   forward (KIND 15): y[f, oy, ox..ox+7] = sum_k W[f, k] * slab[oy, ox + off[k] ..]: 4 filters x
//     8 pixels of one output row in eight f32x4 accumulators (4 filters x 4 pixels at a row's
//     tail), weights packed as the GEMM's A panels. A task is one image and group and a band
//     of output rows.
//   filter gradient (KIND 16): dW[f, k] = sum over images and pixels of dy[f, p] * slab[p + off[k]],
//     vectorised along the pixels (the reduction): 2 filters x 4 taps in eight f32x4
//     accumulators over a batch of images (their slabs and dy side by side in scratch), reduced
//     horizontally per batch into a partial dW in scratch. A task is one part of the images (the
//     partial sums the caller adds, in a fixed order) and one group.
//
// Argument slots (mirrored in src/backend/wasm/job-layout.ts, DC):
import { madd } from './madd';
import { arg, scratch } from './job';
import { copyFloats, roundUp, zeroFloats } from './mem';
import { EP_BIAS_ROW, EP_RELU } from './kernel';
import { packA } from './pack';

export const D_X = 0, D_W = 1, D_BIAS = 2, D_Y = 3, D_FLAGS = 4, D_G = 5, D_CG = 6, D_H = 7, D_W_ = 8;
export const D_KG = 9, D_KH = 10, D_KW = 11, D_PT = 12, D_PL = 13, D_DH = 14, D_DW = 15, D_OH = 16, D_OW = 17;
// D_BANDS: forward, output row bands per image; filter gradient, floats between the parts' outputs.
export const D_BANDS = 18, D_N = 19, D_XS = 20, D_YS = 21, D_IPP = 22, D_IMGB = 23;

// @ts-ignore: decorator
@inline function relu(v: v128): v128 {
  return v128.and(v, f32x4.gt(v, f32x4.splat(0)));
}

/**
 * Copies padded-image rows py0..py0+rows (padded coordinates) of cg channel planes into a
 * zero-padded slab [cg][rows][wx] at dst.
 */
function padSlab(x: usize, cg: i32, h: i32, w: i32, pt: i32, pl: i32, py0: i32, rows: i32, wx: i32, dst: usize): void {
  const n = min(w, wx - pl);
  for (let c = 0; c < cg; c++) {
    const plane = x + (<usize>(c * h * w) << 2);
    for (let r = 0; r < rows; r++) {
      const y = py0 + r - pt;
      const d = dst + (<usize>((c * rows + r) * wx) << 2);
      if (y < 0 || y >= h || n <= 0) { zeroFloats(d, wx); continue; }
      if (pl > 0) zeroFloats(d, pl);
      copyFloats(d + (<usize>pl << 2), plane + (<usize>(y * w) << 2), n);
      if (pl + n < wx) zeroFloats(d + (<usize>(pl + n) << 2), wx - pl - n);
    }
  }
}

/** Byte offsets into the slab of each im2col row k = (channel, tap row, tap column); `total` >= K entries, the extra ones repeat the last. */
function offsets(cg: i32, kh: i32, kw: i32, dh: i32, dw: i32, rows: i32, wx: i32, total: i32, dst: usize): void {
  let p = 0;
  for (let c = 0; c < cg; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        store<i32>(dst + (<usize>p << 2), ((c * rows + i * dh) * wx + j * dw) << 2);
        p++;
      }
    }
  }
  const last = load<i32>(dst + (<usize>(p - 1) << 2));
  for (; p < total; p++) store<i32>(dst + (<usize>p << 2), last);
}

/**
 * 4 filters x 8 pixels: out[i, 0:nr] = sum_k pa[k][i] * slab8(xb + off[k]), then bias and ReLU;
 * rows past mr and columns past nr are not written. `os` is the byte stride between filters.
 */
function kern8(kc: i32, pa: usize, offs: usize, xb: usize, out: usize, os: usize, mr: i32, nr: i32, flags: i32, bias: usize, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const end = offs + (<usize>kc << 2);
  let po = offs;
  while (po < end) {
    const b = xb + <usize>load<i32>(po);
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16; po += 4;
  }
  if (flags & EP_BIAS_ROW) {
    let b = v128.load32_splat(bias); c00 = f32x4.add(c00, b); c01 = f32x4.add(c01, b);
    if (mr > 1) { b = v128.load32_splat(bias, 4); c10 = f32x4.add(c10, b); c11 = f32x4.add(c11, b); }
    if (mr > 2) { b = v128.load32_splat(bias, 8); c20 = f32x4.add(c20, b); c21 = f32x4.add(c21, b); }
    if (mr > 3) { b = v128.load32_splat(bias, 12); c30 = f32x4.add(c30, b); c31 = f32x4.add(c31, b); }
  }
  if (flags & EP_RELU) {
    c00 = relu(c00); c01 = relu(c01); c10 = relu(c10); c11 = relu(c11);
    c20 = relu(c20); c21 = relu(c21); c30 = relu(c30); c31 = relu(c31);
  }
  if (nr == 8) {
    v128.store(out, c00); v128.store(out, c01, 16);
    if (mr > 1) { v128.store(out + os, c10); v128.store(out + os, c11, 16); }
    if (mr > 2) { v128.store(out + 2 * os, c20); v128.store(out + 2 * os, c21, 16); }
    if (mr > 3) { v128.store(out + 3 * os, c30); v128.store(out + 3 * os, c31, 16); }
    return;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  for (let i = 0; i < mr; i++) copyFloats(out + <usize>i * os, tmp + (<usize>i << 5), nr);
}

/** 2 filters x 16 pixels (the last one or two filters of a group); reads the first two rows of a 4-row A panel. */
function kern16x2(kc: i32, pa: usize, offs: usize, xb: usize, out: usize, os: usize, mr: i32, nr: i32, flags: i32, bias: usize, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00;
  let c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  const end = offs + (<usize>kc << 2);
  let po = offs;
  while (po < end) {
    const b = xb + <usize>load<i32>(po);
    const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32), b3 = v128.load(b, 48);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    c02 = madd(a, b2, c02); c03 = madd(a, b3, c03);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    c12 = madd(a, b2, c12); c13 = madd(a, b3, c13);
    pa += 16; po += 4;
  }
  if (flags & EP_BIAS_ROW) {
    let b = v128.load32_splat(bias);
    c00 = f32x4.add(c00, b); c01 = f32x4.add(c01, b); c02 = f32x4.add(c02, b); c03 = f32x4.add(c03, b);
    if (mr > 1) {
      b = v128.load32_splat(bias, 4);
      c10 = f32x4.add(c10, b); c11 = f32x4.add(c11, b); c12 = f32x4.add(c12, b); c13 = f32x4.add(c13, b);
    }
  }
  if (flags & EP_RELU) {
    c00 = relu(c00); c01 = relu(c01); c02 = relu(c02); c03 = relu(c03);
    c10 = relu(c10); c11 = relu(c11); c12 = relu(c12); c13 = relu(c13);
  }
  if (nr == 16) {
    v128.store(out, c00); v128.store(out, c01, 16); v128.store(out, c02, 32); v128.store(out, c03, 48);
    if (mr > 1) { v128.store(out + os, c10); v128.store(out + os, c11, 16); v128.store(out + os, c12, 32); v128.store(out + os, c13, 48); }
    return;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16); v128.store(tmp, c02, 32); v128.store(tmp, c03, 48);
  v128.store(tmp, c10, 64); v128.store(tmp, c11, 80); v128.store(tmp, c12, 96); v128.store(tmp, c13, 112);
  for (let i = 0; i < mr; i++) copyFloats(out + <usize>i * os, tmp + (<usize>i << 6), nr);
}

/** 4 filters x 4 pixels (a row's tail of at most 4 pixels). */
function kern4(kc: i32, pa: usize, offs: usize, xb: usize, out: usize, os: usize, mr: i32, nr: i32, flags: i32, bias: usize, tmp: usize): void {
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
  const end = offs + (<usize>kc << 2);
  let po = offs;
  while (po < end) {
    const b0 = v128.load(xb + <usize>load<i32>(po));
    c0 = madd(v128.load32_splat(pa), b0, c0);
    c1 = madd(v128.load32_splat(pa, 4), b0, c1);
    c2 = madd(v128.load32_splat(pa, 8), b0, c2);
    c3 = madd(v128.load32_splat(pa, 12), b0, c3);
    pa += 16; po += 4;
  }
  if (flags & EP_BIAS_ROW) {
    c0 = f32x4.add(c0, v128.load32_splat(bias));
    if (mr > 1) c1 = f32x4.add(c1, v128.load32_splat(bias, 4));
    if (mr > 2) c2 = f32x4.add(c2, v128.load32_splat(bias, 8));
    if (mr > 3) c3 = f32x4.add(c3, v128.load32_splat(bias, 12));
  }
  if (flags & EP_RELU) { c0 = relu(c0); c1 = relu(c1); c2 = relu(c2); c3 = relu(c3); }
  v128.store(tmp, c0); v128.store(tmp, c1, 32); v128.store(tmp, c2, 64); v128.store(tmp, c3, 96);
  for (let i = 0; i < mr; i++) copyFloats(out + <usize>i * os, tmp + (<usize>i << 5), nr);
}

/** 4 filters x 4 pixels of two output rows (their tails of at most 4 pixels): the x loads per tap of kern8, so full throughput. */
function kern4x2(kc: i32, pa: usize, offs: usize, xb: usize, xs: usize, out: usize, ys: usize, os: usize, mr: i32, nr: i32, flags: i32, bias: usize, tmp: usize): void {
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, e0 = c0, e1 = c0, e2 = c0, e3 = c0;
  const end = offs + (<usize>kc << 2);
  let po = offs;
  while (po < end) {
    const b = xb + <usize>load<i32>(po);
    const b0 = v128.load(b), b1 = v128.load(b + xs);
    let a = v128.load32_splat(pa);
    c0 = madd(a, b0, c0); e0 = madd(a, b1, e0);
    a = v128.load32_splat(pa, 4);
    c1 = madd(a, b0, c1); e1 = madd(a, b1, e1);
    a = v128.load32_splat(pa, 8);
    c2 = madd(a, b0, c2); e2 = madd(a, b1, e2);
    a = v128.load32_splat(pa, 12);
    c3 = madd(a, b0, c3); e3 = madd(a, b1, e3);
    pa += 16; po += 4;
  }
  if (flags & EP_BIAS_ROW) {
    let b = v128.load32_splat(bias); c0 = f32x4.add(c0, b); e0 = f32x4.add(e0, b);
    if (mr > 1) { b = v128.load32_splat(bias, 4); c1 = f32x4.add(c1, b); e1 = f32x4.add(e1, b); }
    if (mr > 2) { b = v128.load32_splat(bias, 8); c2 = f32x4.add(c2, b); e2 = f32x4.add(e2, b); }
    if (mr > 3) { b = v128.load32_splat(bias, 12); c3 = f32x4.add(c3, b); e3 = f32x4.add(e3, b); }
  }
  if (flags & EP_RELU) {
    c0 = relu(c0); c1 = relu(c1); c2 = relu(c2); c3 = relu(c3);
    e0 = relu(e0); e1 = relu(e1); e2 = relu(e2); e3 = relu(e3);
  }
  v128.store(tmp, c0); v128.store(tmp, e0, 16); v128.store(tmp, c1, 32); v128.store(tmp, e1, 48);
  v128.store(tmp, c2, 64); v128.store(tmp, e2, 80); v128.store(tmp, c3, 96); v128.store(tmp, e3, 112);
  for (let i = 0; i < mr; i++) {
    copyFloats(out + <usize>i * os, tmp + (<usize>i << 5), nr);
    copyFloats(out + <usize>i * os + ys, tmp + (<usize>i << 5) + 16, nr);
  }
}

export function directConvTask(job: usize, t: i32, tid: i32): void {
  const G = arg(job, D_G), cg = arg(job, D_CG), h = arg(job, D_H), w = arg(job, D_W_);
  const kg = arg(job, D_KG), kh = arg(job, D_KH), kw = arg(job, D_KW), pt = arg(job, D_PT), pl = arg(job, D_PL);
  const dh = arg(job, D_DH), dw = arg(job, D_DW), oh = arg(job, D_OH), ow = arg(job, D_OW);
  const bands = arg(job, D_BANDS), flags = arg(job, D_FLAGS);
  const band = t % bands;
  const rest = t / bands;
  const grp = rest % G, img = rest / G;
  const rpb = (oh + bands - 1) / bands;
  const oy0 = band * rpb, oy1 = min(oh, oy0 + rpb);
  if (oy0 >= oy1) return;
  const K = cg * kh * kw;
  const wx = roundUp(ow, 16) + (kw - 1) * dw;
  const rows = (oy1 - oy0) + (kh - 1) * dh;
  const s = scratch(job, tid);
  const tmp = s;
  const offs = s + 128;
  const pa = offs + <usize>roundUp(K * 4, 64);
  const slab = pa + (<usize>(roundUp(kg, 4) * K) << 2);

  const x = <usize>arg(job, D_X) + (<usize>img * <usize>arg(job, D_XS) + <usize>(grp * cg * h * w) << 2);
  const ohw = oh * ow;
  const y = <usize>arg(job, D_Y) + (<usize>img * <usize>arg(job, D_YS) + <usize>(grp * kg * ohw) << 2);
  const bias = <usize>arg(job, D_BIAS) + (<usize>(grp * kg) << 2);
  padSlab(x, cg, h, w, pt, pl, oy0, rows, wx, slab);
  offsets(cg, kh, kw, dh, dw, rows, wx, K, offs);
  packA(<usize>arg(job, D_W) + (<usize>(grp * kg * K) << 2), K, 1, 0, kg, 0, K, kg, pa);
  const os = <usize>ohw << 2;
  const rstride = <usize>wx << 2, ys = <usize>ow << 2;
  const tail2 = (ow & 7) != 0 && (ow & 7) <= 4;
  for (let ib = 0; ib < kg; ib += 4) {
    const mr = min(4, kg - ib);
    const pai = pa + (<usize>(ib * K) << 2);
    const bi = bias + (<usize>ib << 2);
    for (let oy = oy0; oy < oy1; oy++) {
      const xr = slab + (<usize>((oy - oy0) * wx) << 2);
      const yr = y + (<usize>(ib * ohw + oy * ow) << 2);
      if (mr <= 2) {
        for (let ox = 0; ox < ow; ox += 16) kern16x2(K, pai, offs, xr + (<usize>ox << 2), yr + (<usize>ox << 2), os, mr, min(16, ow - ox), flags, bi, tmp);
        continue;
      }
      let ox = 0;
      for (; ox + 8 <= ow; ox += 8) kern8(K, pai, offs, xr + (<usize>ox << 2), yr + (<usize>ox << 2), os, mr, 8, flags, bi, tmp);
      const nr = ow - ox;
      if (nr > 4) kern8(K, pai, offs, xr + (<usize>ox << 2), yr + (<usize>ox << 2), os, mr, nr, flags, bi, tmp);
      else if (nr > 0) {
        // A tail of 1..4 pixels: with the next row's (computed here too) at kern8's rate.
        if (tail2 && oy + 1 < oy1) {
          for (let ox2 = 0; ox2 < ox; ox2 += 8) {
            kern8(K, pai, offs, xr + rstride + (<usize>ox2 << 2), yr + ys + (<usize>ox2 << 2), os, mr, 8, flags, bi, tmp);
          }
          kern4x2(K, pai, offs, xr + (<usize>ox << 2), rstride, yr + (<usize>ox << 2), ys, os, mr, nr, flags, bi, tmp);
          oy++;
        } else kern4(K, pai, offs, xr + (<usize>ox << 2), yr + (<usize>ox << 2), os, mr, nr, flags, bi, tmp);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

/** Whether any of the n floats at p is Inf or NaN (v - v is then NaN). */
function anyNonFinite(p: usize, n: i32): bool {
  let bad = i32x4.splat(0);
  const end = p + (<usize>(n & ~3) << 2);
  for (; p < end; p += 16) {
    const v = v128.load(p);
    const d = f32x4.sub(v, v);
    bad = v128.or(bad, f32x4.ne(d, d));
  }
  for (let i = 0; i < (n & 3); i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (v - v != 0 || v != v) return true;
  }
  return v128.any_true(bad);
}

/** Partial dW of one part of the images and one group: out[part][grp*kg + f][k]. */
export function directFilterTask(job: usize, t: i32, tid: i32): void {
  const G = arg(job, D_G), cg = arg(job, D_CG), h = arg(job, D_H), w = arg(job, D_W_);
  const kg = arg(job, D_KG), kh = arg(job, D_KH), kw = arg(job, D_KW), pt = arg(job, D_PT), pl = arg(job, D_PL);
  const dh = arg(job, D_DH), dw = arg(job, D_DW), oh = arg(job, D_OH), ow = arg(job, D_OW);
  const n = arg(job, D_N), ipp = arg(job, D_IPP);
  const part = t / G, grp = t - part * G;
  const i0 = part * ipp, i1 = min(n, i0 + ipp);
  const K = cg * kh * kw;
  const owp = roundUp(ow, 4);
  const wx = owp + (kw - 1) * dw;
  const rows = oh + (kh - 1) * dh;
  const s = scratch(job, tid);
  const offs = s;
  const acc = offs + <usize>roundUp((K + 4) * 4, 64);
  const blocks = acc + <usize>roundUp(kg * K * 4, 64);
  offsets(cg, kh, kw, dh, dw, rows, wx, roundUp(K, 4), offs);
  zeroFloats(acc, kg * K);
  const ohw = oh * ow;
  const fstride = <usize>(oh * owp) << 2;
  const rstride = <usize>wx << 2;
  const rowBytes = <usize>owp << 2;
  const fullBytes = <usize>(ow >> 2) << 4;
  const tail = ow & 3;
  // Each image of a batch: [dy of the group's filters, rows padded to owp][padded slab].
  const dyBytes = <usize>kg * fstride;
  const blockBytes = dyBytes + (<usize>(cg * rows * wx) << 2);
  const imgb = arg(job, D_IMGB);
  for (let img0 = i0; img0 < i1; img0 += imgb) {
    const nb = min(imgb, i1 - img0);
    // Finite slabs take each row's tail vector in the main loop (dy is zero past ow, and so the
    // product); with an Inf or NaN in x the tail goes through the masked pass below instead.
    let clean = true;
    for (let b = 0; b < nb; b++) {
      const img = img0 + b;
      const blk = blocks + <usize>b * blockBytes;
      const x = <usize>arg(job, D_X) + (<usize>img * <usize>arg(job, D_XS) + <usize>(grp * cg * h * w) << 2);
      const dy = <usize>arg(job, D_W) + (<usize>img * <usize>arg(job, D_YS) + <usize>(grp * kg * ohw) << 2);
      padSlab(x, cg, h, w, pt, pl, 0, rows, wx, blk + dyBytes);
      if (tail && clean && anyNonFinite(blk + dyBytes, cg * rows * wx)) clean = false;
      for (let f = 0; f < kg; f++) {
        for (let oy = 0; oy < oh; oy++) {
          const d = blk + <usize>f * fstride + (<usize>(oy * owp) << 2);
          copyFloats(d, dy + (<usize>(f * ohw + oy * ow) << 2), ow);
          if (owp > ow) zeroFloats(d + (<usize>ow << 2), owp - ow);
        }
      }
    }
    for (let f = 0; f < kg; f += 2) {
      const f1 = min(f + 1, kg - 1);
      const dd = <usize>(f1 - f) * fstride;
      for (let k = 0; k < K; k += 4) {
        const po = offs + (<usize>k << 2);
        const o0 = <usize>load<i32>(po), o1 = <usize>load<i32>(po, 4), o2 = <usize>load<i32>(po, 8), o3 = <usize>load<i32>(po, 12);
        let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (let b = 0; b < nb; b++) {
          const blk = blocks + <usize>b * blockBytes;
          let xr = blk + dyBytes, dp = blk + <usize>f * fstride;
          for (let oy = 0; oy < oh; oy++) {
            let xb = xr, p = dp;
            const pe = dp + (clean ? rowBytes : fullBytes);
            while (p < pe) {
              const d0 = v128.load(p), d1 = v128.load(p + dd);
              let v = v128.load(xb + o0);
              a00 = madd(d0, v, a00); a10 = madd(d1, v, a10);
              v = v128.load(xb + o1);
              a01 = madd(d0, v, a01); a11 = madd(d1, v, a11);
              v = v128.load(xb + o2);
              a02 = madd(d0, v, a02); a12 = madd(d1, v, a12);
              v = v128.load(xb + o3);
              a03 = madd(d0, v, a03); a13 = madd(d1, v, a13);
              p += 16; xb += 16;
            }
            xr += rstride; dp += rowBytes;
          }
        }
        if (tail && !clean) {
          // Each row's last 1..3 pixels, apart so the loop above stays lean: dy is zero past ow,
          // and the slab lanes there are masked to zero too (0 * Inf would be NaN where the
          // reference has no such term).
          const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(tail));
          for (let b = 0; b < nb; b++) {
            const blk = blocks + <usize>b * blockBytes;
            let xb = blk + dyBytes + fullBytes, p = blk + <usize>f * fstride + fullBytes;
            for (let oy = 0; oy < oh; oy++) {
              const d0 = v128.load(p), d1 = v128.load(p + dd);
              let v = v128.and(v128.load(xb + o0), mask);
              a00 = madd(d0, v, a00); a10 = madd(d1, v, a10);
              v = v128.and(v128.load(xb + o1), mask);
              a01 = madd(d0, v, a01); a11 = madd(d1, v, a11);
              v = v128.and(v128.load(xb + o2), mask);
              a02 = madd(d0, v, a02); a12 = madd(d1, v, a12);
              v = v128.and(v128.load(xb + o3), mask);
              a03 = madd(d0, v, a03); a13 = madd(d1, v, a13);
              xb += rstride; p += rowBytes;
            }
          }
        }
        const r0 = acc + (<usize>(f * K + k) << 2);
        const nk = min(4, K - k);
        store<f32>(r0, load<f32>(r0) + hsum(a00));
        if (nk > 1) store<f32>(r0, load<f32>(r0, 4) + hsum(a01), 4);
        if (nk > 2) store<f32>(r0, load<f32>(r0, 8) + hsum(a02), 8);
        if (nk > 3) store<f32>(r0, load<f32>(r0, 12) + hsum(a03), 12);
        if (f1 != f) {
          const r1 = r0 + (<usize>K << 2);
          store<f32>(r1, load<f32>(r1) + hsum(a10));
          if (nk > 1) store<f32>(r1, load<f32>(r1, 4) + hsum(a11), 4);
          if (nk > 2) store<f32>(r1, load<f32>(r1, 8) + hsum(a12), 8);
          if (nk > 3) store<f32>(r1, load<f32>(r1, 12) + hsum(a13), 12);
        }
      }
    }
  }
  const out = <usize>arg(job, D_Y) + (<usize>part * <usize>arg(job, D_BANDS) + <usize>(grp * kg * K) << 2);
  copyFloats(out, acc, kg * K);
}
