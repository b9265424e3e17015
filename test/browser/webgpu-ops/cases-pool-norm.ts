import type { AvgPool2DAttrs, KernelTensor, Window2D } from '../../../src/backend/kernels.js';
import { kt } from '../../../bench/kernel-inputs.js';
import { NEAR, scaled } from './compare.js';
import type { Runner } from './runner.js';

/*
 * Pooling (max with switches and its gradient bit for bit; average and adaptive to float32
 * rounding), LRN, and batch norm (statistics, forward, gradients with batch statistics or
 * fixed, weight or not, fused relu or not), with the tolerances of
 * test/backend/webgpu-{pool,batchnorm}.test.ts.
 */

interface Geo { k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number]; ceil: boolean }

/** Kernels 1-5, strides 1-3, padding, dilation, ceil mode, and the common windows. */
const GEOS: Geo[] = [
  { k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false },
  { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false },
  { k: [3, 3], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true },
  { k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1], ceil: false },
  { k: [5, 2], s: [3, 1], p: [2, 1], d: [1, 1], ceil: true },
  { k: [1, 4], s: [1, 3], p: [0, 2], d: [1, 1], ceil: false },
  { k: [3, 2], s: [2, 2], p: [1, 0], d: [2, 2], ceil: true },
];
const SHAPES = [[1, 3, 9, 11], [2, 3, 17, 23], [2, 2, 8, 70]];

/** PyTorch's pooling_output_shape. */
function outSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

function window(shape: number[], g: Geo): Window2D | null {
  const out = [0, 1].map((a) => outSize(shape[2 + a]!, g.k[a]!, g.s[a]!, g.p[a]!, g.d[a]!, g.ceil)) as [number, number];
  if (out[0] < 1 || out[1] < 1) return null;
  return { kernel: g.k, stride: g.s, pad: [g.p[0], g.p[0], g.p[1], g.p[1]], dilation: g.d, out };
}

/** Quantized values (ties) and zeros of both signs. */
function tied(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  for (let i = 0; i < x.data.length; i++) {
    const u = (i * 2654435761 + seed) % 100;
    if (u < 30) x.data[i] = Math.round(x.data[i]! * 2) / 2;
    else if (u < 36) x.data[i] = -0;
    else if (u < 40) x.data[i] = 0;
  }
  return x;
}

async function maxPool(r: Runner, x: KernelTensor, a: Window2D | [number, number], what: string, seed: number): Promise<void> {
  const adaptive = Array.isArray(a);
  const kernel = adaptive ? 'AdaptiveMaxPool2D' : 'MaxPool2DWithArgmax';
  await r.run(kernel, what, async () => {
    const e = adaptive ? r.js.AdaptiveMaxPool2D(x, a) : r.js.MaxPool2DWithArgmax(x, a);
    const xg = r.up(x);
    const got = adaptive ? r.gpu.AdaptiveMaxPool2D(xg, a) : r.gpu.MaxPool2DWithArgmax(xg, a);
    await r.check(kernel, `${what} output`, got.output, e.output, 'bits');
    await r.check(kernel, `${what} switches`, got.indices, e.indices, 'bits');
    if (!adaptive) await r.check('MaxPool2D', what, r.gpu.MaxPool2D(xg, a), e.output, 'bits');
    const dy = kt([x.shape[0]!, x.shape[1]!, ...(adaptive ? a : a.out)], seed);
    for (let i = 0; i < dy.data.length; i += 9) dy.data[i] = -0;
    await r.check('MaxPool2DGrad', what, r.gpu.MaxPool2DGrad(r.up(dy), r.upInt(e.indices), x.shape), r.js.MaxPool2DGrad(dy, e.indices, x.shape), 'bits');
  });
}

async function pooling(r: Runner): Promise<void> {
  for (const [si, shape] of SHAPES.entries()) {
    const x = tied(shape, 100 + si);
    const xa = kt(shape, 500 + si);
    const [h, w] = [shape[2]!, shape[3]!];
    for (const g of GEOS) {
      const win = window(shape, g);
      if (!win) continue;
      const geo = `[${shape}] k${g.k} s${g.s} p${g.p} d${g.d}${g.ceil ? ' ceil' : ''}`;
      await maxPool(r, x, win, geo, 300 + si);
      if (g.d[0] !== 1 || g.d[1] !== 1) continue;
      for (const [countIncludePad, divisorOverride] of [[true, null], [false, null], [true, 3]] as const) {
        const a: AvgPool2DAttrs = { kernel: win.kernel, stride: win.stride, pad: win.pad, out: win.out, countIncludePad, divisorOverride };
        const what = `${geo} countIncludePad ${countIncludePad} divisor ${divisorOverride}`;
        const dy = kt([shape[0]!, shape[1]!, ...win.out], 700 + si);
        await r.run('AvgPool2D', what, async () => {
          await r.check('AvgPool2D', what, r.gpu.AvgPool2D(r.up(xa), a), r.js.AvgPool2D(xa, a), NEAR);
          await r.check('AvgPool2DGrad', what, r.gpu.AvgPool2DGrad(r.up(dy), shape, a), r.js.AvgPool2DGrad(dy, shape, a), NEAR);
        });
      }
    }
    for (const out of [[1, 1], [2, 3], [h, w], [h + 3, 2], [Math.max(1, h >> 1), Math.max(1, w >> 1)]] as [number, number][]) {
      const what = `[${shape}] adaptive to ${out}`;
      await maxPool(r, x, out, what, 400 + si);
      const dy = kt([shape[0]!, shape[1]!, ...out], 800 + si);
      await r.run('AdaptiveAvgPool2D', what, async () => {
        await r.check('AdaptiveAvgPool2D', what, r.gpu.AdaptiveAvgPool2D(r.up(xa), out), r.js.AdaptiveAvgPool2D(xa, out), NEAR);
        await r.check('AdaptiveAvgPool2DGrad', what, r.gpu.AdaptiveAvgPool2DGrad(r.up(dy), shape), r.js.AdaptiveAvgPool2DGrad(dy, shape), NEAR);
      });
    }
  }
  // A window wholly in the padding: -inf and switch -1, which routes no gradient.
  const a: Window2D = { kernel: [2, 2], stride: [1, 1], pad: [2, 2, 2, 2], dilation: [4, 4], out: [1, 1] };
  await maxPool(r, kt([1, 2, 1, 1], 3), a, 'a window in the padding only', 4);
}

