import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/pool2d.js';
import * as wasm from '../../src/backend/wasm/adaptive-max-pool2d.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { expectIdentical, expectSameInts } from './wasm-exact.js';

/*
 * AdaptiveMaxPool2D on wasm (assembly/adaptive-max-pool.ts) against the js reference: the same
 * values and switches (first maximum, last NaN, -0 vs +0 as met), for output sizes that divide
 * the input, that do not, that are larger than it, and 1 x 1 (global max pooling).
 */

function awkward(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  const specials = [NaN, -Infinity, -0, 0, Infinity];
  for (let i = 0; i < x.data.length; i++) {
    const u = (i * 2654435761 + seed) >>> 0;
    if (u % 23 === 0) x.data[i] = specials[(u >>> 7) % specials.length]!;
    else if (u % 3 === 0) x.data[i] = Math.round(x.data[i]! * 2) / 2;
  }
  return x;
}

describe('wasm AdaptiveMaxPool2D against the js reference', () => {
  it('is a wasm kernel', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toContain('AdaptiveMaxPool2D');
  });

  it('gives the same values and switches', () => {
    const cases: [number[], [number, number][]][] = [
      [[1, 1, 1, 1], [[1, 1], [2, 3]]],
      [[1, 3, 7, 5], [[1, 1], [7, 5], [3, 2], [2, 4], [9, 11]]],
      [[2, 4, 12, 12], [[6, 6], [5, 7], [1, 1], [12, 1]]],
      [[8, 64, 15, 13], [[7, 7], [4, 3], [1, 1]]],
    ];
    for (const [shape, outs] of cases) {
      const x = awkward(shape, shape[2]!);
      for (const out of outs) {
        const what = `[${shape}] -> [${out}]`;
        const e = js.adaptiveMaxPool2D(x, out);
        const r = bothPaths(() => wasm.adaptiveMaxPool2D(x, out));
        for (const got of [r.threaded, r.single]) {
          expectIdentical(got.output, e.output, what);
          expectSameInts(got.indices, e.indices, `${what} switches`);
        }
      }
    }
  });

  it('takes the last NaN of a window and keeps an all -inf window\'s first switch', () => {
    const x = { data: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity, 1, NaN, 2, NaN]), shape: [1, 1, 2, 4] };
    const r = wasm.adaptiveMaxPool2D(x, [1, 2]);
    expectSameInts(r.indices, Int32Array.from([5, 7]), 'switches');
    expectSameInts(r.indices, js.adaptiveMaxPool2D(x, [1, 2]).indices, 'switches (js)');
    const y = { data: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity]), shape: [1, 1, 2, 2] };
    expectSameInts(wasm.adaptiveMaxPool2D(y, [1, 1]).indices, Int32Array.from([0]), 'all -inf');
  });
});
