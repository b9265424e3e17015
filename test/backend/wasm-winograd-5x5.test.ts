// Winograd F(2x2, 5x5) and F(4x4, 5x5) (assembly/winograd-f25.ts and winograd-f45.ts, on the jobs
// of assembly/winograd-f43.ts), in the banded and the flat layout: outputs 2x2 to 20x20 and odd
// sizes, channels 8 to 96 with output channels not a multiple of 4, batches, padding (same,
// none, lopsided), bias, ReLU and a folded batch norm's scale, forward and input gradient (a
// forward convolution of dy with the flipped filters), and the F(2x2, 5x5) filter gradient,
// against the js reference with the usual tolerances; the same bits run to run, threaded or
// not; and which 5x5 convolutions take which.
import { afterAll, describe, expect, it, beforeAll } from 'vitest';
import '../../src/index.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { winogradTuning } from '../../src/backend/wasm/winograd.js';
import { bothPaths, expectSame, kt, workersReady } from './wasm-helpers.js';
import { attrsOf, caseName, checkAgainstJs, jobKinds, P0, type WinogradCase } from './winograd-cases.js';

const P2: WinogradCase['pad'] = [2, 2, 2, 2];
const CASES: WinogradCase[] = [];
for (let s = 2; s <= 20; s++) {
  CASES.push({ n: 1 + (s % 3), c: s % 2 ? 20 : 16, k: s % 3 ? 20 : 18, h: s, w: s, pad: P2, bias: s % 2 === 0, relu: s % 4 < 2, r: 5 });
  CASES.push({ n: 1 + (s % 2), c: 8 + (s % 5), k: 8 + (s % 7), h: s + 4, w: 27 - s, pad: P0, bias: true, relu: s % 3 === 0, r: 5 });
}
CASES.push(
  { n: 64, c: 16, k: 20, h: 16, w: 16, pad: P2, bias: true, relu: true, r: 5 },
  { n: 64, c: 20, k: 20, h: 8, w: 8, pad: P2, bias: true, relu: true, r: 5 },
  { n: 3, c: 20, k: 16, h: 7, w: 9, pad: [0, 2, 1, 0], bias: true, relu: true, r: 5 },
  { n: 2, c: 16, k: 20, h: 9, w: 6, pad: [2, 0, 0, 2], bias: false, relu: false, r: 5 },
  { n: 1, c: 48, k: 128, h: 27, w: 27, pad: P2, bias: true, relu: true, r: 5 },
  { n: 2, c: 96, k: 36, h: 13, w: 11, pad: [1, 3, 2, 2], bias: true, relu: false, r: 5 },
  { n: 1, c: 32, k: 64, h: 28, w: 28, pad: P2, bias: false, relu: true, r: 5 },
  // Few input channels (the CIFAR demo's RGB layer, LeNet-5's second): the filter gradient's
  // GEMM takes the channels as its 4-wide operand.
  { n: 4, c: 3, k: 16, h: 32, w: 32, pad: P2, bias: true, relu: true, r: 5 },
  { n: 2, c: 3, k: 10, h: 13, w: 9, pad: P2, bias: false, relu: false, r: 5 },
  { n: 3, c: 6, k: 16, h: 14, w: 14, pad: P0, bias: true, relu: true, r: 5 },
  { n: 2, c: 5, k: 12, h: 11, w: 11, pad: [1, 2, 2, 1], bias: true, relu: false, r: 5 },
);


