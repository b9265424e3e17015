// The direct kernels for depthwise and small-group convolutions (assembly/depthwise.ts) in all
// three passes, against the js reference: a table of depthwise layers over channels, channel
// multiplier, kernel size, stride, padding, dilation, batch and odd sizes around the kernels'
// 16- and 4-pixel tiles and row pairs, with bias, ReLU and a folded batch-norm scale in the
// forward; grouped layers (ResNeXt-like); strided input gradients (transposed convolutions),
// including inputs one row and column longer than the outputs need; NaN and Inf; same bits
// threaded or not. The forward of multiplier-1 layers has two kernels (four channels in the
// SIMD lanes for planes that fit its slab, rows of one plane otherwise): the table runs on both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/index.js';
import * as ck from '../../src/index.js';
import type { Conv2DAttrs, KernelTensor } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/conv2d.js';
import * as wasm from '../../src/backend/wasm/conv2d.js';
import { depthwiseLanes, depthwisePaths, depthwiseTuning } from '../../src/backend/wasm/depthwise.js';
import { bothPaths, convAttrs, expectSame, kt, workersReady, type ConvCase } from './wasm-helpers.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';

interface Case extends ConvCase {
  /** Filters (multiplier x channels for depthwise). */
  k: number;
  bias?: boolean;
  scale?: boolean;
  /** Input gradient only: rows and columns beyond what the outputs read (a transposed convolution's output padding). */
  extra?: [number, number];
}

const name = (c: Case) =>
  `x ${c.x.join('x')} k ${c.k} ${c.kernel.join('x')} s ${(c.stride ?? [1, 1]).join('')} p ${(c.pad ?? [0, 0, 0, 0]).join('')} d ${(c.dilation ?? [1, 1]).join('')} g ${c.groups}${c.relu ? ' relu' : ''}${c.bias === false ? ' no bias' : ''}${c.scale ? ' scale' : ''}`;

function attrsOf(c: Case): Conv2DAttrs {
  return convAttrs(c);
}

/** Every pass against the reference; `direct`: all three must take the direct kernels. */
function check(c: Case, seed: number, direct = true): void {
  const attrs = attrsOf(c);
  const [n, ch, h, w] = c.x;
  const g = attrs.groups;
  if (direct) expect(depthwisePaths(c.x, [c.k, ch / g, ...c.kernel], attrs), name(c)).toEqual({ forward: true, input: true, filter: true });
  const x = kt([...c.x], seed);
  const wt = kt([c.k, ch / g, ...c.kernel], seed + 1);
  const bias = c.bias === false ? null : kt([c.k], seed + 2);
  const dy = kt([n, c.k, ...attrs.out], seed + 3);
  const fwd: Conv2DAttrs = c.scale ? { ...attrs, scale: kt([c.k], seed + 4) } : attrs;
  expectSame(wasm.conv2d(x, wt, bias, fwd), js.conv2d(x, wt, bias, fwd), `Conv2D ${name(c)}`);
  const plain = { ...attrs, activation: 'none' as const };
  const inShape = c.extra ? [n, ch, h + c.extra[0], w + c.extra[1]] : x.shape;
  expectSame(wasm.conv2dBackpropInput(dy, wt, inShape, plain), js.conv2dBackpropInput(dy, wt, inShape, plain), `Conv2DBackpropInput ${name(c)}`);
  expectSame(wasm.conv2dBackpropFilter(x, dy, wt.shape, plain), js.conv2dBackpropFilter(x, dy, wt.shape, plain), `Conv2DBackpropFilter ${name(c)}`);
}

/** A deterministic spread of depthwise layers over every option (a small LCG picks the combinations). */
function depthwiseTable(count: number): Case[] {
  let s = 12345;
  const pick = <T>(v: readonly T[]): T => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return v[(s >>> 8) % v.length]!;
  };
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const ch = pick([2, 3, 5, 7, 8, 13, 16, 32, 33, 96]);
    const m = pick([1, 1, 1, 2, 3, 4]);
    const kk = pick([3, 3, 5, 7]);
    const kernel: [number, number] = pick([true, true, true, false]) ? [kk, kk] : [kk, pick([1, 3, 5])];
    const st = pick([1, 1, 2, 2, 3]);
    const stride: [number, number] = pick([true, true, true, false]) ? [st, st] : [st, pick([1, 2])];
    const dil = pick([1, 1, 1, 2]);
    const dilation: [number, number] = [dil, pick([dil, 1])];
    const pad: [number, number, number, number] = [pick([0, 1, 2, 3]), pick([0, 1, 2, 3]), pick([0, 1, 2, 3]), pick([0, 1, 2, 3])];
    const n = ch >= 32 ? pick([1, 2]) : pick([1, 2, 3, 4, 5]);
    const big = ch <= 8 && pick([false, false, true]);
    const h = pick(big ? [30, 41, 57] : [1, 2, 5, 7, 9, 12, 14, 17]);
    const w = pick(big ? [33, 47, 64] : [1, 3, 4, 6, 7, 9, 15, 16, 17, 19, 23, 31, 32, 33]);
    const reachH = (kernel[0] - 1) * dilation[0] + 1, reachW = (kernel[1] - 1) * dilation[1] + 1;
    // Inputs at least the kernel's reach (with padding), so every layer has an output.
    const H = Math.max(h, reachH - pad[0] - pad[1]), W = Math.max(w, reachW - pad[2] - pad[3]);
    out.push({
      x: [n, ch, H, W], k: m * ch, kernel, stride, pad, dilation, groups: ch,
      relu: pick([false, true]), bias: pick([true, true, false]), scale: pick([false, false, true]),
    });
  }
  return out;
}

