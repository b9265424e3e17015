import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { Pad2DMode, Pads2D } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/pad2d.js';
import * as wasm from '../../src/backend/wasm/pad2d.js';
import { ConvkitError } from '../../src/tensor/errors.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { expectIdentical, withSpecials } from './wasm-exact.js';

/*
 * Pad2D and Pad2DGrad on wasm (assembly/pad.ts) against the js reference in every mode, on
 * pads within each mode's limits (reflect < size, circular <= size, crops in constant mode):
 * the same bits, gradients included (the same sums in the same order).
 */

const SHAPES = [[1, 1], [3, 4], [1, 1, 5, 1], [2, 3, 5, 7], [1, 4, 9, 13], [3, 2, 1, 9], [7, 8], [2, 2, 3, 33], [4, 40, 31, 29]];
const MODES: Pad2DMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/** A few pads per side allowed in `mode` for size h x w (PyTorch's limits, as the pad op checks). */
function padSets(mode: Pad2DMode, h: number, w: number): Pads2D[] {
  const most = (size: number) => (mode === 'reflect' ? size - 1 : mode === 'circular' ? size : 4);
  const mh = most(h), mw = most(w);
  const sets: Pads2D[] = [[0, 0, 0, 0], [1, 1, 1, 1], [mh, 0, 0, mw], [0, mh, mw, 0], [Math.min(2, mh), Math.min(1, mh), Math.min(3, mw), Math.min(2, mw)], [mh, mh, mw, mw]];
  if (mode === 'constant') {
    sets.push([-1, 0, 2, -1], [0, -Math.max(0, h - 1), -Math.max(0, w - 1), 0], [2, -1, -1, 3], [-(h - 1) >> 1, 0, 0, -(w - 1) >> 1]);
  }
  return sets.filter((p) => p.every((v) => v >= (mode === 'constant' ? -Infinity : 0)) && h + p[0] + p[1] >= 1 && w + p[2] + p[3] >= 1);
}

describe('wasm Pad2D and Pad2DGrad against the js reference', () => {
  it('are wasm kernels', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['Pad2D', 'Pad2DGrad']));
  });

  it('pads and crops every mode to the same bits, with NaN and signed zeros, threaded or not', () => {
    let checked = 0;
    SHAPES.forEach((shape, si) => {
      const x = { data: withSpecials(kt(shape, 10 + si).data, 5), shape };
      const h = shape[shape.length - 2]!, w = shape[shape.length - 1]!;
      for (const mode of MODES) {
        // The big (threaded) shape on a few pads only: the small ones cover the geometry.
        const sets = padSets(mode, h, w);
        for (const pads of x.data.length > 100_000 ? sets.slice(1, 3) : sets) {
          const what = `[${shape}] ${mode} [${pads}]`;
          const value = mode === 'constant' ? -0 : 0;
          const e = js.pad2d(x, pads, mode, mode === 'constant' ? 2.5 : 0);
          const r = bothPaths(() => wasm.pad2d(x, pads, mode, mode === 'constant' ? 2.5 : 0));
          expectIdentical(r.threaded, e, what);
          expectIdentical(r.single, e, `${what} (one thread)`);
          if (mode === 'constant') expectIdentical(wasm.pad2d(x, pads, mode, value), js.pad2d(x, pads, mode, value), `${what} fill -0`);
          const outShape = [...shape.slice(0, -2), h + pads[0] + pads[1], w + pads[2] + pads[3]];
          // Gradients with exact ties and values whose sums round: the order of the sums shows.
          const dy = { data: withSpecials(Float32Array.from(kt(outShape, 30 + si).data, (v) => v * 1e4 + 0.1), 9), shape: outShape };
          const g = bothPaths(() => wasm.pad2dGrad(dy, pads, mode, shape));
          const eg = js.pad2dGrad(dy, pads, mode, shape);
          expectIdentical(g.threaded, eg, `${what} grad`);
          expectIdentical(g.single, eg, `${what} grad (one thread)`);
          checked++;
        }
      }
    });
    expect(checked).toBeGreaterThan(120);
  });

  it('rejects shapes as the reference does', () => {
    const x = kt([2, 3, 4], 1);
    expect(() => wasm.pad2d({ data: x.data.slice(0, 4), shape: [4] }, [0, 0, 1, 1], 'constant', 0)).toThrow(ConvkitError);
    expect(() => wasm.pad2d(x, [-3, -2, 0, 0], 'constant', 0)).toThrow(/leave a negative size/);
    expect(() => wasm.pad2dGrad(kt([2, 3, 5], 1), [1, 1, 1, 1], 'reflect', [2, 3, 4])).toThrow(/does not match the padded size/);
  });
});
