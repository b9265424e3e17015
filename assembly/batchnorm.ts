// Batch norm in training: the job slots of the statistics (BS_*) and the gradients (BG_*) of
// x [N, C, inner], whose kernels are in bn-chunks.ts, and the two-pass float64 channel sum they
// fall back to where the one-pass statistics would lose digits.
import { hi2, lo2 } from './vmath';

export const BS_X = 0, BS_MEAN = 1, BS_VAR = 2, BS_N = 3, BS_C = 4, BS_INNER = 5, BS_CPT = 6, BS_COUNT = 7;
export const BG_X = 0, BG_DY = 1, BG_MEAN = 2, BG_VAR = 3, BG_W = 4, BG_DX = 5, BG_DW = 6, BG_DB = 7, BG_N = 8, BG_C = 9;
export const BG_INNER = 10, BG_CPT = 11, BG_COUNT = 12, BG_STATS = 13, BG_EPS = 14; // EPS: a float64 in 14, 15
// Y: the output of a ReLU fused after the batch norm (0: none); dy is then masked first.
export const BG_Y = 16;
// The chunked kernels (bn-chunks.ts): images per chunk, the float64 partials, the number of chunks.
// CB: channels per unit; SHIFT: the statistics' float32 shifts; COEF: the gradient's float64 constants.
export const BS_IPC = 8, BS_PART = 9, BS_CHUNKS = 10, BS_SHIFT = 11, BS_CB = 12;
export const BG_IPC = 17, BG_PART = 18, BG_CHUNKS = 19, BG_CB = 20, BG_COEF = 21;

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
