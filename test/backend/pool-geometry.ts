import type { Window2D } from '../../src/backend/kernels.js';

/** Pooling geometries for the backends' pooling tests (wasm-pool, webgpu-pool), and their checks. */

/** PyTorch's pooling_output_shape (ceil mode: the last window must start inside the image or left padding). */
export function outSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

/** A small LCG for picking geometries reproducibly. */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

/** A window's kernel, stride, symmetric pads and dilation per axis, and whether it rounds up. */
export interface Geo {
  k: [number, number];
  s: [number, number];
  p: [number, number];
  d: [number, number];
  ceil: boolean;
}

/** The kernels' Window2D of a geometry on an [N, C, H, W] shape, or null when no window fits. */
export function window(shape: number[], g: Geo): Window2D | null {
  const out = [0, 1].map((a) => outSize(shape[2 + a]!, g.k[a]!, g.s[a]!, g.p[a]!, g.d[a]!, g.ceil)) as [number, number];
  if (out[0] < 1 || out[1] < 1) return null;
  return { kernel: g.k, stride: g.s, pad: [g.p[0], g.p[0], g.p[1], g.p[1]], dilation: g.d, out };
}

export const describeGeo = (shape: number[], g: Geo) => `[${shape}] k${g.k} s${g.s} p${g.p} d${g.d}${g.ceil ? ' ceil' : ''}`;
