import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Window2D } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/locally-connected.js';
import * as wasm from '../../src/backend/wasm/locally-connected.js';
import { ConvkitError } from '../../src/tensor/errors.js';
import { bothPaths, expectSame, kt, workersReady } from './wasm-helpers.js';

/*
 * LocallyConnected2D and its gradients on wasm (assembly/locally-connected.ts) against the js
 * reference: float32 SIMD sums against the reference's float64 ones, so equal to float32
 * rounding (expectSame), on strided, padded, dilated and rectangular windows, batch 1, batches
 * that are not a multiple of the 4 images the forward takes at a time, and sizes that split.
 */

interface LcCase { x: [number, number, number, number]; k: number; kernel: [number, number]; stride?: [number, number]; pad?: [number, number, number, number]; dilation?: [number, number] }

function attrs(c: LcCase): Window2D {
  const stride = c.stride ?? [1, 1], pad = c.pad ?? [0, 0, 0, 0], dilation = c.dilation ?? [1, 1];
  const out: [number, number] = [0, 1].map((a) =>
    Math.floor((c.x[2 + a]! + pad[2 * a]! + pad[2 * a + 1]! - dilation[a]! * (c.kernel[a]! - 1) - 1) / stride[a]!) + 1) as [number, number];
  return { kernel: c.kernel, stride, pad, dilation, out };
}

const CASES: LcCase[] = [
  { x: [1, 1, 3, 3], k: 1, kernel: [3, 3] },
  { x: [1, 3, 7, 9], k: 5, kernel: [3, 3] },
  { x: [2, 2, 6, 5], k: 3, kernel: [2, 3], stride: [2, 1], pad: [1, 0, 2, 1] },
  { x: [5, 3, 9, 8], k: 4, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], dilation: [2, 1] },
  { x: [7, 1, 5, 5], k: 2, kernel: [1, 1] },
  { x: [3, 6, 8, 8], k: 7, kernel: [5, 5], pad: [2, 2, 2, 2] },
  { x: [16, 8, 12, 12], k: 16, kernel: [3, 3], pad: [1, 1, 1, 1] },
];

describe('wasm LocallyConnected2D against the js reference', () => {
  it('is a wasm kernel, with both gradients', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(
      expect.arrayContaining(['LocallyConnected2D', 'LocallyConnected2DBackpropInput', 'LocallyConnected2DBackpropFilter']),
    );
  });

  it('matches forward, input and filter gradients, threaded or not', () => {
    CASES.forEach((c, ci) => {
      const a = attrs(c);
      const [n, ch] = c.x;
      const wShape = [a.out[0], a.out[1], c.k, ch, c.kernel[0], c.kernel[1]];
      const x = kt(c.x, 10 + ci), w = kt(wShape, 20 + ci), b = kt([c.k, a.out[0], a.out[1]], 30 + ci);
      const dy = kt([n, c.k, a.out[0], a.out[1]], 40 + ci);
      const what = `x [${c.x}] k ${c.k} kernel ${c.kernel} stride ${a.stride} pad ${a.pad} dilation ${a.dilation}`;
      for (const bias of [b, null]) {
        const r = bothPaths(() => wasm.locallyConnected2d(x, w, bias, a));
        const e = js.locallyConnected2d(x, w, bias, a);
        expectSame(r.threaded, e, `${what} forward`);
        expectSame(r.single, e, `${what} forward (one thread)`);
      }
      const gi = bothPaths(() => wasm.locallyConnected2dBackpropInput(dy, w, c.x, a));
      const ei = js.locallyConnected2dBackpropInput(dy, w, c.x, a);
      expectSame(gi.threaded, ei, `${what} input grad`);
      expectSame(gi.single, ei, `${what} input grad (one thread)`);
      const gf = bothPaths(() => wasm.locallyConnected2dBackpropFilter(x, dy, wShape, a));
      const ef = js.locallyConnected2dBackpropFilter(x, dy, wShape, a);
      expectSame(gf.threaded, ef, `${what} filter grad`);
      expectSame(gf.single, ef, `${what} filter grad (one thread)`);
    });
  });

  it('spreads NaN and Inf as the reference (padding taps multiply the weights too)', () => {
    const c: LcCase = { x: [2, 2, 4, 4], k: 2, kernel: [3, 3], pad: [1, 1, 1, 1] };
    const a = attrs(c);
    const wShape = [a.out[0], a.out[1], 2, 2, 3, 3];
    const x = kt(c.x, 1), w = kt(wShape, 2);
    x.data[5] = NaN;
    w.data[0] = Infinity; // position (0, 0)'s first tap lies in the padding: inf * 0 = NaN
    const e = js.locallyConnected2d(x, w, null, a);
    const r = wasm.locallyConnected2d(x, w, null, a);
    for (let i = 0; i < e.length; i++) expect(Number.isNaN(r[i]!), `element ${i}`).toBe(Number.isNaN(e[i]!));
    expect(e.some((v) => Number.isNaN(v))).toBe(true);
  });

  it('rejects mismatched shapes with the reference\'s error', () => {
    const a = attrs({ x: [1, 2, 5, 5], k: 3, kernel: [3, 3] });
    expect(() => wasm.locallyConnected2d(kt([1, 2, 5, 5]), kt([3, 3, 3, 1, 3, 3]), null, a)).toThrow(ConvkitError);
    expect(() => wasm.locallyConnected2dBackpropInput(kt([1, 3, 3, 3]), kt([3, 3, 3, 2, 3, 2]), [1, 2, 5, 5], a)).toThrow(/do not match/);
  });
});
