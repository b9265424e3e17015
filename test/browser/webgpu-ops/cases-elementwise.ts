import type { BinaryOp, KernelTensor, NamedUnaryOp, ReduceOp } from '../../../src/backend/kernels.js';
import { POINTWISE_OPS } from '../../../src/ops/pointwise/all.js';
import { paramValue } from '../../../src/ops/pointwise/declare.js';
import { kt } from '../../../bench/kernel-inputs.js';
import { SAME, scaled } from './compare.js';
import type { Runner } from './runner.js';

/*
 * Unary/UnaryGrad (named ops and every declared pointwise formula), Binary with broadcasting and
 * the relu epilogue, Reduce, ReluGradChannelSum, Clamp, Softplus, PRelu and their gradients,
 * with the tolerances of test/backend/webgpu-{unary,pointwise,elementwise}.test.ts. No NaN or
 * infinities in the inputs: WGSL does not promise IEEE behaviour for them.
 */

const NAMED: NamedUnaryOp[] = ['relu', 'softplus', 'exp', 'neg', 'abs', 'square', 'log', 'sqrt', 'reciprocal'];
const POSITIVE: NamedUnaryOp[] = ['log', 'sqrt', 'reciprocal'];

/** Both tails, the kinks and their neighbours, as webgpu-pointwise tests the formulas. */
function pointwiseInputs(kinks: readonly number[]): Float32Array {
  const v: number[] = [];
  for (let i = 0; i <= 300; i++) v.push(-30 + (60 * i) / 300);
  for (const k of [0, ...kinks]) for (const e of [0, 1e-6, -1e-6, 1e-3, -1e-3, 0.05, -0.05]) v.push(k + e);
  for (const s of [1e-7, 1e-4, 0.01, 0.3, 1, 3, 9, 20, 25, 100, 1e4]) v.push(s, -s);
  for (const x of kt([200], 3).data) v.push(x * 4);
  return Float32Array.from(v);
}

async function unary(r: Runner): Promise<void> {
  for (const op of NAMED) {
    for (const shape of [[1], [3, 5, 17], [2, 3, 40, 41]]) {
      await r.run('Unary', `${op} [${shape}]`, async () => {
        const x = kt(shape, 3);
        if (POSITIVE.includes(op)) for (let i = 0; i < x.data.length; i++) x.data[i] = Math.abs(x.data[i]!) + 0.1;
        const dy = kt(shape, 4);
        const y = r.js.Unary(x, op, 0);
        await r.check('Unary', `${op} [${shape}]`, r.gpu.Unary(r.up(x), op, 0), y, SAME);
        const yt = { data: y, shape };
        await r.check('UnaryGrad', `${op} [${shape}]`, r.gpu.UnaryGrad(r.up(x), r.up(yt), r.up(dy), op, 0), r.js.UnaryGrad(x, yt, dy, op, 0), SAME);
      });
    }
  }
  for (const d of POINTWISE_OPS) {
    const data = pointwiseInputs(d.kinks ?? []);
    const shape = [data.length];
    const x = { data, shape };
    const dy = kt(shape, 5);
    const params = d.param ? [d.param.default, ...(d.param.samples ?? []).slice(0, 1)].map((v) => paramValue(d, v)) : [0];
    for (const a of params) {
      await r.run('Unary', `${d.name} a=${a}`, async () => {
        const y = r.js.Unary(x, d, a);
        await r.check('Unary', `${d.name} a=${a}`, r.gpu.Unary(r.up(x), d, a), y, { rtol: 2e-5, atol: 1e-14 });
        const yt = { data: y, shape };
        await r.check('UnaryGrad', `${d.name} a=${a}`, r.gpu.UnaryGrad(r.up(x), r.up(yt), r.up(dy), d, a), r.js.UnaryGrad(x, yt, dy, d, a), { rtol: 2e-5, atol: 1e-7 });
      });
    }
  }
}

