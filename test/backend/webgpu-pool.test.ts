import { describe, expect, it } from 'vitest';
import * as ck from '../../src/node.js';
import type { AvgPool2DAttrs, KernelTensor, Window2D } from '../../src/backend/kernels.js';
import * as jsPool from '../../src/backend/js/pool2d.js';
import * as jsNorm from '../../src/backend/js/normalization.js';
import * as gpuPool from '../../src/backend/webgpu/kernels/pool2d.js';
import * as gpuLrn from '../../src/backend/webgpu/kernels/lrn.js';
import { expectClose } from '../helpers/assert.js';
import { fromGpu, intToGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { kt } from './wasm-helpers.js';
import { describeGeo, rng, window, type Geo } from './pool-geometry.js';
import { expectSameInts } from './wasm-exact.js';

/*
 * The webgpu pooling and LRN kernels against the js reference on many geometries (kernels 1-5,
 * strides 1-3, padding, dilation, ceil mode, odd sizes, batch 1 and 2, several channels): max
 * pooling gives the very same values (the sign of zero included) and switches, and its gradient
 * the same bits (each input pixel adds its gradients in the reference's order); average pooling
 * and LRN agree to float32 rounding (the reference sums in float64). NaN and infinite inputs are
 * left out: WGSL does not promise IEEE behaviour for them (the -inf of a window wholly in the
 * padding is tested: the kernel writes it, it does not compute it).
 */

const why = await startWebgpu();

/** The same floats bit for bit (Object.is: -0 is not 0). */
function expectIdentical(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${what}: element ${i} is ${Object.is(actual[i], -0) ? '-0' : actual[i]}, expected ${Object.is(expected[i], -0) ? '-0' : expected[i]}`);
    }
  }
}

/** float32 rounding: rtol 1e-5, atol 1e-6 of the output's scale. */
function expectNear(actual: Float32Array, expected: Float32Array, what: string): void {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  expectClose(actual, expected, { rtol: 1e-5, atol: 1e-6 * Math.max(1, scale), what });
}

/** Random geometries: kernels 1..5, strides 1..3, pads up to half the kernel, dilation 1..2, both fits; then the common ones. */
function geometries(count: number, seed: number, dilation = true): Geo[] {
  const r = rng(seed);
  const out: Geo[] = [];
  for (let i = 0; i < count; i++) {
    const k = (r(3) === 0 ? [1 + r(5), 1 + r(5)] : Array(2).fill(1 + r(5))) as [number, number];
    const s = (r(3) === 0 ? [1 + r(3), 1 + r(3)] : Array(2).fill(1 + r(3))) as [number, number];
    const p: [number, number] = [r(Math.floor(k[0] / 2) + 1), r(Math.floor(k[1] / 2) + 1)];
    const d: [number, number] = dilation && r(4) === 0 ? [1 + r(2), 1 + r(2)] : [1, 1];
    out.push({ k, s, p, d, ceil: r(2) === 1 });
  }
  out.push({ k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false });
  out.push({ k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false });
  out.push({ k: [3, 3], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true });
  out.push({ k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], ceil: false });
  return out;
}

/** Odd sizes, batch 1 and 2, several channels, planes wider than a workgroup. */
const SHAPES = [[1, 3, 9, 11], [2, 3, 17, 23], [1, 4, 40, 37], [2, 2, 8, 70], [2, 5, 13, 6]];

/** Values with many ties (quantized) and zeros of both signs. */
function tied(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  const r = rng(seed + 7);
  for (let i = 0; i < x.data.length; i++) {
    const u = r(100);
    if (u < 30) x.data[i] = Math.round(x.data[i]! * 2) / 2;
    else if (u < 36) x.data[i] = -0;
    else if (u < 40) x.data[i] = 0;
  }
  return x;
}

/** The max-pooling checks of one input and window (or adaptive output size). */
async function checkMax(x: KernelTensor, a: Window2D | [number, number], what: string, seed: number): Promise<void> {
  const e = Array.isArray(a) ? jsPool.adaptiveMaxPool2D(x, a) : jsPool.maxPool2DWithArgmax(x, a);
  const xg = toGpu(x);
  const r = Array.isArray(a) ? gpuPool.adaptiveMaxPool2D(xg, a) : gpuPool.maxPool2DWithArgmax(xg, a);
  const out = Array.isArray(a) ? a : a.out;
  const dy = kt([x.shape[0]!, x.shape[1]!, ...out], seed);
  for (let i = 0; i < dy.data.length; i += 9) dy.data[i] = -0;
  const dx = gpuPool.maxPool2DGrad(toGpu(dy), intToGpu(e.indices), x.shape);
  expectIdentical(await fromGpu(r.output), e.output, `${what} output`);
  expectSameInts(await fromGpu(r.indices), e.indices, `${what} switches`);
  if (!Array.isArray(a)) expectIdentical(await fromGpu(gpuPool.maxPool2D(xg, a)), e.output, `${what} values`);
  expectIdentical(await fromGpu(dx), jsPool.maxPool2DGrad(dy, e.indices, x.shape), `${what} grad`);
}

const ADAPTIVE_SIZES = (h: number, w: number): [number, number][] => [
  [1, 1], [2, 3], [5, 5], [h, w], [h + 3, 2], [Math.max(1, h >> 1), Math.max(1, w >> 1)], [h, Math.max(1, w >> 1)],
];

describe.skipIf(why !== null)('webgpu max pooling against the js reference', () => {
  it('gives the same values, switches and gradients on many geometries', async () => {
    let checked = 0;
    for (const [si, shape] of SHAPES.entries()) {
      const x = tied(shape, 100 + si);
      for (const g of geometries(14, 200 + si)) {
        const a = window(shape, g);
        if (!a) continue;
        await checkMax(x, a, describeGeo(shape, g), 300 + si);
        checked++;
      }
      for (const out of ADAPTIVE_SIZES(shape[2]!, shape[3]!)) await checkMax(x, out, `[${shape}] adaptive to ${out}`, 400 + si);
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('shares winners across windows and chunks: equal values, overlapping windows, a large plane', async () => {
    const flat = { data: new Float32Array(2 * 3 * 21 * 19), shape: [2, 3, 21, 19] };
    for (const g of [{ k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], ceil: false }, { k: [5, 4], s: [1, 2], p: [2, 1], d: [1, 2], ceil: true }] as Geo[]) {
      await checkMax(flat, window(flat.shape, g)!, `all zeros ${describeGeo(flat.shape, g)}`, 7);
    }
    await checkMax(flat, [40, 3], 'all zeros adaptive to 40,3', 8);
    const big = [1, 8, 56, 56];
    const g: Geo = { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false };
    await checkMax(tied(big, 9), window(big, g)!, describeGeo(big, g), 10);
  });

  it('gives -inf and switch -1 for a window wholly in the padding, which routes no gradient', async () => {
    const x = kt([1, 2, 1, 1], 3);
    const a: Window2D = { kernel: [2, 2], stride: [1, 1], pad: [2, 2, 2, 2], dilation: [4, 4], out: [1, 1] };
    const e = jsPool.maxPool2DWithArgmax(x, a);
    expect(Array.from(e.output)).toEqual([-Infinity, -Infinity]);
    await checkMax(x, a, 'padding only', 4);
  });

  it('folds more than 65,535 planes into a 2-d grid', async () => {
    const shape = [33000, 2, 1, 3];
    await checkMax(tied(shape, 12), window(shape, { k: [1, 2], s: [1, 2], p: [0, 0], d: [1, 1], ceil: true })!, `[${shape}] k1,2 s1,2 ceil`, 13);
  });
});

describe.skipIf(why !== null)('webgpu average pooling against the js reference', () => {
  it('matches plain and adaptive pooling and their gradients', async () => {
    let checked = 0;
    for (const [si, shape] of SHAPES.entries()) {
      const x = kt(shape, 500 + si);
      const xg = toGpu(x);
      for (const g of geometries(8, 600 + si, false)) {
        const w = window(shape, g);
        if (!w) continue;
        for (const [countIncludePad, divisorOverride] of [[true, null], [false, null], [true, 3]] as const) {
          const a: AvgPool2DAttrs = { kernel: w.kernel, stride: w.stride, pad: w.pad, out: w.out, countIncludePad, divisorOverride };
          const what = `${describeGeo(shape, g)} cip=${countIncludePad} div=${divisorOverride}`;
          expectNear(await fromGpu(gpuPool.avgPool2D(xg, a)), jsPool.avgPool2D(x, a), what);
          const dy = kt([shape[0]!, shape[1]!, ...w.out], 700 + si);
          expectNear(await fromGpu(gpuPool.avgPool2DGrad(toGpu(dy), shape, a)), jsPool.avgPool2DGrad(dy, shape, a), `${what} grad`);
          checked++;
        }
      }
      for (const out of ADAPTIVE_SIZES(shape[2]!, shape[3]!)) {
        const what = `[${shape}] adaptive to ${out}`;
        expectNear(await fromGpu(gpuPool.adaptiveAvgPool2D(xg, out)), jsPool.adaptiveAvgPool2D(x, out), what);
        const dy = kt([shape[0]!, shape[1]!, ...out], 800 + si);
        expectNear(await fromGpu(gpuPool.adaptiveAvgPool2DGrad(toGpu(dy), shape)), jsPool.adaptiveAvgPool2DGrad(dy, shape), `${what} grad`);
      }
    }
    expect(checked).toBeGreaterThan(90);
  });

  it('gives 0 for a window wholly in the padding (ceil mode past the edge)', async () => {
    // Not a geometry the op lets through; the kernel still follows the reference's rule.
    const shape = [1, 2, 3, 3];
    const x = kt(shape, 5);
    const a: AvgPool2DAttrs = { kernel: [2, 2], stride: [4, 4], pad: [0, 2, 0, 2], out: [2, 2], countIncludePad: true, divisorOverride: null };
    const e = jsPool.avgPool2D(x, a);
    expect(e.filter((v) => v === 0).length).toBeGreaterThan(0);
    expectNear(await fromGpu(gpuPool.avgPool2D(toGpu(x), a)), e, 'empty windows');
    const dy = kt([1, 2, 2, 2], 6);
    expectNear(await fromGpu(gpuPool.avgPool2DGrad(toGpu(dy), shape, a)), jsPool.avgPool2DGrad(dy, shape, a), 'empty windows grad');
  });
});

describe.skipIf(why !== null)('webgpu LRN against the js reference', () => {
  it('matches forward and gradient for several window sizes and shapes', async () => {
    for (const shape of [[1, 3, 5, 5], [2, 7, 9, 11], [1, 16, 10, 10], [3, 5, 30], [2, 4]]) {
      const x = kt(shape, 11);
      const dy = kt(shape, 12);
      const xg = toGpu(x);
      const dyg = toGpu(dy);
      for (const [size, alpha, beta, k] of [[5, 1e-4, 0.75, 2], [2, 1, 1, 1], [3, 0.5, 0.5, 1.5], [4, 1, 2.25, 1], [1, 1e-3, 0.75, 1], [9, 2, 0.75, 0.5]] as const) {
        const a = { size, alpha, beta, k };
        const what = `[${shape}] size ${size} alpha ${alpha} beta ${beta} k ${k}`;
        expectNear(await fromGpu(gpuLrn.lrn(xg, a)), jsNorm.lrn(x, a), what);
        expectNear(await fromGpu(gpuLrn.lrnGrad(xg, dyg, a)), jsNorm.lrnGrad(x, dy, a), `${what} grad`);
      }
    }
  });
});

describe.skipIf(why !== null)('webgpu pooling through the ops', () => {
  it('runs every pooling and LRN kernel itself, and the ops give the js backend\'s values', async () => {
    const names = ['MaxPool2DWithArgmax', 'MaxPool2D', 'MaxPool2DGrad', 'AvgPool2D', 'AvgPool2DGrad', 'AdaptiveAvgPool2D', 'AdaptiveAvgPool2DGrad', 'AdaptiveMaxPool2D', 'LRN', 'LRNGrad'];
    expect(ck.kernelCoverage('webgpu').own).toEqual(expect.arrayContaining(names));
    const x = ck.randn([2, 3, 11, 9], { seed: 4 });
    const run = () => [
      ck.F.maxPool2d(x, 3, { stride: 2, padding: 1 }),
      ck.F.adaptiveMaxPool2d(x, [4, 5]),
      ck.F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
      ck.F.adaptiveAvgPool2d(x, [4, 5]),
      ck.F.localResponseNorm(x, 3),
    ];
    const want = run().map((t) => t.dataSync() as Float32Array);
    const previous = ck.getBackendName();
    await ck.setBackend('webgpu');
    try {
      const got = (await Promise.all(run().map((t) => t.data()))) as Float32Array[];
      expectIdentical(got[0]!, want[0]!, 'maxPool2d');
      expectIdentical(got[1]!, want[1]!, 'adaptiveMaxPool2d');
      for (const i of [2, 3, 4]) expectNear(got[i]!, want[i]!, `op ${i}`);
    } finally {
      ck.setBackendSync(previous);
    }
  });
});
