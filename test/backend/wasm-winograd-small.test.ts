// Winograd F(2x2, 3x3) on small images (the flat tile layout of assembly/winograd-f23.ts): 1x1 to
// 16x16 outputs, odd sizes, batches, padding, bias and ReLU, against the js reference; and the
// same bits run to run, threaded or not, and in either tile layout.
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { winogradApplies, winogradTuning } from '../../src/backend/wasm/winograd.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { attrsOf, caseName, checkAgainstJs, P0, P1, type WinogradCase } from './winograd-cases.js';

type Case = WinogradCase;
const CASES: Case[] = [];
// Output sizes 1..16 (square and not), channels 16 and 20 (not a multiple of 8: partial panels).
for (let s = 1; s <= 16; s++) {
  CASES.push({ n: 1 + (s % 3), c: s % 2 ? 20 : 16, k: s % 3 ? 16 : 20, h: s, w: s, pad: P1, bias: s % 2 === 0, relu: s % 4 < 2 });
  CASES.push({ n: 1 + (s % 5), c: 16, k: 20, h: s + 2, w: 19 - s, pad: P0, bias: true, relu: s % 3 === 0 });
}
CASES.push(
  { n: 5, c: 20, k: 16, h: 7, w: 7, pad: [0, 2, 1, 0], bias: true, relu: true },
  { n: 3, c: 16, k: 20, h: 9, w: 5, pad: [2, 0, 0, 2], bias: false, relu: false },
  { n: 2, c: 64, k: 64, h: 14, w: 14, pad: P1, bias: true, relu: true },
  { n: 1, c: 64, k: 20, h: 13, w: 11, pad: [1, 0, 2, 1], bias: true, relu: false },
  { n: 4, c: 20, k: 64, h: 8, w: 8, pad: P1, bias: false, relu: true },
  { n: 1, c: 512, k: 512, h: 7, w: 7, pad: P1, bias: true, relu: true },
  { n: 2, c: 512, k: 16, h: 4, w: 4, pad: P1, bias: true, relu: false },
  { n: 1, c: 16, k: 512, h: 5, w: 6, pad: P1, bias: false, relu: true },
  { n: 3, c: 64, k: 512, h: 7, w: 7, pad: P1, bias: true, relu: false },
);

const name = caseName;

describe('wasm Winograd on small images against the js reference', () => {
  beforeAll(async () => {
    await workersReady();
  });

  it('covers the flat layout: 7x7 and 14x14 take Winograd', () => {
    expect(winogradApplies(attrsOf({ n: 1, c: 512, k: 512, h: 7, w: 7, pad: P1, bias: true, relu: true }), 512, 512)).toBe(true);
    expect(winogradApplies(attrsOf({ n: 1, c: 256, k: 256, h: 14, w: 14, pad: P1, bias: true, relu: true }), 256, 256)).toBe(true);
  });

  CASES.forEach((t, i) => {
    it(`${name(t)}: forward and input gradient`, () => {
      checkAgainstJs(t, 7 * i);
    });
  });

  it('gives the same bits threaded and single-threaded, and in both tile layouts', () => {
    const cases = CASES.filter((t) => t.c >= 64 || t.k >= 64);
    for (const t of cases) {
      const attrs = attrsOf(t);
      const x = kt([t.n, t.c, t.h, t.w], 3);
      const w = kt([t.k, t.c, 3, 3], 4);
      const b = kt([t.k], 5);
      const f = bothPaths(() => wasm.conv2d(x, w, b, attrs));
      expect(Buffer.from(f.threaded.buffer).equals(Buffer.from(f.single.buffer)), `${name(t)} threaded vs single`).toBe(true);
      try {
        winogradTuning.mode = 'rows';
        const rows = wasm.conv2d(x, w, b, attrs);
        winogradTuning.mode = 'flat';
        const flat = wasm.conv2d(x, w, b, attrs);
        // The flat layout moves the filter transform's halves into V: exact, so the same bits.
        expect(Buffer.from(rows.buffer).equals(Buffer.from(flat.buffer)), `${name(t)} rows vs flat`).toBe(true);
      } finally {
        winogradTuning.mode = 'auto';
      }
    }
  });
});
