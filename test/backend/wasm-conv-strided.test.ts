// Strided convolutions on the wasm backend (phase planes, assembly/phase.ts) against the js
// reference: strides 2..4 and non-square, kernels 1..11, asymmetric and oversized padding,
// dilation, groups, odd sizes, batches 1 and 8, bias and ReLU on and off; and results
// bit-identical run to run.
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import type { Conv2DAttrs } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { bothPaths, convAttrs, expectSame, kt, workersReady } from './wasm-helpers.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  kernel: [number, number];
  stride: [number, number];
  pad?: [number, number, number, number];
  dilation?: [number, number];
  groups?: number;
}

const CASES: Case[] = [
  { name: '3x3 s2 p1, odd size', x: [1, 8, 15, 15], k: 40, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2 p1, batch 8', x: [8, 6, 14, 13], k: 36, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2 p1, output rows of 16 (contiguous panels)', x: [1, 8, 32, 32], k: 64, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2, threaded size', x: [2, 32, 30, 30], k: 64, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '1x1 s2 (shortcut, planes read in place)', x: [2, 16, 13, 13], k: 40, kernel: [1, 1], stride: [2, 2] },
  { name: '1x1 s2, few filters', x: [2, 16, 13, 13], k: 8, kernel: [1, 1], stride: [2, 2] },
  { name: '1x1 s3 pad 1', x: [1, 8, 10, 11], k: 36, kernel: [1, 1], stride: [3, 3], pad: [1, 1, 1, 1] },
  { name: '1x1 s4, batch 8', x: [8, 40, 17, 17], k: 64, kernel: [1, 1], stride: [4, 4] },
  { name: '2x2 s2 patches (in place)', x: [2, 5, 12, 12], k: 40, kernel: [2, 2], stride: [2, 2] },
  { name: '2x2 s2 patches, few filters, big column matrix', x: [1, 300, 64, 64], k: 8, kernel: [2, 2], stride: [2, 2] },
  { name: '4x4 s4 patches, odd size', x: [1, 3, 19, 17], k: 48, kernel: [4, 4], stride: [4, 4] },
  { name: '7x7 s2 p3 (ResNet stem)', x: [1, 3, 37, 41], k: 64, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3] },
  { name: '11x11 s4 (AlexNet stem)', x: [1, 3, 51, 51], k: 48, kernel: [11, 11], stride: [4, 4] },
  { name: '5x5 s3, asymmetric pad', x: [2, 4, 20, 17], k: 40, kernel: [5, 5], stride: [3, 3], pad: [0, 2, 1, 3] },
  { name: '3x5 kernel, stride 2x3', x: [1, 6, 17, 23], k: 36, kernel: [3, 5], stride: [2, 3], pad: [1, 1, 2, 2] },
  { name: 'stride 3x1', x: [1, 6, 16, 12], k: 36, kernel: [3, 3], stride: [3, 1], pad: [1, 1, 1, 1] },
  { name: 'stride 1x2, 1x3 kernel', x: [2, 6, 9, 16], k: 36, kernel: [1, 3], stride: [1, 2], pad: [0, 0, 1, 1] },
  { name: '3x3 dilation 2 stride 2', x: [1, 8, 17, 17], k: 36, kernel: [3, 3], stride: [2, 2], pad: [2, 2, 2, 2], dilation: [2, 2] },
  { name: '2x2 dilation 3 stride 2', x: [1, 8, 17, 16], k: 36, kernel: [2, 2], stride: [2, 2], pad: [1, 0, 0, 1], dilation: [3, 3] },
  { name: '3x2 dilation 2x1 stride 3x2', x: [2, 5, 19, 14], k: 36, kernel: [3, 2], stride: [3, 2], pad: [2, 1, 0, 1], dilation: [2, 1] },
  { name: '7x7 s4, image larger than the windows reach', x: [1, 5, 30, 30], k: 36, kernel: [7, 7], stride: [4, 4] },
  { name: 'pad larger than the kernel', x: [1, 6, 7, 7], k: 36, kernel: [3, 3], stride: [2, 2], pad: [4, 4, 4, 4] },
  { name: 'groups 2', x: [2, 16, 12, 12], k: 80, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 },
  { name: 'groups 4, 1x1 s2', x: [1, 16, 11, 11], k: 144, kernel: [1, 1], stride: [2, 2], groups: 4 },
  { name: 'depthwise s2', x: [2, 8, 11, 11], k: 8, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 8 },
  { name: 'output rows of 3 (panels over three rows)', x: [1, 6, 10, 7], k: 36, kernel: [3, 3], stride: [2, 2] },
  { name: 'single output pixel', x: [1, 12, 5, 5], k: 36, kernel: [3, 3], stride: [3, 3] },
  // col2im's stride-2 interleave (SIMD pixel pairs) at odd and even left pads, kernel 1 and 2+ wide.
  { name: '1x1 s2 pad 1 and 0, wide odd rows', x: [1, 7, 9, 37], k: 13, kernel: [1, 1], stride: [2, 2], pad: [0, 1, 1, 0] },
  { name: '1x1 s2 pad 3, wide rows', x: [2, 5, 6, 34], k: 11, kernel: [1, 1], stride: [2, 2], pad: [3, 3, 3, 3] },
  { name: '3x3 s2 pad 2/0 top/bottom, 3/1 left/right, wide', x: [1, 6, 11, 41], k: 10, kernel: [3, 3], stride: [2, 2], pad: [2, 0, 3, 1] },
  { name: '5x5 s2 p2, odd channels', x: [1, 5, 13, 45], k: 13, kernel: [5, 5], stride: [2, 2], pad: [2, 2, 2, 2] },
];

