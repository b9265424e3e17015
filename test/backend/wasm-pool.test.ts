import { hostBackends } from '../helpers/backends.js';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { AvgPool2DAttrs, KernelTensor } from '../../src/backend/kernels.js';
import * as jsPool from '../../src/backend/js/pool2d.js';
import * as jsNorm from '../../src/backend/js/normalization.js';
import * as wasm from '../../src/backend/wasm/pool2d.js';
import { expectClose } from '../helpers/assert.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { describeGeo, rng, window, type Geo } from './pool-geometry.js';
import { expectIdentical, expectSameInts } from './wasm-exact.js';

/*
 * The wasm pooling kernels (assembly/pool.ts, src/backend/wasm/pool2d.ts) against the js
 * reference, on many geometries: max pooling must give the very same values (NaN where the
 * reference has NaN, the same zero sign) and switches, average pooling the same bits (both sum
 * in float64 in the same order), LRN the same values to float32 rounding.
 */

/** Random geometries: kernels 1..4, strides 1..3, pads up to half the kernel, dilation 1..2, both fits. */
function geometries(count: number, seed: number, dilation = true): Geo[] {
  const r = rng(seed);
  const out: Geo[] = [];
  for (let i = 0; i < count; i++) {
    const k: [number, number] = r(3) === 0 ? [1 + r(4), 1 + r(4)] : Array(2).fill(1 + r(4)) as [number, number];
    const s: [number, number] = r(3) === 0 ? [1 + r(3), 1 + r(3)] : Array(2).fill(1 + r(3)) as [number, number];
    const p: [number, number] = [r(Math.floor(k[0] / 2) + 1), r(Math.floor(k[1] / 2) + 1)];
    const d: [number, number] = dilation && r(4) === 0 ? [1 + r(2), 1 + r(2)] : [1, 1];
    out.push({ k, s, p, d, ceil: r(2) === 1 });
  }
  // The common cases, always.
  out.push({ k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false });
  out.push({ k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true });
  out.push({ k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false });
  out.push({ k: [3, 3], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true });
  out.push({ k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], ceil: false });
  return out;
}

/** Planes smaller and larger than the size threshold, odd sizes, batch > 1. */
const SHAPES = [
  [1, 3, 9, 11], [2, 3, 17, 23], [4, 3, 17, 23], [3, 5, 23, 17], [1, 4, 40, 37], [8, 2, 8, 70], [64, 6, 10, 10], [6, 2, 113, 6], [2, 3, 5, 300],
];

/** Values with ties (quantized), zeros of both signs, -inf, and a few NaN. */
function awkward(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  const r = rng(seed + 7);
  for (let i = 0; i < x.data.length; i++) {
    const u = r(100);
    if (u < 20) x.data[i] = Math.round(x.data[i]! * 2) / 2; // ties
    else if (u < 24) x.data[i] = -0;
    else if (u < 27) x.data[i] = 0;
    else if (u < 29) x.data[i] = -Infinity;
    else if (u === 29 && r(4) === 0) x.data[i] = NaN;
  }
  return x;
}

