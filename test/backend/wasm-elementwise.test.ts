import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { BinaryOp, KernelTensor, ReduceOp, UnaryOp } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/elementwise.js';
import * as wasm from '../../src/backend/wasm/elementwise.js';
import { MIN_ELEMENTS, MIN_TRANSCENDENTAL } from '../../src/backend/wasm/elementwise.js';
import { reduce as wasmReduce } from '../../src/backend/wasm/planes.js';
import { bothPaths, kt, workersReady } from './wasm-helpers.js';
import { POINTWISE_OPS } from '../../src/ops/pointwise/all.js';
import type { PointwiseDeclaration } from '../../src/ops/pointwise/declare.js';

/*
 * Unary, UnaryGrad, Binary and Reduce on wasm (assembly/elementwise.ts, unary.ts, broadcast.ts,
 * reduce.ts) against the js reference. The wasm kernels evaluate the reference's float64
 * expressions with their own exp/log (a few float64 ulps), so float32 results agree to the last
 * bit but for rare ties: the tolerance is 2 float32 ulps (rtol 2.4e-7), and NaN, infinities and
 * the sign of zero must match exactly.
 */

const NAMED: UnaryOp[] = ['relu', 'softplus', 'exp', 'log', 'neg', 'abs', 'sqrt', 'square', 'reciprocal'];
/** Every unary op: the named ones and the declared pointwise ops (src/ops/pointwise/table.ts). */
const UNARY: [string, UnaryOp][] = [...NAMED.map((op): [string, UnaryOp] => [op as string, op]), ...POINTWISE_OPS.map((d): [string, UnaryOp] => [d.name, d])];
/** The formulas' parameter values tried: a numeric parameter's spread, a choice's indices. */
function alphas(op: UnaryOp): number[] {
  const param = typeof op === 'string' ? undefined : (op as PointwiseDeclaration).param;
  if (!param) return [1];
  return param.choices ? param.choices.map((_, i) => i) : [0.01, 0.7, 1.5];
}
const byName = (name: string): UnaryOp => UNARY.find(([n]) => n === name)![1];
const SIZES = [5, 1000, 1023, 1024, 4095, 4099, 70001];
const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30, 1e-40, -1e-40, 88, 89, -88, -104, -110, 20, 20.5, 19.9, 1e-8, -1e-8, 3e38, -3e38, 1, -1, 0.5];

/** Values over several scales (uniform, x10, x100, tiny), with the special values sprinkled in. */
function input(n: number, seed: number): KernelTensor {
  const x = kt([n], seed);
  for (let i = 0; i < n; i++) {
    const k = i % 7;
    if (k === 1) x.data[i] = x.data[i]! * 10;
    else if (k === 2) x.data[i] = x.data[i]! * 100;
    else if (k === 3) x.data[i] = x.data[i]! * 1e-5;
    if (i % 13 === 0) x.data[i] = SPECIAL[(i / 13) % SPECIAL.length]!;
  }
  return x;
}

/** Same NaN-ness, infinities and zero signs; finite values within `ulps` float32 ulps (relative). */
function expectUlps(actual: Float32Array, expected: Float32Array, what: string, rtol = 2.4e-7): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const ok = Number.isFinite(e) && Number.isFinite(a) && e !== 0 && Math.abs(a - e) <= rtol * Math.abs(e);
    if (!ok) throw new Error(`${what}: element ${i} is ${Object.is(a, -0) ? '-0' : a}, expected ${Object.is(e, -0) ? '-0' : e}`);
  }
}

