import type { KernelTensor } from '../kernels.js';
import { sizeOf } from '../../tensor/shape.js';

/**
 * Softmax and log-softmax along one axis, and their gradients. Each row (the elements that
 * differ only in `axis`) is shifted by its maximum before exponentiating, so logits of 1000
 * give the same result as logits of 0 instead of Infinity/NaN. Sums run in float64.
 *
 * A row is addressed as base + j * inner for j in [0, n), with
 * base = outer index * n * inner + inner index.
 */
function layout(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

function forEachRow(shape: readonly number[], axis: number, fn: (base: number, n: number, step: number) => void): void {
  const { outer, n, inner } = layout(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) fn(o * n * inner + i, n, inner);
  }
}

function rowMax(x: Float32Array, base: number, n: number, step: number): number {
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = x[base + j * step]!;
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

export function softmax(x: KernelTensor, axis: number): Float32Array {
  const out = new Float32Array(x.data.length);
  forEachRow(x.shape, axis, (base, n, step) => {
    const m = rowMax(x.data, base, n, step);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(x.data[base + j * step]! - m);
      out[base + j * step] = e;
      sum += e;
    }
    for (let j = 0; j < n; j++) out[base + j * step]! /= sum;
  });
  return out;
}

/** x - max - log(sum(exp(x - max))): exact even where softmax underflows to 0. */
export function logSoftmax(x: KernelTensor, axis: number): Float32Array {
  const out = new Float32Array(x.data.length);
  forEachRow(x.shape, axis, (base, n, step) => {
    const m = rowMax(x.data, base, n, step);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(x.data[base + j * step]! - m);
    const lse = m + Math.log(sum);
    for (let j = 0; j < n; j++) out[base + j * step] = x.data[base + j * step]! - lse;
  });
  return out;
}

/** Given y = softmax(x): dx = y * (dy - sum(dy * y)) along the axis. */
export function softmaxGrad(y: KernelTensor, dy: KernelTensor, axis: number): Float32Array {
  const out = new Float32Array(y.data.length);
  forEachRow(y.shape, axis, (base, n, step) => {
    let dot = 0;
    for (let j = 0; j < n; j++) dot += dy.data[base + j * step]! * y.data[base + j * step]!;
    for (let j = 0; j < n; j++) {
      const k = base + j * step;
      out[k] = y.data[k]! * (dy.data[k]! - dot);
    }
  });
  return out;
}

/** Given y = logSoftmax(x): dx = dy - exp(y) * sum(dy) along the axis. */
export function logSoftmaxGrad(y: KernelTensor, dy: KernelTensor, axis: number): Float32Array {
  const out = new Float32Array(y.data.length);
  forEachRow(y.shape, axis, (base, n, step) => {
    let total = 0;
    for (let j = 0; j < n; j++) total += dy.data[base + j * step]!;
    for (let j = 0; j < n; j++) {
      const k = base + j * step;
      out[k] = dy.data[k]! - Math.exp(y.data[k]!) * total;
    }
  });
  return out;
}
