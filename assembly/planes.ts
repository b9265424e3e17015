// Per-plane kernels: max pooling (with switches) and its gradient, batch norm with fixed
// statistics, and sums over all axes but one (bias gradients). A task is a run of planes
// (or of kept channels), so tasks never write the same element. Semantics follow the js
// reference exactly (src/backend/js/pool2d.ts, normalization.ts, elementwise.ts).
import { zeroFloats } from './mem';
import { arg } from './job';

export const P_X = 0, P_OUT = 1, P_IDX = 2, P_H = 3, P_W = 4, P_OH = 5, P_OW = 6, P_KH = 7, P_KW = 8;
export const P_SH = 9, P_SW = 10, P_PT = 11, P_PL = 12, P_DH = 13, P_DW = 14, P_PPT = 15, P_PLANES = 16;

// @ts-ignore: decorator
@inline function even(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 0, 2, 4, 6); }
// @ts-ignore: decorator
@inline function odd(a: v128, b: v128): v128 { return v128.shuffle<f32>(a, b, 1, 3, 5, 7); }

/**
 * The common 2x2 stride-2 window without padding, 4 outputs at a time: the same rule as the
 * scalar loop (taps in row order, a later tap wins if greater or NaN). Returns how many
 * outputs of row i it wrote (a multiple of 4; the scalar loop does the rest).
 */
function pool2x2Row(x: usize, W: i32, i: i32, ow: i32, o: usize, ix: usize): i32 {
  const r0 = x + (<usize>(2 * i * W) << 2), r1 = r0 + (<usize>W << 2);
  const lanes = i32x4(0, 2, 4, 6), one = i32x4.splat(1), down = i32x4.splat(W);
  let j = 0;
  for (; j + 4 <= ow; j += 4) {
    const off = <usize>(2 * j) << 2;
    const a0 = v128.load(r0 + off), b0 = v128.load(r0 + off, 16);
    const a1 = v128.load(r1 + off), b1 = v128.load(r1 + off, 16);
    let best = even(a0, b0);
    let arg = i32x4.add(i32x4.splat(2 * i * W + 2 * j), lanes);
    const i01 = i32x4.add(arg, one), i10 = i32x4.add(arg, down), i11 = i32x4.add(i10, one);
    let v = odd(a0, b0);
    let upd = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, upd); arg = v128.bitselect(i01, arg, upd);
    v = even(a1, b1);
    upd = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, upd); arg = v128.bitselect(i10, arg, upd);
    v = odd(a1, b1);
    upd = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, upd); arg = v128.bitselect(i11, arg, upd);
    v128.store(o + (<usize>j << 2), best);
    v128.store(ix + (<usize>j << 2), arg);
  }
  return j;
}

