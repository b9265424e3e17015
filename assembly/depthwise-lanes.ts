// Depthwise convolution (one input channel per filter) with four channels in the SIMD lanes,
// in all three passes, for layers of small planes (late MobileNet stages, large batches).
//
// depthwise.ts vectorises along a row of one plane, which leaves lanes idle on rows of 5..14
// outputs and pays a slab, a tap table and a call per row pair for every plane; on 10 x 10
// planes that overhead was most of the time. Here a task is one image and four channels: their
// planes go, transposed, into a zero-padded slab of pixel vectors (lane k = channel c0 + k),
// so every tap of every output pixel is one vector load and one multiply-add for four channels
// at any stride, dilation and padding, with no edge cases inside the loop. Four output pixels
// share each weight load; their four result vectors are transposed back into the four planes.
//
//   forward (KIND 53): y = scale * sum + bias, then ReLU (the epilogue flags of kernel.ts), over
//     the DW_* argument slots of depthwise.ts (CG = KG = 1, G = channels).
//   input gradient (KIND 55, strided layers; at stride 1 depthwise.ts runs the forward on dy with
//     flipped filters instead): the forward's adjoint: each dy pixel vector times each tap's
//     weight is added into a zeroed slab at the pixel the forward read, and the slab's input part
//     is transposed out into dx (contributions that land in the padding are dropped). X is dy, Y dx.
//   filter gradient (KIND 54): a task is one part of the images and four channels; per tap, the
//     sum over all outputs of dy x slab (the padding's zeros included, as the reference does: an
//     Inf in dy there gives NaN). X is x, W dy, Y the part's partial dW (PSTRIDE floats between
//     parts, IPP images per part), added up in part order.
import { arg, scratch } from './job';
import { madd } from './madd';
import { storeTransposed4, storeTransposed4Strided, zeroFloats } from './mem';
import { EP_BIAS_ROW, EP_RELU, EP_SCALE_ROW, finish } from './kernel';
import { DW_BIAS, DW_DH, DW_DW, DW_FLAGS, DW_G, DW_H, DW_IPP, DW_KH, DW_KW, DW_N, DW_OH, DW_OW, DW_PL, DW_PSTRIDE, DW_PT, DW_SCALE, DW_SH, DW_SW, DW_W, DW_W_, DW_X, DW_Y } from './depthwise';

/** Lane k of a vector read from up to four floats `stride` bytes apart (the rest zero). */
// @ts-ignore: decorator
@inline function gather4(p: usize, stride: usize, nc: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (nc > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + stride));
  if (nc > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * stride));
  if (nc > 3) v = f32x4.replace_lane(v, 3, load<f32>(p + 3 * stride));
  return v;
}

/** The nc planes' n floats at src (plane bytes ps apart) as n pixel vectors at dst. */
function toPixels(dst: usize, src: usize, ps: usize, nc: i32, n: i32): void {
  let p = 0;
  if (nc == 4) {
    for (; p + 4 <= n; p += 4) {
      const s = src + (<usize>p << 2);
      storeTransposed4(dst + (<usize>p << 4), v128.load(s), v128.load(s + ps), v128.load(s + 2 * ps), v128.load(s + 3 * ps));
    }
  }
  for (; p < n; p++) v128.store(dst + (<usize>p << 4), gather4(src + (<usize>p << 2), ps, nc));
}

/**
 * The slab: rows sy = 0 .. sr of pixel vectors sx = 0 .. sc, pixel (sy, sx) holding input
 * (sy - pt, sx - pl) of the nc planes at x (plane bytes ps apart), zero outside the input.
 */
function fillSlab(slab: usize, x: usize, ps: usize, nc: i32, h: i32, w: i32, pt: i32, pl: i32, sr: i32, sc: i32): void {
  const rowB = <usize>sc << 4;
  const x0 = max(0, pl), x1 = min(sc, w + pl); // slab columns that hold input columns
  for (let sy = 0; sy < sr; sy++) {
    const d = slab + <usize>sy * rowB;
    const iy = sy - pt;
    if (iy < 0 || iy >= h || x1 <= x0) { zeroFloats(d, sc << 2); continue; }
    if (x0 > 0) zeroFloats(d, x0 << 2);
    if (x1 < sc) zeroFloats(d + (<usize>x1 << 4), (sc - x1) << 2);
    toPixels(d + (<usize>x0 << 4), x + (<usize>(iy * w + x0 - pl) << 2), ps, nc, x1 - x0);
  }
}

