import { describe, expect, it } from 'vitest';
import type { BinaryOp, KernelTensor, ReduceOp } from '../../src/backend/kernels.js';
import * as js from '../../src/backend/js/elementwise.js';
import * as jsAct from '../../src/backend/js/activations.js';
import { reluGradChannelSum as jsReluGradChannelSum } from '../../src/backend/js/relu-grad-sum.js';
import * as bin from '../../src/backend/webgpu/kernels/binary.js';
import * as red from '../../src/backend/webgpu/kernels/reduce.js';
import * as act from '../../src/backend/webgpu/kernels/activations.js';
import * as ck from '../../src/index.js';
import { gpuCounters, gpuUpload } from '../../src/backend/webgpu/gpu-array.js';
import { gatherStrided } from '../../src/backend/webgpu/kernels/strided.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { expectSameBits, kt } from './wasm-helpers.js';
import { expectClose } from '../helpers/assert.js';

/*
 * The webgpu Binary, Reduce, ReluGradChannelSum, Clamp, Softplus and PRelu kernels (and their
 * gradients) against the js reference, and the strided gather (kernels/strided.ts) against
 * Tensor.contiguous() on the host. NaN and infinities are left out of the inputs: WGSL does
 * not promise IEEE behaviour for them. Exact operations (add, max, clamp, masks) must match
 * bit for bit; transcendental ones and sums within float32 rounding.
 */

const why = await startWebgpu();

const OPS: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'];
/** add/sub/mul/div/max/min round once in float32 on both sides: the same bits. */
const EXACT: BinaryOp[] = ['add', 'sub', 'mul', 'maximum', 'minimum'];

/** [a shape, b shape]: same size, scalars, rank 0, size-1 axes, rank 1 against rank 4, both broadcast. */
const PAIRS: [number[], number[]][] = [
  [[7], [7]],
  [[2, 3, 17, 19], [2, 3, 17, 19]],
  [[], []],
  [[], [3, 5]],
  [[3, 5], []],
  [[1], [4, 1, 3]],
  [[2, 3, 5, 7], [7]],
  [[2, 3, 5, 7], [3, 1, 1]],
  [[1, 3, 1, 1], [2, 3, 5, 7]],
  [[2, 1, 5, 1], [1, 3, 1, 7]],
  [[5, 1], [1, 6]],
  [[4, 1, 33], [4, 65, 1]],
  [[1, 1, 1, 1], [2, 1, 3, 1]],
  [[300, 1], [1, 300]],
];

function broadcastShape(a: number[], b: number[]): number[] {
  const nd = Math.max(a.length, b.length);
  return Array.from({ length: nd }, (_, i) => {
    const da = a[i - nd + a.length] ?? 1;
    const db = b[i - nd + b.length] ?? 1;
    return da === 1 ? db : da;
  });
}

/** pow's operands: positive bases, and negative ones with integer exponents (Math.pow's sign rule). */
function powOperands(a: KernelTensor, b: KernelTensor): void {
  for (let i = 0; i < a.data.length; i++) a.data[i] = i % 3 === 0 ? -(Math.abs(a.data[i]!) * 3 + 0.1) : Math.abs(a.data[i]!) * 3 + 0.1;
  for (let i = 0; i < b.data.length; i++) b.data[i] = i % 2 === 0 ? Math.round(b.data[i]! * 5) : b.data[i]! * 3;
}

describe.skipIf(why !== null)('webgpu Binary', () => {
  for (const op of OPS) {
    it(`${op} with broadcasting and the relu epilogue`, async () => {
      for (const [sa, sb] of PAIRS) {
        const a = kt(sa, 11);
        const b = kt(sb, 12);
        if (op === 'pow') powOperands(a, b);
        else if (op === 'div') for (let i = 0; i < b.data.length; i++) b.data[i] = b.data[i]! + (b.data[i]! < 0 ? -0.25 : 0.25);
        // Ties for maximum/minimum: a few equal elements.
        for (let i = 0; i < Math.min(a.data.length, b.data.length); i += 5) a.data[i] = b.data[i]!;
        const outShape = broadcastShape(sa, sb);
        for (const activation of ['none', 'relu'] as const) {
          const want = js.binary(a, b, op, outShape, activation);
          const got = await fromGpu(bin.binary(toGpu(a), toGpu(b), op, outShape, activation));
          const what = `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)} ${activation}`;
          if (EXACT.includes(op)) expectSameBits(got, want, what);
          else if (op === 'pow') {
            // pow through exp2/log2 (non-integer exponents) carries their error; powers here stay below ~1e3.
            expectClose(got, want, { rtol: 2e-5, atol: 1e-6, what });
            // Negative bases to non-integer powers are NaN; the rest must be finite.
            expect(Array.from(got).some((v, i) => Number.isNaN(v) !== Number.isNaN(want[i]!))).toBe(false);
          } else expectClose(got, want, { rtol: 3e-7, atol: 0, what });
        }
      }
    });
  }

  it('integer powers are exact products, negative bases keep their sign', async () => {
    const a = { data: Float32Array.from([-2, -3, 1.5, -1.25, 0, 7, -0.5]), shape: [7] };
    const b = { data: Float32Array.from([3, 2, 4, -3, 2, 1, -1]), shape: [7] };
    const want = js.binary(a, b, 'pow', [7]);
    expectSameBits(await fromGpu(bin.binary(toGpu(a), toGpu(b), 'pow', [7])), want, 'pow integer');
  });

  it('broadcasts without read-backs: the kernel never waits on the GPU', () => {
    const a = toGpu(kt([3, 4], 1));
    const b = toGpu(kt([4], 2));
    const before = gpuCounters.readBacks;
    bin.binary(a, b, 'sub', [3, 4]);
    expect(gpuCounters.readBacks).toBe(before);
  });
});

