import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import * as js from '../../src/backend/js/losses.js';
import * as wasm from '../../src/backend/wasm/multi-margin.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { expectIdentical } from './wasm-exact.js';

/*
 * MultiMarginLoss and its gradient on wasm (assembly/multi-margin.ts) against the js
 * reference: the same float64 arithmetic, so the same bits, for p 1 and 2, margins, class
 * weights, one sample ([C]) and batches big enough to split.
 */

function targets(n: number, c: number, seed: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % c);
}

describe('wasm MultiMarginLoss against the js reference', () => {
  it('is a wasm kernel', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['MultiMarginLoss', 'MultiMarginLossGrad']));
  });

  it('gives the same losses and gradients', () => {
    const shapes = [[5], [1, 1], [1, 10], [3, 2], [7, 13], [64, 10], [20_000, 7]];
    shapes.forEach((shape, si) => {
      const n = shape.length === 1 ? 1 : shape[0]!;
      const c = shape[shape.length - 1]!;
      const x = kt(shape, 10 + si);
      // Ties with the margin: scores exactly margin apart.
      for (let i = 0; i < x.data.length; i += 5) x.data[i] = Math.round(x.data[i]! * 2) / 2;
      const t = targets(n, c, si);
      const dy = kt([n], 30 + si);
      const weight = kt([c], 50 + si);
      for (const p of [1, 2] as const) {
        for (const margin of [1, 0.5, 0, 0.1]) {
          for (const w of [null, weight]) {
            const what = `[${shape}] p ${p} margin ${margin}${w ? ' weighted' : ''}`;
            const r = bothPaths(() => wasm.multiMarginLoss(x, t, p, margin, w));
            const e = js.multiMarginLoss(x, t, p, margin, w);
            expectIdentical(r.threaded, e, what);
            expectIdentical(r.single, e, `${what} (one thread)`);
            const g = bothPaths(() => wasm.multiMarginLossGrad(x, t, dy, p, margin, w));
            const eg = js.multiMarginLossGrad(x, t, dy, p, margin, w);
            expectIdentical(g.threaded, eg, `${what} grad`);
            expectIdentical(g.single, eg, `${what} grad (one thread)`);
          }
        }
      }
    });
  });

  it('propagates infinite scores as the reference', () => {
    const x = { data: Float32Array.from([Infinity, 0, 1, -Infinity, 2, 0, NaN, 1, 0]), shape: [3, 3] };
    const t = Int32Array.from([1, 0, 2]);
    const dy = { data: Float32Array.from([1, 1, 1]), shape: [3] };
    expectIdentical(wasm.multiMarginLoss(x, t, 2, 1, null), js.multiMarginLoss(x, t, 2, 1, null), 'loss');
    expectIdentical(wasm.multiMarginLossGrad(x, t, dy, 2, 1, null), js.multiMarginLossGrad(x, t, dy, 2, 1, null), 'grad');
  });
});
