// Dilated convolutions (src/backend/wasm/dilated.ts) and the input gradient of strided ones,
// i.e. transposed convolutions (transposed.ts), by phase decomposition, against the js
// reference in all three passes: dilations 1..4 (different per axis), odd sizes, batch 1..5,
// channel counts not multiples of 4, asymmetric and oversized padding, groups, strides 2 and 3
// with kernels that are and are not multiples of them, output padding (input sizes a strided
// convolution maps to the same output). Each case also asserts that the phase path is taken
// (or not), so a dispatch change cannot turn these into tests of another path.
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import type { Conv2DAttrs, KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import * as dil from '../../src/backend/wasm/dilated.js';
import * as tr from '../../src/backend/wasm/transposed.js';
import { bothPaths, convAttrs, expectSame, kt, workersReady, type ConvCase } from './wasm-helpers.js';

interface Case extends ConvCase {
  name: string;
  k: number;
  /** Extra input rows/columns beyond the floor rule's smallest input (a transposed convolution's output padding). */
  extra?: [number, number];
  /** Whether the phase path must take forward / input gradient / filter gradient. */
  takes: [boolean, boolean, boolean];
}

const DILATED: Case[] = [
  { name: '3x3 d2 p2 64->64 (the suite layer, smaller)', x: [1, 64, 20, 20], k: 64, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], takes: [true, true, true] },
  { name: '3x3 d2 odd size, batch 3, 19 -> 21 channels', x: [3, 19, 17, 15], k: 21, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], takes: [true, true, false] },
  { name: '3x3 d3 p1 (phases of unequal size)', x: [2, 17, 23, 22], k: 18, kernel: [3, 3], dilation: [3, 3], pad: [1, 1, 1, 1], takes: [true, true, false] },
  { name: '3x3 d(2,3) asymmetric pad', x: [1, 16, 25, 29], k: 20, kernel: [3, 3], dilation: [2, 3], pad: [0, 3, 2, 1], takes: [true, true, true] },
  { name: '3x3 d(1,2) (one axis dilated)', x: [5, 16, 13, 18], k: 17, kernel: [3, 3], dilation: [1, 2], pad: [1, 1, 2, 2], takes: [true, true, false] },
  { name: '3x3 d2 no padding', x: [2, 24, 21, 16], k: 32, kernel: [3, 3], dilation: [2, 2], takes: [true, true, false] },
  { name: '3x3 d2 pad larger than the reach', x: [1, 16, 9, 11], k: 16, kernel: [3, 3], dilation: [2, 2], pad: [5, 5, 5, 5], takes: [true, false, false] },
  { name: '3x3 d4 batch 4', x: [4, 16, 33, 33], k: 24, kernel: [3, 3], dilation: [4, 4], pad: [4, 4, 4, 4], takes: [true, true, true] },
  { name: '3x3 d2 groups 2 (no Winograd: other paths)', x: [1, 32, 14, 14], k: 32, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], groups: 2, takes: [false, false, false] },
  { name: '3x3 d2 few channels (no Winograd)', x: [2, 5, 14, 14], k: 7, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], takes: [false, false, false] },
  { name: '5x5 d2', x: [1, 16, 22, 22], k: 16, kernel: [5, 5], dilation: [2, 2], pad: [4, 4, 4, 4], takes: [true, true, true] },
  { name: '3x3 d2 stride 2 (strided paths)', x: [1, 16, 21, 21], k: 16, kernel: [3, 3], dilation: [2, 2], stride: [2, 2], pad: [2, 2, 2, 2], takes: [false, false, false] },
];

