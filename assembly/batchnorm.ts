// Batch norm in training: the per-channel statistics (BatchNormStats) and the gradients
// (BatchNormGrad) of x [N, C, inner]. A task is a run of channels, so tasks never write the same
// element. Sums and the per-element formulas run in float64 as in the js reference
// (src/backend/js/normalization.ts); only the order of the float64 additions differs.
//
// Two layouts: channels with `inner` >= 4 (conv feature maps) run along each channel's N planes
// four floats at a time; [N, C] (inner == 1, BatchNorm1d) runs four channels at a time down the
// rows, where a channel's values are C floats apart. Channels left over take the planar loop.
import { arg, argf64 } from './job';
import { hi2, join4, lo2 } from './vmath';

export const BS_X = 0, BS_MEAN = 1, BS_VAR = 2, BS_N = 3, BS_C = 4, BS_INNER = 5, BS_CPT = 6, BS_COUNT = 7;
export const BG_X = 0, BG_DY = 1, BG_MEAN = 2, BG_VAR = 3, BG_W = 4, BG_DX = 5, BG_DW = 6, BG_DB = 7, BG_N = 8, BG_C = 9;
export const BG_INNER = 10, BG_CPT = 11, BG_COUNT = 12, BG_STATS = 13, BG_EPS = 14; // EPS: a float64 in 14, 15
// Y: the output of a ReLU fused after the batch norm (0: none); dy is then masked first.
export const BG_Y = 16;
// The chunked kernels (bn-chunks.ts): images per chunk, the float64 partials, the number of chunks.
// CB: channels per unit; SHIFT: the statistics' float32 shifts; COEF: the gradient's float64 constants.
export const BS_IPC = 8, BS_PART = 9, BS_CHUNKS = 10, BS_SHIFT = 11, BS_CB = 12;
export const BG_IPC = 17, BG_PART = 18, BG_CHUNKS = 19, BG_CB = 20, BG_COEF = 21;

/**
 * dy at byte offset o, times (y > 0 ? 1 : 0) when a fused ReLU's output y is given: the bits of
 * the separate ReLU gradient (OP_RELU_GRAD, a product: NaN and infinite dy give NaN, negative
 * dy -0 where masked), so a fused BN -> ReLU backward equals the two kernels it replaces.
 */
// @ts-ignore: decorator
@inline function gradAt(dy: usize, y: usize, o: usize): v128 {
  const g = v128.load(dy + o);
  return y ? f32x4.mul(g, v128.and(f32x4.splat(1), f32x4.gt(v128.load(y + o), f32x4.splat(0)))) : g;
}
// @ts-ignore: decorator
@inline function gradScalar(dy: usize, y: usize, o: usize): f64 {
  const g = load<f32>(dy + o);
  return <f64>(y ? g * (load<f32>(y + o) > 0 ? <f32>1 : <f32>0) : g);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Sum of channel c's values (N planes of `inner` floats, `stride` bytes apart), minus `m`, to the power 1 or 2. */
export function planeSum(x: usize, N: i32, stride: usize, inner: i32, m: f64, square: bool): f64 {
  const vm = f64x2.splat(m);
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let s: f64 = 0;
  for (let n = 0; n < N; n++) {
    const row = x + <usize>n * stride;
    let q = 0;
    for (; q + 8 <= inner; q += 8) {
      const p = row + (<usize>q << 2);
      const v = v128.load(p), w = v128.load(p, 16);
      let d0 = f64x2.sub(lo2(v), vm), d1 = f64x2.sub(hi2(v), vm), d2 = f64x2.sub(lo2(w), vm), d3 = f64x2.sub(hi2(w), vm);
      if (square) { d0 = f64x2.mul(d0, d0); d1 = f64x2.mul(d1, d1); d2 = f64x2.mul(d2, d2); d3 = f64x2.mul(d3, d3); }
      a0 = f64x2.add(a0, d0); a1 = f64x2.add(a1, d1); a2 = f64x2.add(a2, d2); a3 = f64x2.add(a3, d3);
    }
    for (; q < inner; q++) {
      const d = <f64>load<f32>(row + (<usize>q << 2)) - m;
      s += square ? d * d : d;
    }
  }
  return hsum(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3))) + s;
}

