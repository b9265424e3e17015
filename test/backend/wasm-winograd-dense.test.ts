// Winograd with dense tile numbering (assembly/winograd-dense.ts, forced with
// winogradTuning.dense = 'on'), all four variants (F(2x2, 3x3), F(4x4, 3x3), F(2x2, 5x5),
// F(4x4, 5x5)): outputs 1x1 to 17x17 and lopsided, batches 1 to 5 (groups of 4 tiles that span
// rows and images), channels that are not multiples of 4, padding of every kind, bias, ReLU and
// a folded batch norm's scale; forward and input gradient against the js reference; the same
// bits as the padded flat layout (the same arithmetic in the same order), threaded or not. And
// which shapes 'auto' sends to it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { KIND } from '../../src/backend/wasm/job-layout.js';
import { winogradApplies, winogradTuning } from '../../src/backend/wasm/winograd.js';
import { bothPaths, expectSame, kt, workersReady } from './wasm-helpers.js';
import { attrsOf, caseName, checkAgainstJs, jobKinds, P0, P1, type Pad, type WinogradCase } from './winograd-cases.js';

type Mode = 'f23' | 'f43' | 'f25' | 'f45';
const VARIANTS: { mode: Mode; r: 3 | 5 }[] = [{ mode: 'f23', r: 3 }, { mode: 'f43', r: 3 }, { mode: 'f25', r: 5 }, { mode: 'f45', r: 5 }];

/** Output size o (square and lopsided), input planes that give it with padding `pad`. */
function cases(r: 3 | 5): WinogradCase[] {
  const out: WinogradCase[] = [];
  const pads: Pad[] = r === 3 ? [P1, P0, [0, 2, 1, 0], [2, 0, 0, 1]] : [[2, 2, 2, 2], P0, [1, 3, 0, 2], [3, 0, 2, 1]];
  for (let o = 1; o <= 17; o++) {
    const pad = pads[o % pads.length]!;
    const hIn = (oh: number) => oh + r - 1 - pad[0] - pad[1];
    const wIn = (ow: number) => ow + r - 1 - pad[2] - pad[3];
    const ow = 1 + ((o * 7) % 17);
    if (hIn(o) < 1 || wIn(o) < 1 || wIn(ow) < 1) continue;
    out.push({ n: 1 + (o % 5), c: [16, 17, 19, 20, 33][o % 5]!, k: [16, 17, 18, 23][o % 4]!, h: hIn(o), w: wIn(o), pad, bias: o % 2 === 0, relu: o % 3 !== 0, r });
    out.push({ n: 1 + ((o + 2) % 5), c: 18, k: 21, h: hIn(o), w: wIn(ow), pad, bias: o % 3 === 0, relu: o % 2 === 0, r });
  }
  return out;
}

function withTuning<T>(
  mode: typeof winogradTuning.mode, dense: typeof winogradTuning.dense, fn: () => T, banded: typeof winogradTuning.banded = 'off',
  blocks: typeof winogradTuning.blocks = 'off',
): T {
  const saved = { ...winogradTuning };
  Object.assign(winogradTuning, { mode, dense, banded, blocks });
  try { return fn(); } finally { Object.assign(winogradTuning, saved); }
}