describe('wasm max pooling against the js reference', () => {
  it('has its worker threads, and runs every pooling kernel itself', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining([
      'MaxPool2DWithArgmax', 'MaxPool2D', 'MaxPool2DGrad', 'AvgPool2D', 'AvgPool2DGrad', 'AdaptiveAvgPool2D', 'AdaptiveAvgPool2DGrad', 'AdaptiveMaxPool2D', 'LRN',
      'LRNGrad',
    ]));
  });

  it('gives the same values and switches on many geometries, threaded or not', () => {
    let checked = 0;
    SHAPES.forEach((shape, si) => {
      const x = awkward(shape, 100 + si);
      for (const g of geometries(40, 200 + si)) {
        const a = window(shape, g);
        if (!a) continue;
        const what = describeGeo(shape, g);
        const e = jsPool.maxPool2DWithArgmax(x, a);
        const r = bothPaths(() => wasm.maxPool2DWithArgmax(x, a));
        expectIdentical(r.threaded.output, e.output, `${what} output`);
        expectSameInts(r.threaded.indices, e.indices, `${what} switches`);
        expectIdentical(r.single.output, e.output, `${what} output (one thread)`);
        expectSameInts(r.single.indices, e.indices, `${what} switches (one thread)`);
        const v = bothPaths(() => wasm.maxPool2D(x, a));
        expectIdentical(v.threaded, e.output, `${what} values`);
        expectIdentical(v.single, e.output, `${what} values (one thread)`);
        expectIdentical(jsPool.maxPool2D(x, a), e.output, `${what} js values`);
        const dy = kt([shape[0]!, shape[1]!, ...a.out], 300 + si);
        expectIdentical(wasm.maxPool2DGrad(dy, e.indices, shape), jsPool.maxPool2DGrad(dy, e.indices, shape), `${what} grad`);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(200);
  });

  it('keeps signed zeros, -inf windows and NaN as the reference does', () => {
    const shape = [2, 4, 16, 24];
    const n = shape.reduce((p, d) => p * d, 1);
    const fills: [string, (i: number) => number][] = [
      ['all -inf', () => -Infinity],
      ['-0 then +0', (i) => (i % 2 ? 0 : -0)],
      ['+0 then -0', (i) => (i % 2 ? -0 : 0)],
      ['rows of NaN', (i) => (Math.floor(i / 24) % 5 === 3 ? NaN : i % 7)],
      ['-inf and NaN', (i) => (i % 11 === 0 ? NaN : -Infinity)],
    ];
    for (const [name, f] of fills) {
      const x = { data: Float32Array.from({ length: n }, (_, i) => f(i)), shape };
      for (const g of geometries(12, 9)) {
        const a = window(shape, g);
        if (!a) continue;
        const e = jsPool.maxPool2DWithArgmax(x, a);
        const r = wasm.maxPool2DWithArgmax(x, a);
        expectIdentical(r.output, e.output, `${name} ${describeGeo(shape, g)}`);
        expectSameInts(r.indices, e.indices, `${name} ${describeGeo(shape, g)} switches`);
        expectIdentical(wasm.maxPool2D(x, a), e.output, `${name} ${describeGeo(shape, g)} values`);
      }
    }
  });

  it('pools ResNet-18\'s 3x3/2 window on 64x112x112', () => {
    const shape = [1, 64, 112, 112];
    const x = kt(shape, 5);
    const a = window(shape, { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false })!;
    const e = jsPool.maxPool2DWithArgmax(x, a);
    const r = wasm.maxPool2DWithArgmax(x, a);
    expectIdentical(r.output, e.output, 'output');
    expectSameInts(r.indices, e.indices, 'switches');
    expectIdentical(wasm.maxPool2D(x, a), e.output, 'values');
  });
});

/** Some -0 (the reference's dx = 0 + g makes them +0) and a NaN. */
function withZeros(t: KernelTensor): KernelTensor {
  for (let i = 0; i < t.data.length; i += 7) t.data[i] = -0;
  t.data[t.data.length >> 1] = NaN;
  return t;
}

describe('wasm average pooling against the js reference', () => {
  it('gives the same bits for plain and adaptive pooling and their gradients', () => {
    SHAPES.forEach((shape, si) => {
      const x = kt(shape, 400 + si);
      for (const g of geometries(25, 500 + si, false)) {
        const w = window(shape, g);
        if (!w) continue;
        for (const [countIncludePad, divisorOverride] of [[true, null], [false, null], [true, 3]] as const) {
          const a: AvgPool2DAttrs = { kernel: w.kernel, stride: w.stride, pad: w.pad, out: w.out, countIncludePad, divisorOverride };
          const what = `${describeGeo(shape, g)} cip=${countIncludePad} div=${divisorOverride}`;
          const r = bothPaths(() => wasm.avgPool2D(x, a));
          const e = jsPool.avgPool2D(x, a);
          expectIdentical(r.threaded, e, what);
          expectIdentical(r.single, e, `${what} (one thread)`);
          const dy = withZeros(kt([shape[0]!, shape[1]!, ...w.out], 600 + si));
          expectIdentical(wasm.avgPool2DGrad(dy, shape, a), jsPool.avgPool2DGrad(dy, shape, a), `${what} grad`);
        }
      }
      // Adaptive pooling goes to wasm from a larger size: a bigger batch of the same planes.
      const big = [shape[0]! * Math.ceil(20000 / x.data.length), ...shape.slice(1)];
      const xb = kt(big, 800 + si);
      const halves: [number, number] = [Math.max(1, shape[2]! >> 1), Math.max(1, shape[3]! >> 1)];
      for (const out of [[1, 1], [2, 3], [5, 5], [shape[2]!, shape[3]!], [shape[2]! + 3, 2], halves, [shape[2]!, halves[1]]] as [number, number][]) {
        for (const [xs, s] of [[x, shape], [xb, big]] as const) {
          const what = `[${s}] adaptive to ${out}`;
          expectIdentical(wasm.adaptiveAvgPool2D(xs, out), jsPool.adaptiveAvgPool2D(xs, out), what);
          const dy = withZeros(kt([s[0]!, s[1]!, ...out], 700 + si));
          expectIdentical(wasm.adaptiveAvgPool2DGrad(dy, s), jsPool.adaptiveAvgPool2DGrad(dy, s), `${what} grad`);
        }
      }
    });
  });
});

describe('wasm LRN against the js reference', () => {
  it('matches forward and gradient for several window sizes and shapes', () => {
    for (const shape of [[1, 3, 5, 5], [2, 7, 9, 11], [1, 16, 20, 20], [3, 5, 300], [1, 3, 40, 40]]) {
      const x = kt(shape, 11);
      const dy = kt(shape, 12);
      for (const [size, alpha, beta, k] of [[5, 1e-4, 0.75, 2], [2, 1, 1, 1], [3, 0.5, 0.5, 1.5], [4, 1, 2.25, 1], [3, 0.5, 0.6, 1.5], [1, 1e-3, 0.75, 1], [9, 2, 0.75, 0.5]] as const) {
        const a = { size, alpha, beta, k };
        const what = `[${shape}] size ${size}`;
        const r = bothPaths(() => wasm.lrn(x, a));
        expectClose(r.threaded, jsNorm.lrn(x, a), { rtol: 1e-6, atol: 0, what });
        expectClose(r.single, r.threaded, { rtol: 0, atol: 0, what: `${what} (one thread)` });
        expectClose(wasm.lrnGrad(x, dy, a), jsNorm.lrnGrad(x, dy, a), { rtol: 1e-5, atol: 1e-6, what: `${what} grad` });
      }
    }
  });
});

describe('maxPool2d in inference skips the switches', () => {
  for (const backend of hostBackends()) {
    it(`[${backend}] gives the same values under noGrad as with grad, and the layer drops lastIndices in eval`, () => {
      const previous = ck.getBackendName();
      ck.setBackendSync(backend);
      try {
        const x = ck.randn([2, 3, 33, 30], { seed: 4 });
        const opts = [{ stride: 2, fit: 'floor' as const }, { stride: 2, padding: 1, fit: 'floor' as const }, { ceilMode: true, dilation: 2 }];
        for (const [k, o] of [[2, opts[0]!], [3, opts[1]!], [3, opts[2]!]] as const) {
          const xg = ck.tensor(x.dataSync(), x.shape, { requiresGrad: true });
          const withGrad = ck.F.maxPool2d(xg, k, o);
          expect(withGrad.requiresGrad).toBe(true);
          const noGrad = ck.noGrad(() => ck.F.maxPool2d(xg, k, o));
          expect(noGrad.requiresGrad).toBe(false);
          expectIdentical(noGrad.dataSync(), withGrad.dataSync(), `k${k} noGrad`);
          expectIdentical(ck.F.maxPool2d(x, k, o).dataSync(), withGrad.dataSync(), `k${k} input without grad`);
        }
        const pool = new ck.nn.MaxPool2d(3, { stride: 2, padding: 1, fit: 'floor' });
        const train = pool.forward(x).dataSync();
        expect(pool.lastIndices).not.toBeNull();
        pool.eval();
        const evalOut = ck.noGrad(() => pool.forward(x));
        expectIdentical(evalOut.dataSync(), train, 'eval output');
        expect(pool.lastIndices).toBeNull();
        const { output, indices } = pool.forwardWithIndices(x);
        expectIdentical(output.dataSync(), train, 'forwardWithIndices output');
        expect(indices.shape).toEqual(output.shape);
      } finally {
        ck.setBackendSync(previous);
      }
    });
  }
});
