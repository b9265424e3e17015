import type { BatchNormStatistics, KernelSignatures, KernelTensor, LRNAttrs } from '../kernels.js';
import { reluInPlace } from './matmul.js';

/**
 * Reference normalization kernels. Inputs are [N, C, ...] with channels on axis 1; the
 * trailing dimensions are flattened into one `inner` axis, so the same code serves [N, C],
 * [N, C, L] and [N, C, H, W].
 */

function channelDims(shape: readonly number[]): { n: number; c: number; inner: number } {
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d]!;
  return { n: shape[0]!, c: shape[1]!, inner };
}

/**
 * The LRN denominators before the power: s[c] = k + alpha/size * sum of x^2 over channels
 * [c - floor(size/2), c + floor((size-1)/2)], clipped to the real channels (PyTorch pads with
 * zeros and averages with divisor `size`, which is the same thing).
 */
function lrnScale(x: KernelTensor, a: LRNAttrs): Float64Array {
  const { n: N, c: C, inner } = channelDims(x.shape);
  const before = Math.floor(a.size / 2);
  const after = Math.floor((a.size - 1) / 2);
  const s = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++) {
    for (let q = 0; q < inner; q++) {
      const at = (ch: number) => (n * C + ch) * inner + q;
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let j = Math.max(0, c - before); j <= Math.min(C - 1, c + after); j++) sum += x.data[at(j)]! ** 2;
        s[at(c)] = a.k + (a.alpha / a.size) * sum;
      }
    }
  }
  return s;
}

/** Local response normalization across channels: y = x / s^beta. */
export function lrn(x: KernelTensor, a: LRNAttrs): Float32Array {
  const s = lrnScale(x, a);
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i]! * s[i]! ** -a.beta;
  return y;
}

/**
 * Exact gradient of LRN. With y_i = x_i s_i^-beta and s_i depending on x_j^2 for every j in
 * channel i's window:
 *   dx_j = dy_j s_j^-beta - (2 alpha beta / size) x_j * sum over {i : j in window(i)} of dy_i x_i s_i^(-beta-1).
 * j is in window(i) exactly when i is in [j - floor((size-1)/2), j + floor(size/2)].
 */
export function lrnGrad(x: KernelTensor, dy: KernelTensor, a: LRNAttrs): Float32Array {
  const { n: N, c: C, inner } = channelDims(x.shape);
  const s = lrnScale(x, a);
  const before = Math.floor(a.size / 2);
  const after = Math.floor((a.size - 1) / 2);
  const coef = (2 * a.alpha * a.beta) / a.size;
  const dx = new Float32Array(x.data.length);
  for (let n = 0; n < N; n++) {
    for (let q = 0; q < inner; q++) {
      const at = (ch: number) => (n * C + ch) * inner + q;
      for (let j = 0; j < C; j++) {
        let cross = 0;
        for (let i = Math.max(0, j - after); i <= Math.min(C - 1, j + before); i++) {
          cross += dy.data[at(i)]! * x.data[at(i)]! * s[at(i)]! ** (-a.beta - 1);
        }
        const xj = x.data[at(j)]!;
        dx[at(j)] = dy.data[at(j)]! * s[at(j)]! ** -a.beta - coef * xj * cross;
      }
    }
  }
  return dx;
}

/** Per-channel mean and biased variance over every axis but 1 (two passes, float64 sums). */
export function batchNormStats(x: KernelTensor): BatchNormStatistics {
  const { n: N, c: C, inner } = channelDims(x.shape);
  const count = N * inner;
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let q = 0; q < inner; q++) sum += x.data[base + q]!;
    }
    const m = sum / count;
    let sq = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let q = 0; q < inner; q++) sq += (x.data[base + q]! - m) ** 2;
    }
    mean[c] = m;
    variance[c] = sq / count;
  }
  return { mean, variance };
}

/** y = (x - mean[c]) / sqrt(variance[c] + eps) * weight[c] + bias[c]. */
export const batchNorm: KernelSignatures['BatchNorm'] = (x, mean, variance, weight, bias, eps, activation = 'none') => {
  const { n: N, c: C, inner } = channelDims(x.shape);
  const y = new Float32Array(x.data.length);
  for (let c = 0; c < C; c++) {
    const scale = (weight ? weight.data[c]! : 1) / Math.sqrt(variance.data[c]! + eps);
    const shift = bias ? bias.data[c]! : 0;
    const m = mean.data[c]!;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let q = 0; q < inner; q++) y[base + q] = (x.data[base + q]! - m) * scale + shift;
    }
  }
  // On the rounded float32 values, as a separate relu would see them.
  if (activation === 'relu') reluInPlace(y);
  return y;
};

/** dy * (y > 0 ? 1 : 0): the ReLU gradient as UnaryGrad 'relu' computes it (a product, rounded to float32). */
function reluMasked(y: ArrayLike<number>, dy: ArrayLike<number>): Float32Array {
  const g = new Float32Array(dy.length);
  for (let i = 0; i < g.length; i++) g[i] = dy[i]! * (y[i]! > 0 ? 1 : 0);
  return g;
}

/**
 * Gradients of BatchNorm. With xhat = (x - mean) * invstd and M values per channel:
 *   dbias = sum dy, dweight = sum dy * xhat, and
 *   dx = weight * invstd * dy                                        (fixed statistics), or
 *   dx = weight * invstd * (dy - dbias/M - xhat * dweight/M)          (batch statistics, which depend on x).
 */
export const batchNormGrad: KernelSignatures['BatchNormGrad'] = (x, dy, mean, variance, weight, eps, batchStats, reluOutput = null) => {
  if (reluOutput) dy = { data: reluMasked(reluOutput.data, dy.data), shape: dy.shape };
  const { n: N, c: C, inner } = channelDims(x.shape);
  const count = N * inner;
  const dx = new Float32Array(x.data.length);
  const dweight = new Float32Array(C);
  const dbias = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const m = mean.data[c]!;
    const invstd = 1 / Math.sqrt(variance.data[c]! + eps);
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let q = 0; q < inner; q++) {
        const g = dy.data[base + q]!;
        sumDy += g;
        sumDyXhat += g * (x.data[base + q]! - m) * invstd;
      }
    }
    dbias[c] = sumDy;
    dweight[c] = sumDyXhat;
    const scale = (weight ? weight.data[c]! : 1) * invstd;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * inner;
      for (let q = 0; q < inner; q++) {
        const g = dy.data[base + q]!;
        if (!batchStats) {
          dx[base + q] = scale * g;
        } else {
          const xhat = (x.data[base + q]! - m) * invstd;
          dx[base + q] = scale * (g - sumDy / count - (xhat * sumDyXhat) / count);
        }
      }
    }
  }
  return { dx, dweight, dbias };
};
