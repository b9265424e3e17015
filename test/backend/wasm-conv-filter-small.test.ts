// Filter gradients (and input gradients) of convolutions with small outputs on the wasm GEMM
// path, where the GEMM packs several images' k ranges into one block (assembly/gemm.ts): every
// B mode of the filter gradient (1x1 read strided, stride-s phase planes, implicit im2col^T,
// the per-image column matrix), image counts that do and do not fill the last block, rows past
// one GEMM column block, groups, dilation; against the js reference, threaded against
// single-threaded, and the same bits run to run.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { winogradTuning } from '../../src/backend/wasm/winograd.js';
import { bothPaths, convAttrs, expectSame, kt, workersReady, type ConvCase } from './wasm-helpers.js';

interface Case extends ConvCase { name: string; k: number; winograd?: 'off' }

const CASES: Case[] = [
  { name: '3x3 s2 p1 -> 4x4, batch 16 (one block of 16 images)', x: [16, 24, 7, 7], k: 40, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2 p1 -> 7x7, batch 7 (blocks of 5 and 2)', x: [7, 20, 13, 13], k: 36, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2 -> 1x1, batch 5', x: [5, 12, 3, 3], k: 40, kernel: [3, 3], stride: [2, 2] },
  { name: '3x3 s2, rows past a column block (c*9 > 1024)', x: [4, 120, 6, 6], k: 40, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '1x1 s1 on 5x5, batch 6', x: [6, 40, 5, 5], k: 36, kernel: [1, 1] },
  { name: '1x1 s2 on 9x9, batch 9', x: [9, 16, 9, 9], k: 44, kernel: [1, 1], stride: [2, 2] },
  { name: '3x3 s1 p1, few channels (implicit im2col^T), batch 7', x: [7, 8, 6, 6], k: 40, kernel: [3, 3], pad: [1, 1, 1, 1] },
  { name: '3x3 s1 p1 on 4x4, Winograd off, batch 3, odd channels', x: [3, 67, 4, 4], k: 72, kernel: [3, 3], pad: [1, 1, 1, 1], winograd: 'off' },
  { name: '3x3 s2, few filters (column matrix per image), batch 6', x: [6, 10, 9, 9], k: 12, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 dilation 2 on 8x8, batch 5', x: [5, 20, 8, 8], k: 40, kernel: [3, 3], pad: [2, 2, 2, 2], dilation: [2, 2] },
  { name: '3x3 s2 groups 2, batch 6', x: [6, 16, 6, 6], k: 48, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 },
  { name: '5x5 s3 asymmetric pad, batch 4', x: [4, 6, 11, 10], k: 36, kernel: [5, 5], stride: [3, 3], pad: [0, 2, 1, 3] },
  { name: 'batch 1 (no block)', x: [1, 24, 7, 7], k: 40, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
];

function operands(c: Case, seed: number) {
  const attrs = convAttrs(c);
  const [n, ch] = c.x;
  return {
    attrs,
    x: kt([...c.x], seed),
    w: kt([c.k, ch / attrs.groups, ...c.kernel], seed + 1),
    dy: kt([n, c.k, ...attrs.out], seed + 2),
  };
}

const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('wasm filter gradients of small outputs (images side by side in the GEMM) against the js reference', () => {
  beforeAll(async () => {
    await workersReady();
  });
  afterEach(() => {
    winogradTuning.mode = 'auto';
  });

  CASES.forEach((c, i) => {
    it(`${c.name}: filter and input gradients`, () => {
      if (c.winograd) winogradTuning.mode = c.winograd;
      const { attrs, x, w, dy } = operands(c, 31 * i + 5);
      expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), js.conv2dBackpropFilter(x, dy, w.shape, attrs), 'Conv2DBackpropFilter');
      expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, attrs), js.conv2dBackpropInput(dy, w, x.shape, attrs), 'Conv2DBackpropInput');
    });
  });

  it('the long sum: 64 images of 2x2 outputs and 300 channels keep float32 accuracy', () => {
    const c: Case = { name: 'long', x: [64, 300, 4, 4], k: 40, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] };
    const { attrs, x, w, dy } = operands(c, 77);
    expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), js.conv2dBackpropFilter(x, dy, w.shape, attrs), 'Conv2DBackpropFilter');
  });

  it('gives the same results threaded and single-threaded, and the same bits run to run', () => {
    const big: Case[] = [
      { name: '3x3 s2 -> 4x4', x: [16, 64, 8, 8], k: 128, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
      { name: '1x1 s2 -> 4x4', x: [16, 128, 8, 8], k: 96, kernel: [1, 1], stride: [2, 2] },
      { name: '3x3 on 4x4, Winograd off', x: [12, 64, 4, 4], k: 64, kernel: [3, 3], pad: [1, 1, 1, 1], winograd: 'off' },
    ];
    big.forEach((c, i) => {
      winogradTuning.mode = c.winograd ?? 'auto';
      const { attrs, x, w, dy } = operands(c, 900 + i);
      const fn = () => wasm.conv2dBackpropFilter(x, dy, w.shape, attrs);
      const r = bothPaths(fn);
      expectSame(r.threaded, r.single, `${c.name}: threaded vs single`);
      expect(same(r.threaded, fn()), `${c.name}: run to run`).toBe(true);
      expectSame(r.threaded, js.conv2dBackpropFilter(x, dy, w.shape, attrs), `${c.name} vs js`);
    });
  });
});
