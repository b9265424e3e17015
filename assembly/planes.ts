// Per-plane kernels: batch norm with fixed statistics, and sums over all axes but one (bias
// gradients); pooling is in pool.ts. A task is a run of planes
// (or of kept channels), so tasks never write the same element. Semantics follow the js
// reference exactly (src/backend/js/normalization.ts, elementwise.ts).
import { arg, ARGS } from './job';

// BN_VAR, BN_W (0: none) and BN_B (0: none) are per-channel pointers, BN_EPS a float64 (two slots).
export const BN_X = 0, BN_Y = 1, BN_MEAN = 2, BN_VAR = 3, BN_B = 4, BN_C = 5, BN_INNER = 6, BN_PPT = 7, BN_PLANES = 8, BN_RELU = 9, BN_W = 10, BN_EPS = 11;

/**
 * y = (x - mean[c]) * scale[c] + shift[c] over each (n, c) plane; then relu when BN_RELU (the Unary
 * relu rule: NaN -> 0). scale = weight / sqrt(var + eps) in float64, rounded once, as the
 * reference computes it; shift = bias.
 */
export function batchNormTask(job: usize, t: i32): void {
  const C = arg(job, BN_C), inner = arg(job, BN_INNER), ppt = arg(job, BN_PPT);
  const relu = arg(job, BN_RELU) != 0;
  const zero = f32x4.splat(0);
  const p0 = t * ppt, p1 = min(arg(job, BN_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const c = p % C;
    const m = load<f32>(<usize>arg(job, BN_MEAN) + (<usize>c << 2));
    const wp = <usize>arg(job, BN_W), bp = <usize>arg(job, BN_B);
    const eps = load<f64>(job + (<usize>(ARGS + BN_EPS) << 2));
    const v = <f64>load<f32>(<usize>arg(job, BN_VAR) + (<usize>c << 2));
    const s = <f32>((wp ? <f64>load<f32>(wp + (<usize>c << 2)) : 1) / Math.sqrt(v + eps));
    const b: f32 = bp ? load<f32>(bp + (<usize>c << 2)) : 0;
    const vm = f32x4.splat(m), vs = f32x4.splat(s), vb = f32x4.splat(b);
    const x = <usize>arg(job, BN_X) + (<usize>(p * inner) << 2);
    const y = <usize>arg(job, BN_Y) + (<usize>(p * inner) << 2);
    let q = 0;
    for (; q + 4 <= inner; q += 4) {
      const o = <usize>q << 2;
      let v = f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o), vm), vs), vb);
      if (relu) v = v128.and(v, f32x4.gt(v, zero));
      v128.store(y + o, v);
    }
    for (; q < inner; q++) {
      const o = <usize>q << 2;
      const v = (load<f32>(x + o) - m) * s + b;
      store<f32>(y + o, relu && !(v > 0) ? 0 : v);
    }
  }
}

export const RS_X = 0, RS_OUT = 1, RS_A = 2, RS_B = 3, RS_C = 4, RS_BPT = 5, RS_MEAN = 6;

/**
 * out[b] = sum over a, c of x[a][b][c] (float64 accumulation, as the reference), or the mean.
 * Four floats a step, widened to two f64x2 lanes each (a fixed order of additions, whatever the
 * split into tasks).
 */
export function channelSumTask(job: usize, t: i32): void {
  const A = arg(job, RS_A), B = arg(job, RS_B), C = arg(job, RS_C), bpt = arg(job, RS_BPT);
  const b0 = t * bpt, b1 = min(B, b0 + bpt);
  const x = <usize>arg(job, RS_X), out = <usize>arg(job, RS_OUT);
  const div: f64 = arg(job, RS_MEAN) ? <f64>A * <f64>C : 1;
  const C8 = C & ~7;
  for (let b = b0; b < b1; b++) {
    let acc: f64 = 0;
    for (let a = 0; a < A; a++) {
      const row = x + (<usize>((a * B + b) * C) << 2);
      let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
      const end = row + (<usize>C8 << 2);
      let p = row;
      while (p < end) {
        const v = v128.load(p), w = v128.load(p, 16);
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
        s2 = f64x2.add(s2, f64x2.promote_low_f32x4(w));
        s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(w, w, 2, 3, 0, 1)));
        p += 32;
      }
      const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
      let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
      for (let c = C8; c < C; c++) r += <f64>load<f32>(row + (<usize>c << 2));
      acc += r;
    }
    store<f32>(out + (<usize>b << 2), <f32>(acc / div));
  }
}
