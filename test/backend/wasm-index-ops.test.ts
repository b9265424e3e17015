import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import * as js from '../../src/backend/js/index-ops.js';
import * as wasm from '../../src/backend/wasm/index-ops.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { expectIdentical, expectSameInts, ints } from './wasm-exact.js';
import { awkward } from '../../bench/kernel-inputs.js';

/*
 * ArgMax, TopK, Gather and GatherGrad on wasm (assembly/topk.ts, gather.ts) against the js
 * reference, along every axis of shapes from 1-d to 5-d: the same indices (NaN largest, ties
 * by lower index, -0 equal to +0) and the same values, gradients summed in the same order.
 */

const SHAPES = [[1], [9], [1, 10], [5, 1], [4, 7], [3, 5, 6], [2, 3, 4, 5], [1, 2, 1, 3, 2], [64, 1000], [3, 37, 41, 7], [6, 5, 101, 99]];

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

describe('wasm ArgMax, TopK, Gather, GatherGrad against the js reference', () => {
  it('are wasm kernels', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['ArgMax', 'TopK', 'Gather', 'GatherGrad']));
  });

  it('finds the first maximum along every axis, NaN first', () => {
    SHAPES.forEach((shape, si) => {
      const x = awkward(shape, 10 + si);
      for (let axis = 0; axis < shape.length; axis++) {
        const r = bothPaths(() => wasm.argMax(x, axis));
        const e = js.argMax(x, axis);
        expectSameInts(r.threaded, e, `[${shape}] axis ${axis}`);
        expectSameInts(r.single, e, `[${shape}] axis ${axis} (one thread)`);
      }
    });
    // A line of all -inf, a NaN after a number and before the maximum, -0 tied with +0.
    const x = { data: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity, 1, NaN, 2, NaN, -1, -0, 0, -0]), shape: [3, 4] };
    expectSameInts(wasm.argMax(x, 1), js.argMax(x, 1), 'special lines');
    expectSameInts(wasm.argMax(x, 1), Int32Array.from([0, 1, 1]), 'special lines by hand');
  });

  it('returns the k largest or smallest, sorted, ties by lower index', () => {
    SHAPES.forEach((shape, si) => {
      const x = awkward(shape, 30 + si);
      for (let axis = 0; axis < shape.length; axis++) {
        const n = shape[axis]!;
        for (const k of [...new Set([0, 1, Math.min(n, 3), Math.min(n, 5), n])]) {
          for (const largest of [true, false]) {
            const what = `[${shape}] axis ${axis} k ${k} ${largest ? 'largest' : 'smallest'}`;
            if (size(shape) > 10_000 && k !== 5 && (k !== n || size(shape) > 100_000)) continue;
            const e = js.topK(x, k, axis, largest);
            const r = bothPaths(() => wasm.topK(x, k, axis, largest));
            for (const got of [r.threaded, r.single]) {
              expectIdentical(got.values, e.values, `${what} values`);
              expectSameInts(got.indices, e.indices, `${what} indices`);
            }
          }
        }
      }
    });
  });

  it('gathers and scatter-adds along every axis, with smaller index shapes and repeated indices', () => {
    SHAPES.forEach((shape, si) => {
      const x = awkward(shape, 50 + si);
      for (let axis = 0; axis < shape.length; axis++) {
        // The index: any length along the axis, at most x's size elsewhere.
        for (const variant of [0, 1]) {
          const ishape = shape.map((d, i) => (i === axis ? 1 + ((d * 3 + variant) % 5) : variant ? Math.max(1, d - 1) : d));
          const index = ints(size(ishape), shape[axis]!, 70 + si + axis);
          const what = `[${shape}] axis ${axis} index [${ishape}]`;
          const r = bothPaths(() => wasm.gather(x, axis, index, ishape));
          const e = js.gather(x, axis, index, ishape);
          expectIdentical(r.threaded, e, what);
          expectIdentical(r.single, e, `${what} (one thread)`);
          // Values whose sums round differently in another order.
          const dy = { data: Float32Array.from(kt(ishape, 90 + si).data, (v, i) => (i % 13 === 5 ? -0 : v * 1e4 + 0.1)), shape: ishape };
          const g = bothPaths(() => wasm.gatherGrad(dy, axis, index, shape));
          const eg = js.gatherGrad(dy, axis, index, shape);
          expectIdentical(g.threaded, eg, `${what} grad`);
          expectIdentical(g.single, eg, `${what} grad (one thread)`);
        }
      }
    });
  });

  it('picks one score per row (cross-entropy\'s gather) on a large batch', () => {
    const x = kt([100_000, 10], 3);
    const index = ints(100_000, 10, 4);
    const r = bothPaths(() => wasm.gather(x, 1, index, [100_000, 1]));
    expectIdentical(r.threaded, js.gather(x, 1, index, [100_000, 1]), 'threaded');
    expectIdentical(r.single, js.gather(x, 1, index, [100_000, 1]), 'one thread');
  });
});