function attrsOf(c: Case, relu: boolean): Conv2DAttrs {
  return convAttrs({ ...c, relu });
}

function operands(c: Case, seed: number, relu = false) {
  const attrs = attrsOf(c, relu);
  const [n, ch] = c.x;
  return {
    attrs,
    x: kt([...c.x], seed),
    w: kt([c.k, ch / attrs.groups, ...c.kernel], seed + 1),
    bias: kt([c.k], seed + 2),
    dy: kt([n, c.k, ...attrs.out], seed + 3),
  };
}

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('wasm strided convolutions against the js reference', () => {
  beforeAll(async () => {
    await workersReady();
  });

  CASES.forEach((c, i) => {
    it(`${c.name}: forward (bias/relu on and off), input gradient, filter gradient`, () => {
      const { attrs, x, w, bias, dy } = operands(c, 10 * i + 7);
      const reluAttrs = { ...attrs, activation: 'relu' as const };
      expectSame(wasm.conv2d(x, w, bias, attrs), js.conv2d(x, w, bias, attrs), 'Conv2D bias');
      expectSame(wasm.conv2d(x, w, null, attrs), js.conv2d(x, w, null, attrs), 'Conv2D');
      expectSame(wasm.conv2d(x, w, bias, reluAttrs), js.conv2d(x, w, bias, reluAttrs), 'Conv2D bias relu');
      expectSame(wasm.conv2d(x, w, null, reluAttrs), js.conv2d(x, w, null, reluAttrs), 'Conv2D relu');
      expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, attrs), js.conv2dBackpropInput(dy, w, x.shape, attrs), 'Conv2DBackpropInput');
      expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), js.conv2dBackpropFilter(x, dy, w.shape, attrs), 'Conv2DBackpropFilter');
    });
  });

  it('gives the same results threaded and single-threaded, and bit-identical ones run to run', () => {
    const big: Case[] = [
      { name: 'stem', x: [1, 3, 64, 64], k: 64, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3] },
      { name: '3x3 s2', x: [1, 64, 28, 28], k: 128, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
      { name: '3x3 s2 batch 8', x: [8, 16, 15, 15], k: 48, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
      { name: '1x1 s2', x: [2, 64, 28, 28], k: 128, kernel: [1, 1], stride: [2, 2] },
    ];
    big.forEach((c, i) => {
      const { attrs, x, w, bias, dy } = operands(c, 500 + i, true);
      const g = { ...attrs, activation: 'none' as const };
      const runs = [
        ['forward', () => wasm.conv2d(x, w, bias, attrs), () => js.conv2d(x, w, bias, attrs)],
        ['input gradient', () => wasm.conv2dBackpropInput(dy, w, x.shape, g), () => js.conv2dBackpropInput(dy, w, x.shape, g)],
        ['filter gradient', () => wasm.conv2dBackpropFilter(x, dy, w.shape, g), () => js.conv2dBackpropFilter(x, dy, w.shape, g)],
      ] as const;
      for (const [what, fn, ref] of runs) {
        const r = bothPaths(fn);
        // (The filter gradient splits its image sum by the planned thread count: close, not equal.)
        expectSame(r.threaded, r.single, `${c.name} ${what}: threaded vs single`);
        expect(same(r.threaded, fn()), `${c.name} ${what}: run to run`).toBe(true);
        expectSame(r.threaded, ref(), `${c.name} ${what} vs js`);
      }
    });
  });
});