const TRANSPOSED: Case[] = [
  { name: '4x4 s2 p1 64 -> 32 (the suite layer, smaller)', x: [1, 32, 40, 40], k: 64, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], takes: [false, true, false] },
  { name: '4x4 s2 p1 output padding 1, batch 3, odd channels', x: [3, 17, 41, 43], k: 19, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], extra: [1, 1], takes: [false, true, false] },
  { name: '4x4 s2 p3 (phases at different dy offsets)', x: [2, 16, 41, 40], k: 16, kernel: [4, 4], stride: [2, 2], pad: [3, 3, 3, 3], takes: [false, true, false] },
  { name: '6x6 s2 p2 (3x3 sub-filters)', x: [1, 20, 40, 40], k: 24, kernel: [6, 6], stride: [2, 2], pad: [2, 2, 2, 2], takes: [false, true, false] },
  { name: '6x6 s3, no padding, batch 2, output padding', x: [2, 16, 61, 62], k: 16, kernel: [6, 6], stride: [3, 3], extra: [2, 1], takes: [false, true, false] },
  { name: '9x9 s3 p3', x: [1, 16, 60, 60], k: 16, kernel: [9, 9], stride: [3, 3], pad: [3, 3, 3, 3], takes: [false, true, false] },
  { name: '4x2 kernel stride 2x1 (one axis strided), asymmetric pad', x: [1, 16, 40, 40], k: 16, kernel: [4, 2], stride: [2, 1], pad: [1, 2, 1, 1], takes: [false, true, false] },
  { name: '4x4 s2 small planes (GEMM + col2im)', x: [1, 32, 28, 28], k: 64, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], takes: [false, false, false] },
  { name: '4x4 s2 groups 2 (GEMM + col2im)', x: [2, 32, 40, 40], k: 32, kernel: [4, 4], stride: [2, 2], pad: [3, 2, 2, 3], groups: 2, takes: [false, false, false] },
  { name: '4x4 s2 p4 (window past 3 rows: GEMM + col2im)', x: [1, 16, 40, 40], k: 16, kernel: [4, 4], stride: [2, 2], pad: [4, 4, 4, 4], takes: [false, false, false] },
  { name: '4x4 s4 (few taps per phase)', x: [1, 16, 60, 60], k: 16, kernel: [4, 4], stride: [4, 4], takes: [false, false, false] },
  { name: '3x3 s2 (no fewer multiplies)', x: [1, 16, 41, 41], k: 16, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], takes: [false, false, false] },
  { name: '4x4 s2 few channels', x: [1, 5, 40, 40], k: 7, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], takes: [false, false, false] },
  { name: '4x4 s2 dilation 2', x: [1, 16, 41, 41], k: 16, kernel: [4, 4], stride: [2, 2], dilation: [2, 2], takes: [false, false, false] },
];

function operands(c: Case, seed: number): { attrs: Conv2DAttrs; x: KernelTensor; w: KernelTensor; bias: KernelTensor; dy: KernelTensor } {
  const attrs = convAttrs(c);
  const x: [number, number, number, number] = [c.x[0], c.x[1], c.x[2] + (c.extra?.[0] ?? 0), c.x[3] + (c.extra?.[1] ?? 0)];
  const [n, ch] = x;
  return {
    attrs,
    x: kt(x, seed),
    w: kt([c.k, ch / attrs.groups, ...c.kernel], seed + 1),
    bias: kt([c.k], seed + 2),
    dy: kt([n, c.k, ...attrs.out], seed + 3),
  };
}

/** The hooks called straight: non-null when the phase path takes the pass. */
function taken(c: Case, o: ReturnType<typeof operands>, fwd: dil.ForwardFn): [boolean, boolean, boolean] {
  const { attrs, x, w, dy } = o;
  const dx = dil.dilatedBackpropInput(dy, w, x.shape, attrs, fwd) ?? tr.transposedBackpropInput(dy, w, x.shape, attrs, fwd);
  return [dil.dilatedConv2d(x, w, null, attrs, fwd) !== null, dx !== null, dil.dilatedBackpropFilter(x, dy, w.shape, attrs) !== null];
}