/** Lane k of v to dst + k * ps (the first nc lanes). */
// @ts-ignore: decorator
@inline function scatter4(dst: usize, ps: usize, v: v128, nc: i32): void {
  store<f32>(dst, f32x4.extract_lane(v, 0));
  if (nc > 1) store<f32>(dst + ps, f32x4.extract_lane(v, 1));
  if (nc > 2) store<f32>(dst + 2 * ps, f32x4.extract_lane(v, 2));
  if (nc > 3) store<f32>(dst + 3 * ps, f32x4.extract_lane(v, 3));
}

/** Forward: one image and four channels (fewer in the last group). */
export function dwLanesTask(job: usize, t: i32, tid: i32): void {
  const C = arg(job, DW_G), h = arg(job, DW_H), w = arg(job, DW_W_);
  const kh = arg(job, DW_KH), kw = arg(job, DW_KW), sh = arg(job, DW_SH), sw = arg(job, DW_SW);
  const pt = arg(job, DW_PT), pl = arg(job, DW_PL), dh = arg(job, DW_DH), dw = arg(job, DW_DW);
  const oh = arg(job, DW_OH), ow = arg(job, DW_OW), flags = arg(job, DW_FLAGS);
  const groups = (C + 3) >> 2;
  const img = t / groups, c0 = (t % groups) << 2;
  const nc = min(4, C - c0);
  const taps = kh * kw;
  const sr = (oh - 1) * sh + (kh - 1) * dh + 1, sc = (ow - 1) * sw + (kw - 1) * dw + 1;
  // Scratch: the taps' weight vectors, then each tap's byte offset in the slab, then the slab.
  const wv = scratch(job, tid);
  const offs = wv + (<usize>taps << 4);
  const slab = offs + (<usize>(((taps + 15) >> 4) << 4) << 2);
  const ohw = oh * ow;
  const ps = <usize>(h * w) << 2, ops = <usize>ohw << 2;
  fillSlab(slab, <usize>arg(job, DW_X) + (<usize>(img * C + c0) * ps), ps, nc, h, w, pt, pl, sr, sc);
  const wp = <usize>arg(job, DW_W) + (<usize>(c0 * taps) << 2);
  for (let k = 0; k < taps; k++) {
    v128.store(wv + (<usize>k << 4), gather4(wp + (<usize>k << 2), <usize>taps << 2, nc));
    store<i32>(offs + (<usize>k << 2), (((k / kw) * dh * sc + (k % kw) * dw) << 4));
  }
  const scale = flags & EP_SCALE_ROW ? gather4(<usize>arg(job, DW_SCALE) + (<usize>c0 << 2), 4, nc) : f32x4.splat(1);
  const bias = flags & EP_BIAS_ROW ? gather4(<usize>arg(job, DW_BIAS) + (<usize>c0 << 2), 4, nc) : f32x4.splat(0);
  const r = (flags & EP_RELU) != 0;
  const y = <usize>arg(job, DW_Y) + (<usize>(img * C + c0) * ops);
  const rowStep = <usize>(sh * sc) << 4, colStep = <usize>sw << 4;
  // Four output pixels at a time in flat order (a block may wrap to the next row).
  let oy = 0, ox = 0;
  for (let p = 0; p < ohw; p += 4) {
    const b0 = slab + <usize>oy * rowStep + <usize>ox * colStep;
    if (++ox == ow) { ox = 0; oy++; }
    const b1 = p + 1 < ohw ? slab + <usize>oy * rowStep + <usize>ox * colStep : b0;
    if (++ox == ow) { ox = 0; oy++; }
    const b2 = p + 2 < ohw ? slab + <usize>oy * rowStep + <usize>ox * colStep : b0;
    if (++ox == ow) { ox = 0; oy++; }
    const b3 = p + 3 < ohw ? slab + <usize>oy * rowStep + <usize>ox * colStep : b0;
    if (++ox == ow) { ox = 0; oy++; }
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let k = 0; k < taps; k++) {
      const wk = v128.load(wv + (<usize>k << 4));
      const o = <usize>load<i32>(offs + (<usize>k << 2));
      a0 = madd(wk, v128.load(b0 + o), a0);
      a1 = madd(wk, v128.load(b1 + o), a1);
      a2 = madd(wk, v128.load(b2 + o), a2);
      a3 = madd(wk, v128.load(b3 + o), a3);
    }
    a0 = finish(a0, scale, bias, r); a1 = finish(a1, scale, bias, r);
    a2 = finish(a2, scale, bias, r); a3 = finish(a3, scale, bias, r);
    const dst = y + (<usize>p << 2);
    if (nc == 4 && p + 4 <= ohw) {
      storeTransposed4Strided(dst, ops, a0, a1, a2, a3);
    } else {
      scatter4(dst, ops, a0, nc);
      if (p + 1 < ohw) scatter4(dst + 4, ops, a1, nc);
      if (p + 2 < ohw) scatter4(dst + 8, ops, a2, nc);
      if (p + 3 < ohw) scatter4(dst + 12, ops, a3, nc);
    }
  }
}


