import { expect } from 'vitest';
import type { Conv2DAttrs, KernelTensor } from '../../src/backend/kernels.js';
import { expectClose } from '../helpers/assert.js';
import { runtime } from '../../src/backend/wasm/instance.js';

// The kernel operands: the benchmarks' deterministic LCG values, independent of the global seed.
import { kt } from '../../bench/kernel-inputs.js';
export { kt, values } from '../../bench/kernel-inputs.js';

/**
 * A batch-norm operand: channel ch scaled by 1 + ch and shifted by offset * ch (the case float64
 * sums are there for), with exact zeros of both signs at every zeroEvery-th element.
 */
export function channelOffsetInput(shape: number[], seed: number, offset: number, zeroEvery: number): KernelTensor {
  const x = kt(shape, seed);
  const c = shape[1]!;
  const inner = x.data.length / (shape[0]! * c);
  for (let i = 0; i < x.data.length; i++) {
    const ch = Math.floor(i / inner) % c;
    x.data[i] = x.data[i]! * (1 + ch) + offset * ch;
    if (i % zeroEvery === 0) x.data[i] = i % 2 ? -0 : 0;
  }
  return x;
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

/** Element by element Object.is: the same floats, -0 told from 0 (any NaN equals any NaN). */
export function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const bad = Array.from(actual).findIndex((v, i) => !Object.is(v, expected[i]));
  expect(bad < 0 ? null : `${what}: [${bad}] ${actual[bad]} vs ${expected[bad]}`).toBeNull();
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

/** A convolution case of the backend tests: input shape, filters, window (defaults: stride 1, no pad). */
export interface ConvCase {
  x: [number, number, number, number];
  kernel: [number, number];
  stride?: [number, number];
  pad?: [number, number, number, number];
  dilation?: [number, number];
  groups?: number;
  relu?: boolean;
}

/** The kernel attributes of a case, its output size by the floor rule. */
export function convAttrs(c: ConvCase): Conv2DAttrs {
  const [, , h, w] = c.x;
  const stride = c.stride ?? [1, 1];
  const pad = c.pad ?? [0, 0, 0, 0];
  const dilation = c.dilation ?? [1, 1];
  const out: [number, number] = [
    Math.floor((h + pad[0] + pad[1] - dilation[0] * (c.kernel[0] - 1) - 1) / stride[0]) + 1,
    Math.floor((w + pad[2] + pad[3] - dilation[1] * (c.kernel[1] - 1) - 1) / stride[1]) + 1,
  ];
  return { kernel: c.kernel, stride, pad, dilation, out, groups: c.groups ?? 1, activation: c.relu ? 'relu' : 'none' };
}