describe('wasm Unary and UnaryGrad against the js reference', () => {
  it('has its worker threads and runs Unary, UnaryGrad, Binary and Reduce itself', async () => {
    expect(await workersReady()).toBeGreaterThanOrEqual(1);
    expect(ck.kernelCoverage('wasm').own).toEqual(expect.arrayContaining(['Unary', 'UnaryGrad', 'Binary', 'Reduce']));
    expect(SIZES.some((n) => n < MIN_TRANSCENDENTAL) && SIZES.some((n) => n >= MIN_ELEMENTS)).toBe(true);
  });

  it.each(UNARY)('%s: forward and gradient over sizes, special values, threaded or not', (name, op) => {
    for (const n of SIZES) {
      for (const alpha of alphas(op)) {
        const x = input(n, n + 1);
        const what = `${name} n=${n} alpha=${alpha}`;
        const e = js.unary(x, op, alpha);
        const r = bothPaths(() => wasm.unary(x, op, alpha));
        expectUlps(r.threaded, e, what);
        expectUlps(r.single, e, `${what} (one thread)`);
        const y = { data: e, shape: x.shape };
        const dy = kt([n], n + 2);
        for (let i = 5; i < n; i += 97) dy.data[i] = [NaN, Infinity, -0, -3][(i / 97) % 4 | 0]!;
        const ge = js.unaryGrad(x, y, dy, op, alpha);
        const g = bothPaths(() => wasm.unaryGrad(x, y, dy, op, alpha));
        expectUlps(g.threaded, ge, `${what} grad`);
        expectUlps(g.single, ge, `${what} grad (one thread)`);
      }
    }
  });

  it('exp, log, tanh and sigmoid are exact to the float32 rounding on a dense sweep', () => {
    const n = 200001;
    const x = { data: new Float32Array(n), shape: [n] };
    for (let i = 0; i < n; i++) x.data[i] = -90 + (180 * i) / (n - 1);
    let differ = 0;
    for (const name of ['exp', 'tanh', 'sigmoid', 'elu', 'softplus']) {
      const op = byName(name);
      const e = js.unary(x, op, 1);
      const r = wasm.unary(x, op, 1);
      expectUlps(r, e, name, 1.2e-7);
      for (let i = 0; i < n; i++) if (!Object.is(r[i], e[i])) differ++;
    }
    const pos = { data: x.data.map((v) => Math.abs(v) * 1e3 + 1e-30), shape: [n] };
    const l = wasm.unary(pos, 'log', 0);
    const le = js.unary(pos, 'log', 0);
    expectUlps(l, le, 'log', 1.2e-7);
    for (let i = 0; i < n; i++) if (!Object.is(l[i], le[i])) differ++;
    // float64 accuracy: a differing last bit needs an exact value within ~1e-15 of a tie.
    expect(differ).toBeLessThan(3);
  });
});

/** [a shape, b shape] pairs: NCHW with per-channel [1, C, 1, 1], rows, columns, scalars, both sides broadcast. */
const BROADCAST: [number[], number[]][] = [
  [[32, 64, 8, 8], [1, 64, 1, 1]], [[1, 64, 1, 1], [16, 64, 8, 8]], [[3, 7, 17, 17], [1, 7, 1, 1]], [[2, 5, 9, 11], [5, 1, 1]],
  [[64, 100], [100]], [[64, 100], [64, 1]], [[64, 1], [1, 100]], [[4096], [1]], [[1], [5001]], [[8, 1, 30], [1, 20, 1]],
  [[2, 3, 4, 5, 6, 7], [3, 1, 5, 1, 7]], [[16, 16, 17], [16, 16, 17]], [[5, 3], [3]], [[8, 64, 16, 16], [8, 64, 1, 1]], [[2, 1, 1, 7, 1, 9, 1, 3], [4, 1, 7, 9, 1, 3]],
];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];

function outShape(a: number[], b: number[]): number[] {
  const nd = Math.max(a.length, b.length);
  return Array.from({ length: nd }, (_, i) => Math.max(a[a.length - nd + i] ?? 1, b[b.length - nd + i] ?? 1));
}

