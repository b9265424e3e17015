// The batched strided-convolution paths (src/backend/wasm/strided.ts: one GEMM whose columns
// run over several images, assembly/pack-multi.ts; col2im with a row stride) and the SIMD
// transposed phase packing of the filter gradient, against the js reference: each case with
// the batched paths forced on and off, odd sizes, batch 1 to 9, padding 0..3, strides 2..4 and
// non-square, 1x1 stride 1, outputs so narrow that panels span several rows and images, groups, chunked
// batches and narrow GEMM tiles; threaded and single-threaded; and a finite-difference check.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import type { Conv2DAttrs, KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { stridedTuning } from '../../src/backend/wasm/strided.js';
import { bothPaths, convAttrs, expectSame, kt, workersReady } from './wasm-helpers.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: number;
  kernel: [number, number];
  stride: [number, number];
  pad?: [number, number, number, number];
  groups?: number;
}

const CASES: Case[] = [
  { name: '3x3 s2 p1, odd 15x13, batch 3 (7x7 outputs: panels over rows and images)', x: [3, 8, 15, 13], k: 40, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2 p1, batch 1', x: [1, 12, 9, 9], k: 36, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2 p1 on 33x33 (17x17), batch 2', x: [2, 16, 33, 33], k: 24, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s2 p0, 4x4 outputs, batch 5', x: [5, 20, 9, 9], k: 44, kernel: [3, 3], stride: [2, 2] },
  { name: '3x3 s2 p1, 2x2 outputs (scalar halves), batch 9', x: [9, 10, 4, 4], k: 36, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '3x3 s3 p1, 1x1 output per image, batch 7', x: [7, 6, 3, 3], k: 36, kernel: [3, 3], stride: [3, 3], pad: [1, 1, 1, 1] },
  { name: '3x3 s3, non-square 20x17, batch 4', x: [4, 12, 20, 17], k: 40, kernel: [3, 3], stride: [3, 3], pad: [1, 1, 1, 1] },
  { name: '5x5 s2 p2, odd 27x27, batch 2', x: [2, 8, 27, 27], k: 36, kernel: [5, 5], stride: [2, 2], pad: [2, 2, 2, 2] },
  { name: '7x7 s2 p3 stem, odd 23x21, batch 3', x: [3, 3, 23, 21], k: 64, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3] },
  { name: '11x11 s4 p2, batch 2', x: [2, 3, 43, 43], k: 48, kernel: [11, 11], stride: [4, 4], pad: [2, 2, 2, 2] },
  { name: '3x5 kernel, stride 2x3, asymmetric pad, batch 3', x: [3, 6, 17, 23], k: 36, kernel: [3, 5], stride: [2, 3], pad: [1, 0, 2, 1] },
  { name: '1x1 s2 shortcut, batch 4', x: [4, 24, 13, 13], k: 40, kernel: [1, 1], stride: [2, 2] },
  { name: '1x1 s4, width 3 outputs, batch 6', x: [6, 16, 11, 9], k: 36, kernel: [1, 1], stride: [4, 4] },
  { name: '3x3 s2 groups 2, batch 3', x: [3, 16, 11, 11], k: 72, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 },
  { name: '2x2 s2 patches, batch 3', x: [3, 6, 10, 14], k: 40, kernel: [2, 2], stride: [2, 2] },
  { name: '2x2 s2 patches, odd 11x9, pad 1 (col2im in place), batch 2', x: [2, 5, 11, 9], k: 36, kernel: [2, 2], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '4x4 s4 patches, pad 3 left and top only, batch 2', x: [2, 3, 18, 15], k: 36, kernel: [4, 4], stride: [4, 4], pad: [3, 0, 3, 0] },
  { name: '3x3 s2, few filters (8), batch 4', x: [4, 12, 13, 13], k: 8, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { name: '7x7 s2 p3, few filters (16), column matrix past L2, batch 2', x: [2, 3, 61, 59], k: 16, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3] },
  { name: '1x1 s1 at 7x5, 40 filters (pointwise over the batch), batch 5', x: [5, 24, 7, 5], k: 40, kernel: [1, 1], stride: [1, 1] },
  { name: '1x1 s1 groups 2 at 3x3, batch 4', x: [4, 16, 3, 3], k: 80, kernel: [1, 1], stride: [1, 1], groups: 2 },
  { name: '3x3 s1 unpadded, few input channels, batch 3', x: [3, 2, 9, 9], k: 36, kernel: [3, 3], stride: [1, 1] },
  { name: '5x5 s1 unpadded, 2 -> 600 channels (input gradient by col2im), batch 3', x: [3, 2, 9, 9], k: 600, kernel: [5, 5], stride: [1, 1] },
];

