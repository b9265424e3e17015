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
import { gradPlan, winogradGradTuning } from '../../src/backend/wasm/winograd-grad.js';
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
  // First layers (2-3 channels, more than 32 filters: Winograd in 'auto' too).
  { n: 3, c: 3, k: 40, h: 12, w: 10, pad: P1, bias: false, relu: false },
  { n: 2, c: 2, k: 36, h: 9, w: 13, pad: P1, bias: false, relu: false },
  // Many channels, few filters (the forced splits below cut them in blocks of 24 and 32 + 32 + 8).
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
  it("'auto': F(2x2) (F(4x4)'s float32 error is too large for dW's small entries); not for one input channel, one tile of many channels, strides or groups; dilated on its phases", () => {
    const c = (h: number, extra: Partial<WinogradCase> = {}): WinogradCase => ({ n: 16, c: 32, k: 32, h, w: h, pad: P1, bias: false, relu: false, ...extra });
    expect(kinds(c(32)).has(41)).toBe(true);
    expect(kinds(c(8)).has(41)).toBe(true);
    expect(kinds(c(4)).has(42)).toBe(false);
    expect(kinds(c(2, { n: 128, c: 64, k: 64 })).has(41)).toBe(true);
    expect(kinds(c(32, { n: 64, c: 3, k: 64 })).has(42)).toBe(false);
    // First layers: 2-3 input channels and more filters than the direct kernel takes (the GEMM
    // over C x 3 x 3 < 32 columns is slow there); with 32 filters or fewer the direct kernel.
    expect(kinds(c(32, { n: 8, c: 3, k: 64 })).has(41)).toBe(true);
    expect(kinds(c(28, { n: 16, c: 2, k: 48 })).has(41)).toBe(true);
    expect(kinds(c(32, { n: 8, c: 3, k: 32 })).has(41)).toBe(false);
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
    for (const [attrs, ws] of [[strided, [32, 32, 3, 3]], [grouped, [32, 16, 3, 3]]] as const) {
      const s = jobKinds(() => wasm.conv2dBackpropFilter(x, kt([2, 32, ...attrs.out], 2), ws, attrs));
      expect(s.has(41) || s.has(42)).toBe(false);
    }
    // A dilated convolution takes it on its phase sub-images (src/backend/wasm/dilated.ts: split, kind 120).
    const s = jobKinds(() => wasm.conv2dBackpropFilter(x, kt([2, 32, ...dilated.out], 2), [32, 32, 3, 3], dilated));
    expect(s.has(120) && s.has(41)).toBe(true);
  });
});