describe('wasm convolutions by phase decomposition against the js reference', () => {
  beforeAll(async () => {
    await workersReady();
  });
  // A forward that records that it ran (the hooks need one; results are not used here).
  let ran = 0;
  const probe: dil.ForwardFn = () => void ran++;

  for (const [group, cases] of [['dilated', DILATED], ['transposed', TRANSPOSED]] as const) {
    cases.forEach((c, i) => {
      it(`${group} ${c.name}: forward (bias, relu, folded scale), input gradient, filter gradient`, () => {
        const o = operands(c, 31 * i + (group === 'dilated' ? 5 : 900));
        const { attrs, x, w, bias, dy } = o;
        expect(taken(c, o, probe), 'which passes take the phase path').toEqual(c.takes);
        expect(ran > 0 || !c.takes.some((t) => t)).toBe(true);
        const relu: Conv2DAttrs = { ...attrs, activation: 'relu', scale: kt([c.k], i + 77) };
        expectSame(wasm.conv2d(x, w, bias, attrs), js.conv2d(x, w, bias, attrs), 'Conv2D bias');
        expectSame(wasm.conv2d(x, w, null, relu), js.conv2d(x, w, null, relu), 'Conv2D scale relu');
        expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, attrs), js.conv2dBackpropInput(dy, w, x.shape, attrs), 'Conv2DBackpropInput');
        expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), js.conv2dBackpropFilter(x, dy, w.shape, attrs), 'Conv2DBackpropFilter');
      });
    });
  }

  it('NaN and Inf in the input reach every output they touch in the reference', () => {
    // Both paths run Winograd, whose transforms spread a NaN or Inf over its tile (as for
    // undilated 3x3 layers): every output the reference makes non-finite is NaN or the same.
    const check = (got: Float32Array, want: Float32Array, what: string): void => {
      expect(want.some((v) => !Number.isFinite(v)), `${what}: the case reaches some output`).toBe(true);
      want.forEach((v, i) => {
        if (!Number.isFinite(v)) expect(Number.isNaN(got[i]!) || got[i] === v, `${what} output ${i}`).toBe(true);
      });
    };
    const t = operands(TRANSPOSED[1]!, 4242);
    t.dy.data[5] = NaN;
    t.dy.data[t.dy.data.length - 2] = -Infinity;
    check(wasm.conv2dBackpropInput(t.dy, t.w, t.x.shape, t.attrs), js.conv2dBackpropInput(t.dy, t.w, t.x.shape, t.attrs), 'transposed');
    const d = operands(DILATED[1]!, 4243);
    d.x.data[7] = NaN;
    d.x.data[d.x.data.length - 3] = Infinity;
    check(wasm.conv2d(d.x, d.w, null, d.attrs), js.conv2d(d.x, d.w, null, d.attrs), 'dilated');
  });

  it('runs a batch too big for the phase buffers in chunks of images; the filter gradient then takes another path', () => {
    const c = DILATED[1]!; // batch 3
    const { attrs, x, w, bias, dy } = operands(c, 1234);
    const saved = dil.phaseTuning.bytes;
    // One image's phase planes and outputs (4 phases of 11x10 inputs, 9x8 outputs: about 58 kB)
    // fit, two do not: chunks of one image; all three images' (173 kB) exceed twice the budget.
    dil.phaseTuning.bytes = 80 << 10;
    try {
      expect(dil.dilatedBackpropFilter(x, dy, w.shape, attrs), 'filter gradient: not this path').toBeNull();
      expectSame(wasm.conv2d(x, w, bias, attrs), js.conv2d(x, w, bias, attrs), 'Conv2D in chunks');
      expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, attrs), js.conv2dBackpropInput(dy, w, x.shape, attrs), 'Conv2DBackpropInput in chunks');
      expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), js.conv2dBackpropFilter(x, dy, w.shape, attrs), 'Conv2DBackpropFilter');
    } finally {
      dil.phaseTuning.bytes = saved;
    }
  });

  it('gives the same results threaded and single-threaded, and bit-identical ones run to run', () => {
    const big: Case[] = [
      { name: 'dilated', x: [1, 64, 30, 30], k: 64, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], takes: [true, true, true] },
      { name: 'transposed', x: [2, 32, 40, 40], k: 64, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], takes: [false, true, false] },
    ];
    big.forEach((c, i) => {
      const { attrs, x, w, bias, dy } = operands(c, 700 + i);
      const runs = [
        ['forward', () => wasm.conv2d(x, w, bias, attrs), () => js.conv2d(x, w, bias, attrs)],
        ['input gradient', () => wasm.conv2dBackpropInput(dy, w, x.shape, attrs), () => js.conv2dBackpropInput(dy, w, x.shape, attrs)],
        ['filter gradient', () => wasm.conv2dBackpropFilter(x, dy, w.shape, attrs), () => js.conv2dBackpropFilter(x, dy, w.shape, attrs)],
      ] as const;
      for (const [what, fn, ref] of runs) {
        const r = bothPaths(fn);
        expectSame(r.threaded, r.single, `${c.name} ${what}: threaded vs single`);
        expect(Array.from(fn()), `${c.name} ${what}: run to run`).toEqual(Array.from(r.threaded));
        expectSame(r.threaded, ref(), `${c.name} ${what} vs js`);
      }
    });
  });
});