/** Filter gradient: one part of the images and four channels (fewer in the last group). */
export function dwLanesFilterTask(job: usize, t: i32, tid: i32): void {
  const C = arg(job, DW_G), h = arg(job, DW_H), w = arg(job, DW_W_), N = arg(job, DW_N);
  const kh = arg(job, DW_KH), kw = arg(job, DW_KW), sh = arg(job, DW_SH), sw = arg(job, DW_SW);
  const pt = arg(job, DW_PT), pl = arg(job, DW_PL), dh = arg(job, DW_DH), dw = arg(job, DW_DW);
  const oh = arg(job, DW_OH), ow = arg(job, DW_OW), ipp = arg(job, DW_IPP);
  const groups = (C + 3) >> 2;
  const part = t / groups, c0 = (t % groups) << 2;
  const nc = min(4, C - c0);
  const taps = kh * kw;
  const sr = (oh - 1) * sh + (kh - 1) * dh + 1, sc = (ow - 1) * sw + (kw - 1) * dw + 1;
  const ohw = oh * ow;
  // Scratch: the taps' sums, dy's pixel vectors, the slab.
  const acc = scratch(job, tid);
  const dyv = acc + (<usize>taps << 4);
  const slab = dyv + (<usize>ohw << 4);
  const ps = <usize>(h * w) << 2, ops = <usize>ohw << 2;
  zeroFloats(acc, taps << 2);
  const i0 = part * ipp, i1 = min(N, i0 + ipp);
  for (let img = i0; img < i1; img++) {
    fillSlab(slab, <usize>arg(job, DW_X) + (<usize>(img * C + c0) * ps), ps, nc, h, w, pt, pl, sr, sc);
    toPixels(dyv, <usize>arg(job, DW_W) + (<usize>(img * C + c0) * ops), ops, nc, ohw);
    for (let k = 0; k < taps; k++) {
      const i = k / kw, j = k % kw;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      const colStep = <usize>sw << 4;
      for (let oy = 0; oy < oh; oy++) {
        let d = dyv + (<usize>(oy * ow) << 4);
        let s = slab + (<usize>((oy * sh + i * dh) * sc + j * dw) << 4);
        let ox = 0;
        for (; ox + 4 <= ow; ox += 4) {
          a0 = madd(v128.load(d), v128.load(s), a0);
          a1 = madd(v128.load(d, 16), v128.load(s + colStep), a1);
          a2 = madd(v128.load(d, 32), v128.load(s + 2 * colStep), a2);
          a3 = madd(v128.load(d, 48), v128.load(s + 3 * colStep), a3);
          d += 64; s += 4 * colStep;
        }
        for (; ox < ow; ox++) {
          a0 = madd(v128.load(d), v128.load(s), a0);
          d += 16; s += colStep;
        }
      }
      const e = acc + (<usize>k << 4);
      v128.store(e, f32x4.add(v128.load(e), f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3))));
    }
  }
  const out = <usize>arg(job, DW_Y) + (<usize>(part * arg(job, DW_PSTRIDE) + c0 * taps) << 2);
  for (let k = 0; k < taps; k++) scatter4(out + (<usize>k << 2), <usize>taps << 2, v128.load(acc + (<usize>k << 4)), nc);
}

