import { describe, it } from 'vitest';
import * as js from '../../src/backend/js/conv2d.js';
import * as gpuK from '../../src/backend/webgpu/kernels/conv2d.js';
import { forceGemmTile, TILE_32x64 } from '../../src/backend/webgpu/kernels/gemm-tile.js';
import type { Conv2DAttrs } from '../../src/backend/kernels.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { convAttrs, expectSame, kt, type ConvCase } from './wasm-helpers.js';
import { expectConvkitError } from '../helpers/assert.js';

/*
 * The webgpu Conv2D (implicit GEMM, its 1x1 path and the direct depthwise kernel) against the
 * js reference over a table of windows: strides, asymmetric padding, dilation, groups, batch 1
 * and 3, odd sizes, with the fused scale, bias and relu. Channel counts stay small (llvmpipe is
 * slow) but some cases cross the 64 x 64 tile in both directions. NaN and infinities are left
 * out: WGSL does not promise IEEE behaviour for them.
 */

const why = await startWebgpu();

interface Case extends ConvCase {
  /** Output channels. */
  k: number;
  bias?: boolean;
  scale?: boolean;
}

const CASES: Case[] = [
  { x: [1, 3, 8, 8], k: 4, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { x: [3, 5, 9, 11], k: 7, kernel: [3, 3], pad: [1, 1, 1, 1], bias: true },
  { x: [2, 4, 13, 12], k: 6, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], relu: true, bias: true },
  { x: [3, 6, 10, 9], k: 70, kernel: [1, 1], bias: true, relu: true, scale: true },
  { x: [2, 5, 7, 7], k: 3, kernel: [1, 1], stride: [2, 2] },
  { x: [1, 3, 12, 11], k: 5, kernel: [5, 5], pad: [2, 2, 2, 2], scale: true },
  { x: [1, 3, 23, 21], k: 8, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3], bias: true },
  { x: [1, 3, 35, 39], k: 6, kernel: [11, 11], stride: [4, 4], pad: [2, 2, 2, 2] },
  { x: [2, 3, 12, 13], k: 4, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2] },
  { x: [1, 2, 9, 8], k: 3, kernel: [3, 2], dilation: [2, 3], stride: [1, 2] },
  { x: [3, 4, 9, 10], k: 6, kernel: [3, 3], groups: 2, pad: [1, 1, 1, 1], bias: true, relu: true },
  { x: [2, 6, 7, 8], k: 9, kernel: [1, 1], groups: 3, scale: true },
  { x: [3, 5, 11, 9], k: 5, kernel: [3, 3], groups: 5, pad: [1, 1, 1, 1], bias: true, scale: true, relu: true },
  { x: [1, 4, 12, 12], k: 4, kernel: [3, 3], groups: 4, stride: [2, 2], pad: [0, 1, 0, 1] },
  { x: [2, 3, 10, 11], k: 6, kernel: [5, 3], groups: 3, dilation: [2, 1], pad: [1, 3, 2, 0], bias: true },
  { x: [1, 3, 9, 10], k: 5, kernel: [4, 3], pad: [0, 2, 3, 1], stride: [2, 3] },
  { x: [2, 1, 28, 28], k: 8, kernel: [5, 5], bias: true, relu: true },
  { x: [1, 80, 5, 6], k: 66, kernel: [3, 3], pad: [1, 1, 1, 1], bias: true, scale: true },
  { x: [3, 2, 1, 1], k: 3, kernel: [1, 1] },
  { x: [1, 2, 3, 3], k: 2, kernel: [3, 3], pad: [4, 4, 4, 4] },
];

function attrsOf(c: Case, scale: boolean): Conv2DAttrs {
  const a = convAttrs(c);
  return scale ? { ...a, scale: kt([c.k], 77) } : a;
}

async function check(c: Case, i: number, what: string): Promise<void> {
  const groups = c.groups ?? 1;
  const x = kt(c.x, 10 + i);
  const w = kt([c.k, c.x[1] / groups, c.kernel[0], c.kernel[1]], 40 + i);
  const bias = c.bias ? kt([c.k], 70 + i) : null;
  const attrs = attrsOf(c, !!c.scale);
  const want = js.conv2d(x, w, bias, attrs);
  const gAttrs = attrs.scale ? { ...attrs, scale: toGpu(attrs.scale) } : attrs;
  const got = await fromGpu(gpuK.conv2d(toGpu(x), toGpu(w), bias && toGpu(bias), gAttrs));
  expectSame(got, want, `${what} ${JSON.stringify(c)}`);
}

describe.skipIf(why !== null)('webgpu Conv2D', () => {
  it('matches the js kernel over a table of windows', async () => {
    for (const [i, c] of CASES.entries()) await check(c, i, 'Conv2D');
  });

  it('matches with the 32 x 64 tile of small devices', async () => {
    forceGemmTile(TILE_32x64);
    try {
      for (const i of [1, 10, 15, 17]) await check(CASES[i]!, i, 'Conv2D 32x64');
    } finally {
      forceGemmTile(null);
    }
  });

  it('rejects filters that do not match the input', () => {
    const attrs = convAttrs({ x: [1, 4, 5, 5], kernel: [3, 3] });
    expectConvkitError(() => gpuK.conv2d(toGpu(kt([1, 4, 5, 5], 1)), toGpu(kt([2, 3, 3, 3], 2)), null, attrs), /groups/);
  });
});