const OPS: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'];
const EXACT: BinaryOp[] = ['add', 'sub', 'mul', 'maximum', 'minimum'];
const PAIRS: [number[], number[]][] = [
  [[2, 3, 17, 19], [2, 3, 17, 19]],
  [[], [3, 5]],
  [[2, 3, 5, 7], [7]],
  [[1, 3, 1, 1], [2, 3, 5, 7]],
  [[2, 1, 5, 1], [1, 3, 1, 7]],
  [[300, 1], [1, 300]],
];

function broadcastShape(a: number[], b: number[]): number[] {
  const nd = Math.max(a.length, b.length);
  return Array.from({ length: nd }, (_, i) => {
    const da = a[i - nd + a.length] ?? 1;
    return da === 1 ? (b[i - nd + b.length] ?? 1) : da;
  });
}

async function binary(r: Runner): Promise<void> {
  for (const op of OPS) {
    for (const [sa, sb] of PAIRS) {
      const what = `${op} [${sa}] [${sb}]`;
      await r.run('Binary', what, async () => {
        const a = kt(sa, 11);
        const b = kt(sb, 12);
        if (op === 'pow') {
          for (let i = 0; i < a.data.length; i++) a.data[i] = (i % 3 === 0 ? -1 : 1) * (Math.abs(a.data[i]!) * 3 + 0.1);
          for (let i = 0; i < b.data.length; i++) b.data[i] = i % 2 === 0 ? Math.round(b.data[i]! * 5) : b.data[i]! * 3;
        } else if (op === 'div') for (let i = 0; i < b.data.length; i++) b.data[i] = b.data[i]! + (b.data[i]! < 0 ? -0.25 : 0.25);
        for (let i = 0; i < Math.min(a.data.length, b.data.length); i += 5) a.data[i] = b.data[i]!;
        const out = broadcastShape(sa, sb);
        for (const act of ['none', 'relu'] as const) {
          const tol = EXACT.includes(op) ? 'bits' : op === 'pow' ? { rtol: 2e-5, atol: 1e-6 } : { rtol: 3e-7, atol: 0 };
          await r.check('Binary', `${what} ${act}`, r.gpu.Binary(r.up(a), r.up(b), op, out, act), r.js.Binary(a, b, op, out, act), tol);
        }
      });
    }
  }
}

async function reduce(r: Runner): Promise<void> {
  const cases: [number[], number[][]][] = [
    [[2, 3, 5, 7], [[], [0], [1], [3], [0, 2, 3], [1, 2], [0, 1, 2, 3]]],
    [[3, 130, 2, 9], [[1], [0, 2, 3]]],
    [[100_001], [[0]]],
    [[900, 200], [[1], [0]]],
  ];
  for (const [shape, axesList] of cases) {
    const x = kt(shape, 5);
    for (const axes of axesList) {
      for (const op of ['sum', 'mean', 'max', 'min'] as ReduceOp[]) {
        const what = `${op} [${shape}] over [${axes}]`;
        const count = axes.reduce((s, a) => s * shape[a]!, 1);
        const tol = op === 'max' || op === 'min' ? 'bits' : { rtol: 1e-5, atol: (4e-6 * Math.sqrt(count)) / (op === 'mean' ? count : 1) };
        await r.run('Reduce', what, () => r.check('Reduce', what, r.gpu.Reduce(r.up(x), axes, op), r.js.Reduce(x, axes, op), tol));
      }
    }
  }
  for (const shape of [[2, 3, 5, 7], [4, 5], [8, 32, 17, 9]]) {
    await r.run('ReluGradChannelSum', `[${shape}]`, async () => {
      const y = kt(shape, 21);
      for (let i = 0; i < y.data.length; i += 7) y.data[i] = i % 2 ? 0 : -0;
      const dy = kt(shape, 22);
      const want = r.js.ReluGradChannelSum(y, dy);
      const got = r.gpu.ReluGradChannelSum(r.up(y), r.up(dy));
      await r.check('ReluGradChannelSum', `grad [${shape}]`, got.grad, want.grad, 'bits');
      const count = y.data.length / shape[1]!;
      await r.check('ReluGradChannelSum', `sum [${shape}]`, got.sum, want.sum, { rtol: 1e-5, atol: 1e-6 * Math.sqrt(count) });
    });
  }
}

