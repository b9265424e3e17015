import { describe, it } from 'vitest';
import * as js from '../../src/backend/js/elementwise.js';
import * as gpuK from '../../src/backend/webgpu/kernels/unary.js';
import type { NamedUnaryOp } from '../../src/backend/kernels.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { kt } from './wasm-helpers.js';
import { expectSame } from './wasm-helpers.js';

/*
 * The webgpu Unary/UnaryGrad kernels against the js reference, for the functions known by name
 * (the declared pointwise ops are tested with their WGSL formulas in webgpu-pointwise).
 * NaN and infinities are left out: WGSL does not promise IEEE behaviour for them.
 */

const why = await startWebgpu();

const OPS: NamedUnaryOp[] = ['relu', 'softplus', 'exp', 'neg', 'abs', 'square'];
const POSITIVE: NamedUnaryOp[] = ['log', 'sqrt', 'reciprocal'];

describe.skipIf(why !== null)('webgpu Unary and UnaryGrad', () => {
  for (const op of [...OPS, ...POSITIVE]) {
    it(`${op} forward and gradient`, async () => {
      for (const shape of [[1], [7], [3, 5, 17], [2, 3, 40, 41]]) {
        const x = kt(shape, 3);
        if (POSITIVE.includes(op)) for (let i = 0; i < x.data.length; i++) x.data[i] = Math.abs(x.data[i]!) + 0.1;
        const dy = kt(shape, 4);
        const y = js.unary(x, op, 0);
        expectSame(await fromGpu(gpuK.unary(toGpu(x), op, 0)), y, `${op} ${shape}`);
        const want = js.unaryGrad(x, { data: y, shape }, dy, op, 0);
        const got = await fromGpu(gpuK.unaryGrad(toGpu(x), toGpu({ data: y, shape }), toGpu(dy), op, 0));
        expectSame(got, want, `${op} grad ${shape}`);
      }
    });
  }
});
