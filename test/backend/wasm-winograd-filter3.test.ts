// The filter gradient of 3x3 stride-1 convolutions by Winograd F(2x2, 3x3) and F(4x4, 3x3)
// (assembly/winogradgrad.ts, job kinds 41 and 42), each forced and 'auto': outputs 1x1 to 17x17
// and odd shapes, input channels 4 to 136 and filters 8 to 130 (neither always a multiple of 4
// or 8, so both operand orders of its GEMM run), batches, padding (same, none, lopsided, wider
// than the filter), against the js reference with the usual tolerances; a long sum (batch 16 of
// 16x16, 4096 products per tap); the same bits run to run; and which convolutions take it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { winogradTuning } from '../../src/backend/wasm/winograd.js';
import { bothPaths, expectSame, kt, workersReady } from './wasm-helpers.js';
import { attrsOf, caseName, jobKinds, P0, P1, type WinogradCase } from './winograd-cases.js';

const CASES: WinogradCase[] = [];
for (let s = 1; s <= 17; s += 2) {
  CASES.push({ n: 1 + (s % 3), c: s % 4 === 1 ? 5 : 16, k: s % 3 ? 8 : 13, h: s, w: s, pad: P1, bias: false, relu: false });
  CASES.push({ n: 1 + (s % 2), c: 12 + (s % 5), k: 9 + (s % 7), h: s + 2, w: 21 - s, pad: P0, bias: false, relu: false });
}
CASES.push(
  { n: 3, c: 20, k: 16, h: 7, w: 7, pad: [0, 2, 1, 0], bias: false, relu: false },
  { n: 2, c: 16, k: 20, h: 9, w: 5, pad: [2, 0, 0, 2], bias: false, relu: false },
  { n: 1, c: 24, k: 28, h: 17, w: 19, pad: [1, 2, 0, 1], bias: false, relu: false },
  { n: 2, c: 7, k: 130, h: 10, w: 11, pad: [3, 1, 2, 4], bias: false, relu: false },
  { n: 4, c: 136, k: 12, h: 6, w: 6, pad: P1, bias: false, relu: false },
  { n: 2, c: 64, k: 64, h: 8, w: 8, pad: P1, bias: false, relu: false },
  { n: 1, c: 32, k: 48, h: 28, w: 28, pad: P1, bias: false, relu: false },
  { n: 5, c: 4, k: 32, h: 32, w: 32, pad: P1, bias: false, relu: false },
  { n: 2, c: 96, k: 40, h: 3, w: 4, pad: P1, bias: false, relu: false },
  // Many channels: blocks of filters keep each task's transform-domain dW small (72 = 32 + 32 + 8).
  { n: 2, c: 256, k: 72, h: 5, w: 6, pad: P1, bias: false, relu: false },
);

function checkFilter(t: WinogradCase, seed: number): void {
  const attrs = attrsOf(t);
  const x = kt([t.n, t.c, t.h, t.w], seed + 1);
  const dy = kt([t.n, t.k, ...attrs.out], seed + 4);
  expectSame(wasm.conv2dBackpropFilter(x, dy, [t.k, t.c, 3, 3], attrs), js.conv2dBackpropFilter(x, dy, [t.k, t.c, 3, 3], attrs), 'Conv2DBackpropFilter');
}

const kinds = (t: WinogradCase) => jobKinds(() => {
  const attrs = attrsOf(t);
  wasm.conv2dBackpropFilter(kt([t.n, t.c, t.h, t.w], 1), kt([t.n, t.k, ...attrs.out], 2), [t.k, t.c, 3, 3], attrs);
});

describe('wasm Winograd 3x3 filter gradient: which convolutions take it', () => {
  it("'auto': F(2x2) (F(4x4)'s float32 error is too large for dW's small entries); not for one input channel, one tile of many channels, strides, dilation or groups", () => {
    const c = (h: number, extra: Partial<WinogradCase> = {}): WinogradCase => ({ n: 16, c: 32, k: 32, h, w: h, pad: P1, bias: false, relu: false, ...extra });
    expect(kinds(c(32)).has(41)).toBe(true);
    expect(kinds(c(8)).has(41)).toBe(true);
    expect(kinds(c(4)).has(42)).toBe(false);
    expect(kinds(c(2, { n: 128, c: 64, k: 64 })).has(41)).toBe(true);
    expect(kinds(c(32, { n: 64, c: 3, k: 64 })).has(42)).toBe(false);
    expect(kinds(c(32)).has(42)).toBe(false);
    for (const t of [c(28, { c: 1 }), c(4, { n: 1, c: 512, k: 512 })]) {
      const s = kinds(t);
      expect(s.has(41) || s.has(42), caseName(t)).toBe(false);
    }
    const x = kt([2, 32, 16, 16], 1);
    const base = attrsOf(c(16));
    const strided = { ...base, stride: [2, 2] as [number, number], out: [8, 8] as [number, number] };
    const dilated = { ...base, dilation: [2, 2] as [number, number], pad: [2, 2, 2, 2] as WinogradCase['pad'] };
    const grouped = { ...base, groups: 2 };
    for (const [attrs, ws] of [[strided, [32, 32, 3, 3]], [dilated, [32, 32, 3, 3]], [grouped, [32, 16, 3, 3]]] as const) {
      const s = jobKinds(() => wasm.conv2dBackpropFilter(x, kt([2, 32, ...attrs.out], 2), ws, attrs));
      expect(s.has(41) || s.has(42)).toBe(false);
    }
  });
});

describe.each(['f2', 'f4', 'auto'] as const)('wasm Winograd 3x3 filter gradient (%s) against the js reference', (mode) => {
  beforeAll(async () => {
    await workersReady();
    winogradTuning.mode = mode;
  });
  afterAll(() => {
    winogradTuning.mode = 'auto';
  });

  it('runs its job', () => {
    const s = kinds(CASES[CASES.length - 4]!);
    expect(s.has(mode === 'f4' ? 42 : 41)).toBe(true);
  });

  CASES.forEach((t, i) => {
    it(`${caseName(t)}`, () => checkFilter(t, 17 * i));
  });

  it('a long sum: batch 16 of 16x16 at 32 channels', () => {
    checkFilter({ n: 16, c: 32, k: 24, h: 16, w: 16, pad: P1, bias: false, relu: false }, 3);
  });

  // The image sum splits by the planned thread count (not by which workers join), so the bits
  // are the same run to run; single-threaded they differ by the order of the partial sums.
  it('gives the same bits run to run, and within tolerance single-threaded', () => {
    for (const t of CASES.filter((c) => c.n * c.c * c.h * c.w >= 4096)) {
      const attrs = attrsOf(t);
      const x = kt([t.n, t.c, t.h, t.w], 3);
      const dy = kt([t.n, t.k, ...attrs.out], 4);
      const f = bothPaths(() => wasm.conv2dBackpropFilter(x, dy, [t.k, t.c, 3, 3], attrs));
      const again = wasm.conv2dBackpropFilter(x, dy, [t.k, t.c, 3, 3], attrs);
      expect(Buffer.from(f.threaded.buffer).equals(Buffer.from(again.buffer)), `${caseName(t)} run to run`).toBe(true);
      expectSame(f.single, f.threaded, `${caseName(t)} single-threaded`);
    }
  });
});