/** Values over [-30, 30) with the bounds themselves present. */
function wide(shape: number[], seed: number, special: number[]): KernelTensor {
  const x = kt(shape, seed);
  for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i]! * 30;
  special.forEach((v, k) => (x.data[(k * 37) % x.data.length] = v));
  return x;
}

async function activations(r: Runner): Promise<void> {
  for (const [lo, hi] of [[-1, 1], [0.1, 0.3], [-Infinity, 2], [5, -5]] as [number, number][]) {
    await r.run('Clamp', `[${lo}, ${hi}]`, async () => {
      const shape = [3, 7, 41];
      const x = wide(shape, 3, [lo, hi, Math.fround(lo), Math.fround(hi), 0, -0].filter(Number.isFinite));
      const dy = kt(shape, 4);
      await r.check('Clamp', `[${lo}, ${hi}]`, r.gpu.Clamp(r.up(x), lo, hi), r.js.Clamp(x, lo, hi), 'bits');
      for (const inc of [true, false]) {
        await r.check('ClampGrad', `[${lo}, ${hi}] inclusive ${inc}`, r.gpu.ClampGrad(r.up(x), r.up(dy), lo, hi, inc), r.js.ClampGrad(x, dy, lo, hi, inc), 'bits');
      }
    });
  }
  for (const [beta, threshold] of [[1, 20], [3, 5], [1, Infinity]] as const) {
    await r.run('Softplus', `beta ${beta} threshold ${threshold}`, async () => {
      const shape = [2, 5, 101];
      const x = wide(shape, 5, [threshold / beta, 0, -30, 30].filter(Number.isFinite));
      const dy = kt(shape, 6);
      const tol = { rtol: 1e-5, atol: 1e-30 };
      await r.check('Softplus', `beta ${beta} threshold ${threshold}`, r.gpu.Softplus(r.up(x), beta, threshold), r.js.Softplus(x, beta, threshold), tol);
      await r.check('SoftplusGrad', `beta ${beta} threshold ${threshold}`, r.gpu.SoftplusGrad(r.up(x), r.up(dy), beta, threshold), r.js.SoftplusGrad(x, dy, beta, threshold), tol);
    });
  }
  for (const [shape, nw] of [[[2, 3, 5, 7], 3], [[2, 3, 5, 7], 1], [[4, 6], 6], [[32, 8, 20, 20], 8]] as [number[], number][]) {
    await r.run('PRelu', `[${shape}] w ${nw}`, async () => {
      const x = kt(shape, 7);
      for (let i = 0; i < x.data.length; i += 9) x.data[i] = 0;
      const w = kt([nw], 8);
      const dy = kt(shape, 9);
      await r.check('PRelu', `[${shape}] w ${nw}`, r.gpu.PRelu(r.up(x), r.up(w)), r.js.PRelu(x, w), 'bits');
      const want = r.js.PReluGrad(x, w, dy);
      const got = r.gpu.PReluGrad(r.up(x), r.up(w), r.up(dy));
      await r.check('PReluGrad', `[${shape}] w ${nw} dx`, got.dx, want.dx, 'bits');
      await r.check('PReluGrad', `[${shape}] w ${nw} dw`, got.dw, want.dw, { rtol: 1e-5, atol: 1e-6 * Math.sqrt(x.data.length / nw) });
    });
  }
}

export async function elementwiseCases(r: Runner): Promise<void> {
  await unary(r);
  await binary(r);
  await reduce(r);
  await activations(r);
}
