import type { KernelTensor } from '../../src/backend/kernels.js';
import { expectClose } from '../helpers/assert.js';
import { runtime } from '../../src/backend/wasm/instance.js';

/** Deterministic values in [-1, 1) (a small LCG: tests must not depend on the global seed). */
export function values(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function kt(shape: number[], seed = 1): KernelTensor {
  return { data: values(shape.reduce((a, b) => a * b, 1), seed), shape };
}

/**
 * float32 reordering differences only: rtol 1e-4, atol 1e-5 relative to the output's scale
 * (sums of many products cancel, so absolute error follows the largest magnitude).
 */
export function expectSame(actual: Float32Array, expected: Float32Array, what: string): void {
  let scale = 0;
  for (const v of expected) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  expectClose(actual, expected, { rtol: 1e-4, atol: 1e-5 * Math.max(1, scale), what });
}

/** Waits (up to 5 s) for the worker threads, so threaded paths are really exercised. */
export async function workersReady(): Promise<number> {
  const rt = runtime();
  for (let i = 0; i < 100 && rt.pool && !rt.pool.ready(); i++) await new Promise((r) => setTimeout(r, 50));
  return rt.threads();
}

/** Runs fn once on the worker threads and once on the calling thread alone. */
export function bothPaths<T>(fn: () => T): { threaded: T; single: T } {
  const rt = runtime();
  const threaded = fn();
  rt.singleThreaded = true;
  try {
    return { threaded, single: fn() };
  } finally {
    rt.singleThreaded = false;
  }
}
