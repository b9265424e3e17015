// The backward epilogue of a convolution with a fused bias and ReLU (src/ops/conv2d.ts): from
// the output y and its gradient dy [N, C, inner], g = dy * (y > 0 ? 1 : 0) (the gradient at the
// ReLU's input, which the input- and filter-gradient kernels read next) and the bias gradient
// sum[c] = sum over n and the inner positions of g, in one pass instead of a ReLU-gradient pass
// and a channel-sum pass that reads g again. Bit for bit the two kernels it replaces: g is
// elementwise.ts's OP_RELU_GRAD, and each channel's sum adds the same floats in the same order
// as planes.ts's channelSumTask (eight at a time into four float64 pairs, the rows in n order).
// A task is a run of channels, so tasks never write the same element.
import { arg } from './job';

export const RGS_Y = 0, RGS_DY = 1, RGS_OUT = 2, RGS_SUM = 3, RGS_N = 4, RGS_C = 5, RGS_INNER = 6, RGS_CPT = 7;

// @ts-ignore: decorator
@inline function masked(y: v128, dy: v128): v128 {
  // As OP_RELU_GRAD: a product, so NaN and infinite dy give NaN, negative dy -0 where masked.
  return f32x4.mul(dy, v128.and(f32x4.splat(1), f32x4.gt(y, f32x4.splat(0))));
}

export function reluGradSumTask(job: usize, t: i32): void {
  const N = arg(job, RGS_N), C = arg(job, RGS_C), inner = arg(job, RGS_INNER), cpt = arg(job, RGS_CPT);
  const c0 = t * cpt, c1 = min(C, c0 + cpt);
  const ybase = <usize>arg(job, RGS_Y), dybase = <usize>arg(job, RGS_DY), obase = <usize>arg(job, RGS_OUT);
  const sums = <usize>arg(job, RGS_SUM);
  const I8 = inner & ~7;
  for (let c = c0; c < c1; c++) {
    let acc: f64 = 0;
    for (let n = 0; n < N; n++) {
      const off = <usize>((n * C + c) * inner) << 2;
      const y = ybase + off, dy = dybase + off, out = obase + off;
      let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
      for (let q = 0; q < I8; q += 8) {
        const o = <usize>q << 2;
        const v = masked(v128.load(y + o), v128.load(dy + o));
        const w = masked(v128.load(y + o, 16), v128.load(dy + o, 16));
        v128.store(out + o, v);
        v128.store(out + o, w, 16);
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
        s2 = f64x2.add(s2, f64x2.promote_low_f32x4(w));
        s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(w, w, 2, 3, 0, 1)));
      }
      const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
      let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
      for (let q = I8; q < inner; q++) {
        const o = <usize>q << 2;
        const g = f32x4.extract_lane(masked(f32x4.splat(load<f32>(y + o)), f32x4.splat(load<f32>(dy + o))), 0);
        store<f32>(out + o, g);
        r += <f64>g;
      }
      acc += r;
    }
    store<f32>(sums + (<usize>c << 2), <f32>acc);
  }
}
