import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/activations.js';
import * as wasm from '../../src/backend/wasm/activations.js';
import { expectClose } from '../helpers/assert.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { expectIdentical, withSpecials } from './wasm-exact.js';

/*
 * Clamp, Softplus, PReLU and their gradients on wasm (assembly/activations.ts) against the js
 * reference: clamp and PReLU bit for bit, softplus within float32 rounding of the same float64
 * formulas; NaN, infinities and signed zeros included; threaded and on one thread.
 */

/** Odd sizes, batch 1, inner sizes below and above the SIMD width, and arrays big enough to split. */
const SHAPES = [[1], [7], [3, 5], [1, 3, 1, 1], [2, 3, 2, 3], [1, 5, 7, 9], [4, 6, 11], [16, 10], [33, 3], [2, 64, 33, 35], [300_001]];
/** Every parameter set runs on the small shapes; the big ones (threaded) on the first two. */
const big = (shape: number[]) => shape.reduce((p, d) => p * d, 1) > 100_000;

function input(shape: number[], seed: number, scale = 3): KernelTensor {
  const x = kt(shape, seed);
  for (let i = 0; i < x.data.length; i++) x.data[i]! *= scale;
  return { data: withSpecials(x.data, 11), shape };
}

describe('wasm Clamp, Softplus, PReLU against the js reference', () => {
  it('are wasm kernels', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['Clamp', 'ClampGrad', 'Softplus', 'SoftplusGrad', 'PRelu', 'PReluGrad']));
  });

  it('clamps exactly, for bounds that float32 cannot hold, infinite bounds and lo > hi', () => {
    const bounds: [number, number][] = [[-1, 1], [0, 6], [0.1, 0.7], [-0.3, Infinity], [-Infinity, 0.2], [-Infinity, Infinity], [1, -1], [-0, 0],
      [1e39, 2e39], [-2e39, -1e39], [Math.fround(0.1), Math.fround(0.1)]];
    SHAPES.forEach((shape, si) => {
      const x = input(shape, 10 + si);
      const dy = kt(shape, 50 + si);
      for (const [lo, hi] of big(shape) ? bounds.slice(0, 3) : bounds) {
        const what = `[${shape}] [${lo}, ${hi}]`;
        const r = bothPaths(() => wasm.clamp(x, lo, hi));
        const e = js.clamp(x, lo, hi);
        expectIdentical(r.threaded, e, `${what} clamp`);
        expectIdentical(r.single, e, `${what} clamp (one thread)`);
        for (const inclusive of [true, false]) {
          const g = bothPaths(() => wasm.clampGrad(x, dy, lo, hi, inclusive));
          const eg = js.clampGrad(x, dy, lo, hi, inclusive);
          expectIdentical(g.threaded, eg, `${what} grad ${inclusive}`);
          expectIdentical(g.single, eg, `${what} grad ${inclusive} (one thread)`);
        }
      }
    });
  });

  it('gives the clamp gradient exactly at float32 neighbours of float64 bounds', () => {
    // x on both sides of 0.1 and -0.7 (whose float32 roundings lie above them) and 0.7 (below it).
    const near = (t: number) => {
      const u = new Int32Array(Float32Array.of(t).buffer);
      return [-2, -1, 0, 1, 2].map((d) => new Float32Array(Int32Array.of(u[0]! + d).buffer)[0]!);
    };
    const data = Float32Array.from([...near(0.1), ...near(-0.7), ...near(0.7), ...near(1e-40), 0, -0, 2 ** -149, -(2 ** -149), 3.4028234663852886e38, -Infinity]);
    const x = { data, shape: [data.length] };
    const dy = { data: Float32Array.from(data, (_, i) => i + 1), shape: [data.length] };
    for (const [lo, hi] of [[-0.7, 0.1], [0.1, 0.7], [-0.7, 0.7], [0.1, 0.1], [1e-40, 1e-40], [-(2 ** -150), 2 ** -150], [-Infinity, 3.5e38]] as [number, number][]) {
      for (const inclusive of [true, false]) {
        expectIdentical(wasm.clampGrad(x, dy, lo, hi, inclusive), js.clampGrad(x, dy, lo, hi, inclusive), `[${lo}, ${hi}] ${inclusive}`);
      }
    }
  });

  it('computes softplus and its gradient as the reference, across beta and threshold', () => {
    const params: [number, number][] = [[1, 20], [2, 20], [0.5, 10], [1, 0], [3, -1], [-1, 20], [10, 5], [1e-3, 20]];
    SHAPES.forEach((shape, si) => {
      const x = input(shape, 70 + si, 20);
      const dy = { data: withSpecials(kt(shape, 90 + si).data, 13), shape };
      for (const [beta, threshold] of big(shape) ? params.slice(0, 2) : params) {
        const what = `[${shape}] beta ${beta} threshold ${threshold}`;
        const r = bothPaths(() => wasm.softplus(x, beta, threshold));
        const e = js.softplus(x, beta, threshold);
        expectClose(r.threaded, e, { rtol: 2e-7, atol: 0, what });
        expectIdentical(r.single, r.threaded, `${what} one thread`);
        const g = bothPaths(() => wasm.softplusGrad(x, dy, beta, threshold));
        expectClose(g.threaded, js.softplusGrad(x, dy, beta, threshold), { rtol: 2e-7, atol: 0, what: `${what} grad` });
        expectIdentical(g.single, g.threaded, `${what} grad one thread`);
      }
    });
  });

  it('applies PReLU per channel (axis 1) or with one slope, and its gradients', () => {
    SHAPES.forEach((shape, si) => {
      const x = input(shape, 110 + si);
      const dy = kt(shape, 130 + si);
      const channels = shape.length >= 2 ? shape[1]! : 1;
      for (const wl of channels > 1 ? [1, channels] : [1]) {
        const w = { data: Float32Array.from(kt([wl], 150 + si).data, (v, i) => (i === 1 ? -0 : v)), shape: [wl] };
        const what = `[${shape}] w ${wl}`;
        const r = bothPaths(() => wasm.prelu(x, w));
        const e = js.prelu(x, w);
        expectIdentical(r.threaded, e, what);
        expectIdentical(r.single, e, `${what} (one thread)`);
        const g = bothPaths(() => wasm.preluGrad(x, w, dy));
        const eg = js.preluGrad(x, w, dy);
        for (const [name, got] of [['threaded', g.threaded], ['one thread', g.single]] as const) {
          expectIdentical(got.dx, eg.dx, `${what} dx (${name})`);
          // Float64 partial sums in another order: the float32 results agree to rounding.
          expectClose(got.dw, eg.dw, { rtol: 1e-6, atol: 0, what: `${what} dw (${name})` });
        }
        expectIdentical(g.single.dw, g.threaded.dw, `${what} dw does not depend on the threads`);
      }
    });
  });

  it('gives a NaN slope gradient where x or dy is NaN, as the reference', () => {
    const x = { data: Float32Array.from([1, -2, NaN, -1, 3, -0, -Infinity, 2]), shape: [2, 2, 2] };
    const w = { data: Float32Array.from([0.25, -1]), shape: [2] };
    const dy = { data: Float32Array.from([1, 1, 1, 1, 1, 1, 0, 1]), shape: [2, 2, 2] };
    const g = wasm.preluGrad(x, w, dy);
    const e = js.preluGrad(x, w, dy);
    expectIdentical(g.dx, e.dx, 'dx');
    expectIdentical(g.dw, e.dw, 'dw');
    expect(Number.isNaN(g.dw[1]!)).toBe(true);
  });
});
