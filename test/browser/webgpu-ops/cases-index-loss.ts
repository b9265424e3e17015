import type { KernelTensor, Pad2DMode, Pads2D } from '../../../src/backend/kernels.js';
import { awkward, kt } from '../../../bench/kernel-inputs.js';
import { scaled } from './compare.js';
import type { Runner } from './runner.js';

/*
 * Softmax and log-softmax with their gradients, NLL and multi-margin losses with theirs, ArgMax,
 * TopK, Gather, GatherGrad, Pad2D and Pad2DGrad in every mode, with the tolerances of
 * test/backend/webgpu-{softmax-loss,index-pad}.test.ts: the kernels that only compare, copy or
 * add in the reference's order give the same bits (NaN, infinities and signed zeros are in
 * their inputs: they move values as bits); the others agree to float32 rounding.
 */

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Lcg integers below n. */
function ints(count: number, n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  });
}

/** Logits over a wide range with a few very large ones (the max shift matters). */
function logits(shape: number[], seed: number): KernelTensor {
  const x = kt(shape, seed);
  for (let i = 0; i < x.data.length; i++) x.data[i] = i % 37 === 3 ? 300 : i % 41 === 5 ? -300 : x.data[i]! * 20;
  return x;
}

/** Rows contiguous or strided, short and long (one thread or one workgroup per row). */
const SOFTMAX: [number[], number][] = [
  [[64, 10], 1], [[1, 1000], 1], [[33, 17], 0], [[4, 21, 17, 17], 1], [[64, 1], 1], [[2, 7, 13], 2], [[6, 5, 4, 3], 0], [[2, 1000, 3], 1], [[65, 130], 1],
];

async function softmax(r: Runner): Promise<void> {
  for (const [shape, axis] of SOFTMAX) {
    const what = `[${shape}] axis ${axis}`;
    const x = logits(shape, 3);
    const dy = kt(shape, 4);
    await r.run('Softmax', what, async () => {
      const y = { data: r.js.Softmax(x, axis), shape };
      const ly = { data: r.js.LogSoftmax(x, axis), shape };
      await r.check('Softmax', what, r.gpu.Softmax(r.up(x), axis), y.data, scaled(1e-5, 1e-6));
      await r.check('LogSoftmax', what, r.gpu.LogSoftmax(r.up(x), axis), ly.data, scaled(1e-5, 1e-6));
      await r.check('SoftmaxGrad', what, r.gpu.SoftmaxGrad(r.up(y), r.up(dy), axis), r.js.SoftmaxGrad(y, dy, axis), scaled(1e-4, 1e-5));
      await r.check('LogSoftmaxGrad', what, r.gpu.LogSoftmaxGrad(r.up(ly), r.up(dy), axis), r.js.LogSoftmaxGrad(ly, dy, axis), scaled(1e-4, 1e-5));
    });
  }
}

async function losses(r: Runner): Promise<void> {
  for (const shape of [[64, 10], [7], [4, 5, 3, 3], [1, 1000], [5, 1]]) {
    const c = shape.length === 1 ? shape[0]! : shape[1]!;
    const count = shape.length === 1 ? 1 : size(shape) / c;
    const x = kt(shape, 5);
    const w = kt([c], 6);
    const positions = shape.length === 1 ? [1] : [shape[0]!, ...shape.slice(2)];
    const dy = kt(positions, 7);
    for (const ignore of [-100, 0]) {
      const t = ints(count, c, 11).map((v, i) => (i % 5 === 2 ? ignore : v));
      for (const weight of [null, w]) {
        const what = `[${shape}] ignoreIndex ${ignore}${weight ? ' weight' : ''}`;
        await r.run('NllLoss', what, async () => {
          await r.check('NllLoss', what, r.gpu.NllLoss(r.up(x), r.upInt(t), weight && r.up(weight), ignore), r.js.NllLoss(x, t, weight, ignore), 'bits');
          await r.check('NllLossGrad', what, r.gpu.NllLossGrad(r.up(dy), r.upInt(t), weight && r.up(weight), ignore, shape), r.js.NllLossGrad(dy, t, weight, ignore, shape), 'bits');
        });
      }
    }
  }
  for (const shape of [[64, 10], [1, 1000], [5, 1], [10], [33, 129]]) {
    const c = shape[shape.length - 1]!;
    const n = shape.length === 1 ? 1 : shape[0]!;
    const x = kt(shape, 8);
    const t = ints(n, c, 13);
    const dy = kt([n], 9);
    const w = kt([c], 10);
    for (const p of [1, 2] as const) {
      for (const margin of [1, 0.3]) {
        for (const weight of [null, w]) {
          const what = `[${shape}] p ${p} margin ${margin}${weight ? ' weight' : ''}`;
          await r.run('MultiMarginLoss', what, async () => {
            await r.check('MultiMarginLoss', what, r.gpu.MultiMarginLoss(r.up(x), r.upInt(t), p, margin, weight && r.up(weight)), r.js.MultiMarginLoss(x, t, p, margin, weight), scaled(1e-5, 1e-6));
            await r.check('MultiMarginLossGrad', what, r.gpu.MultiMarginLossGrad(r.up(x), r.upInt(t), r.up(dy), p, margin, weight && r.up(weight)), r.js.MultiMarginLossGrad(x, t, dy, p, margin, weight), scaled(1e-5, 1e-6));
          });
        }
      }
    }
  }
}


