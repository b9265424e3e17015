// y = A W^T for few rows of A (M < 4), the fully-connected layer at batch 1: W [N, K] is
// read once, row by row, with no packing (the packed GEMM would spend more time packing W
// than multiplying). One task is a range of N; four rows of W share each load of A.
import { madd } from './madd';
import { arg } from './job';
import { EP_BIAS_COL, EP_RELU } from './kernel';
import { G_A, G_B, G_BIAS, G_C, G_FLAGS, G_K, G_LDC, G_M, G_N, G_TILEN } from './gemm';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

function dot(a: usize, w: usize, k: i32): f32 {
  let acc = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= k; p += 4) acc = madd(v128.load(a + (<usize>p << 2)), v128.load(w + (<usize>p << 2)), acc);
  let s = hsum(acc);
  for (; p < k; p++) s += load<f32>(a + (<usize>p << 2)) * load<f32>(w + (<usize>p << 2));
  return s;
}

export function gemvTask(job: usize, t: i32): void {
  const M = arg(job, G_M), N = arg(job, G_N), K = arg(job, G_K);
  const a = <usize>arg(job, G_A), w = <usize>arg(job, G_B), c = <usize>arg(job, G_C), ldc = arg(job, G_LDC);
  const flags = arg(job, G_FLAGS), bias = <usize>arg(job, G_BIAS);
  const n0 = t * arg(job, G_TILEN), n1 = min(N, n0 + arg(job, G_TILEN));
  const rowBytes = <usize>K << 2;
  for (let m = 0; m < M; m++) {
    const am = a + <usize>m * rowBytes;
    const cm = c + (<usize>(m * ldc) << 2);
    let n = n0;
    for (; n + 4 <= n1; n += 4) {
      const w0 = w + <usize>n * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
      let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
      let p = 0;
      for (; p + 4 <= K; p += 4) {
        const o = <usize>p << 2;
        const x = v128.load(am + o);
        s0 = madd(x, v128.load(w0 + o), s0);
        s1 = madd(x, v128.load(w1 + o), s1);
        s2 = madd(x, v128.load(w2 + o), s2);
        s3 = madd(x, v128.load(w3 + o), s3);
      }
      let r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
      for (; p < K; p++) {
        const o = <usize>p << 2;
        const x = load<f32>(am + o);
        r0 += x * load<f32>(w0 + o); r1 += x * load<f32>(w1 + o); r2 += x * load<f32>(w2 + o); r3 += x * load<f32>(w3 + o);
      }
      store<f32>(cm + (<usize>n << 2), r0); store<f32>(cm + (<usize>n << 2), r1, 4);
      store<f32>(cm + (<usize>n << 2), r2, 8); store<f32>(cm + (<usize>n << 2), r3, 12);
    }
    for (; n < n1; n++) store<f32>(cm + (<usize>n << 2), dot(am, w + <usize>n * rowBytes, K));
    for (n = n0; n < n1; n++) {
      const d = cm + (<usize>n << 2);
      let v = load<f32>(d);
      if (flags & EP_BIAS_COL) v += load<f32>(bias + (<usize>n << 2));
      if (flags & EP_RELU) v = v > 0 ? v : 0;
      store<f32>(d, v);
    }
  }
}