/** mean[c] = sum / count, variance[c] = sum (x - mean)^2 / count, the mean unrounded in the second pass. */
export function batchNormStatsTask(job: usize, t: i32): void {
  const N = arg(job, BS_N), C = arg(job, BS_C), inner = arg(job, BS_INNER), cpt = arg(job, BS_CPT);
  const c0 = t * cpt, c1 = min(arg(job, BS_COUNT), c0 + cpt);
  const x = <usize>arg(job, BS_X), mean = <usize>arg(job, BS_MEAN), variance = <usize>arg(job, BS_VAR);
  const stride = <usize>C * <usize>inner << 2;
  const count = <f64>N * <f64>inner;
  let c = c0;
  if (inner == 1) {
    const vcount = f64x2.splat(count);
    for (; c + 4 <= c1; c += 4) {
      const col = x + (<usize>c << 2);
      let s0 = f64x2.splat(0), s1 = s0;
      for (let n = 0; n < N; n++) {
        const v = v128.load(col + <usize>n * stride);
        s0 = f64x2.add(s0, lo2(v)); s1 = f64x2.add(s1, hi2(v));
      }
      const m0 = f64x2.div(s0, vcount), m1 = f64x2.div(s1, vcount);
      let q0 = f64x2.splat(0), q1 = q0;
      for (let n = 0; n < N; n++) {
        const v = v128.load(col + <usize>n * stride);
        const d0 = f64x2.sub(lo2(v), m0), d1 = f64x2.sub(hi2(v), m1);
        q0 = f64x2.add(q0, f64x2.mul(d0, d0)); q1 = f64x2.add(q1, f64x2.mul(d1, d1));
      }
      v128.store(mean + (<usize>c << 2), join4(m0, m1));
      v128.store(variance + (<usize>c << 2), join4(f64x2.div(q0, vcount), f64x2.div(q1, vcount)));
    }
  }
  for (; c < c1; c++) {
    const base = x + (<usize>c * <usize>inner << 2);
    const m = planeSum(base, N, stride, inner, 0, false) / count;
    const sq = planeSum(base, N, stride, inner, m, true);
    store<f32>(mean + (<usize>c << 2), <f32>m);
    store<f32>(variance + (<usize>c << 2), <f32>(sq / count));
  }
}

/**
 * Per-channel constants of the gradient, as the reference: invstd = 1 / sqrt(var + eps),
 * scale = weight * invstd; with batch statistics dx = scale * (dy - sumDy/M - xhat * sumDyXhat/M).
 */
