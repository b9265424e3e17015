import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { BinaryOp, KernelTensor, UnaryOp } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/elementwise.js';
import * as wasm from '../../src/backend/wasm/elementwise.js';
import { contiguousStrides, sizeOf } from '../../src/tensor/shape.js';
import { values, workersReady } from './wasm-helpers.js';
import { POINTWISE_OPS } from '../../src/ops/pointwise/all.js';

/*
 * Strided views (KernelTensor.strides/offset) in Unary, UnaryGrad and Binary: on js and on wasm
 * the result of a view must be bit for bit the result of the same kernel on the view's values
 * copied out contiguous (NaN payloads aside).
 */

/** The named unary ops and every declared pointwise op (src/ops/pointwise/table.ts). */
const UNARY: UnaryOp[] = ['relu', 'softplus', 'exp', 'log', 'neg', 'abs', 'sqrt', 'square', 'reciprocal', ...POINTWISE_OPS];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];
const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-40, 88, -104, 20.5, 3e38, 1, -1];

/** A view into a fresh storage of `total` floats (specials sprinkled in). */
function view(total: number, shape: number[], strides: number[], offset: number, seed: number): KernelTensor {
  const data = values(total, seed);
  for (let i = 0; i < total; i += 11) data[i] = SPECIAL[(i / 11) % SPECIAL.length]! * (i % 3 === 0 ? 1 : 3);
  return { data, shape, strides, offset };
}

/** The view's values, row-major, as a contiguous kernel argument. */
function dense(k: KernelTensor): KernelTensor {
  const n = sizeOf(k.shape);
  const out = new Float32Array(n);
  const st = k.strides ?? contiguousStrides(k.shape);
  for (let i = 0; i < n; i++) {
    let p = k.offset ?? 0, r = i;
    for (let d = k.shape.length - 1; d >= 0; d--) {
      p += (r % k.shape[d]!) * st[d]!;
      r = Math.floor(r / k.shape[d]!);
    }
    out[i] = k.data[p]!;
  }
  return { data: out, shape: k.shape };
}

function expectBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) expect(`${a} at ${i}`, what).toBe(`${e} at ${i}`);
  }
}

/** Views over the element-count thresholds, several layouts (strides in elements). */
const VIEWS: { name: string; make: (seed: number) => KernelTensor }[] = [
  // [131, 67] transposed
  { name: 'transpose 2-d', make: (s) => view(131 * 67, [67, 131], [1, 67], 0, s) },
  // NCHW [3, 8, 13, 17] as NHWC (permute 0, 2, 3, 1)
  { name: 'permute NHWC', make: (s) => view(3 * 8 * 13 * 17, [3, 13, 17, 8], [8 * 13 * 17, 17, 1, 13 * 17], 0, s) },
  // channels 3..8 of [2, 10, 31, 29]: contiguous rows, offset, gaps between images
  { name: 'channel slice', make: (s) => view(2 * 10 * 31 * 29, [2, 6, 31, 29], [10 * 899, 899, 29, 1], 3 * 899, s) },
  // every other column of [5, 40, 71], from column 1 (odd size, stride 2 inner)
  { name: 'column step 2', make: (s) => view(5 * 40 * 71 + 1, [5, 40, 35], [40 * 71, 71, 2], 1, s) },
  // [4, 16, 33, 35] channels-last, big enough for several tasks on the threads
  { name: 'permute large', make: (s) => view(4 * 16 * 33 * 35, [4, 33, 35, 16], [16 * 33 * 35, 35, 1, 33 * 35], 0, s) },
  // 13 dims of 2 reversed: more outer dims than the wasm kernels take (js fallback)
  {
    name: '13-d reversed',
    make: (s) => view(1 << 13, new Array<number>(13).fill(2), Array.from({ length: 13 }, (_, i) => 1 << i), 0, s),
  },
];

describe('strided views in elementwise kernels', () => {
  beforeAll(async () => {
    await ck.setBackend('wasm');
    await workersReady();
  });

  for (const v of VIEWS) {
    it(`Binary on a ${v.name}: view op contiguous, contiguous op view, view op broadcast`, () => {
      const a = v.make(1);
      const b = dense(v.make(2));
      const c: KernelTensor = { data: values(v.make(3).shape.at(-1)!, 4), shape: [v.make(3).shape.at(-1)!] };
      for (const op of BINARY) {
        for (const [p, q] of [[a, b], [b, a], [a, c], [c, a], [a, a]] as const) {
          const shape = p.shape.length >= q.shape.length ? p.shape : q.shape;
          for (const act of ['none', 'relu'] as const) {
            const want = js.binary(dense(p), dense(q), op, shape, act);
            expectBits(js.binary(p, q, op, shape, act), want, `js ${op} ${act}`);
            expectBits(wasm.binary(p, q, op, shape, act), wasm.binary(dense(p), dense(q), op, shape, act), `wasm ${op} ${act}`);
          }
        }
      }
    });

    it(`Unary and UnaryGrad on a ${v.name}`, () => {
      const x = v.make(5);
      const dy = v.make(6);
      for (const u of UNARY) {
        const op = u;
        const name = typeof u === 'string' ? u : u.name;
        const alpha = name === 'leakyRelu' ? 0.01 : 1;
        expectBits(js.unary(x, op, alpha), js.unary(dense(x), op, alpha), `js ${name}`);
        const y = wasm.unary(x, op, alpha);
        expectBits(y, wasm.unary(dense(x), op, alpha), `wasm ${name}`);
        const yk: KernelTensor = { data: y, shape: x.shape };
        expectBits(js.unaryGrad(x, yk, dy, op, alpha), js.unaryGrad(dense(x), yk, dense(dy), op, alpha), `js ${name}'`);
        expectBits(wasm.unaryGrad(x, yk, dy, op, alpha), wasm.unaryGrad(dense(x), yk, dense(dy), op, alpha), `wasm ${name}'`);
      }
    });
  }
});