function operands(c: Case, seed: number) {
  const attrs = convAttrs({ x: c.x, kernel: c.kernel, stride: c.stride, pad: c.pad, groups: c.groups });
  const [n, ch] = c.x;
  return {
    attrs,
    x: kt([...c.x], seed),
    w: kt([c.k, ch / attrs.groups, ...c.kernel], seed + 1),
    bias: kt([c.k], seed + 2),
    scale: kt([c.k], seed + 3),
    dy: kt([n, c.k, ...attrs.out], seed + 4),
  };
}

const defaults = { ...stridedTuning };
afterEach(() => Object.assign(stridedTuning, defaults));

/** All three passes (forward with bias, ReLU and a folded scale) against the js reference. */
function checkAll(c: Case, seed: number, label: string): void {
  const { attrs, x, w, bias, scale, dy } = operands(c, seed);
  const relu: Conv2DAttrs = { ...attrs, activation: 'relu' };
  const scaled: Conv2DAttrs = { ...attrs, scale };
  expectSame(wasm.conv2d(x, w, null, attrs), js.conv2d(x, w, null, attrs), `${label} forward`);
  expectSame(wasm.conv2d(x, w, bias, relu), js.conv2d(x, w, bias, relu), `${label} forward bias relu`);
  expectSame(wasm.conv2d(x, w, bias, scaled), js.conv2d(x, w, bias, scaled), `${label} forward scale bias`);
  expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, attrs), js.conv2dBackpropInput(dy, w, x.shape, attrs), `${label} input gradient`);
  expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), js.conv2dBackpropFilter(x, dy, w.shape, attrs), `${label} filter gradient`);
}

describe('wasm strided convolutions, one GEMM over the batch', () => {
  beforeAll(async () => {
    await workersReady();
  });

  CASES.forEach((c, i) => {
    it(`${c.name}: batched on and off, all three passes`, () => {
      for (const batch of ['on', 'off'] as const) {
        stridedTuning.batch = batch;
        checkAll(c, 31 * i + 5, `${c.name} (batch ${batch})`);
      }
    });
  });

  it('chunks of images and narrow GEMM tiles (panels split at tile and chunk edges)', () => {
    stridedTuning.batch = 'on';
    const c = CASES[0]!;
    // One or two images per forward GEMM and per input-gradient column matrix.
    for (const [tileN, images] of [[16, 1], [24, 2], [512, 2]] as const) {
      stridedTuning.tileN = tileN;
      stridedTuning.batchBytes = images * 4 * (c.x[1] * 4 * 8 * 8 + c.k * 49);
      stridedTuning.colsFloats = images * c.x[1] * 9 * 49;
      checkAll(c, 900 + tileN, `tiles of ${tileN} columns, chunks of ${images}`);
    }
  });

  it('gives the same bits threaded and single-threaded, and run to run', () => {
    stridedTuning.batch = 'on';
    const c: Case = { name: 'big', x: [8, 32, 15, 15], k: 64, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] };
    const { attrs, x, w, bias, dy } = operands(c, 77);
    const runs = [
      () => wasm.conv2d(x, w, bias, attrs),
      () => wasm.conv2dBackpropInput(dy, w, x.shape, attrs),
    ];
    for (const fn of runs) {
      const r = bothPaths(fn);
      expect(Array.from(r.threaded)).toEqual(Array.from(r.single));
      expect(Array.from(fn())).toEqual(Array.from(r.threaded));
    }
  });

  it('matches finite differences of the forward pass (input and filter gradients)', () => {
    stridedTuning.batch = 'on';
    const c: Case = { name: 'fd', x: [3, 5, 11, 9], k: 12, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] };
    const { attrs, x, w, dy } = operands(c, 123);
    // L = sum(conv(x, w) * dy): dL/dx = the input gradient, dL/dw = the filter gradient. L is
    // linear in each operand, so a central difference is exact up to float32 rounding.
    const loss = (xx: KernelTensor, ww: KernelTensor): number => {
      const y = wasm.conv2d(xx, ww, null, attrs);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * dy.data[i]!;
      return s;
    };
    const dx = wasm.conv2dBackpropInput(dy, w, x.shape, attrs);
    const dw = wasm.conv2dBackpropFilter(x, dy, w.shape, attrs);
    const h = 0.5;
    const probe = (t: KernelTensor, grad: Float32Array, at: (v: KernelTensor) => number, what: string): void => {
      for (let j = 0; j < 24; j++) {
        const i = (j * 7919 + 13) % t.data.length;
        const plus = { shape: t.shape, data: Float32Array.from(t.data) };
        const minus = { shape: t.shape, data: Float32Array.from(t.data) };
        plus.data[i]! += h;
        minus.data[i]! -= h;
        const fd = (at(plus) - at(minus)) / (2 * h);
        expect(Math.abs(fd - grad[i]!), `${what}[${i}]: ${fd} vs ${grad[i]}`).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
      }
    };
    probe(x, dx, (v) => loss(v, w), 'dx');
    probe(w, dw, (v) => loss(x, v), 'dw');
  });
});
