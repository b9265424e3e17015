import { beforeAll, describe, it } from 'vitest';
import '../../src/index.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { winogradApplies } from '../../src/backend/wasm/winograd.js';
import { bothPaths, convAttrs, expectSame, kt, workersReady, type ConvCase } from './wasm-helpers.js';

/** A named ConvCase with its filter count. */
interface Case extends ConvCase {
  name: string;
  k: number;
}

const CASES: Case[] = [
  { name: '3x3 pad 1, few channels (direct)', x: [2, 3, 9, 11], k: 5, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { name: '3x3 stride 1 Winograd, odd sizes', x: [2, 16, 9, 11], k: 20, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { name: '3x3 Winograd, no padding, odd channels', x: [1, 17, 13, 7], k: 19, kernel: [3, 3] },
  { name: '3x3 Winograd, asymmetric padding, relu', x: [3, 16, 8, 10], k: 16, kernel: [3, 3], pad: [0, 2, 1, 0], relu: true },
  { name: '3x3 Winograd, wide image (several bands)', x: [1, 16, 37, 70], k: 24, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { name: '5x5 stride 2 pad 2', x: [2, 6, 10, 10], k: 4, kernel: [5, 5], stride: [2, 2], pad: [2, 2, 2, 2] },
  { name: '3x3 stride 2, groups 2', x: [2, 8, 10, 10], k: 8, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 },
  { name: 'depthwise 3x3', x: [2, 8, 10, 10], k: 8, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 8 },
  { name: 'depthwise multiplier 2, stride 2', x: [2, 4, 9, 9], k: 8, kernel: [3, 3], stride: [2, 2], groups: 4 },
  { name: 'dilation 2', x: [2, 8, 12, 12], k: 6, kernel: [3, 3], pad: [2, 2, 2, 2], dilation: [2, 2] },
  { name: 'dilation and stride, rectangular kernel', x: [1, 5, 15, 12], k: 7, kernel: [2, 3], stride: [2, 1], pad: [1, 0, 2, 1], dilation: [2, 3] },
  { name: '1x1 (plain GEMM)', x: [2, 8, 7, 7], k: 12, kernel: [1, 1] },
  { name: '1x1 stride 2 (ResNet shortcut)', x: [2, 8, 7, 7], k: 12, kernel: [1, 1], stride: [2, 2] },
  // 1x1 input gradient: W^T dy straight into dx (few and many input channels, groups, odd sizes).
  { name: '1x1 many channels, batch 1 (bottleneck)', x: [1, 70, 9, 13], k: 36, kernel: [1, 1] },
  { name: '1x1 few filters, many channels', x: [3, 40, 5, 7], k: 5, kernel: [1, 1] },
  { name: '1x1 groups 2, odd channels', x: [2, 10, 6, 5], k: 6, kernel: [1, 1], groups: 2 },
  { name: '1x1 groups 2, many channels per group', x: [1, 96, 4, 3], k: 34, kernel: [1, 1], groups: 2 },
  { name: '7x7 stride 2 pad 3 (ResNet stem)', x: [1, 3, 23, 23], k: 8, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3] },
  { name: 'LeNet conv1 with relu', x: [4, 1, 28, 28], k: 6, kernel: [5, 5], pad: [2, 2, 2, 2], relu: true },
  { name: 'single pixel output', x: [3, 4, 3, 3], k: 2, kernel: [3, 3] },
  { name: 'pad larger than the kernel reach', x: [1, 2, 4, 4], k: 3, kernel: [3, 3], pad: [3, 3, 3, 3] },
];

const attrsOf = convAttrs;

function operands(c: Case, seed: number) {
  const attrs = attrsOf(c);
  const [n, ch] = c.x;
  const g = attrs.groups;
  const x = kt([...c.x], seed);
  const w = kt([c.k, ch / g, ...c.kernel], seed + 1);
  const bias = kt([c.k], seed + 2);
  const dy = kt([n, c.k, ...attrs.out], seed + 3);
  return { attrs, x, w, bias, dy };
}

describe('wasm convolution kernels against the js reference', () => {
  beforeAll(async () => {
    await workersReady();
  });

  CASES.forEach((c, i) => {
    it(`${c.name}: forward, input gradient, filter gradient`, () => {
      const { attrs, x, w, bias, dy } = operands(c, 10 * i + 1);
      expectSame(wasm.conv2d(x, w, bias, attrs), js.conv2d(x, w, bias, attrs), 'Conv2D');
      expectSame(wasm.conv2d(x, w, null, attrs), js.conv2d(x, w, null, attrs), 'Conv2D without bias');
      expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, attrs), js.conv2dBackpropInput(dy, w, x.shape, attrs), 'Conv2DBackpropInput');
      expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), js.conv2dBackpropFilter(x, dy, w.shape, attrs), 'Conv2DBackpropFilter');
    });
  });

  it('takes the Winograd path for 3x3 stride-1 layers with enough channels, and not otherwise', () => {
    const wino = (c: Case) => winogradApplies(attrsOf(c), c.x[1], c.k);
    if (!wino(CASES[1]!) || !wino(CASES[4]!) || wino(CASES[0]!) || wino(CASES[6]!) || wino(CASES[9]!)) {
      throw new Error('Winograd selection changed; update the cases so the path stays covered');
    }
  });

  it('gives the same results threaded and single-threaded (VGG-sized layer, training batch)', () => {
    const big: Case[] = [
      { name: 'winograd 64ch 56x56', x: [1, 64, 30, 56], k: 64, kernel: [3, 3], pad: [1, 1, 1, 1], relu: true },
      { name: 'direct 5x5 batch 16', x: [16, 3, 32, 32], k: 16, kernel: [5, 5], pad: [2, 2, 2, 2] },
      { name: 'strided 3x3', x: [4, 16, 29, 29], k: 32, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
    ];
    big.forEach((c, i) => {
      const { attrs, x, w, bias, dy } = operands(c, 100 + i);
      const f = bothPaths(() => wasm.conv2d(x, w, bias, attrs));
      expectSame(f.threaded, f.single, `${c.name} forward threaded vs single`);
      expectSame(f.threaded, js.conv2d(x, w, bias, attrs), `${c.name} forward vs js`);
      const bi = bothPaths(() => wasm.conv2dBackpropInput(dy, w, x.shape, attrs));
      expectSame(bi.threaded, bi.single, `${c.name} input gradient threaded vs single`);
      expectSame(bi.threaded, js.conv2dBackpropInput(dy, w, x.shape, attrs), `${c.name} input gradient vs js`);
      const bf = bothPaths(() => wasm.conv2dBackpropFilter(x, dy, w.shape, attrs));
      expectSame(bf.threaded, bf.single, `${c.name} filter gradient threaded vs single`);
      expectSame(bf.threaded, js.conv2dBackpropFilter(x, dy, w.shape, attrs), `${c.name} filter gradient vs js`);
    });
  });
});