describe('wasm Binary against the js reference', () => {
  it.each(BINARY)('%s over broadcasting shapes, with relu or not, threaded or not', (op) => {
    BROADCAST.forEach(([sa, sb], k) => {
      const a = input(sa.reduce((p, d) => p * d, 1), 10 + k);
      const b = input(sb.reduce((p, d) => p * d, 1), 20 + k);
      if (op === 'pow') {
        // Bases negative and positive; integer, half-integer and fractional exponents.
        b.data.forEach((v, i) => { if (i % 3 === 0) b.data[i] = Math.round(v); else if (i % 3 === 1) b.data[i] = Math.round(v * 2) / 2; });
      }
      const A = { data: a.data, shape: sa }, B = { data: b.data, shape: sb };
      const os = outShape(sa, sb);
      for (const act of ['none', 'relu'] as const) {
        const what = `${op} [${sa}] [${sb}] ${act}`;
        const e = js.binary(A, B, op, os, act);
        const r = bothPaths(() => wasm.binary(A, B, op, os, act));
        expectUlps(r.threaded, e, what, op === 'pow' ? 1e-6 : 0);
        expectUlps(r.single, e, `${what} (one thread)`, op === 'pow' ? 1e-6 : 0);
      }
    });
  });

  it('pow follows Math.pow on special bases and exponents', () => {
    const vals = [0, -0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 1.5, Infinity, -Infinity, NaN, 1e-40, 1e30, -1e30, 10, 0.1];
    const n = vals.length;
    const a = new Float32Array(n * n * 12), b = new Float32Array(n * n * 12);
    for (let i = 0; i < a.length; i++) { a[i] = vals[Math.floor(i / n) % n]!; b[i] = vals[i % n]!; }
    const A = { data: a, shape: [a.length] }, B = { data: b, shape: [b.length] };
    expectUlps(wasm.binary(A, B, 'pow', [a.length]), js.binary(A, B, 'pow', [a.length]), 'pow specials', 1e-6);
  });
});

/** Shapes with axis sets: contiguous, not contiguous, innermost kept or reduced, everything. */
const REDUCE: [number[], number[]][] = [
  [[64, 64, 8, 8], [0, 2, 3]], [[64, 64, 8, 8], [2, 3]], [[64, 64, 8, 8], [1]], [[64, 64, 8, 8], [0, 1, 2, 3]], [[8, 9, 10, 11], [0, 2]],
  [[8, 9, 10, 11], [1, 3]], [[8, 9, 10, 11], [0, 3]], [[64, 100], [0]], [[64, 100], [1]], [[3, 1, 1000, 5], [2]], [[100, 1, 77], [0, 1]],
  [[2, 3, 4, 5, 6, 7], [0, 2, 4]], [[2, 3, 4, 5, 6, 7], [1, 3, 5]], [[4096, 3], [0]], [[5, 1300], [0]], [[7, 9], [0]],
];
const REDUCE_OPS: ReduceOp[] = ['sum', 'mean', 'max', 'min'];

describe('wasm Reduce against the js reference', () => {
  it.each(REDUCE_OPS)('%s over axis sets, threaded or not', (op) => {
    REDUCE.forEach(([shape, axes], k) => {
      const x = kt(shape, 30 + k);
      // Ties and zeros of both signs (max/min keep the first), and a NaN in some rows.
      for (let i = 0; i < x.data.length; i++) {
        if (i % 5 === 0) x.data[i] = Math.round(x.data[i]! * 2) / 2;
        if (i % 11 === 0) x.data[i] = i % 2 ? -0 : 0;
        if (i % 9973 === 7) x.data[i] = NaN;
      }
      const what = `${op} [${shape}] axes [${axes}]`;
      const e = js.reduce(x, axes, op);
      const r = bothPaths(() => wasmReduce(x, axes, op));
      const rtol = op === 'sum' || op === 'mean' ? 2.4e-7 : 0;
      expectUlps(r.threaded, e, what, rtol);
      expectUlps(r.single, e, `${what} (one thread)`, rtol);
    });
  });

  it('max and min of all-zero rows keep the sign of the first zero', () => {
    const x = { data: new Float32Array(8 * 4096), shape: [8, 4096] };
    for (let r = 0; r < 8; r++) x.data.fill(-1, r * 4096, (r + 1) * 4096);
    for (let r = 0; r < 8; r++) { x.data[r * 4096 + 100 + r] = r % 2 ? -0 : 0; x.data[r * 4096 + 200] = r % 2 ? 0 : -0; }
    for (const op of ['max', 'min'] as const) {
      const y = { data: op === 'max' ? x.data : x.data.map((v) => (v === -1 ? 1 : v)), shape: x.shape };
      expectUlps(wasmReduce(y, [1], op), js.reduce(y, [1], op), op, 0);
    }
  });
});