export function batchNormGradTask(job: usize, t: i32): void {
  const N = arg(job, BG_N), C = arg(job, BG_C), inner = arg(job, BG_INNER), cpt = arg(job, BG_CPT);
  const c0 = t * cpt, c1 = min(arg(job, BG_COUNT), c0 + cpt);
  const x = <usize>arg(job, BG_X), dy = <usize>arg(job, BG_DY), dx = <usize>arg(job, BG_DX);
  const meanP = <usize>arg(job, BG_MEAN), varP = <usize>arg(job, BG_VAR), wP = <usize>arg(job, BG_W);
  const dwP = <usize>arg(job, BG_DW), dbP = <usize>arg(job, BG_DB), yP = <usize>arg(job, BG_Y);
  const stats = arg(job, BG_STATS) != 0;
  const eps = argf64(job, BG_EPS);
  const stride = <usize>C * <usize>inner << 2;
  const count = <f64>N * <f64>inner;
  let c = c0;
  if (inner == 1) {
    const veps = f64x2.splat(eps), vcount = f64x2.splat(count), one = f64x2.splat(1);
    for (; c + 4 <= c1; c += 4) {
      const co = <usize>c << 2;
      const mv = v128.load(meanP + co), vv = v128.load(varP + co);
      const m0 = lo2(mv), m1 = hi2(mv);
      const i0 = f64x2.div(one, f64x2.sqrt(f64x2.add(lo2(vv), veps)));
      const i1 = f64x2.div(one, f64x2.sqrt(f64x2.add(hi2(vv), veps)));
      let g0 = f64x2.splat(0), g1 = g0, h0 = g0, h1 = g0;
      for (let n = 0; n < N; n++) {
        const o = co + <usize>n * stride;
        const g = gradAt(dy, yP, o), xv = v128.load(x + o);
        const gl = lo2(g), gh = hi2(g);
        g0 = f64x2.add(g0, gl); g1 = f64x2.add(g1, gh);
        h0 = f64x2.add(h0, f64x2.mul(gl, f64x2.sub(lo2(xv), m0)));
        h1 = f64x2.add(h1, f64x2.mul(gh, f64x2.sub(hi2(xv), m1)));
      }
      h0 = f64x2.mul(h0, i0); h1 = f64x2.mul(h1, i1);
      v128.store(dbP + co, join4(g0, g1));
      v128.store(dwP + co, join4(h0, h1));
      let s0 = i0, s1 = i1;
      if (wP) { const wv = v128.load(wP + co); s0 = f64x2.mul(lo2(wv), i0); s1 = f64x2.mul(hi2(wv), i1); }
      const a0 = f64x2.div(g0, vcount), a1 = f64x2.div(g1, vcount);
      const b0 = f64x2.div(h0, vcount), b1 = f64x2.div(h1, vcount);
      for (let n = 0; n < N; n++) {
        const o = co + <usize>n * stride;
        const g = gradAt(dy, yP, o);
        let r0: v128, r1: v128;
        if (stats) {
          const xv = v128.load(x + o);
          const x0 = f64x2.mul(f64x2.sub(lo2(xv), m0), i0), x1 = f64x2.mul(f64x2.sub(hi2(xv), m1), i1);
          r0 = f64x2.mul(s0, f64x2.sub(f64x2.sub(lo2(g), a0), f64x2.mul(x0, b0)));
          r1 = f64x2.mul(s1, f64x2.sub(f64x2.sub(hi2(g), a1), f64x2.mul(x1, b1)));
        } else {
          r0 = f64x2.mul(s0, lo2(g)); r1 = f64x2.mul(s1, hi2(g));
        }
        v128.store(dx + o, join4(r0, r1));
      }
    }
  }
  for (; c < c1; c++) {
    const co = <usize>c << 2;
    const m = <f64>load<f32>(meanP + co);
    const invstd = 1 / Math.sqrt(<f64>load<f32>(varP + co) + eps);
    const scale = (wP ? <f64>load<f32>(wP + co) : 1) * invstd;
    const off = <usize>c * <usize>inner << 2;
    const vm = f64x2.splat(m);
    let g0 = f64x2.splat(0), g1 = g0, h0 = g0, h1 = g0;
    let gs: f64 = 0, hs: f64 = 0;
    for (let n = 0; n < N; n++) {
      const o = off + <usize>n * stride;
      let q = 0;
      for (; q + 4 <= inner; q += 4) {
        const p = o + (<usize>q << 2);
        const g = gradAt(dy, yP, p), xv = v128.load(x + p);
        const gl = lo2(g), gh = hi2(g);
        g0 = f64x2.add(g0, gl); g1 = f64x2.add(g1, gh);
        h0 = f64x2.add(h0, f64x2.mul(gl, f64x2.sub(lo2(xv), vm)));
        h1 = f64x2.add(h1, f64x2.mul(gh, f64x2.sub(hi2(xv), vm)));
      }
      for (; q < inner; q++) {
        const p = o + (<usize>q << 2);
        const g = gradScalar(dy, yP, p);
        gs += g;
        hs += g * (<f64>load<f32>(x + p) - m);
      }
    }
    const sumDy = hsum(f64x2.add(g0, g1)) + gs;
    const sumDyXhat = (hsum(f64x2.add(h0, h1)) + hs) * invstd;
    store<f32>(dbP + co, <f32>sumDy);
    store<f32>(dwP + co, <f32>sumDyXhat);
    const a = sumDy / count, b = sumDyXhat / count;
    const va = f64x2.splat(a), vb = f64x2.splat(b), vi = f64x2.splat(invstd), vs = f64x2.splat(scale);
    for (let n = 0; n < N; n++) {
      const o = off + <usize>n * stride;
      let q = 0;
      for (; q + 4 <= inner; q += 4) {
        const p = o + (<usize>q << 2);
        const g = gradAt(dy, yP, p);
        let r0: v128, r1: v128;
        if (stats) {
          const xv = v128.load(x + p);
          const x0 = f64x2.mul(f64x2.sub(lo2(xv), vm), vi), x1 = f64x2.mul(f64x2.sub(hi2(xv), vm), vi);
          r0 = f64x2.mul(vs, f64x2.sub(f64x2.sub(lo2(g), va), f64x2.mul(x0, vb)));
          r1 = f64x2.mul(vs, f64x2.sub(f64x2.sub(hi2(g), va), f64x2.mul(x1, vb)));
        } else {
          r0 = f64x2.mul(vs, lo2(g)); r1 = f64x2.mul(vs, hi2(g));
        }
        v128.store(dx + p, join4(r0, r1));
      }
      for (; q < inner; q++) {
        const p = o + (<usize>q << 2);
        const g = gradScalar(dy, yP, p);
        const r = stats ? scale * (g - a - ((<f64>load<f32>(x + p) - m) * invstd) * b) : scale * g;
        store<f32>(dx + p, <f32>r);
      }
    }
  }
}