/** Finite gradients whose sums round differently in another order. */
const roundingDy = (shape: number[], seed: number): KernelTensor => ({ data: Float32Array.from(kt(shape, seed).data, (v) => v * 1e4 + 0.1), shape });

const INDEX_SHAPES = [[9], [5, 1], [4, 7], [2, 3, 4, 5], [3, 37, 41], [6, 1000]];

async function indexOps(r: Runner): Promise<void> {
  for (const [si, shape] of INDEX_SHAPES.entries()) {
    const x = awkward(shape, 10 + si);
    for (let axis = 0; axis < shape.length; axis++) {
      const n = shape[axis]!;
      const at = `[${shape}] axis ${axis}`;
      await r.run('ArgMax', at, () => r.check('ArgMax', at, r.gpu.ArgMax(r.up(x), axis), r.js.ArgMax(x, axis), 'bits'));
      // 16 is the last k of the one-thread-per-row selection, 17 the first of the rank path.
      for (const k of [...new Set([0, 1, 3, 16, 17, n].filter((k) => k <= n))]) {
        for (const largest of [true, false]) {
          const what = `${at} k ${k} ${largest ? 'largest' : 'smallest'}`;
          await r.run('TopK', what, async () => {
            const e = r.js.TopK(x, k, axis, largest);
            const got = r.gpu.TopK(r.up(x), k, axis, largest);
            await r.check('TopK', `${what} values`, got.values, e.values, 'bits');
            await r.check('TopK', `${what} indices`, got.indices, e.indices, 'bits');
          });
        }
      }
      for (const variant of [0, 1, 2]) {
        const len = variant === 2 ? 20 + n : 1 + ((n * 3 + variant) % 5);
        const ishape = shape.map((d, i) => (i === axis ? len : variant === 1 ? Math.max(1, d - 1) : d));
        const index = ints(size(ishape), n, 70 + si + axis);
        const what = `${at} index [${ishape}]`;
        const dy = roundingDy(ishape, 90 + si);
        await r.run('Gather', what, async () => {
          await r.check('Gather', what, r.gpu.Gather(r.up(x), axis, r.upInt(index), ishape), r.js.Gather(x, axis, index, ishape), 'bits');
          await r.check('GatherGrad', what, r.gpu.GatherGrad(r.up(dy), axis, r.upInt(index), shape), r.js.GatherGrad(dy, axis, index, shape), 'bits');
        });
      }
    }
  }
}

const PAD_SHAPES = [[1, 1], [3, 4], [1, 1, 5, 1], [2, 3, 5, 7], [2, 2, 3, 33], [2, 4, 31, 29]];
const MODES: Pad2DMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/** Pads per side allowed in `mode` for h x w (PyTorch's limits); constant also crops. */
function padSets(mode: Pad2DMode, h: number, w: number): Pads2D[] {
  const most = (s: number) => (mode === 'reflect' ? s - 1 : mode === 'circular' ? s : 4);
  const mh = most(h), mw = most(w);
  const sets: Pads2D[] = [[1, 1, 1, 1], [mh, 0, 0, mw], [Math.min(2, mh), Math.min(1, mh), Math.min(3, mw), Math.min(2, mw)], [mh, mh, mw, mw]];
  if (mode === 'replicate') sets.push([2 * h + 1, 0, 1, 3 * w]);
  if (mode === 'constant') sets.push([-1, 0, 2, -1], [0, -Math.max(0, h - 1), -Math.max(0, w - 1), 0], [2, -1, -1, 3]);
  return sets.filter((p) => p.every((v) => v >= (mode === 'constant' ? -Infinity : 0)) && h + p[0] + p[1] >= 1 && w + p[2] + p[3] >= 1);
}

/** x with NaN, +-Infinity, -0 and ties at every 5th element from the 3rd (wasm-exact's withSpecials). */
function withSpecials(data: Float32Array, every = 5): Float32Array {
  const out = data.slice();
  const specials = [NaN, Infinity, -Infinity, -0, 0, 0.5, -0.5];
  for (let i = 3; i < out.length; i += every) out[i] = specials[(i / every) % specials.length | 0]!;
  return out;
}

async function pad(r: Runner): Promise<void> {
  for (const [si, shape] of PAD_SHAPES.entries()) {
    const x = { data: withSpecials(kt(shape, 10 + si).data), shape };
    const h = shape[shape.length - 2]!, w = shape[shape.length - 1]!;
    for (const mode of MODES) {
      for (const pads of padSets(mode, h, w)) {
        const what = `[${shape}] ${mode} [${pads}]`;
        const outShape = [...shape.slice(0, -2), h + pads[0] + pads[1], w + pads[2] + pads[3]];
        const dy = roundingDy(outShape, 30 + si);
        await r.run('Pad2D', what, async () => {
          for (const value of mode === 'constant' ? [2.5, -0] : [0]) {
            await r.check('Pad2D', `${what} fill ${value}`, r.gpu.Pad2D(r.up(x), pads, mode, value), r.js.Pad2D(x, pads, mode, value), 'bits');
          }
          await r.check('Pad2DGrad', what, r.gpu.Pad2DGrad(r.up(dy), pads, mode, shape), r.js.Pad2DGrad(dy, pads, mode, shape), 'bits');
        });
      }
    }
  }
}

export async function indexLossCases(r: Runner): Promise<void> {
  await softmax(r);
  await losses(r);
  await indexOps(r);
  await pad(r);
}
