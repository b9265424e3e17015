import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import type { KernelTensor } from '../../src/backend/kernels.js';
import { reluGradChannelSum as jsFused } from '../../src/backend/js/relu-grad-sum.js';
import { reduce as jsReduce, unaryGrad as jsUnaryGrad } from '../../src/backend/js/elementwise.js';
import { reluGradChannelSum } from '../../src/backend/wasm/relu-grad-sum.js';
import { unaryGrad } from '../../src/backend/wasm/elementwise.js';
import { reduce } from '../../src/backend/wasm/planes.js';
import { bothPaths, values, workersReady } from './wasm-helpers.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { expectSameBits } from '../helpers/same-bits.js';

/**
 * ReluGradChannelSum: the backward epilogue of a convolution with a fused bias and ReLU (the
 * masked gradient and the bias gradient in one pass). The wasm kernel must give the bits of
 * the wasm UnaryGrad + Reduce pair it replaces (threaded or not), and the js reference's
 * values: the same masked gradient, the sums to float64-order rounding.
 */

const shapes: number[][] = [
  [1, 1, 64, 64], // exactly the wasm threshold, one channel
  [4, 3, 33, 17], // odd rows: the scalar tail of every row
  [64, 6, 24, 24], // LeNet-5's first convolution at batch 64 (threaded)
  [1, 20, 16, 16], // batch 1
  [2, 7, 5, 5, 13], // 5-d
  [16, 512], // [N, F]: one value per row
  [3, 5, 7, 9], // under the threshold: the two kernels as before
  [2, 3, 8, 8, 0], // empty
];

function kt(shape: number[], seed: number, special = false): KernelTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = values(n, seed);
  // Exact zeros (masked), both zeros of dy, and the non-finite values whose rules the reference defines.
  for (let i = 0; i < n; i += 97) data[i] = 0;
  if (special && n > 50) {
    data[3] = NaN;
    data[11] = Infinity;
    data[12] = -Infinity;
    data[29] = -0;
  }
  return { data, shape };
}

/** The float32 bit patterns, every NaN written as one (payloads are the engine's, not ours). */
function bits(a: Float32Array): number[] {
  return Array.from(a, (v) => (Number.isNaN(v) ? -1 : new Uint32Array(new Float32Array([v]).buffer)[0]!));
}

const allBut1 = (shape: readonly number[]) => shape.map((_, i) => i).filter((i) => i !== 1);

describe('ReluGradChannelSum on wasm', () => {
  for (const shape of shapes) {
    for (const special of [false, true]) {
      it(`[${shape.join(', ')}]${special ? ' with NaN, +-Infinity, -0' : ''}: the bits of UnaryGrad + Reduce on wasm, the js values`, async () => {
        await workersReady();
        const y = kt(shape, 1, special);
        const dy = kt(shape, 2, special);
        const { threaded, single } = bothPaths(() => reluGradChannelSum(y, dy));
        const grad = unaryGrad(y, y, dy, 'relu', 0);
        const sum = reduce({ data: grad, shape }, allBut1(shape), 'sum');
        for (const got of [threaded, single]) {
          expect(bits(got.grad)).toEqual(bits(grad));
          expect(bits(got.sum)).toEqual(bits(sum));
        }
        const ref = jsFused(y, dy);
        expect(bits(threaded.grad)).toEqual(bits(ref.grad));
        expect(ref.sum.length).toBe(shape[1]);
        // The reference adds in another float64 order: equal after rounding to float32 but for the last bit.
        ref.sum.forEach((r, c) => {
          const v = threaded.sum[c]!;
          if (!Number.isFinite(r)) expect(Object.is(v, r) || (Number.isNaN(v) && Number.isNaN(r))).toBe(true);
          else expect(Math.abs(v - r)).toBeLessThanOrEqual(Math.abs(r) * 2 ** -23);
        });
      });
    }
  }

  it('the js reference is UnaryGrad then Reduce', () => {
    const shape = [3, 4, 5, 6];
    const y = kt(shape, 3, true);
    const dy = kt(shape, 4, true);
    const grad = jsUnaryGrad(y, y, dy, 'relu', 0);
    const ref = jsFused(y, dy);
    expect(bits(ref.grad)).toEqual(bits(grad));
    expect(bits(ref.sum)).toEqual(bits(jsReduce({ data: grad, shape }, [0, 2, 3], 'sum')));
    // Masked where y <= 0 or NaN, dy passed through where y > 0 (dy * 1).
    for (let i = 0; i < grad.length; i++) {
      const yi = y.data[i]!;
      if (yi > 0) expect(Object.is(ref.grad[i], dy.data[i])).toBe(true);
      else if (Number.isFinite(dy.data[i]!)) expect(ref.grad[i] === 0).toBe(true);
      else expect(ref.grad[i]).toBeNaN();
    }
  });
});

describe.runIf(ck.listBackends().includes('wasm'))('conv2d with bias and relu: the fused backward', () => {
  const onWasm = async <T>(fn: () => T): Promise<T> => {
    const prev = ck.getBackendName();
    await ck.setBackend('wasm');
    await workersReady();
    try {
      return fn();
    } finally {
      await ck.setBackend(prev);
    }
  };
  const leaf = (shape: number[], seed: number) => ck.randn(shape, { seed, requiresGrad: true });

  it('agrees with finite differences (bias, filters, input) at a size the fused kernel runs', async () => {
    await onWasm(() => {
      const x = leaf([4, 4, 11, 13], 5);
      const w = leaf([8, 4, 3, 3], 6);
      const b = leaf([8], 7);
      expect(4 * 8 * 11 * 13).toBeGreaterThan(4096);
      const f = (xx: ck.Tensor, ww: ck.Tensor, bb: ck.Tensor) => ck.F.conv2d(xx, ww, bb, { padding: 1, activation: 'relu' });
      gradcheck(f, [x, w, b], { maxPerInput: 12, eps: 1e-3, tol: 1e-2 });
    });
  });

  it('an output used twice and a bias shared by two convolutions: gradients add up as with the separate relu', async () => {
    await onWasm(() => {
      const run = (act: 'relu' | 'none') => {
        const x = leaf([2, 6, 16, 16], 8);
        const w = leaf([10, 6, 3, 3], 9);
        const w2 = leaf([10, 10, 3, 3], 11);
        const b = leaf([10], 10);
        const conv = (input: ck.Tensor, weight: ck.Tensor) => {
          const y = ck.F.conv2d(input, weight, b, { padding: 1, activation: act });
          return act === 'relu' ? y : ck.F.relu(y);
        };
        const y = conv(x, w);
        // y read three times, and the same bias in a second convolution of y.
        const y2 = conv(ck.F.mul(y, 0.5), w2);
        const loss = ck.F.add(ck.F.sum(ck.F.mul(y, y)), ck.F.add(ck.F.sum(y), ck.F.sum(ck.F.mul(y2, 3))));
        const report = ck.profile(() => loss.backward());
        const fusedCalls = report.kernels.filter((k) => k.name === 'ReluGradChannelSum').reduce((a, k) => a + k.calls, 0);
        expect(fusedCalls).toBe(act === 'relu' ? 2 : 0);
        return [x.grad, w.grad, w2.grad, b.grad];
      };
      const fused = run('relu');
      const separate = run('none');
      fused.forEach((g, i) => expectSameBits(g, separate[i]!, `gradient ${i}`));
    });
  });
});
