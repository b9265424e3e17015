import { describe, it } from 'vitest';
import type { Window2D } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/locally-connected.js';
import * as gpuK from '../../src/backend/webgpu/kernels/locally-connected.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { expectSame, kt } from './wasm-helpers.js';

/*
 * LocallyConnected2D and its gradients on webgpu against the js reference: f32 sums on the GPU
 * (possibly fused multiply-adds) against the reference's, so equal to float32 rounding
 * (expectSame), on strided, padded, dilated and rectangular windows, pads larger than the
 * window reaches (outputs that see no pixel), batch 1 and channel counts of 1.
 */

const why = await startWebgpu();

interface LcCase { x: [number, number, number, number]; k: number; kernel: [number, number]; stride?: [number, number]; pad?: [number, number, number, number]; dilation?: [number, number] }

function attrs(c: LcCase): Window2D {
  const stride = c.stride ?? [1, 1], pad = c.pad ?? [0, 0, 0, 0], dilation = c.dilation ?? [1, 1];
  const out = [0, 1].map((a) =>
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
  { x: [2, 2, 4, 3], k: 2, kernel: [2, 2], stride: [3, 2], pad: [3, 2, 2, 3] },
  { x: [4, 8, 12, 12], k: 16, kernel: [3, 3], pad: [1, 1, 1, 1] },
];

describe.skipIf(why !== null)('webgpu LocallyConnected2D', () => {
  it('matches forward (with and without bias), input and filter gradients', async () => {
    for (const [ci, c] of CASES.entries()) {
      const a = attrs(c);
      const [n, ch] = c.x;
      const wShape = [a.out[0], a.out[1], c.k, ch, c.kernel[0], c.kernel[1]];
      const x = kt(c.x, 10 + ci), w = kt(wShape, 20 + ci), b = kt([c.k, a.out[0], a.out[1]], 30 + ci);
      const dy = kt([n, c.k, a.out[0], a.out[1]], 40 + ci);
      const gx = toGpu(x), gw = toGpu(w), gdy = toGpu(dy);
      const what = `x [${c.x}] k ${c.k} kernel ${c.kernel} stride ${a.stride} pad ${a.pad} dilation ${a.dilation}`;
      for (const bias of [b, null]) {
        const got = await fromGpu(gpuK.locallyConnected2d(gx, gw, bias ? toGpu(bias) : null, a));
        expectSame(got, js.locallyConnected2d(x, w, bias, a), `${what} forward${bias ? '' : ' (no bias)'}`);
      }
      expectSame(await fromGpu(gpuK.locallyConnected2dBackpropInput(gdy, gw, c.x, a)), js.locallyConnected2dBackpropInput(dy, w, c.x, a), `${what} input grad`);
      expectSame(await fromGpu(gpuK.locallyConnected2dBackpropFilter(gx, gdy, wShape, a)), js.locallyConnected2dBackpropFilter(x, dy, wShape, a), `${what} filter grad`);
    }
  });
});
