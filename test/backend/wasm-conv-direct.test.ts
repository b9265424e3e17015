// The direct kernels for few filters at stride 1 (assembly/direct.ts): forward (also the input
// gradient, through the flipped-filter forward convolution) and the filter gradient, against
// the js reference around the boundaries of their tiles (4 filters x 8 or 4 pixels forward,
// 2 filters x 4 taps and 4-pixel steps for the filter gradient), and their bits run to run.
// Winograd is off here: the CIFAR demo's 5x5 layers take F(2x2, 5x5) by default
// (wasm-winograd-5x5.test.ts), and these are the direct kernels' tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import * as planes from '../../src/backend/wasm/planes.js';
import * as jsElt from '../../src/backend/js/elementwise.js';
import { runtime } from '../../src/backend/wasm/instance.js';
import { winogradTuning } from '../../src/backend/wasm/winograd.js';
import { bothPaths, convAttrs, expectSame, kt, workersReady, type ConvCase } from './wasm-helpers.js';

/** A ConvCase with its filter count and whether it has a bias. */
interface Case extends ConvCase {
  k: number;
  bias?: boolean;
}

const attrsOf = convAttrs;

const name = (c: Case) =>
  `x ${c.x.join('x')} k ${c.k} ${c.kernel.join('x')} s ${(c.stride ?? [1, 1]).join('')} p ${(c.pad ?? [0, 0, 0, 0]).join('')} d ${(c.dilation ?? [1, 1]).join('')} g ${c.groups ?? 1}${c.relu ? ' relu' : ''}${c.bias === false ? ' no bias' : ''}`;

function check(c: Case, seed: number): void {
  const attrs = attrsOf(c);
  const [n, ch] = c.x;
  const g = attrs.groups;
  const x = kt([...c.x], seed);
  const w = kt([c.k, ch / g, ...c.kernel], seed + 1);
  const bias = c.bias === false ? null : kt([c.k], seed + 2);
  const dy = kt([n, c.k, ...attrs.out], seed + 3);
  expectSame(wasm.conv2d(x, w, bias, attrs), js.conv2d(x, w, bias, attrs), `Conv2D ${name(c)}`);
  const plain = { ...attrs, activation: 'none' as const };
  expectSame(wasm.conv2dBackpropInput(dy, w, x.shape, plain), js.conv2dBackpropInput(dy, w, x.shape, plain), `Conv2DBackpropInput ${name(c)}`);
  expectSame(wasm.conv2dBackpropFilter(x, dy, w.shape, plain), js.conv2dBackpropFilter(x, dy, w.shape, plain), `Conv2DBackpropFilter ${name(c)}`);
}

const LENET_CIFAR: Case[] = [
  { x: [64, 1, 28, 28], k: 6, kernel: [5, 5], pad: [2, 2, 2, 2], relu: true },
  { x: [64, 6, 14, 14], k: 16, kernel: [5, 5], relu: true },
  { x: [64, 3, 32, 32], k: 16, kernel: [5, 5], pad: [2, 2, 2, 2], relu: true },
  { x: [64, 16, 16, 16], k: 20, kernel: [5, 5], pad: [2, 2, 2, 2] },
  { x: [64, 20, 8, 8], k: 20, kernel: [5, 5], pad: [2, 2, 2, 2], relu: true },
];