/** 4-d reductions over every axis set: each axis subset of [0, 1, 2, 3]. */
const AXIS_SETS: number[][] = Array.from({ length: 16 }, (_, m) => [0, 1, 2, 3].filter((d) => m & (1 << d)));
const REDUCE_OPS: ReduceOp[] = ['sum', 'mean', 'max', 'min'];

async function checkReduce(x: KernelTensor, axes: number[], op: ReduceOp): Promise<void> {
  const want = js.reduce(x, axes, op);
  const got = await fromGpu(red.reduce(toGpu(x), axes, op));
  const what = `${op} ${JSON.stringify(x.shape)} over ${JSON.stringify(axes)}`;
  if (op === 'max' || op === 'min') expectSameBits(got, want, what);
  else {
    // Float32 sums (tree or serial) against float64: operands in [-1, 1), error ~ sqrt(count) ulps of the partial sums.
    const count = axes.reduce((s, a) => s * x.shape[a]!, 1);
    const atol = (4e-6 * Math.sqrt(count)) / (op === 'mean' ? count : 1);
    expectClose(got, want, { rtol: 1e-5, atol, what });
  }
}

describe.skipIf(why !== null)('webgpu Reduce', () => {
  for (const op of REDUCE_OPS) {
    it(`${op} over every axis set of 4-d tensors`, async () => {
      for (const shape of [[2, 3, 5, 7], [1, 4, 1, 33], [3, 130, 2, 9]]) {
        const x = kt(shape, 5);
        for (const axes of AXIS_SETS) await checkReduce(x, axes, op);
      }
    });
  }

  it('long reductions: 300k elements to one (two passes), channels of a batch, many short rows', async () => {
    const big = kt([300_001], 7);
    for (const op of REDUCE_OPS) await checkReduce(big, [0], op);
    const batch = kt([16, 24, 31, 29], 8);
    for (const op of REDUCE_OPS) await checkReduce(batch, [0, 2, 3], op);
    const rows = kt([9000, 200], 9);
    for (const op of REDUCE_OPS) await checkReduce(rows, [1], op);
    const cols = kt([2000, 3], 10);
    for (const op of REDUCE_OPS) await checkReduce(cols, [0], op);
  });

  it('rank 0 and 1, no axes, and empty reductions (sum 0, max -inf, min inf)', async () => {
    await checkReduce({ data: Float32Array.from([2.5]), shape: [] }, [], 'sum');
    await checkReduce(kt([9], 1), [0], 'mean');
    await checkReduce(kt([4, 5], 1), [], 'max');
    for (const op of ['sum', 'max', 'min'] as ReduceOp[]) {
      const x = { data: new Float32Array(0), shape: [3, 0] };
      expectSameBits(await fromGpu(red.reduce(toGpu(x), [1], op)), js.reduce(x, [1], op), `empty ${op}`);
    }
  });

  it('ReluGradChannelSum: the relu mask and its per-channel sum', async () => {
    for (const shape of [[2, 3, 5, 7], [1, 16, 1, 1], [4, 5], [8, 64, 33, 17]]) {
      const y = kt(shape, 21);
      for (let i = 0; i < y.data.length; i += 7) y.data[i] = i % 2 ? 0 : -0;
      const dy = kt(shape, 22);
      const want = jsReluGradChannelSum(y, dy);
      const got = red.reluGradChannelSum(toGpu(y), toGpu(dy));
      expectSameBits(await fromGpu(got.grad), want.grad, `grad ${shape}`);
      const count = y.data.length / shape[1]!;
      expectClose(await fromGpu(got.sum), want.sum, { rtol: 1e-5, atol: 1e-6 * Math.sqrt(count), what: `sum ${shape}` });
    }
  });
});

