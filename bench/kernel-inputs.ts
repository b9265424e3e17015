import type { KernelTensor } from '../src/backend/kernels.js';

/**
 * Deterministic values in [-1, 1) from a small LCG: a benchmark's inputs, and the kernel tests'
 * (test/backend/wasm-helpers.ts), do not depend on the global seed.
 */
export function values(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A kernel operand of `shape` filled with `values(…, seed)`. */
export const kt = (shape: number[], seed = 1): KernelTensor => ({ data: values(shape.reduce((a, b) => a * b, 1), seed), shape });

/** The middle element of the sorted times (the upper one of an even count). */
export const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

/** Quantized values of kt(shape, seed) (many ties), with signed zeros, infinities and NaN. */
export function awkward(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  const specials = [NaN, Infinity, -Infinity, -0, 0];
  for (let i = 0; i < x.data.length; i++) {
    const u = (i * 2654435761 + seed * 97) >>> 0;
    x.data[i] = u % 17 === 0 ? specials[(u >>> 5) % specials.length]! : Math.round(x.data[i]! * 4) / 4;
  }
  return x;
}
