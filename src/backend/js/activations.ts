import type { KernelTensor } from '../kernels.js';
import { sizeOf } from '../../tensor/shape.js';

/**
 * Activations whose parameters do not fit the one-`alpha` Unary kernel: clamp/hardtanh (two
 * bounds), softplus (beta and threshold) and PReLU (a learned slope per channel).
 */

/** min(max(x, lo), hi), as torch.clamp: when lo > hi every element becomes hi. NaN stays NaN. */
export function clamp(x: KernelTensor, lo: number, hi: number): Float32Array {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    out[i] = Number.isNaN(v) ? v : Math.min(Math.max(v, lo), hi);
  }
  return out;
}

/**
 * dy where x lies inside [lo, hi], else 0. `inclusive` keeps the bounds themselves (torch.clamp's
 * rule); hardtanh's backward excludes them (PyTorch's hardtanh_backward).
 */
export function clampGrad(x: KernelTensor, dy: KernelTensor, lo: number, hi: number, inclusive: boolean): Float32Array {
  const out = new Float32Array(dy.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    const inside = inclusive ? v >= lo && v <= hi : v > lo && v < hi;
    out[i] = inside ? dy.data[i]! : 0;
  }
  return out;
}

/** (1/beta) log(1 + exp(beta x)); where beta x > threshold the result is x (as PyTorch does). */
export function softplus(x: KernelTensor, beta: number, threshold: number): Float32Array {
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    const z = beta * v;
    // log1p(exp(z)) overflows for large z; max(z, 0) + log1p(exp(-|z|)) is the same value, safely.
    out[i] = z > threshold ? v : (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))) / beta;
  }
  return out;
}

/** d softplus / dx = sigmoid(beta x), and 1 above the threshold. */
export function softplusGrad(x: KernelTensor, dy: KernelTensor, beta: number, threshold: number): Float32Array {
  const out = new Float32Array(dy.data.length);
  for (let i = 0; i < out.length; i++) {
    const z = beta * x.data[i]!;
    out[i] = z > threshold ? dy.data[i]! : dy.data[i]! / (1 + Math.exp(-z));
  }
  return out;
}

/**
 * Channel index helper for PReLU: x is [N, C, ...] (channel axis 1); a 0-d or 1-d x has one
 * channel. With a single weight every element uses it.
 */
function preluLayout(x: KernelTensor, w: KernelTensor): { channels: number; inner: number } {
  if (w.data.length === 1 || x.shape.length < 2) return { channels: 1, inner: x.data.length };
  return { channels: x.shape[1]!, inner: sizeOf(x.shape.slice(2)) };
}

/** x where x > 0, else w[c] * x, with c the channel (axis 1) of the element. */
export function prelu(x: KernelTensor, w: KernelTensor): Float32Array {
  const { channels, inner } = preluLayout(x, w);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i]!;
    const c = channels === 1 ? 0 : Math.floor(i / inner) % channels;
    out[i] = v > 0 ? v : w.data[c]! * v;
  }
  return out;
}

/** Gradients of PReLU: dx = dy * (x > 0 ? 1 : w[c]); dw[c] = sum of dy * x over x <= 0 in channel c. */
export function preluGrad(x: KernelTensor, w: KernelTensor, dy: KernelTensor): { dx: Float32Array; dw: Float32Array } {
  const { channels, inner } = preluLayout(x, w);
  const dx = new Float32Array(x.data.length);
  // Sums over the whole batch: float64 so long reductions do not drift.
  const acc = new Float64Array(w.data.length);
  for (let i = 0; i < dx.length; i++) {
    const v = x.data[i]!;
    const c = channels === 1 ? 0 : Math.floor(i / inner) % channels;
    if (v > 0) dx[i] = dy.data[i]!;
    else {
      dx[i] = w.data[c]! * dy.data[i]!;
      acc[c]! += dy.data[i]! * v;
    }
  }
  return { dx, dw: Float32Array.from(acc) };
}