describe('wasm Winograd on 5x5 convolutions: which take it', () => {
  it('F(4x4) on 16x16 outputs of up to 64 channels, F(2x2) on 8x8 or more channels; banded for many images, flat for one of many filters; not for 1 channel or few filters', () => {
    const run = (n: number, c: number, k: number, h: number) => jobKinds(() => {
      const t: WinogradCase = { n, c, k, h, w: h, pad: P2, bias: false, relu: false, r: 5 };
      wasm.conv2d(kt([n, c, h, h], 1), kt([k, c, 5, 5], 2), null, attrsOf(t));
    });
    // Job kinds: F(2x2, 5x5) flat 29/30, banded 33/34; F(4x4, 5x5) flat 36/37, banded 38/39.
    const has = (s: Set<number>, a: number, b: number) => s.has(a) && s.has(b);
    expect(has(run(64, 16, 20, 16), 38, 39)).toBe(true);
    expect(has(run(64, 20, 20, 8), 33, 34)).toBe(true);
    expect(has(run(1, 48, 128, 27), 36, 37)).toBe(true);
    // More than 64 channels: F(2x2), flat or on dense tiles (assembly/winograd-dense.ts, kinds 100/101: 14 tiles per row pad to 16).
    const wide = run(1, 96, 256, 27);
    expect(has(wide, 29, 30) || has(wide, 100, 101)).toBe(true);
    expect([36, 37, 38, 39].some((k) => wide.has(k))).toBe(false);
    expect(has(run(64, 3, 16, 32), 38, 39)).toBe(true);
    for (const s of [run(64, 1, 6, 28), run(64, 16, 6, 16), run(2, 16, 20, 1)]) expect([29, 33, 36, 38].some((k) => s.has(k))).toBe(false);
  });

  it('many input channels (F(2x2, 5x5) there) stay within the usual tolerance', () => {
    checkAgainstJs({ n: 1, c: 256, k: 64, h: 13, w: 13, pad: P2, bias: true, relu: false, r: 5 }, 5, true);
    checkAgainstJs({ n: 1, c: 480, k: 48, h: 14, w: 14, pad: P2, bias: true, relu: true, r: 5 }, 9, true);
  });

  it('the filter gradient of the same convolutions, by F(4x4, 5x5) (job kind 40; 35 when F(2x2, 5x5) is forced)', () => {
    const grad = (n: number, c: number, k: number, h: number) => jobKinds(() => {
      const t: WinogradCase = { n, c, k, h, w: h, pad: P2, bias: false, relu: false, r: 5 };
      const attrs = attrsOf(t);
      wasm.conv2dBackpropFilter(kt([n, c, h, h], 1), kt([n, k, ...attrs.out], 2), [k, c, 5, 5], attrs);
    });
    expect(grad(64, 16, 20, 16).has(40)).toBe(true);
    expect(grad(64, 20, 20, 8).has(40)).toBe(true);
    winogradTuning.mode = 'f25';
    try {
      expect(grad(64, 20, 20, 8).has(35)).toBe(true);
    } finally {
      winogradTuning.mode = 'auto';
    }
    const none = grad(2, 16, 20, 1);
    expect(none.has(35) || none.has(40)).toBe(false);
  });
});

describe.each([['f25', 'on'], ['f25', 'off'], ['f45', 'on'], ['f45', 'off']] as const)('wasm Winograd %s against the js reference, banded %s', (mode, banded) => {
  beforeAll(async () => {
    await workersReady();
    winogradTuning.mode = mode;
    winogradTuning.banded = banded;
  });
  afterAll(() => {
    winogradTuning.mode = 'auto';
    winogradTuning.banded = 'auto';
  });

  CASES.forEach((t, i) => {
    it(`${caseName(t)} 5x5: forward, input and filter gradients`, () => {
      checkAgainstJs(t, 13 * i, true);
    });
  });

  it('applies a folded batch norm: scale * conv + bias, then ReLU', () => {
    const t: WinogradCase = { n: 2, c: 16, k: 22, h: 12, w: 10, pad: P2, bias: true, relu: true, r: 5 };
    const x = kt([t.n, t.c, t.h, t.w], 7);
    const w = kt([t.k, t.c, 5, 5], 8);
    const b = kt([t.k], 9);
    const scale = kt([t.k], 10);
    const plain = js.conv2d(x, w, null, { ...attrsOf(t), activation: 'none' });
    const ohw = attrsOf(t).out[0] * attrsOf(t).out[1];
    const want = plain.map((v, i) => Math.max(0, scale.data[Math.floor(i / ohw) % t.k]! * v + b.data[Math.floor(i / ohw) % t.k]!));
    expectSame(wasm.conv2d(x, w, b, { ...attrsOf(t), scale }), want, 'Conv2D with scale');
  });

  it('gives the same bits threaded and single-threaded', () => {
    for (const t of CASES.filter((c) => c.n * c.c * c.h * c.w >= 8192)) {
      const attrs = attrsOf(t);
      const x = kt([t.n, t.c, t.h, t.w], 3);
      const w = kt([t.k, t.c, 5, 5], 4);
      const b = kt([t.k], 5);
      const f = bothPaths(() => wasm.conv2d(x, w, b, attrs));
      expect(Buffer.from(f.threaded.buffer).equals(Buffer.from(f.single.buffer)), `${caseName(t)} threaded vs single`).toBe(true);
    }
  });
});
