// Winograd F(4x4, 3x3) (assembly/winograd-f43.ts, forced with winogradTuning.mode = 'f43'): outputs
// 1x1 to 20x20, 28 and 56, odd sizes, channels 16 to 512, batches, padding, bias and ReLU,
// forward and input gradient, against the js reference with the usual tolerances; the same bits
// run to run, threaded or not. And which shapes 'auto' sends to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { winogradTuning } from '../../src/backend/wasm/winograd.js';
import { bothPaths, expectSame, kt, workersReady } from './wasm-helpers.js';
import { attrsOf, caseName, checkAgainstJs, jobKinds, P0, P1, type WinogradCase } from './winograd-cases.js';

type Case = WinogradCase;
const CASES: Case[] = [];
for (let s = 1; s <= 20; s++) {
  CASES.push({ n: 1 + (s % 3), c: s % 2 ? 20 : 16, k: s % 3 ? 16 : 20, h: s, w: s, pad: P1, bias: s % 2 === 0, relu: s % 4 < 2 });
  CASES.push({ n: 1 + (s % 3), c: 16, k: 20, h: s + 2, w: 23 - s, pad: P0, bias: true, relu: s % 3 === 0 });
}
CASES.push(
  { n: 3, c: 20, k: 16, h: 7, w: 7, pad: [0, 2, 1, 0], bias: true, relu: true },
  { n: 2, c: 16, k: 20, h: 9, w: 5, pad: [2, 0, 0, 2], bias: false, relu: false },
  { n: 1, c: 24, k: 28, h: 17, w: 19, pad: [1, 2, 0, 1], bias: true, relu: false },
  { n: 2, c: 64, k: 64, h: 14, w: 14, pad: P1, bias: true, relu: true },
  { n: 1, c: 64, k: 20, h: 13, w: 11, pad: [1, 0, 2, 1], bias: true, relu: false },
  { n: 1, c: 64, k: 64, h: 56, w: 56, pad: P1, bias: true, relu: true },
  { n: 2, c: 32, k: 48, h: 28, w: 28, pad: P1, bias: false, relu: false },
  { n: 1, c: 128, k: 128, h: 28, w: 28, pad: P1, bias: true, relu: true },
  { n: 1, c: 256, k: 256, h: 14, w: 14, pad: P1, bias: true, relu: false },
  { n: 1, c: 512, k: 512, h: 7, w: 7, pad: P1, bias: true, relu: true },
  { n: 1, c: 512, k: 512, h: 14, w: 14, pad: P1, bias: false, relu: false },
  { n: 2, c: 512, k: 16, h: 4, w: 4, pad: P1, bias: true, relu: false },
  { n: 1, c: 16, k: 512, h: 5, w: 6, pad: P1, bias: false, relu: true },
  { n: 3, c: 64, k: 136, h: 9, w: 9, pad: P1, bias: true, relu: false },
);

const name = caseName;


describe('wasm Winograd F(4x4, 3x3) against the js reference', () => {
  beforeAll(async () => {
    await workersReady();
    winogradTuning.mode = 'f43';
  });
  afterAll(() => {
    winogradTuning.mode = 'auto';
  });

  it('runs the F(4x4) jobs when forced', () => {
    const t = CASES.find((c) => c.h === 14 && c.c === 64)!;
    const k = jobKinds(() => wasm.conv2d(kt([t.n, t.c, t.h, t.w], 1), kt([t.k, t.c, 3, 3], 2), null, attrsOf(t)));
    expect(k.has(27) && k.has(28)).toBe(true);
  });

  CASES.forEach((t, i) => {
    it(`${name(t)}: forward and input gradient`, () => {
      checkAgainstJs(t, 11 * i);
    });
  });

  it('gives the same forward in the banded layout (the js reference within tolerance)', () => {
    winogradTuning.banded = 'on';
    try {
      CASES.forEach((t, i) => {
        const attrs = attrsOf(t);
        const x = kt([t.n, t.c, t.h, t.w], 11 * i + 1);
        const w = kt([t.k, t.c, 3, 3], 11 * i + 2);
        const b = t.bias ? kt([t.k], 11 * i + 3) : null;
        const got = jobKinds(() => expectSame(wasm.conv2d(x, w, b, attrs), js.conv2d(x, w, b, attrs), `${name(t)} banded`));
        expect(got.has(31) && got.has(32), name(t)).toBe(attrs.out[0] >= 4 && attrs.out[1] >= 4);
      });
    } finally {
      winogradTuning.banded = 'auto';
    }
  });

  it('gives the same bits threaded and single-threaded', () => {
    for (const t of CASES.filter((c) => c.c >= 64 || c.k >= 64)) {
      const attrs = attrsOf(t);
      const x = kt([t.n, t.c, t.h, t.w], 3);
      const w = kt([t.k, t.c, 3, 3], 4);
      const b = kt([t.k], 5);
      const f = bothPaths(() => wasm.conv2d(x, w, b, attrs));
      expect(Buffer.from(f.threaded.buffer).equals(Buffer.from(f.single.buffer)), `${name(t)} threaded vs single`).toBe(true);
    }
  });

  it("'auto' takes F(4x4) for 14x14..224x224 (banded where its V would be large) and F(2x2) for 7x7", () => {
    winogradTuning.mode = 'auto';
    try {
      const run = (n: number, c: number, h: number) => jobKinds(() => {
        const t: Case = { n, c, k: c, h, w: h, pad: P1, bias: false, relu: false };
        wasm.conv2d(kt([n, c, h, h], 1), kt([c, c, 3, 3], 2), null, attrsOf(t));
      });
      expect(run(1, 64, 56).has(32)).toBe(true); // banded: 224 tiles, 64 filters
      expect(run(1, 128, 28).has(32)).toBe(false); // flat
      expect(run(1, 128, 28).has(28)).toBe(true);
      expect(run(1, 256, 14).has(28)).toBe(true);
      const seven = run(1, 512, 7);
      expect(seven.has(28)).toBe(false);
      expect(seven.has(22)).toBe(true);
      const big = run(1, 64, 224);
      expect(big.has(32)).toBe(true); // banded: V of all tiles would be 29 MB
      expect(big.has(3) || big.has(22)).toBe(false);
    } finally {
      winogradTuning.mode = 'f43';
    }
  });
});