async function lrn(r: Runner): Promise<void> {
  for (const shape of [[1, 3, 5, 5], [2, 7, 9, 11], [3, 5, 30], [2, 4]]) {
    const x = kt(shape, 11);
    const dy = kt(shape, 12);
    for (const [size, alpha, beta, k] of [[5, 1e-4, 0.75, 2], [2, 1, 1, 1], [4, 1, 2.25, 1], [9, 2, 0.75, 0.5]] as const) {
      const a = { size, alpha, beta, k };
      const what = `[${shape}] size ${size} alpha ${alpha} beta ${beta} k ${k}`;
      await r.run('LRN', what, async () => {
        await r.check('LRN', what, r.gpu.LRN(r.up(x), a), r.js.LRN(x, a), NEAR);
        await r.check('LRNGrad', what, r.gpu.LRNGrad(r.up(x), r.up(dy), a), r.js.LRNGrad(x, dy, a), NEAR);
      });
    }
  }
}

/** Channel ch scaled by 1 + ch and shifted by offset * ch, exact zeros of both signs every 29th element (wasm-helpers' channelOffsetInput). */
function channelOffset(shape: number[], seed: number, offset: number): KernelTensor {
  const x = kt(shape, seed);
  const c = shape[1]!;
  const inner = x.data.length / (shape[0]! * c);
  for (let i = 0; i < x.data.length; i++) {
    const ch = Math.floor(i / inner) % c;
    x.data[i] = i % 29 === 0 ? (i % 2 ? -0 : 0) : x.data[i]! * (1 + ch) + offset * ch;
  }
  return x;
}

/** One value per channel, short channels (one thread each) and long ones (chunks, then a merge). */
const BN_SHAPES = [[64, 10], [1, 5], [2, 3, 5, 7], [4, 5, 17, 17], [300, 3], [4, 3000], [16, 1, 40, 40]];

async function batchNorm(r: Runner): Promise<void> {
  for (const shape of BN_SHAPES) {
    const c = shape[1]!;
    for (const offset of [3, 1e4]) {
      const what = `[${shape}] offset ${offset}`;
      await r.run('BatchNormStats', what, async () => {
        const x = channelOffset(shape, 3, offset);
        for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i]! + offset / 2;
        const want = r.js.BatchNormStats(x);
        const got = r.gpu.BatchNormStats(r.up(x));
        await r.check('BatchNormStats', `${what} mean`, got.mean, want.mean, { rtol: 1e-5, atol: 1e-30 });
        await r.check('BatchNormStats', `${what} variance`, got.variance, want.variance, { rtol: 1e-5, atol: 1e-30 });
      });
    }
    const x = channelOffset(shape, 11, 3);
    const st = r.js.BatchNormStats(x);
    const m = { data: st.mean, shape: [c] }, v = { data: st.variance, shape: [c] };
    const w = kt([c], 12), b = kt([c], 13);
    for (const [weight, bias] of [[null, null], [w, b], [w, null], [null, b]] as const) {
      for (const act of ['none', 'relu'] as const) {
        const what = `[${shape}]${weight ? ' weight' : ''}${bias ? ' bias' : ''} ${act}`;
        await r.run('BatchNorm', what, () =>
          r.check('BatchNorm', what, r.gpu.BatchNorm(r.up(x), r.up(m), r.up(v), weight && r.up(weight), bias && r.up(bias), 1e-5, act), r.js.BatchNorm(x, m, v, weight, bias, 1e-5, act), scaled(1e-5, 1e-6)));
      }
    }
    const dy = kt(shape, 6);
    const y = kt(shape, 23);
    for (let i = 0; i < y.data.length; i++) y.data[i] = i % 13 === 0 ? -0 : Math.max(0, y.data[i]!);
    for (const weight of [null, w]) {
      for (const batch of [true, false]) {
        for (const relu of [false, true]) {
          const what = `[${shape}]${weight ? ' weight' : ''} ${batch ? 'batch' : 'fixed'} statistics${relu ? ' relu' : ''}`;
          await r.run('BatchNormGrad', what, async () => {
            const want = r.js.BatchNormGrad(x, dy, m, v, weight, 1e-5, batch, relu ? y : null);
            const got = r.gpu.BatchNormGrad(r.up(x), r.up(dy), r.up(m), r.up(v), weight && r.up(weight), 1e-5, batch, relu ? r.up(y) : null);
            await r.check('BatchNormGrad', `${what} dx`, got.dx, want.dx, scaled(1e-4, 1e-5));
            await r.check('BatchNormGrad', `${what} dweight`, got.dweight, want.dweight, scaled(1e-4, 1e-5));
            await r.check('BatchNormGrad', `${what} dbias`, got.dbias, want.dbias, scaled(1e-4, 1e-5));
          });
        }
      }
    }
  }
}

export async function poolNormCases(r: Runner): Promise<void> {
  await pooling(r);
  await lrn(r);
  await batchNorm(r);
}
