// Locally connected 2-d layer (src/backend/js/locally-connected.ts): a convolution without
// weight sharing, w [OH, OW, K, C, KH, KW], bias [K, OH, OW]. Each output position has its own
// K x LEN filter bank (LEN = C KH KW), used by every image, so:
//   forward and filter gradient: a task is a run of positions (which own their outputs, or
//     their filter gradients, alone), and each position's bank is read once per 4 images;
//   input gradient: a task is one image and a block of CB channels (the receptive fields of
//     neighbouring positions overlap, but not across images or channels).
// Patches are gathered into the thread's scratch with zeros where the window overhangs the
// input. Sums are float32 SIMD (the reference sums in float64), within float32 rounding.
import { arg } from './job';
import { zeroFloats } from './mem';

export const LC_X = 0, LC_W = 1, LC_BIAS = 2, LC_Y = 3, LC_N = 4, LC_C = 5, LC_H = 6, LC_W_ = 7, LC_K = 8, LC_KH = 9, LC_KW = 10;
export const LC_SH = 11, LC_SW = 12, LC_PT = 13, LC_PL = 14, LC_DH = 15, LC_DW = 16, LC_OH = 17, LC_OW = 18, LC_UPT = 19, LC_UNITS = 20;
export const LC_CB = 21;

/** Images gathered per pass over a position's filter bank. */
const NB = 4;

/**
 * The receptive field of image n at output (oy, ox), channels [c0, c1), into dst (KH KW floats
 * per channel, zeros outside the input).
 */
function gatherPatch(job: usize, n: i32, oy: i32, ox: i32, c0: i32, c1: i32, dst: usize): void {
  const C = arg(job, LC_C), H = arg(job, LC_H), W = arg(job, LC_W_), KH = arg(job, LC_KH), KW = arg(job, LC_KW);
  const DH = arg(job, LC_DH), DW = arg(job, LC_DW);
  const y0 = oy * arg(job, LC_SH) - arg(job, LC_PT), x0 = ox * arg(job, LC_SW) - arg(job, LC_PL);
  const x = <usize>arg(job, LC_X);
  let q = dst;
  for (let c = c0; c < c1; c++) {
    const plane = x + (<usize>((n * C + c) * H * W) << 2);
    for (let i = 0; i < KH; i++) {
      const y = y0 + i * DH;
      if (y < 0 || y >= H) {
        zeroFloats(q, KW);
        q += <usize>KW << 2;
        continue;
      }
      const row = plane + (<usize>(y * W) << 2);
      for (let j = 0; j < KW; j++) {
        const xx = x0 + j * DW;
        store<f32>(q, xx >= 0 && xx < W ? load<f32>(row + (<usize>xx << 2)) : 0);
        q += 4;
      }
    }
  }
}

/** Sum of a[p] b[p] over p < len, in SIMD with a scalar tail. */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, len: i32): f32 {
  let s = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= len; p += 4) s = f32x4.add(s, f32x4.mul(v128.load(a + (<usize>p << 2)), v128.load(b + (<usize>p << 2))));
  let r = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; p < len; p++) r += load<f32>(a + (<usize>p << 2)) * load<f32>(b + (<usize>p << 2));
  return r;
}

