import { describe, it } from 'vitest';
import * as js from '../../src/backend/js/matmul.js';
import * as gpuK from '../../src/backend/webgpu/kernels/matmul.js';
import { dispatchGemm, forceGemmTile, gemmShader, gemmTile, TILE_32x64 } from '../../src/backend/webgpu/kernels/gemm-tile.js';
import { gpuEmpty, asGpu } from '../../src/backend/webgpu/gpu-array.js';
import { fromGpu, startWebgpu, toGpu } from '../helpers/webgpu.js';
import { expectSame, kt } from './wasm-helpers.js';
import { expectConvkitError } from '../helpers/assert.js';

/*
 * The webgpu MatMul (tiled GEMM) against the js reference: sizes on both sides of the 64 x 64
 * tile and its K step of 16 (odd M, N, K leave partial tiles on every edge), both transposes,
 * broadcast batches, bias and the relu epilogue. NaN and infinities are left out: WGSL does not
 * promise IEEE behaviour for them.
 */

const why = await startWebgpu();

interface Case {
  a: number[];
  b: number[];
  ta?: boolean;
  tb?: boolean;
  bias?: boolean;
  relu?: boolean;
}

/** A [.., M, K] x B [.., K, N] with the transposed layouts stored as the kernel reads them. */
function mm(batchA: number[], batchB: number[], m: number, k: number, n: number, ta = false, tb = false): Case {
  return { a: [...batchA, ...(ta ? [k, m] : [m, k])], b: [...batchB, ...(tb ? [n, k] : [k, n])], ta, tb };
}

const CASES: Case[] = [
  mm([], [], 1, 1, 1),
  mm([], [], 17, 65, 33),
  mm([], [], 129, 257, 3),
  mm([], [], 3, 257, 129, true, false),
  mm([], [], 64, 16, 64),
  mm([], [], 65, 17, 63, false, true),
  mm([], [], 70, 33, 45, true, true),
  mm([], [], 5, 0, 7),
  mm([3], [3], 17, 9, 20),
  mm([2, 3], [1], 33, 17, 5, false, true),
  mm([1], [4], 9, 31, 66, true, false),
  mm([2, 1, 3], [1, 2, 3], 5, 7, 6),
  mm([2, 1, 2, 1, 2], [1, 2, 1, 2, 1], 3, 5, 4, true, true),
  { ...mm([2], [], 30, 40, 70), bias: true, relu: true },
  { ...mm([], [], 129, 3, 257, false, true), bias: true },
  { ...mm([3], [3], 20, 70, 9, true, false), relu: true },
];

describe.skipIf(why !== null)('webgpu MatMul', () => {
  it('matches the js kernel over a table of shapes', async () => {
    for (const [i, c] of CASES.entries()) {
      const a = kt(c.a, 10 + i);
      const b = kt(c.b, 50 + i);
      const n = c.tb ? c.b[c.b.length - 2]! : c.b[c.b.length - 1]!;
      const bias = c.bias ? kt([n], 90 + i) : null;
      const act = c.relu ? 'relu' : 'none';
      const want = js.matMul(a, b, !!c.ta, !!c.tb, bias, act);
      const got = await fromGpu(gpuK.matMul(toGpu(a), toGpu(b), !!c.ta, !!c.tb, bias && toGpu(bias), act));
      expectSame(got, want, `MatMul ${JSON.stringify(c)}`);
    }
  });

  it('matches with the 32 x 64 tile of small devices', async () => {
    forceGemmTile(TILE_32x64);
    try {
      // Two of the four shaders (each compile takes seconds on llvmpipe with a cold cache).
      for (const [i, c] of CASES.entries()) {
        if (c.ta !== c.tb) continue;
        const a = kt(c.a, 10 + i);
        const b = kt(c.b, 50 + i);
        const want = js.matMul(a, b, !!c.ta, !!c.tb, null, 'none');
        expectSame(await fromGpu(gpuK.matMul(toGpu(a), toGpu(b), !!c.ta, !!c.tb, null, 'none')), want, `MatMul 32x64 ${JSON.stringify(c)}`);
      }
    } finally {
      forceGemmTile(null);
    }
  });

  it('builds a custom GEMM from load and store expressions (per-load column setup, scaled store)', async () => {
    // C = 2 * A B^T with B read k-fastest, so the column setup runs at every load.
    const tile = gemmTile();
    const code = gemmShader({
      tile,
      decls: `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;`,
      bindings: 3,
      fields: 'factor: f32',
      bSetup: 'let bRow = bcol * p.k;',
      loadA: 'a[row * p.k + kk]',
      loadB: 'b[bRow + kk]',
      store: 'c[row * p.n + col] = v * p.factor;',
      aMajor: 'k',
      bMajor: 'k',
    });
    const [m, k, n] = [37, 29, 70];
    const a = kt([m, k], 3);
    const b = kt([n, k], 4);
    const out = gpuEmpty(m * n);
    dispatchGemm({ code, tile, inputs: [asGpu(toGpu(a).data), asGpu(toGpu(b).data)], outputs: [out], m, n, k, batch: 1, params: [['f32', 2]] });
    const want = js.matMul(a, b, false, true, null, 'none').map((v) => 2 * v);
    expectSame(await fromGpu(out as unknown as Float32Array), want, 'custom GEMM');
  });

  it('multiplies a matrix by itself (one buffer bound twice)', async () => {
    const a = kt([19, 23], 7);
    const ga = toGpu(a);
    expectSame(await fromGpu(gpuK.matMul(ga, ga, false, true, null, 'none')), js.matMul(a, a, false, true, null, 'none'), 'a a^T');
  });

  it('uses a tile within the device limits', () => {
    const t = gemmTile();
    if (t.tx * t.ty > 256) throw new Error('workgroup over 256 invocations');
  });

  it('rejects operands that do not fit', () => {
    expectConvkitError(() => gpuK.matMul(toGpu(kt([2, 3], 1)), toGpu(kt([4, 5], 2)), false, false, null, 'none'), /inner dimensions/);
    expectConvkitError(() => gpuK.matMul(toGpu(kt([2, 2, 3], 1)), toGpu(kt([3, 3, 5], 2)), false, false, null, 'none'), /broadcast/);
  });
});