describe.each(['f23', 'f43', 'auto'] as const)('wasm Winograd 3x3 filter gradient (%s) against the js reference', (mode) => {
  beforeAll(async () => {
    await workersReady();
    winogradTuning.mode = mode;
  });
  afterAll(() => {
    winogradTuning.mode = 'auto';
  });

  it('runs its job', () => {
    const s = kinds(CASES.find((t) => t.c === 32 && t.k === 48)!);
    expect(s.has(mode === 'f43' ? 42 : 41)).toBe(true);
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

describe('wasm Winograd filter gradient: how the work splits (gradPlan)', () => {
  afterAll(() => {
    winogradGradTuning.force = null;
  });

  it('covers every image and filter once, in blocks of 8 filters, M within 32 MB, one part on one thread', () => {
    for (const threads of [1, 2, 4]) {
      for (const [n, c, k, hw] of [[1, 16, 16, 4], [3, 20, 13, 7], [16, 512, 512, 4], [64, 64, 64, 32], [128, 512, 512, 4], [5, 136, 130, 9], [256, 64, 64, 8], [2, 2048, 2048, 7]] as const) {
        const p = gradPlan(n, c, k, hw, hw, 3, threads);
        const what = `${threads} threads, ${n} x ${c} -> ${k} @ ${hw}`;
        expect(p.parts * p.ipp >= n && (p.parts - 1) * p.ipp < n, what).toBe(true);
        expect(p.kblk % 8 === 0 && p.kblk > 0 && p.kblk < k + 8, what).toBe(true);
        expect(16 * p.kblk * Math.ceil(c / 8) * 8 * 4 <= 32 << 20, what).toBe(true);
        if (threads === 1) expect(p.parts, what).toBe(1);
        expect(gradPlan(n, c, k, hw, hw, 3, threads), what).toEqual(p);
      }
    }
    // One thread: no blocks of filters where M fits (each block would transform x again).
    expect(gradPlan(16, 512, 512, 4, 4, 3, 1).kblk).toBe(512);
    expect(gradPlan(64, 256, 256, 8, 8, 3, 1).kblk).toBe(256);
  });

  // Parts of the images and blocks of filters the model would not pick on these sizes: the
  // partial sums, the filter offsets of each block and the last, short part and block.
  const forced: [WinogradCase, { parts: number; blocks: number }][] = [
    [{ n: 5, c: 20, k: 40, h: 9, w: 7, pad: P1, bias: false, relu: false }, { parts: 3, blocks: 3 }],
    [{ n: 4, c: 13, k: 72, h: 6, w: 6, pad: P0, bias: false, relu: false }, { parts: 4, blocks: 2 }],
    [{ n: 2, c: 256, k: 72, h: 5, w: 6, pad: P1, bias: false, relu: false }, { parts: 2, blocks: 3 }],
    [{ n: 7, c: 33, k: 17, h: 11, w: 12, pad: [0, 2, 1, 0], bias: false, relu: false }, { parts: 7, blocks: 1 }],
  ];
  forced.forEach(([t, split], i) => {
    it(`${caseName(t)}, forced into ${split.parts} parts x ${split.blocks} blocks`, () => {
      winogradGradTuning.force = split;
      winogradTuning.mode = 'f23';
      try {
        const attrs = attrsOf(t);
        const p = gradPlan(t.n, t.c, t.k, attrs.out[0], attrs.out[1], 3, 2);
        expect([p.parts, Math.ceil(t.k / p.kblk)]).toEqual([Math.ceil(t.n / Math.ceil(t.n / split.parts)), split.blocks]);
        expect(kinds(t).has(41)).toBe(true);
        checkFilter(t, 101 + i);
      } finally {
        winogradGradTuning.force = null;
        winogradTuning.mode = 'auto';
      }
    });
  });
});

// A task's chunks (tile rows of one image, or groups of whole images): the first chunk stores
// its GEMMs into M, later ones add to it, and the last runs block by block with the inverse
// transform (adding to M, or with no M at all where the task is one chunk). Chunk sizes forced
// through winogradGradTuning.tiles: bands of one tile row, groups of images with a short last
// group, parts whose last, short part is one chunk while the others are two, one chunk per task;
// 3x3 by F(2x2) and 5x5 by F(2x2, 5x5) and F(4x4, 5x5), with both operand orders of the GEMM.
describe('wasm Winograd filter gradient: chunks of a task (the fused last pass)', () => {
  afterAll(() => {
    winogradGradTuning.tiles = 64;
    winogradGradTuning.force = null;
    winogradTuning.mode = 'auto';
  });
  const C = (n: number, c: number, k: number, h: number, w: number, extra: Partial<WinogradCase> = {}): WinogradCase =>
    ({ n, c, k, h, w, pad: P1, bias: false, relu: false, ...extra });
  const rows: [string, WinogradCase, number, { parts: number; blocks: number } | null, 'f23' | 'f25' | 'f45'][] = [
    ['bands of one tile row', C(3, 20, 16, 9, 9), 4, null, 'f23'],
    ['bands of 2 tile rows, the last one short', C(2, 20, 16, 9, 9), 10, null, 'f23'],
    ['bands of one tile row, lopsided padding', C(2, 12, 40, 7, 12, { pad: [0, 2, 1, 0] }), 4, null, 'f23'],
    ['groups of 2 images, the last one short', C(5, 13, 24, 6, 6), 20, null, 'f23'],
    ['2 chunks per part, the last part 1', C(5, 9, 20, 6, 6), 9, { parts: 3, blocks: 2 }, 'f23'],
    ['one chunk per task (no M)', C(4, 33, 17, 10, 10), 1 << 20, { parts: 2, blocks: 2 }, 'f23'],
    ['one chunk, few channels (A and B swapped)', C(3, 4, 40, 11, 9), 1 << 20, null, 'f23'],
    ['several chunks, few channels (A and B swapped)', C(3, 3, 36, 11, 9), 8, null, 'f23'],
    ['5x5, F(2x2, 5x5), bands', C(2, 10, 12, 9, 8, { r: 5, pad: [2, 2, 2, 2] }), 4, null, 'f25'],
    ['5x5, F(4x4, 5x5), groups of images', C(5, 6, 18, 6, 7, { r: 5, pad: [2, 2, 2, 2] }), 4, null, 'f45'],
    ['5x5, F(4x4, 5x5), one chunk', C(3, 16, 20, 12, 12, { r: 5, pad: [2, 2, 2, 2] }), 1 << 20, null, 'f45'],
  ];
  rows.forEach(([what, t, tiles, split, mode], i) => {
    it(`${what}: ${caseName(t)}${t.r === 5 ? ' 5x5' : ''}`, async () => {
      await workersReady();
      winogradGradTuning.tiles = tiles;
      winogradGradTuning.force = split;
      winogradTuning.mode = mode;
      try {
        const r = t.r ?? 3;
        const attrs = attrsOf(t);
        const x = kt([t.n, t.c, t.h, t.w], 7 * i + 1);
        const dy = kt([t.n, t.k, ...attrs.out], 7 * i + 2);
        const ws = [t.k, t.c, r, r];
        const kind = mode === 'f23' ? 41 : mode === 'f25' ? 35 : 40;
        expect(jobKinds(() => wasm.conv2dBackpropFilter(x, dy, ws, attrs)).has(kind)).toBe(true);
        const f = bothPaths(() => wasm.conv2dBackpropFilter(x, dy, ws, attrs));
        const ref = js.conv2dBackpropFilter(x, dy, ws, attrs);
        expectSame(f.threaded, ref, `${what} threaded`);
        expectSame(f.single, ref, `${what} single-threaded`);
      } finally {
        winogradGradTuning.tiles = 64;
        winogradGradTuning.force = null;
        winogradTuning.mode = 'auto';
      }
    });
  });
});