/** y[n, k, pos] = bias[k, pos] + w[pos, k] . patch(n, pos). Scratch: NB patches. */
export function lcForwardTask(job: usize, t: i32, patches: usize): void {
  const N = arg(job, LC_N), C = arg(job, LC_C), K = arg(job, LC_K), OH = arg(job, LC_OH), OW = arg(job, LC_OW);
  const len = C * arg(job, LC_KH) * arg(job, LC_KW);
  const w = <usize>arg(job, LC_W), bias = <usize>arg(job, LC_BIAS), y = <usize>arg(job, LC_Y);
  const P = OH * OW;
  const u0 = t * arg(job, LC_UPT), u1 = min(arg(job, LC_UNITS), u0 + arg(job, LC_UPT));
  const pstride = <usize>len << 2;
  for (let pos = u0; pos < u1; pos++) {
    const oy = pos / OW, ox = pos % OW;
    for (let n0 = 0; n0 < N; n0 += NB) {
      const nb = min(NB, N - n0);
      for (let b = 0; b < nb; b++) gatherPatch(job, n0 + b, oy, ox, 0, C, patches + <usize>b * pstride);
      for (let k = 0; k < K; k++) {
        const wr = w + (<usize>(pos * K + k) * pstride);
        const b0: f32 = bias ? load<f32>(bias + (<usize>(k * P + pos) << 2)) : 0;
        if (nb == NB) {
          // Four images against one filter: each w vector is loaded once.
          let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
          let p = 0;
          for (; p + 4 <= len; p += 4) {
            const o = <usize>p << 2;
            const wv = v128.load(wr + o);
            s0 = f32x4.add(s0, f32x4.mul(wv, v128.load(patches + o)));
            s1 = f32x4.add(s1, f32x4.mul(wv, v128.load(patches + pstride + o)));
            s2 = f32x4.add(s2, f32x4.mul(wv, v128.load(patches + 2 * pstride + o)));
            s3 = f32x4.add(s3, f32x4.mul(wv, v128.load(patches + 3 * pstride + o)));
          }
          let r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
          for (; p < len; p++) {
            const o = <usize>p << 2;
            const wv = load<f32>(wr + o);
            r0 += wv * load<f32>(patches + o);
            r1 += wv * load<f32>(patches + pstride + o);
            r2 += wv * load<f32>(patches + 2 * pstride + o);
            r3 += wv * load<f32>(patches + 3 * pstride + o);
          }
          const out = y + (<usize>((n0 * K + k) * P + pos) << 2), step = <usize>(K * P) << 2;
          store<f32>(out, b0 + r0);
          store<f32>(out + step, b0 + r1);
          store<f32>(out + 2 * step, b0 + r2);
          store<f32>(out + 3 * step, b0 + r3);
        } else {
          for (let b = 0; b < nb; b++) {
            store<f32>(y + (<usize>(((n0 + b) * K + k) * P + pos) << 2), b0 + dot(wr, patches + <usize>b * pstride, len));
          }
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function hsum(s: v128): f32 {
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/**
 * dx[n, c0..c1) += over positions (in order) of the patch gradient sum over k of dy[n, k, pos]
 * w[pos, k, c0..c1). Unit u is image u / blocks, channel block u % blocks of CB channels; the
 * caller zeroes dx. Scratch: the patch gradient of CB channels.
 */
export function lcInputTask(job: usize, t: i32, dpatch: usize): void {
  const C = arg(job, LC_C), H = arg(job, LC_H), W = arg(job, LC_W_), K = arg(job, LC_K), KH = arg(job, LC_KH), KW = arg(job, LC_KW);
  const SH = arg(job, LC_SH), SW = arg(job, LC_SW), PT = arg(job, LC_PT), PL = arg(job, LC_PL), DH = arg(job, LC_DH), DW = arg(job, LC_DW);
  const OH = arg(job, LC_OH), OW = arg(job, LC_OW), CB = arg(job, LC_CB);
  const w = <usize>arg(job, LC_W), dy = <usize>arg(job, LC_Y), dx = <usize>arg(job, LC_X);
  const P = OH * OW, khw = KH * KW, len = C * khw;
  const blocks = (C + CB - 1) / CB;
  const u0 = t * arg(job, LC_UPT), u1 = min(arg(job, LC_UNITS), u0 + arg(job, LC_UPT));
  for (let u = u0; u < u1; u++) {
    const n = u / blocks, c0 = (u % blocks) * CB, c1 = min(C, c0 + CB);
    const m = (c1 - c0) * khw;
    for (let pos = 0; pos < P; pos++) {
      const oy = pos / OW, ox = pos % OW;
      zeroFloats(dpatch, m);
      for (let k = 0; k < K; k++) {
        const g = load<f32>(dy + (<usize>((n * K + k) * P + pos) << 2));
        const vg = f32x4.splat(g);
        const wr = w + (<usize>((pos * K + k) * len + c0 * khw) << 2);
        let p = 0;
        for (; p + 4 <= m; p += 4) {
          const o = <usize>p << 2;
          v128.store(dpatch + o, f32x4.add(v128.load(dpatch + o), f32x4.mul(vg, v128.load(wr + o))));
        }
        for (; p < m; p++) {
          const o = <usize>p << 2;
          store<f32>(dpatch + o, load<f32>(dpatch + o) + g * load<f32>(wr + o));
        }
      }
      // Scatter-add the in-bounds taps.
      let q = dpatch;
      for (let c = c0; c < c1; c++) {
        const plane = dx + (<usize>((n * C + c) * H * W) << 2);
        for (let i = 0; i < KH; i++) {
          const yy = oy * SH - PT + i * DH;
          if (yy < 0 || yy >= H) { q += <usize>KW << 2; continue; }
          const row = plane + (<usize>(yy * W) << 2);
          for (let j = 0; j < KW; j++) {
            const xx = ox * SW - PL + j * DW;
            if (xx >= 0 && xx < W) {
              const a = row + (<usize>xx << 2);
              store<f32>(a, load<f32>(a) + load<f32>(q));
            }
            q += 4;
          }
        }
      }
    }
  }
}

/** dw[pos, k] = sum over images (in order) of dy[n, k, pos] patch(n, pos). Scratch: one patch. */
export function lcFilterTask(job: usize, t: i32, patch: usize): void {
  const N = arg(job, LC_N), C = arg(job, LC_C), K = arg(job, LC_K), OH = arg(job, LC_OH), OW = arg(job, LC_OW);
  const len = C * arg(job, LC_KH) * arg(job, LC_KW);
  const dy = <usize>arg(job, LC_Y), dw = <usize>arg(job, LC_W);
  const P = OH * OW;
  const u0 = t * arg(job, LC_UPT), u1 = min(arg(job, LC_UNITS), u0 + arg(job, LC_UPT));
  for (let pos = u0; pos < u1; pos++) {
    const oy = pos / OW, ox = pos % OW;
    const bank = dw + (<usize>(pos * K * len) << 2);
    zeroFloats(bank, K * len);
    for (let n = 0; n < N; n++) {
      gatherPatch(job, n, oy, ox, 0, C, patch);
      for (let k = 0; k < K; k++) {
        const g = load<f32>(dy + (<usize>((n * K + k) * P + pos) << 2));
        const vg = f32x4.splat(g);
        const wr = bank + (<usize>(k * len) << 2);
        let p = 0;
        for (; p + 4 <= len; p += 4) {
          const o = <usize>p << 2;
          v128.store(wr + o, f32x4.add(v128.load(wr + o), f32x4.mul(vg, v128.load(patch + o))));
        }
        for (; p < len; p++) {
          const o = <usize>p << 2;
          store<f32>(wr + o, load<f32>(wr + o) + g * load<f32>(patch + o));
        }
      }
    }
  }
}