describe('direct convolution kernels (few filters, stride 1)', () => {
  beforeAll(async () => {
    await workersReady();
    winogradTuning.mode = 'off';
  });
  afterAll(() => {
    winogradTuning.mode = 'auto';
  });

  it('are taken for the LeNet-5 and CIFAR demo layers, and not for strided or many-filter layers', () => {
    for (const c of LENET_CIFAR) {
      const p = wasm.directPaths(c.x, [c.k, c.x[1], ...c.kernel], attrsOf(c));
      expect(p, name(c)).toEqual({ forward: true, filter: true });
    }
    const strided: Case = { x: [2, 3, 9, 9], k: 6, kernel: [3, 3], stride: [2, 2] };
    expect(wasm.directPaths(strided.x, [6, 3, 3, 3], attrsOf(strided))).toEqual({ forward: false, filter: false });
    const many: Case = { x: [2, 3, 9, 9], k: 40, kernel: [5, 5] };
    expect(wasm.directPaths(many.x, [40, 3, 5, 5], attrsOf(many))).toEqual({ forward: false, filter: false });
  });

  it('match the reference on the LeNet-5 and CIFAR demo layers at batch 64', () => {
    LENET_CIFAR.forEach((c, i) => check(c, 100 + 7 * i));
  });

  it('match the reference for 1..33 filters (every tile remainder) and 1..8 channels', () => {
    for (let k = 1; k <= 33; k++) {
      const ch = 1 + (k % 8);
      check({ x: [2, ch, 7 + (k % 5), 9 + (k % 11)], k, kernel: [3, 5], pad: [1, 2, 2, 1], relu: k % 2 === 0, bias: k % 3 !== 0 }, 1000 + k);
    }
  });

  it('match the reference on odd widths around the 4- and 8-pixel tiles', () => {
    for (const w of [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 33]) {
      check({ x: [3, 2, 5, w], k: 5, kernel: [3, 3], pad: [1, 1, 1, 1], relu: true }, 2000 + w);
      check({ x: [1, 3, 6, w + 2], k: 6, kernel: [2, 3] }, 3000 + w);
    }
  });

  it('match the reference with dilation, groups, asymmetric padding, batch 1 and 64', () => {
    const cases: Case[] = [
      { x: [2, 4, 12, 13], k: 6, kernel: [3, 3], pad: [2, 2, 2, 2], dilation: [2, 2], relu: true },
      { x: [2, 3, 11, 10], k: 7, kernel: [3, 2], pad: [1, 0, 3, 1], dilation: [2, 3] },
      { x: [2, 8, 10, 9], k: 12, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 2 },
      { x: [2, 8, 10, 9], k: 8, kernel: [5, 5], pad: [2, 2, 2, 2], groups: 8, relu: true },
      { x: [2, 6, 9, 9], k: 9, kernel: [3, 3], pad: [0, 2, 1, 0], groups: 3, bias: false },
      { x: [1, 3, 32, 32], k: 16, kernel: [5, 5], pad: [2, 2, 2, 2], relu: true },
      { x: [1, 3, 61, 45], k: 8, kernel: [3, 3], pad: [1, 1, 1, 1] },
      { x: [64, 2, 9, 7], k: 3, kernel: [3, 3], pad: [1, 1, 1, 1] },
      { x: [2, 2, 4, 4], k: 3, kernel: [3, 3], pad: [3, 3, 3, 3] },
      { x: [3, 4, 3, 3], k: 2, kernel: [3, 3] },
      // Stride 2 stays on the GEMM (and its column matrix), checked here next to the direct path.
      { x: [2, 5, 11, 13], k: 6, kernel: [5, 5], stride: [2, 2], pad: [2, 2, 2, 2], relu: true },
    ];
    cases.forEach((c, i) => check(c, 4000 + 11 * i));
  });

  it('give the same bits run to run (and threaded or not, but for the filter gradient split)', () => {
    const c = LENET_CIFAR[3]!;
    const attrs = attrsOf(c);
    const x = kt([...c.x], 5), w = kt([c.k, c.x[1], ...c.kernel], 6), dy = kt([c.x[0], c.k, ...attrs.out], 7), b = kt([c.k], 8);
    const run = () => [wasm.conv2d(x, w, b, attrs), wasm.conv2dBackpropInput(dy, w, x.shape, attrs), wasm.conv2dBackpropFilter(x, dy, w.shape, attrs)];
    const { threaded, single } = bothPaths(run);
    const again = run();
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(again[i]!.buffer).equals(Buffer.from(threaded[i]!.buffer))).toBe(true);
      // The filter gradient's split into partial sums follows plannedThreads(), which a
      // single-threaded runtime plans differently; forward and input gradient never split sums.
      if (i < 2) expect(Buffer.from(single[i]!.buffer).equals(Buffer.from(threaded[i]!.buffer))).toBe(true);
    }
    expect(runtime().threads()).toBeGreaterThanOrEqual(1);
  });

  it('match the reference on two-row tails (1..4 pixels past the 8-pixel tiles), row bands and odd row counts', () => {
    for (const oh of [1, 2, 3, 4, 5, 6]) {
      for (const ow of [1, 2, 4, 9, 10, 12, 20]) {
        const k = [3, 4, 6, 9][(oh + ow) % 4]!;
        // Batch 1 splits the rows into bands (pairs may not cross a band); batch 3 does not.
        for (const n of [1, 3]) check({ x: [n, 2, oh + 2, ow + 4], k, kernel: [3, 5], pad: [0, 0, 0, 0], relu: ow % 2 === 0 }, 5000 + oh * 37 + ow + n);
      }
    }
    check({ x: [1, 6, 14, 14], k: 16, kernel: [5, 5], relu: true }, 5900);
    check({ x: [2, 1, 28, 28], k: 6, kernel: [5, 5], pad: [2, 2, 2, 2], relu: true }, 5901);
  });

  it('filter gradient: Inf and NaN in x or dy give the reference\'s NaN and Inf entries (none from the padded pixels)', () => {
    const cases: Case[] = [
      { x: [2, 3, 7, 10], k: 5, kernel: [3, 3], pad: [1, 1, 1, 1] }, // ow 10: a 2-pixel tail
      { x: [2, 3, 7, 9], k: 3, kernel: [3, 5], pad: [1, 1, 2, 2] }, // ow 9: a 1-pixel tail
      { x: [1, 2, 6, 11], k: 4, kernel: [2, 2] }, // ow 10, no padding
      { x: [2, 4, 8, 8], k: 6, kernel: [5, 5], pad: [2, 2, 2, 2] }, // ow 8, no tail
      { x: [2, 2, 14, 14], k: 16, kernel: [5, 5] }, // LeNet conv2's 10 x 10
    ];
    cases.forEach((c, ci) => {
      const attrs = attrsOf(c);
      const [n, ch, h, w] = c.x;
      const wt = kt([c.k, ch, ...c.kernel], 6000 + ci);
      for (const [where, bad] of [['x', Infinity], ['x', -Infinity], ['x', NaN], ['dy', Infinity], ['dy', NaN]] as const) {
        const x = kt([...c.x], 6100 + ci), dy = kt([n, c.k, ...attrs.out], 6200 + ci);
        const t = where === 'x' ? x : dy;
        const [th, tw] = where === 'x' ? [h, w] : attrs.out;
        // Last columns (read by the padded pixels of the kernel's last vector), first column, a corner, the middle.
        for (const [yy, xx] of [[0, tw - 1], [th - 1, tw - 2], [Math.floor(th / 2), 0], [th - 1, tw - 1], [1, Math.floor(tw / 2)]] as const) {
          t.data[((n - 1) * t.shape[1]! + (yy % t.shape[1]!)) * th * tw + yy * tw + xx] = bad;
        }
        t.data[(yyPlane(t.shape) + 1) * th * tw - 1] = bad;
        const got = wasm.conv2dBackpropFilter(x, dy, wt.shape, attrs);
        const want = js.conv2dBackpropFilter(x, dy, wt.shape, attrs);
        const nonFinite = (a: Float32Array) => Array.from(a, (v) => (Number.isNaN(v) ? 'nan' : v === Infinity ? '+inf' : v === -Infinity ? '-inf' : '')).join();
        expect(nonFinite(got), `${name(c)} ${where} ${bad}`).toBe(nonFinite(want));
        expect(want.some((v) => !Number.isFinite(v))).toBe(true);
        expectSame(got, want, `${name(c)} ${where} ${bad}`);
      }
    });
    function yyPlane(shape: readonly number[]): number {
      return shape[0]! * shape[1]! - 1;
    }
  });

  it('give the same bits run to run on the two-row tail path (LeNet conv2), threaded or not', () => {
    const c = LENET_CIFAR[1]!;
    const attrs = attrsOf(c);
    const x = kt([...c.x], 15), w = kt([c.k, c.x[1], ...c.kernel], 16), b = kt([c.k], 18);
    const { threaded, single } = bothPaths(() => wasm.conv2d(x, w, b, attrs));
    expect(Buffer.from(single.buffer).equals(Buffer.from(threaded.buffer))).toBe(true);
    expect(Buffer.from(wasm.conv2d(x, w, b, attrs).buffer).equals(Buffer.from(threaded.buffer))).toBe(true);
  });

  it('few filters over many channels run as chunks of channels (a divisor of c, down to 1, at most 64 chunks), and match the reference', () => {
    // Each past the direct kernels' scratch as one piece (tap table over 4608 rows, or a slab
    // row band over 192 KB forward / a padded image over 512 KB for the filter gradient).
    const cases: [Case, number, number][] = [
      [{ x: [2, 300, 12, 12], k: 3, kernel: [5, 5], pad: [2, 2, 2, 2] }, 2, 2],
      [{ x: [1, 512, 9, 20], k: 8, kernel: [7, 7], pad: [3, 3, 3, 3], relu: true }, 8, 8],
      [{ x: [2, 256, 9, 70], k: 1, kernel: [3, 3], pad: [1, 1, 1, 1], relu: true }, 2, 2],
      [{ x: [2, 200, 15, 40], k: 5, kernel: [3, 3], pad: [2, 2, 2, 2], dilation: [2, 2], bias: false }, 2, 2],
      [{ x: [1, 61, 4, 1000], k: 2, kernel: [3, 3], pad: [1, 1, 1, 1], relu: true }, 61, 61],
      // A prime channel count past MAX_CHUNKS (one channel a chunk) stays on the GEMM.
      [{ x: [1, 211, 5, 100], k: 2, kernel: [3, 3], pad: [1, 1, 1, 1], relu: true }, 0, 0],
      [{ x: [3, 96, 6, 6], k: 33, kernel: [7, 7], pad: [3, 3, 3, 3] }, 0, 0],
    ];
    cases.forEach(([c, forward, filter], i) => {
      expect(wasm.channelChunkPaths(c.x, [c.k, c.x[1], ...c.kernel], attrsOf(c)), name(c)).toEqual({ forward, filter });
      check(c, 8000 + 13 * i);
    });
  });

  it('chunked forward gives the same bits run to run, threaded or not', () => {
    const c: Case = { x: [2, 512, 9, 20], k: 8, kernel: [7, 7], pad: [3, 3, 3, 3], relu: true };
    const attrs = attrsOf(c);
    const x = kt([...c.x], 25), w = kt([c.k, c.x[1], ...c.kernel], 26), b = kt([c.k], 27);
    const { threaded, single } = bothPaths(() => wasm.conv2d(x, w, b, attrs));
    expect(Buffer.from(single.buffer).equals(Buffer.from(threaded.buffer))).toBe(true);
    expect(Buffer.from(wasm.conv2d(x, w, b, attrs).buffer).equals(Buffer.from(threaded.buffer))).toBe(true);
  });

  it('bias-gradient sums (Reduce over all but the channel axis) match the reference, with any row length and non-finite values, same bits threaded or not', () => {
    for (const [i, shape] of ([[64, 16, 8, 8], [3, 5, 1, 1031], [7, 3, 3, 3], [2, 6, 1, 9], [1, 4, 1, 4096], [64, 20, 16, 16]] as const).entries()) {
      const x = kt([...shape], 7000 + i);
      for (const op of ['sum', 'mean'] as const) {
        const { threaded, single } = bothPaths(() => planes.reduce(x, [0, 2, 3], op));
        expectSame(threaded, jsElt.reduce(x, [0, 2, 3], op), `reduce ${op} ${shape.join('x')}`);
        expect(Buffer.from(single.buffer).equals(Buffer.from(threaded.buffer))).toBe(true);
      }
    }
    const x = kt([4, 6, 32, 33], 7100);
    x.data[5] = Infinity;
    x.data[33 * 32 + 7] = NaN;
    x.data[2 * 33 * 32 + 32] = -Infinity;
    x.data[(6 + 2) * 33 * 32 + 4] = -Infinity;
    x.data[(6 + 2) * 33 * 32 + 9] = Infinity;
    const got = planes.reduce(x, [0, 2, 3], 'sum');
    expectSame(got, jsElt.reduce(x, [0, 2, 3], 'sum'), 'reduce with Inf and NaN');
    expect([Number.isNaN(got[1]!), got[0], Number.isNaN(got[2]!)]).toEqual([true, Infinity, true]);
  });
});
