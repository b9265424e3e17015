import { describe, expect, it } from 'vitest';
import * as ck from '../../src/node.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as gpuK from '../../src/backend/webgpu/kernels/conv2d-grad.js';
import { kernels } from '../../src/backend/webgpu/backend.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { convAttrs, expectSame, kt, type ConvCase } from './wasm-helpers.js';

/*
 * The webgpu convolution gradients (Conv2DBackpropInput, Conv2DBackpropFilter) against the js
 * reference, whichever path the kernel would pick: the direct loops on every small case with one
 * tile shape in turn, and every tile shape on the large cases (rows and columns past a tile). NaN and infinities are left out: WGSL does not promise IEEE behaviour.
 */

const why = await startWebgpu();

interface Case extends ConvCase {
  name: string;
  k: number;
  /** Every tile shape and not the direct path (a large case for the tiles; llvmpipe is slow). */
  tiles?: boolean;
}

const CASES: Case[] = [
  { name: '3x3 pad 1 stride 1', x: [2, 5, 9, 11], k: 6, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { name: '3x3 pad 1 stride 2, batch 3', x: [3, 6, 11, 10], k: 7, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '1x1', x: [2, 8, 7, 7], k: 12, kernel: [1, 1] },
  { name: '1x1 stride 2 (shortcut), batch 1', x: [1, 8, 7, 8], k: 5, kernel: [1, 1], stride: [2, 2] },
  { name: '5x5 pad 2', x: [2, 3, 10, 9], k: 4, kernel: [5, 5], pad: [2, 2, 2, 2] },
  { name: '7x7 stride 2 pad 3 (ResNet stem)', x: [1, 3, 23, 21], k: 8, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3] },
  { name: '11x11 stride 4 pad 2 (AlexNet stem)', x: [1, 3, 35, 39], k: 4, kernel: [11, 11], stride: [4, 4], pad: [2, 2, 2, 2] },
  { name: 'dilation 2', x: [2, 4, 12, 11], k: 6, kernel: [3, 3], pad: [2, 2, 2, 2], dilation: [2, 2] },
  { name: 'dilation, stride, rectangular kernel, asymmetric pad', x: [1, 5, 15, 12], k: 7, kernel: [2, 3], stride: [2, 1], pad: [1, 0, 2, 1], dilation: [2, 3] },
  { name: 'groups 2, stride 2', x: [2, 8, 10, 10], k: 6, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 },
  { name: 'depthwise 3x3', x: [2, 8, 10, 9], k: 8, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 8 },
  { name: 'depthwise multiplier 2, stride 2', x: [2, 4, 9, 9], k: 8, kernel: [3, 3], stride: [2, 2], groups: 4 },
  { name: 'depthwise, long reduction (split across workgroups)', x: [2, 4, 40, 30], k: 4, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 4 },
  { name: 'asymmetric padding, batch 3', x: [3, 4, 8, 10], k: 5, kernel: [3, 3], pad: [0, 2, 1, 0] },
  { name: 'last window short of the end (stride 2)', x: [1, 3, 10, 12], k: 4, kernel: [3, 3], stride: [2, 2] },
  { name: 'last window short of the end (5x5 stride 3, pad 1)', x: [2, 2, 14, 13], k: 3, kernel: [5, 5], stride: [3, 3], pad: [1, 1, 1, 1] },
  { name: 'pad larger than the kernel reach', x: [1, 2, 4, 4], k: 3, kernel: [3, 3], pad: [3, 3, 3, 3] },
  { name: 'single output pixel', x: [3, 4, 3, 3], k: 2, kernel: [3, 3] },
  { name: '1x1 stride 4 on an image smaller than the stride (empty phases)', x: [2, 9, 3, 6], k: 10, kernel: [1, 1], stride: [4, 4] },
  // Tiles: rows and columns past one tile (32 x 64), the filter reduction split in pieces.
  { name: 'several tiles, split reduction', x: [3, 36, 17, 15], k: 40, kernel: [3, 3], pad: [1, 1, 1, 1], tiles: true },
  { name: 'several tiles, groups 2, stride 2', x: [2, 66, 9, 7], k: 68, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2, tiles: true },
  { name: '1x1 many channels, long reduction', x: [4, 40, 16, 13], k: 33, kernel: [1, 1], tiles: true },
];

function operands(c: Case, seed: number) {
  const attrs = convAttrs(c);
  const x = kt([...c.x], seed);
  const w = kt([c.k, c.x[1] / attrs.groups, ...c.kernel], seed + 1);
  const dy = kt([c.x[0], c.k, ...attrs.out], seed + 2);
  return { attrs, x, w, dy };
}

describe.skipIf(why !== null)('webgpu convolution gradients', () => {
  CASES.forEach((c, i) => {
    it(`${c.name}: input and filter gradients`, async () => {
      const { attrs, x, w, dy } = operands(c, 10 * i + 1);
      const [gx, gw, gdy] = [toGpu(x), toGpu(w), toGpu(dy)];
      const dx = js.conv2dBackpropInput(dy, w, x.shape, attrs);
      const dw = js.conv2dBackpropFilter(x, dy, w.shape, attrs);
      const paths: gpuK.GradPath[] = c.tiles ? [...gpuK.TILES] : ['direct', gpuK.TILES[i % gpuK.TILES.length]!];
      for (const path of paths) {
        const how = typeof path === 'string' ? path : `tile ${path.bm}x${path.bn}`;
        expectSame(await fromGpu(gpuK.conv2dBackpropInputWith(path, gdy, gw, x.shape, attrs)), dx, `${c.name}: dx ${how}`);
        expectSame(await fromGpu(gpuK.conv2dBackpropFilterWith(path, gx, gdy, w.shape, attrs)), dw, `${c.name}: dw ${how}`);
      }
    });
  });

  it('is in the backend kernel table', async () => {
    const c = CASES[18]!;
    const { attrs, x, w, dy } = operands(c, 7);
    const dx = kernels.Conv2DBackpropInput!(toGpu(dy), toGpu(w), x.shape, attrs);
    const dw = kernels.Conv2DBackpropFilter!(toGpu(x), toGpu(dy), w.shape, attrs);
    expectSame(await fromGpu(dx), js.conv2dBackpropInput(dy, w, x.shape, attrs), 'dx');
    expectSame(await fromGpu(dw), js.conv2dBackpropFilter(x, dy, w.shape, attrs), 'dw');
    expect(dx.length).toBe(x.data.length);
  });

  it('runs convTranspose2d through the ops layer (its forward is Conv2DBackpropInput)', async () => {
    const x = ck.randn([2, 6, 5, 7], { seed: 3 });
    const w = ck.randn([6, 4, 3, 3], { seed: 4 });
    const opts = { stride: 2, padding: 1, outputPadding: 1 };
    const want = ck.F.convTranspose2d(x, w, null, opts);
    const prev = ck.getBackendName();
    ck.setBackendSync('webgpu');
    try {
      const y = ck.F.convTranspose2d(x, w, null, opts);
      expect(y.shape).toEqual(want.shape);
      expectSame((await y.data()) as Float32Array, want.dataSync(), 'convTranspose2d');
    } finally {
      ck.setBackendSync(prev);
    }
  });
});
