import { describe, expect, it } from 'vitest';
import * as js from '../../src/backend/js/elementwise.js';
import * as gpuK from '../../src/backend/webgpu/kernels/unary.js';
import { POINTWISE_OPS } from '../../src/ops/pointwise/all.js';
import type { PointwiseDeclaration } from '../../src/ops/pointwise/declare.js';
import { paramValue } from '../../src/ops/pointwise/declare.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { expectClose } from '../helpers/assert.js';
import { kt } from './wasm-helpers.js';

/*
 * Every declared pointwise op (src/ops/pointwise/table.ts) through the webgpu Unary/UnaryGrad
 * kernels with its WGSL formulas, against the js kernel evaluating the float64 formulas: inputs
 * over [-30, 30] (both tails, where a careless formula overflows or cancels), small values, the
 * kinks and their neighbours, with the default parameter and each sample. The tolerance is
 * relative to each value (rtol 2e-5, atol 1e-14 forward; atol 1e-7 for derivatives, which are
 * sums of cancelling terms, times dy in [-1, 1)), so the tails are checked as tightly as the middle.
 * NaN and infinities are left out: WGSL does not promise IEEE behaviour for them.
 */

const why = await startWebgpu();

/** The parameter values each op is tried with: its default and its samples, as the formulas' `a`. */
function params(d: PointwiseDeclaration): number[] {
  if (!d.param) return [0];
  return [d.param.default, ...(d.param.samples ?? [])].map((v) => paramValue(d, v));
}

function inputs(d: PointwiseDeclaration): Float32Array {
  const v: number[] = [];
  for (let i = 0; i <= 1200; i++) v.push(-30 + (60 * i) / 1200);
  for (const k of [0, ...(d.kinks ?? [])]) for (const e of [0, 1e-6, -1e-6, 1e-3, -1e-3, 0.05, -0.05]) v.push(k + e);
  // Beyond the range too: no formula may overflow into NaN for large |x|.
  for (const s of [1e-7, 1e-4, 0.01, 0.1, 0.29, 0.31, 1, 3, 9, 15, 19.9, 20, 20.1, 25, 50, 100, 1e4]) v.push(s, -s);
  const r = kt([999], 3).data;
  for (const x of r) v.push(x * 4);
  return Float32Array.from(v);
}

describe.skipIf(why !== null)('webgpu Unary/UnaryGrad: the declared pointwise ops', () => {
  it('covers every declaration with a WGSL formula', () => {
    expect(POINTWISE_OPS.filter((d) => !d.wgsl).map((d) => d.name)).toEqual([]);
  });

  for (const d of POINTWISE_OPS) {
    it(`${d.name}: forward and derivative over [-30, 30] and the kinks`, async () => {
      const data = inputs(d);
      const shape = [data.length];
      const x = { data, shape };
      const dy = kt(shape, 5);
      for (const a of params(d)) {
        const y = js.unary(x, d, a);
        const got = await fromGpu(gpuK.unary(toGpu(x), d, a));
        // atol 1e-14: the reference's own float64 cancellation (gelu 'tanh': 1 + tanh u near -1),
        // far below the tails' values (sigmoid(-30) is 9e-14), which must keep their digits.
        expectClose(got, y, { rtol: 2e-5, atol: 1e-14, what: `${d.name} a=${a}` });
        // The derivative from the reference's y, so both sides see the same output.
        const yt = { data: y, shape };
        const want = js.unaryGrad(x, yt, dy, d, a);
        const g = await fromGpu(gpuK.unaryGrad(toGpu(x), toGpu(yt), toGpu(dy), d, a));
        expectClose(g, want, { rtol: 2e-5, atol: 1e-7, what: `${d.name} grad a=${a}` });
      }
    });
  }
});
