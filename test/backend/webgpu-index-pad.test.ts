import { describe, expect, it } from 'vitest';
import type { KernelTensor, Pad2DMode, Pads2D } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/index-ops.js';
import * as jsPad from '../../src/backend/js/pad2d.js';
import * as gpuK from '../../src/backend/webgpu/kernels/index-ops.js';
import * as gpuPad from '../../src/backend/webgpu/kernels/pad2d.js';
import { fromGpu, intToGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { kt } from './wasm-helpers.js';
import { expectIdentical, expectSameInts, ints, withSpecials } from './wasm-exact.js';
import { awkward } from '../../bench/kernel-inputs.js';

/*
 * ArgMax, TopK, Gather, GatherGrad, Pad2D and Pad2DGrad on webgpu against the js reference,
 * bit for bit: indices, copied values, and gradient sums (the same additions in the same order).
 * NaN, infinities and signed zeros are in the inputs of the kernels that only compare or copy:
 * those move values as bits and test NaN on the bits, so no IEEE arithmetic is relied on.
 * The gradients sum finite values only (WGSL does not promise IEEE NaN/Inf arithmetic).
 */

const why = await startWebgpu();

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Finite gradients whose sums round differently in another order. */
function roundingDy(shape: number[], seed: number): KernelTensor {
  return { data: Float32Array.from(kt(shape, seed).data, (v) => v * 1e4 + 0.1), shape };
}

const SHAPES = [[1], [9], [1, 10], [5, 1], [4, 7], [3, 5, 6], [2, 3, 4, 5], [1, 2, 1, 3, 2], [3, 37, 41]];

describe.skipIf(why !== null)('webgpu ArgMax, TopK, Gather, GatherGrad', () => {
  it('finds the first maximum along every axis, NaN first', async () => {
    for (const [si, shape] of SHAPES.entries()) {
      const x = awkward(shape, 10 + si);
      const gx = toGpu(x);
      for (let axis = 0; axis < shape.length; axis++) {
        expectSameInts(await fromGpu(gpuK.argMax(gx, axis)), js.argMax(x, axis), `[${shape}] axis ${axis}`);
      }
    }
    // A line of all -inf, a NaN after a number and before the maximum, -0 tied with +0.
    const x = { data: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity, 1, NaN, 2, NaN, -1, -0, 0, -0]), shape: [3, 4] };
    expectSameInts(await fromGpu(gpuK.argMax(toGpu(x), 1)), Int32Array.from([0, 1, 1]), 'special lines by hand');
  });

  it('returns the k largest or smallest, sorted, ties by lower index (selection and rank paths)', async () => {
    let checked = 0;
    for (const [si, shape] of [...SHAPES, [6, 1000]].entries()) {
      const x = awkward(shape, 30 + si);
      const gx = toGpu(x);
      for (let axis = 0; axis < shape.length; axis++) {
        const n = shape[axis]!;
        // 16 is the last k of the one-thread-per-row selection, 17 the first of the rank path.
        const ks = [0, 1, 3, 16, 17, n].filter((k) => k <= n);
        for (const k of [...new Set(ks)]) {
          for (const largest of [true, false]) {
            const what = `[${shape}] axis ${axis} k ${k} ${largest ? 'largest' : 'smallest'}`;
            const e = js.topK(x, k, axis, largest);
            const got = gpuK.topK(gx, k, axis, largest);
            expectIdentical(await fromGpu(got.values), e.values, `${what} values`);
            expectSameInts(await fromGpu(got.indices), e.indices, `${what} indices`);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('gathers and scatter-adds along every axis, smaller index shapes, repeated indices, short and long rows', async () => {
    for (const [si, shape] of SHAPES.entries()) {
      const x = awkward(shape, 50 + si);
      const gx = toGpu(x);
      for (let axis = 0; axis < shape.length; axis++) {
        // The index: any length along the axis (above 16: GatherGrad's row path), at most x's size elsewhere.
        for (const variant of [0, 1, 2]) {
          const len = variant === 2 ? 20 + shape[axis]! : 1 + ((shape[axis]! * 3 + variant) % 5);
          const ishape = shape.map((d, i) => (i === axis ? len : variant === 1 ? Math.max(1, d - 1) : d));
          const index = ints(size(ishape), shape[axis]!, 70 + si + axis);
          const gi = intToGpu(index);
          const what = `[${shape}] axis ${axis} index [${ishape}]`;
          expectIdentical(await fromGpu(gpuK.gather(gx, axis, gi, ishape)), js.gather(x, axis, index, ishape), what);
          const dy = roundingDy(ishape, 90 + si);
          expectIdentical(await fromGpu(gpuK.gatherGrad(toGpu(dy), axis, gi, shape)), js.gatherGrad(dy, axis, index, shape), `${what} grad`);
        }
      }
    }
  });

  it("picks one score per row (cross-entropy's gather) on a large batch, and its gradient", async () => {
    const x = kt([100_000, 10], 3);
    const index = ints(100_000, 10, 4);
    const gi = intToGpu(index);
    expectIdentical(await fromGpu(gpuK.gather(toGpu(x), 1, gi, [100_000, 1])), js.gather(x, 1, index, [100_000, 1]), 'gather');
    const dy = roundingDy([100_000, 1], 5);
    expectIdentical(await fromGpu(gpuK.gatherGrad(toGpu(dy), 1, gi, [100_000, 10])), js.gatherGrad(dy, 1, index, [100_000, 10]), 'grad');
  });
});

const PAD_SHAPES = [[1, 1], [3, 4], [1, 1, 5, 1], [2, 3, 5, 7], [1, 4, 9, 13], [3, 2, 1, 9], [2, 2, 3, 33], [2, 8, 31, 29]];
const MODES: Pad2DMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/** A few pads per side allowed in `mode` for size h x w (PyTorch's limits, as the pad op checks). */
function padSets(mode: Pad2DMode, h: number, w: number): Pads2D[] {
  const most = (s: number) => (mode === 'reflect' ? s - 1 : mode === 'circular' ? s : 4);
  const mh = most(h), mw = most(w);
  const sets: Pads2D[] = [[0, 0, 0, 0], [1, 1, 1, 1], [mh, 0, 0, mw], [0, mh, mw, 0], [Math.min(2, mh), Math.min(1, mh), Math.min(3, mw), Math.min(2, mw)], [mh, mh, mw, mw]];
  // Replicate takes any pad: far beyond the size.
  if (mode === 'replicate') sets.push([2 * h + 1, 0, 1, 3 * w]);
  if (mode === 'constant') {
    sets.push([-1, 0, 2, -1], [0, -Math.max(0, h - 1), -Math.max(0, w - 1), 0], [2, -1, -1, 3], [-(h - 1) >> 1, 0, 0, -(w - 1) >> 1]);
  }
  return sets.filter((p) => p.every((v) => v >= (mode === 'constant' ? -Infinity : 0)) && h + p[0] + p[1] >= 1 && w + p[2] + p[3] >= 1);
}

describe.skipIf(why !== null)('webgpu Pad2D and Pad2DGrad', () => {
  it('pads and crops every mode to the same bits; gradients summed in the same order', async () => {
    let checked = 0;
    for (const [si, shape] of PAD_SHAPES.entries()) {
      const x = { data: withSpecials(kt(shape, 10 + si).data, 5), shape };
      const gx = toGpu(x);
      const h = shape[shape.length - 2]!, w = shape[shape.length - 1]!;
      for (const mode of MODES) {
        for (const pads of padSets(mode, h, w)) {
          const what = `[${shape}] ${mode} [${pads}]`;
          for (const value of mode === 'constant' ? [2.5, -0] : [0]) {
            expectIdentical(await fromGpu(gpuPad.pad2d(gx, pads, mode, value)), jsPad.pad2d(x, pads, mode, value), `${what} fill ${value}`);
          }
          const outShape = [...shape.slice(0, -2), h + pads[0] + pads[1], w + pads[2] + pads[3]];
          const dy = roundingDy(outShape, 30 + si);
          expectIdentical(await fromGpu(gpuPad.pad2dGrad(toGpu(dy), pads, mode, shape)), jsPad.pad2dGrad(dy, pads, mode, shape), `${what} grad`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(120);
  });
});