describe.skipIf(why !== null)('webgpu Clamp, Softplus, PRelu and their gradients', () => {
  /** Values over [-30, 30), with the bounds and thresholds themselves present. */
  function input(shape: number[], seed: number, special: number[]): KernelTensor {
    const x = kt(shape, seed);
    for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i]! * 30;
    special.forEach((v, k) => (x.data[(k * 37) % x.data.length] = v));
    return x;
  }

  it('Clamp and ClampGrad, inclusive and not, bounds that float32 cannot hold, infinite bounds', async () => {
    const bounds: [number, number][] = [[-1, 1], [0, 6], [0.1, 0.3], [-Infinity, 2], [-3, Infinity], [5, -5], [-0.7, -0.7]];
    for (const [lo, hi] of bounds) {
      const x = input([3, 7, 41], 3, [lo, hi, Math.fround(lo), Math.fround(hi), 0, -0].filter(Number.isFinite));
      const dy = kt([3, 7, 41], 4);
      expectSameBits(await fromGpu(act.clamp(toGpu(x), lo, hi)), jsAct.clamp(x, lo, hi), `clamp ${lo} ${hi}`);
      for (const inclusive of [true, false]) {
        expectSameBits(
          await fromGpu(act.clampGrad(toGpu(x), toGpu(dy), lo, hi, inclusive)),
          jsAct.clampGrad(x, dy, lo, hi, inclusive),
          `clampGrad ${lo} ${hi} ${inclusive}`,
        );
      }
    }
  });

  it('Softplus and SoftplusGrad over [-30, 30) with several beta and threshold', async () => {
    for (const [beta, threshold] of [[1, 20], [0.5, 10], [3, 5], [1, Infinity]] as const) {
      const x = input([2, 5, 101], 5, [threshold / beta, 0, -30, 30].filter(Number.isFinite));
      const dy = kt([2, 5, 101], 6);
      const what = `softplus beta ${beta} threshold ${threshold}`;
      // Relative to each value (log1p by its series near 0, no cancellation for negative x).
      expectClose(await fromGpu(act.softplus(toGpu(x), beta, threshold)), jsAct.softplus(x, beta, threshold), { rtol: 1e-5, atol: 1e-30, what });
      expectClose(await fromGpu(act.softplusGrad(toGpu(x), toGpu(dy), beta, threshold)), jsAct.softplusGrad(x, dy, beta, threshold), {
        rtol: 1e-5,
        atol: 1e-30,
        what: `${what} grad`,
      });
    }
  });

  it('PRelu and PReluGrad: a slope per channel or one shared, ranks 1 to 4, a long batch', async () => {
    const cases: [number[], number][] = [[[2, 3, 5, 7], 3], [[2, 3, 5, 7], 1], [[4, 6], 6], [[9], 1], [[1, 1, 3], 1], [[64, 8, 20, 20], 8], [[3, 4, 0], 4]];
    for (const [shape, nw] of cases) {
      const x = kt(shape, 7);
      for (let i = 0; i < x.data.length; i += 9) x.data[i] = 0;
      const w = kt([nw], 8);
      const dy = kt(shape, 9);
      const what = `prelu ${shape} w ${nw}`;
      expectSameBits(await fromGpu(act.prelu(toGpu(x), toGpu(w))), jsAct.prelu(x, w), what);
      const want = jsAct.preluGrad(x, w, dy);
      const got = act.preluGrad(toGpu(x), toGpu(w), toGpu(dy));
      expectSameBits(await fromGpu(got.dx), want.dx, `${what} dx`);
      const count = x.data.length / nw;
      expectClose(await fromGpu(got.dw), want.dw, { rtol: 1e-5, atol: 1e-6 * Math.sqrt(Math.max(1, count)), what: `${what} dw` });
    }
  });
});

describe.skipIf(why !== null)('webgpu gatherStrided (kernels/strided.ts)', () => {
  /** [base length, view shape, strides, offset]: permutes, slices with steps, a reversed axis, rank 0. */
  const VIEWS: [number, number[], number[], number][] = [
    [120, [5, 3, 2, 4], [1, 20, 60, 5], 0], // [2, 3, 4, 5] permuted (3, 1, 0, 2)
    [2100, [300, 7], [1, 300], 0], // a transpose across many workgroups
    [60, [4, 3], [10, 2], 12], // rows 1..4, columns 2, 4, 6 of [6, 10]
    [60, [3, 10], [-10, 1], 50], // rows 5, 4, 3: a negative stride
    [30, [2, 1, 5], [15, 7, 3], 1], // size-1 axis with an odd stride
    [9, [], [], 5], // one element
    [8, [2, 0, 3], [0, 3, 1], 0], // empty
  ];

  for (const dtype of ['float32', 'int32'] as const) {
    it(`${dtype} views match Tensor.contiguous() on the host, bit for bit`, async () => {
      for (const [len, shape, strides, offset] of VIEWS) {
        const base = dtype === 'int32' ? Int32Array.from({ length: len }, (_, i) => (i * 2654435761) | 0) : kt([len], 13).data;
        const want = new ck.Tensor(base, shape, strides, offset).contiguous().values();
        const got = await fromGpu(asHost(gatherStrided(gpuUpload(base), shape, strides, offset)));
        expect(got).toBeInstanceOf(dtype === 'int32' ? Int32Array : Float32Array);
        expect(Array.from(got), `${dtype} ${JSON.stringify(shape)} ${JSON.stringify(strides)} +${offset}`).toEqual(Array.from(want));
      }
    });
  }
});

function asHost(a: unknown): Float32Array {
  return a as Float32Array;
}