describe('depthwise and small-group direct convolution kernels', () => {
  beforeAll(async () => {
    await workersReady();
  });
  afterAll(() => {
    depthwiseTuning.mode = 'auto';
    depthwiseTuning.lanes = 'auto';
  });

  it('are taken for depthwise and small-group layers, not for dense or wide-group ones', () => {
    const a = convAttrs({ x: [1, 32, 8, 8], kernel: [3, 3], pad: [1, 1, 1, 1], groups: 32 });
    expect(depthwisePaths([1, 32, 8, 8], [32, 1, 3, 3], a)).toEqual({ forward: true, input: true, filter: true });
    expect(depthwisePaths([1, 32, 8, 8], [64, 1, 3, 3], a)).toEqual({ forward: true, input: true, filter: true });
    const dense = convAttrs({ x: [1, 32, 8, 8], kernel: [3, 3], pad: [1, 1, 1, 1] });
    expect(depthwisePaths([1, 32, 8, 8], [32, 32, 3, 3], dense)).toEqual({ forward: false, input: false, filter: false });
    const wide = convAttrs({ x: [1, 128, 8, 8], kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 });
    expect(depthwisePaths([1, 128, 8, 8], [128, 64, 3, 3], wide)).toEqual({ forward: false, input: false, filter: false });
    // Few channels per group: strided layers here, stride 1 on conv2d.ts's direct kernels but for a scaled forward.
    const s2 = convAttrs({ x: [1, 128, 8, 8], kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 32 });
    expect(depthwisePaths([1, 128, 8, 8], [128, 4, 3, 3], s2)).toEqual({ forward: true, input: true, filter: true });
    const s1 = convAttrs({ x: [1, 128, 8, 8], kernel: [3, 3], pad: [1, 1, 1, 1], groups: 32 });
    expect(depthwisePaths([1, 128, 8, 8], [128, 4, 3, 3], s1)).toEqual({ forward: false, input: false, filter: false });
    expect(depthwisePaths([1, 128, 8, 8], [128, 4, 3, 3], { ...s1, scale: kt([128], 1) }).forward).toBe(true);
  });

  it('match the reference on MobileNet-like layers (3x3 stride 1 and 2, pad 1, batch 1 and 8)', () => {
    const cases: Case[] = [
      { x: [1, 32, 56, 56], k: 32, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 32, relu: true },
      { x: [2, 64, 28, 28], k: 64, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 64, relu: true, scale: true },
      { x: [8, 24, 14, 14], k: 24, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 24, bias: false },
      { x: [3, 40, 7, 7], k: 40, kernel: [5, 5], pad: [2, 2, 2, 2], groups: 40, relu: true },
      { x: [2, 16, 28, 28], k: 16, kernel: [7, 7], pad: [3, 3, 3, 3], groups: 16, scale: true },
      { x: [1, 6, 112, 112], k: 12, kernel: [3, 3], stride: [2, 2], pad: [0, 1, 0, 1], groups: 6 },
    ];
    cases.forEach((c, i) => check(c, 100 + 13 * i));
  });

  it('match the reference over a table of depthwise layers (channels, multiplier, kernel, stride, padding, dilation, batch, odd sizes, epilogue)', () => {
    depthwiseTable(80).forEach((c, i) => check(c, 1000 + 7 * i));
  });

  it('take the lanes forward for multiplier-1 planes that fit its slab, and match the reference on the row kernel too', () => {
    const a = (x: number[], k = 3, s = 1) => convAttrs({ x: x as [number, number, number, number], kernel: [k, k], stride: [s, s], pad: [k >> 1, k >> 1, k >> 1, k >> 1], groups: x[1]! });
    expect(depthwiseLanes([128, 128, 10, 10], [128, 1, 3, 3], a([128, 128, 10, 10], 3, 2))).toBe(true);
    expect(depthwiseLanes([1, 32, 112, 112], [32, 1, 3, 3], a([1, 32, 112, 112]))).toBe(true);
    expect(depthwiseLanes([1, 32, 224, 224], [32, 1, 3, 3], a([1, 32, 224, 224]))).toBe(false); // 226 x 226 pixel vectors: 817 KB
    expect(depthwiseLanes([1, 32, 14, 14], [64, 1, 3, 3], a([1, 32, 14, 14]))).toBe(false); // multiplier 2
    depthwiseTuning.lanes = 'off';
    try {
      depthwiseTable(80).forEach((c, i) => check(c, 1000 + 7 * i));
      check({ x: [2, 5, 9, 6], k: 5, kernel: [3, 3], stride: [2, 1], pad: [1, 0, 2, 1], groups: 5, relu: true, scale: true }, 2900);
    } finally {
      depthwiseTuning.lanes = 'auto';
    }
    // The lanes kernel on a plane wider than 'auto' takes it for (the slab limit only chooses).
    depthwiseTuning.lanes = 'all';
    try {
      check({ x: [1, 6, 230, 9], k: 6, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 6, relu: true }, 2901);
    } finally {
      depthwiseTuning.lanes = 'auto';
    }
  });

  it('match the reference on every width around the 16- and 4-pixel tiles and odd row counts', () => {
    for (let w = 1; w <= 35; w++) {
      const oh = 1 + (w % 6);
      check({ x: [1 + (w % 2), 3, oh + 2, w + 2], k: 3 * (1 + (w % 2)), kernel: [3, 3], groups: 3, relu: w % 3 === 0, scale: w % 4 === 0 }, 3000 + w);
      check({ x: [1, 2, 2 * oh + 3, 2 * w + 1], k: 2, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 }, 3100 + w);
    }
  });

  it('match the reference on grouped layers with few channels per group (ResNeXt-like), stride 1 and 2', () => {
    const cases: Case[] = [
      { x: [2, 128, 14, 14], k: 128, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 32, relu: true },
      { x: [1, 128, 15, 15], k: 128, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 32, scale: true },
      { x: [3, 12, 9, 11], k: 20, kernel: [3, 5], pad: [1, 2, 0, 3], groups: 4, bias: false },
      { x: [2, 16, 10, 13], k: 8, kernel: [3, 3], stride: [2, 1], dilation: [2, 1], pad: [2, 1, 1, 1], groups: 2, relu: true },
      { x: [1, 30, 17, 9], k: 45, kernel: [5, 5], stride: [2, 2], pad: [2, 2, 2, 2], groups: 15 },
      { x: [4, 64, 8, 8], k: 64, kernel: [1, 1], stride: [2, 2], groups: 8 },
      { x: [2, 64, 16, 16], k: 64, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 4 },
      // 6 and 7 channels and filters per group: a 4-filter tile and then a pair, or one of 3.
      { x: [2, 12, 9, 19], k: 12, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2, relu: true, scale: true },
      { x: [1, 14, 11, 21], k: 14, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 },
    ];
    cases.forEach((c, i) => {
      check(c, 4000 + 17 * i, false);
      depthwiseTuning.mode = 'all';
      try {
        check(c, 4000 + 17 * i);
      } finally {
        depthwiseTuning.mode = 'auto';
      }
    });
  });

  it('input gradient = depthwise and grouped transposed convolutions (stride 2, 3x3 and 4x4, output padding)', () => {
    const cases: Case[] = [
      { x: [2, 8, 13, 13], k: 8, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 8, extra: [1, 1] },
      { x: [1, 6, 14, 14], k: 12, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], groups: 6 },
      { x: [2, 8, 11, 12], k: 8, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2, extra: [1, 0] },
      { x: [1, 4, 20, 19], k: 4, kernel: [3, 3], stride: [3, 3], pad: [0, 0, 0, 0], groups: 4, extra: [2, 2] },
      { x: [2, 9, 9, 9], k: 9, kernel: [5, 5], stride: [2, 2], dilation: [2, 2], pad: [3, 3, 3, 3], groups: 9 },
    ];
    depthwiseTuning.mode = 'all';
    try {
      cases.forEach((c, i) => check(c, 5000 + 19 * i));
    } finally {
      depthwiseTuning.mode = 'auto';
    }
    // Through the op: F.convTranspose2d's forward is Conv2DBackpropInput.
    const x = ck.randn([2, 6, 7, 9], { seed: 3 });
    const w = ck.randn([6, 2, 4, 4], { seed: 4 });
    const opts = { stride: 2, padding: 1, outputPadding: 1, groups: 3 };
    const got = ck.F.convTranspose2d(x, w, null, opts);
    const prev = ck.getBackendName();
    ck.setBackend('js');
    try {
      expectClose(got.dataSync(), ck.F.convTranspose2d(x, w, null, opts).dataSync(), { rtol: 1e-4, atol: 1e-5, what: 'convTranspose2d' });
    } finally {
      ck.setBackend(prev);
    }
  });

  it('every grouped layer matches the reference when forced onto these kernels', () => {
    depthwiseTuning.mode = 'all';
    try {
      check({ x: [2, 64, 9, 10], k: 96, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 2, relu: true }, 6000);
      check({ x: [1, 40, 11, 7], k: 20, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 2 }, 6001);
    } finally {
      depthwiseTuning.mode = 'auto';
    }
  });

  it('Inf and NaN in x, dy or the filters give the reference\'s non-finite entries in all three passes', () => {
    const nonFinite = (a: Float32Array) => Array.from(a, (v) => (Number.isNaN(v) ? 'nan' : v === Infinity ? '+inf' : v === -Infinity ? '-inf' : '')).join();
    const cases: Case[] = [
      { x: [2, 3, 7, 10], k: 3, kernel: [3, 3], pad: [1, 1, 1, 1], groups: 3 },
      { x: [1, 4, 9, 11], k: 8, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 4 },
      { x: [2, 2, 8, 13], k: 2, kernel: [5, 5], stride: [2, 2], groups: 2 }, // unused last column
    ];
    cases.forEach((c, ci) => {
      const attrs = attrsOf(c);
      const [n, ch] = c.x;
      for (const [where, bad] of [['x', Infinity], ['x', NaN], ['dy', -Infinity], ['dy', NaN], ['w', NaN]] as const) {
        const x = kt([...c.x], 7000 + ci), dy = kt([n, c.k, ...attrs.out], 7100 + ci), wt = kt([c.k, ch / c.groups!, ...c.kernel], 7200 + ci);
        const t: KernelTensor = where === 'x' ? x : where === 'dy' ? dy : wt;
        for (const i of [0, 5, t.data.length - 1, Math.floor(t.data.length / 2)]) t.data[i] = bad;
        const passes: [string, () => Float32Array, () => Float32Array][] = [
          ['Conv2D', () => wasm.conv2d(x, wt, null, attrs), () => js.conv2d(x, wt, null, attrs)],
          ['Conv2DBackpropInput', () => wasm.conv2dBackpropInput(dy, wt, x.shape, attrs), () => js.conv2dBackpropInput(dy, wt, x.shape, attrs)],
          ['Conv2DBackpropFilter', () => wasm.conv2dBackpropFilter(x, dy, wt.shape, attrs), () => js.conv2dBackpropFilter(x, dy, wt.shape, attrs)],
        ];
        for (const [pass, got, want] of passes) {
          // Only the passes that read the bad tensor.
          if ((pass === 'Conv2D' && where === 'dy') || (pass === 'Conv2DBackpropInput' && where === 'x') || (pass === 'Conv2DBackpropFilter' && where === 'w')) continue;
          const g = got(), e = want();
          expect(nonFinite(g), `${pass} ${name(c)} ${where} ${bad}`).toBe(nonFinite(e));
          expectSame(g, e, `${pass} ${name(c)} ${where} ${bad}`);
        }
      }
    });
  });

  it('bad shapes get the reference\'s ConvkitError, not a kernel run', () => {
    const a = convAttrs({ x: [1, 4, 6, 6], kernel: [3, 3], groups: 4 });
    const x = kt([1, 4, 6, 6], 1), w = kt([4, 1, 3, 3], 2);
    expectConvkitError(() => wasm.conv2dBackpropInput(kt([1, 4, 5, 5], 3), w, x.shape, a), 'should be [1, 4, 4, 4]');
    expectConvkitError(() => wasm.conv2dBackpropFilter(x, kt([1, 4, 3, 3], 3), w.shape, a), 'should be [1, 4, 4, 4]');
    expectConvkitError(() => wasm.conv2d(x, kt([4, 2, 3, 3], 4), null, a), 'groups=4');
  });

  it('give the same bits run to run, threaded or not (the filter gradient splits images by planned threads)', () => {
    const c: Case = { x: [3, 48, 30, 30], k: 48, kernel: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1], groups: 48 };
    const attrs = attrsOf(c);
    const x = kt([...c.x], 8000), w = kt([c.k, 1, 3, 3], 8001), dy = kt([3, c.k, ...attrs.out], 8002), b = kt([c.k], 8003);
    const run = () => [wasm.conv2d(x, w, b, attrs), wasm.conv2dBackpropInput(dy, w, x.shape, attrs), wasm.conv2dBackpropFilter(x, dy, w.shape, attrs)];
    const { threaded, single } = bothPaths(run);
    const again = run();
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(again[i]!.buffer).equals(Buffer.from(threaded[i]!.buffer))).toBe(true);
      if (i < 2) expect(Buffer.from(single[i]!.buffer).equals(Buffer.from(threaded[i]!.buffer))).toBe(true);
    }
  });
});