/** Input gradient: one image and four channels (fewer in the last group). */
export function dwLanesInputTask(job: usize, t: i32, tid: i32): void {
  const C = arg(job, DW_G), h = arg(job, DW_H), w = arg(job, DW_W_);
  const kh = arg(job, DW_KH), kw = arg(job, DW_KW), sh = arg(job, DW_SH), sw = arg(job, DW_SW);
  const pt = arg(job, DW_PT), pl = arg(job, DW_PL), dh = arg(job, DW_DH), dw = arg(job, DW_DW);
  const oh = arg(job, DW_OH), ow = arg(job, DW_OW);
  const groups = (C + 3) >> 2;
  const img = t / groups, c0 = (t % groups) << 2;
  const nc = min(4, C - c0);
  const taps = kh * kw;
  const sr = (oh - 1) * sh + (kh - 1) * dh + 1, sc = (ow - 1) * sw + (kw - 1) * dw + 1;
  const ohw = oh * ow;
  const wv = scratch(job, tid);
  const offs = wv + (<usize>taps << 4);
  const dyv = offs + (<usize>(((taps + 15) >> 4) << 4) << 2);
  const slab = dyv + (<usize>ohw << 4);
  const ps = <usize>(h * w) << 2, ops = <usize>ohw << 2;
  const wp = <usize>arg(job, DW_W) + (<usize>(c0 * taps) << 2);
  for (let k = 0; k < taps; k++) {
    v128.store(wv + (<usize>k << 4), gather4(wp + (<usize>k << 2), <usize>taps << 2, nc));
    store<i32>(offs + (<usize>k << 2), (((k / kw) * dh * sc + (k % kw) * dw) << 4));
  }
  toPixels(dyv, <usize>arg(job, DW_X) + (<usize>(img * C + c0) * ops), ops, nc, ohw);
  zeroFloats(slab, (sr * sc) << 2);
  const rowStep = <usize>(sh * sc) << 4, colStep = <usize>sw << 4;
  for (let oy = 0; oy < oh; oy++) {
    let b = slab + <usize>oy * rowStep;
    let d = dyv + (<usize>(oy * ow) << 4);
    for (let ox = 0; ox < ow; ox++) {
      const v = v128.load(d);
      for (let k = 0; k < taps; k++) {
        const q = b + <usize>load<i32>(offs + (<usize>k << 2));
        v128.store(q, madd(v128.load(wv + (<usize>k << 4)), v, v128.load(q)));
      }
      b += colStep; d += 16;
    }
  }
  // dx (iy, ix) = slab (iy + pt, ix + pl) where that is inside the slab, else 0.
  const dx = <usize>arg(job, DW_Y) + (<usize>(img * C + c0) * ps);
  const x0 = min(w, max(0, -pl)), x1 = max(x0, min(w, sc - pl));
  for (let iy = 0; iy < h; iy++) {
    const row = dx + (<usize>(iy * w) << 2);
    const sy = iy + pt;
    if (sy < 0 || sy >= sr || x1 == x0) {
      for (let c = 0; c < nc; c++) zeroFloats(row + <usize>c * ps, w);
      continue;
    }
    for (let c = 0; c < nc; c++) {
      if (x0 > 0) zeroFloats(row + <usize>c * ps, x0);
      if (x1 < w) zeroFloats(row + <usize>c * ps + (<usize>x1 << 2), w - x1);
    }
    const src = slab + (<usize>(sy * sc + pl) << 4);
    let ix = x0;
    if (nc == 4) {
      for (; ix + 4 <= x1; ix += 4) {
        const s = src + (<usize>ix << 4);
        storeTransposed4Strided(row + (<usize>ix << 2), ps, v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48));
      }
    }
    for (; ix < x1; ix++) scatter4(row + (<usize>ix << 2), ps, v128.load(src + (<usize>ix << 4)), nc);
  }
}