/** Max over each window; the switch is the first maximum, or the last NaN (NaN wins). */
export function maxPoolTask(job: usize, t: i32): void {
  const H = arg(job, P_H), W = arg(job, P_W), oh = arg(job, P_OH), ow = arg(job, P_OW);
  const kh = arg(job, P_KH), kw = arg(job, P_KW), sh = arg(job, P_SH), sw = arg(job, P_SW);
  const pt = arg(job, P_PT), pl = arg(job, P_PL), dh = arg(job, P_DH), dw = arg(job, P_DW);
  const ppt = arg(job, P_PPT);
  const p0 = t * ppt, p1 = min(arg(job, P_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const x = <usize>arg(job, P_X) + (<usize>(p * H * W) << 2);
    let o = <usize>arg(job, P_OUT) + (<usize>(p * oh * ow) << 2);
    let ix = <usize>arg(job, P_IDX) + (<usize>(p * oh * ow) << 2);
    const fast = kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && pt == 0 && pl == 0 && 2 * oh <= H && 2 * ow <= W;
    for (let i = 0; i < oh; i++) {
      let j = 0;
      if (fast) {
        j = pool2x2Row(x, W, i, ow, o, ix);
        o += <usize>j << 2; ix += <usize>j << 2;
      }
      for (; j < ow; j++) {
        let best: f32 = -Infinity;
        let am = -1;
        for (let ki = 0; ki < kh; ki++) {
          const r = i * sh - pt + ki * dh;
          if (r < 0 || r >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const c = j * sw - pl + kj * dw;
            if (c < 0 || c >= W) continue;
            const v = load<f32>(x + (<usize>(r * W + c) << 2));
            if (am < 0 || v > best || v != v) { best = v; am = r * W + c; }
          }
        }
        store<f32>(o, best);
        store<i32>(ix, am);
        o += 4; ix += 4;
      }
    }
  }
}

export const PG_DY = 0, PG_IDX = 1, PG_DX = 2, PG_HW = 3, PG_OHW = 4, PG_PPT = 5, PG_PLANES = 6;

/** dx[switch] += dy, plane by plane. */
export function maxPoolGradTask(job: usize, t: i32): void {
  const hw = arg(job, PG_HW), ohw = arg(job, PG_OHW), ppt = arg(job, PG_PPT);
  const p0 = t * ppt, p1 = min(arg(job, PG_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const dx = <usize>arg(job, PG_DX) + (<usize>(p * hw) << 2);
    const dy = <usize>arg(job, PG_DY) + (<usize>(p * ohw) << 2);
    const ix = <usize>arg(job, PG_IDX) + (<usize>(p * ohw) << 2);
    zeroFloats(dx, hw);
    for (let o = 0; o < ohw; o++) {
      const k = load<i32>(ix + (<usize>o << 2));
      if (k >= 0) {
        const d = dx + (<usize>k << 2);
        store<f32>(d, load<f32>(d) + load<f32>(dy + (<usize>o << 2)));
      }
    }
  }
}

export const BN_X = 0, BN_Y = 1, BN_MEAN = 2, BN_SCALE = 3, BN_SHIFT = 4, BN_C = 5, BN_INNER = 6, BN_PPT = 7, BN_PLANES = 8;

/** y = (x - mean[c]) * scale[c] + shift[c] over each (n, c) plane. */
export function batchNormTask(job: usize, t: i32): void {
  const C = arg(job, BN_C), inner = arg(job, BN_INNER), ppt = arg(job, BN_PPT);
  const p0 = t * ppt, p1 = min(arg(job, BN_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    const m = load<f32>(<usize>arg(job, BN_MEAN) + (<usize>c << 2));
    const s = load<f32>(<usize>arg(job, BN_SCALE) + (<usize>c << 2));
    const b = load<f32>(<usize>arg(job, BN_SHIFT) + (<usize>c << 2));
    const vm = f32x4.splat(m), vs = f32x4.splat(s), vb = f32x4.splat(b);
    const x = <usize>arg(job, BN_X) + (<usize>(p * inner) << 2);
    const y = <usize>arg(job, BN_Y) + (<usize>(p * inner) << 2);
    let q = 0;
    for (; q + 4 <= inner; q += 4) {
      const o = <usize>q << 2;
      v128.store(y + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o), vm), vs), vb));
    }
    for (; q < inner; q++) {
      const o = <usize>q << 2;
      store<f32>(y + o, (load<f32>(x + o) - m) * s + b);
    }
  }
}

export const RS_X = 0, RS_OUT = 1, RS_A = 2, RS_B = 3, RS_C = 4, RS_BPT = 5, RS_MEAN = 6;

/** out[b] = sum over a, c of x[a][b][c] (float64 accumulation, as the reference), or the mean. */
export function channelSumTask(job: usize, t: i32): void {
  const A = arg(job, RS_A), B = arg(job, RS_B), C = arg(job, RS_C), bpt = arg(job, RS_BPT);
  const b0 = t * bpt, b1 = min(B, b0 + bpt);
  const x = <usize>arg(job, RS_X), out = <usize>arg(job, RS_OUT);
  const div: f64 = arg(job, RS_MEAN) ? <f64>A * <f64>C : 1;
  for (let b = b0; b < b1; b++) {
    let acc: f64 = 0;
    for (let a = 0; a < A; a++) {
      const row = x + (<usize>((a * B + b) * C) << 2);
      let s0: f64 = 0, s1: f64 = 0;
      let c = 0;
      for (; c + 2 <= C; c += 2) {
        s0 += <f64>load<f32>(row + (<usize>c << 2));
        s1 += <f64>load<f32>(row + (<usize>c << 2), 4);
      }
      if (c < C) s0 += <f64>load<f32>(row + (<usize>c << 2));
      acc += s0 + s1;
    }
    store<f32>(out + (<usize>b << 2), <f32>(acc / div));
  }
}