describe('wasm Winograd, dense tiles, against the js reference', () => {
  beforeAll(async () => {
    await workersReady();
  });
  afterEach(() => {
    Object.assign(winogradTuning, { mode: 'auto', banded: 'auto', dense: 'auto', blocks: 'auto' });
  });

  for (const { mode, r } of VARIANTS) {
    it(`${mode}: forward and input gradient, outputs 1..17, batches 1..5`, () => {
      cases(r).forEach((t, i) => withTuning(mode, 'on', () => {
        expect(jobKinds(() => checkAgainstJs(t, 11 * i)).has(KIND.winogradDense), caseName(t)).toBe(true);
      }));
    });

    it(`${mode}: the same bits as the padded flat layout, threaded and single-threaded`, () => {
      // Outputs of 4x4 and more: the padded layouts' domain.
      for (const t of cases(r).filter((u, i) => i % 3 === 0 && Math.min(...attrsOf(u).out) >= 4)) {
        const attrs = attrsOf(t);
        const x = kt([t.n, t.c, t.h, t.w], 3);
        const w = kt([t.k, t.c, r, r], 4);
        const b = t.bias ? kt([t.k], 5) : null;
        const dense = withTuning(mode, 'on', () => bothPaths(() => wasm.conv2d(x, w, b, attrs)));
        const flat = withTuning(mode === 'f23' ? 'flat' : mode, 'off', () => wasm.conv2d(x, w, b, attrs));
        expect(Buffer.from(dense.threaded.buffer).equals(Buffer.from(dense.single.buffer)), `${caseName(t)} threaded vs single`).toBe(true);
        expect(Buffer.from(dense.threaded.buffer).equals(Buffer.from(flat.buffer)), `${caseName(t)} dense vs flat`).toBe(true);
      }
    });
  }

  for (const { mode, r } of VARIANTS) {
    it(`${mode}, in blocks of images: forward and input gradient, outputs 1..17, batches 1..5; the same bits as the dense job`, () => {
      cases(r).forEach((t, i) => withTuning(mode, 'on', () => {
        expect(jobKinds(() => checkAgainstJs(t, 13 * i)).has(KIND.winogradDenseBanded), caseName(t)).toBe(true);
      }, 'off', 'on'));
      for (const t of cases(r).filter((_, i) => i % 4 === 1)) {
        const attrs = attrsOf(t);
        const x = kt([t.n, t.c, t.h, t.w], 6), w = kt([t.k, t.c, r, r], 7), b = t.bias ? kt([t.k], 8) : null;
        const blocked = withTuning(mode, 'on', () => bothPaths(() => wasm.conv2d(x, w, b, attrs)), 'off', 'on');
        const dense = withTuning(mode, 'on', () => wasm.conv2d(x, w, b, attrs));
        expect(Buffer.from(blocked.threaded.buffer).equals(Buffer.from(blocked.single.buffer)), `${caseName(t)} threaded vs single`).toBe(true);
        expect(Buffer.from(blocked.threaded.buffer).equals(Buffer.from(dense.buffer)), `${caseName(t)} blocked vs dense`).toBe(true);
      }
    });
  }

  it('in blocks of images: many images per block and partial blocks (batches of 9 to 40, odd sizes, c and k not multiples of 4)', () => {
    const rows: WinogradCase[] = [
      { n: 40, c: 21, k: 19, h: 8, w: 8, pad: P1, bias: true, relu: true },
      { n: 33, c: 16, k: 17, h: 5, w: 5, pad: P1, bias: false, relu: true },
      { n: 9, c: 18, k: 30, h: 7, w: 6, pad: P1, bias: true, relu: false },
      { n: 17, c: 35, k: 16, h: 6, w: 6, pad: [0, 2, 1, 1], bias: false, relu: false },
      { n: 12, c: 64, k: 20, h: 4, w: 4, pad: P1, bias: true, relu: false },
    ];
    for (const mode of ['f23', 'f43'] as const) {
      rows.forEach((t, i) => withTuning(mode, 'on', () => {
        expect(jobKinds(() => checkAgainstJs(t, 17 * i)).has(KIND.winogradDenseBanded), `${mode} ${caseName(t)}`).toBe(true);
      }, 'off', 'on'));
    }
  });

  it('applies a folded batch norm: scale * conv + bias, then ReLU, in every variant', () => {
    for (const { mode, r } of VARIANTS) {
      const t: WinogradCase = { n: 3, c: 19, k: 22, h: 5, w: 7, pad: r === 3 ? P1 : [2, 2, 2, 2], bias: true, relu: true, r };
      const x = kt([t.n, t.c, t.h, t.w], 8), w = kt([t.k, t.c, r, r], 9), b = kt([t.k], 11), scale = kt([t.k], 10);
      const attrs = attrsOf(t);
      const plain = js.conv2d(x, w, null, { ...attrs, activation: 'none' });
      const ohw = attrs.out[0] * attrs.out[1];
      const want = plain.map((v, i) => Math.max(0, scale.data[Math.floor(i / ohw) % t.k]! * v + b.data[Math.floor(i / ohw) % t.k]!));
      withTuning(mode, 'on', () => expectSame(wasm.conv2d(x, w, b, { ...attrs, scale }), want, `${mode} Conv2D with scale`));
      withTuning(mode, 'on', () => expectSame(wasm.conv2d(x, w, b, { ...attrs, scale }), want, `${mode} Conv2D with scale, blocks`), 'off', 'on');
    }
  });

  it('larger channel counts and batches: 512 channels at 4x4 (batch 3), 256 at 7x7, 64 at 14x14 (batch 5)', () => {
    const big: WinogradCase[] = [
      { n: 3, c: 512, k: 36, h: 4, w: 4, pad: P1, bias: true, relu: true },
      { n: 2, c: 256, k: 260, h: 7, w: 3, pad: P1, bias: false, relu: false },
      { n: 5, c: 64, k: 72, h: 14, w: 14, pad: P1, bias: true, relu: false },
    ];
    for (const mode of ['f23', 'f43'] as const) big.forEach((t, i) => withTuning(mode, 'on', () => checkAgainstJs(t, 5 * i)));
  });

  it("auto: dense tiles on small outputs, the padded layouts where they pad nothing or little", () => {
    const kinds = (t: WinogradCase) => jobKinds(() => wasm.conv2d(kt([t.n, t.c, t.h, t.w], 1), kt([t.k, t.c, 3, 3], 2), null, attrsOf(t)));
    const at = (c: number, s: number, n: number): WinogradCase => ({ n, c, k: c, h: s, w: s, pad: P1, bias: false, relu: false });
    // 4x4 outputs of 512 channels, batch 16: F(4x4, 3x3) on 16 dense tiles instead of 64 padded of F(2x2).
    expect(kinds(at(512, 4, 16)).has(KIND.winogradDense)).toBe(true);
    // 28x28, batch 16: the banded layout (7 tiles per row pad to 8).
    expect(kinds(at(64, 28, 16)).has(KIND.winogradDense)).toBe(false);
    // 2x2 and 3x3 outputs: Winograd where the batch pays for the filter transform, for callers that know it.
    const two = attrsOf(at(512, 2, 1));
    expect(winogradApplies(two, 512, 512, 16)).toBe(true);
    expect(winogradApplies(two, 512, 512, 1)).toBe(false);
    expect(winogradApplies(two, 512, 512)).toBe(false);
    expect(winogradApplies(attrsOf(at(64, 3, 1)), 64, 64, 64)).toBe(true);
    expect(winogradApplies(attrsOf(at(64, 1, 1)), 64, 64, 64)).toBe(false);
  });

  it('auto: blocks of images where the dense job would stream a V beyond the caches once per block of output channels', () => {
    const kinds = (t: WinogradCase) => jobKinds(() => wasm.conv2d(kt([t.n, t.c, t.h, t.w], 1), kt([t.k, t.c, 3, 3], 2), null, attrsOf(t)));
    const at = (c: number, s: number, n: number): WinogradCase => ({ n, c, k: c, h: s, w: s, pad: P1, bias: false, relu: false });
    // 256 images of 64 channels at 5x5: V of F(2x2, 3x3) 9.4 MB, U 262 KB (on 1 thread or more).
    expect(kinds(at(64, 5, 256)).has(KIND.winogradDenseBanded)).toBe(true);
    // 128 images: V 4.7 MB; 256 channels at 4x4, batch 16: U (9.4 MB) is the larger stream.
    expect(kinds(at(64, 8, 128)).has(KIND.winogradDense)).toBe(true);
    expect(kinds(at(256, 4, 16)).has(KIND.winogradDense)).toBe(true);
  });

  it('auto, through the ops: 2x2 and 3x3 outputs of a batch take dense tiles, forward and input gradient', () => {
    for (const t of [
      { n: 16, c: 64, k: 48, h: 2, w: 2, pad: P1, bias: true, relu: true },
      { n: 8, c: 40, k: 64, h: 3, w: 3, pad: P1, bias: false, relu: false },
    ] satisfies WinogradCase[]) {
      const attrs = attrsOf(t);
      const x = kt([t.n, t.c, t.h, t.w], 21), w = kt([t.k, t.c, 3, 3], 22), b = t.bias ? kt([t.k], 23) : null;
      const dy = kt([t.n, t.k, ...attrs.out], 24);
      const grad = { ...attrs, activation: 'none' as const };
      expect(jobKinds(() => expectSame(wasm.conv2d(x, w, b, attrs), js.conv2d(x, w, b, attrs), caseName(t))).has(KIND.winogradDense)).toBe(true);
      expect(jobKinds(() => expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, grad), js.conv2dBackpropInput(dy, w, x.shape, grad), caseName(t))).has(KIND.winogradDense)).toBe(true);
    }
  });
});
