import type { KernelSignatures } from '../../kernels.js';
import { ConvkitError, fmtShape } from '../../../tensor/errors.js';
import { matMulDims } from '../../js/matmul.js';
import { gpuEmpty } from '../gpu-array.js';
import { arg, asF32 } from '../kernel-args.js';
import { BIAS_FLAG, checkBindable, dispatchGemm, gemmShader, gemmTile, placeholderArray, RELU_FLAG, type GemmTile } from './gemm-tile.js';

/*
 * Batched MatMul on the tiled GEMM (gemm-tile.ts). The batch dimensions of A and B broadcast
 * (equal or 1). They are reduced to at most three dimensions in the shader: size-1 output
 * dimensions are dropped and neighbours merged where both operands step through them evenly
 * (a run of dimensions one operand broadcasts is one dimension of stride 0). Whatever is left
 * above three dimensions (only alternating broadcasts produce it) is walked here, one launch
 * per outer index, with the operands' offsets in the parameters.
 */

/** The shader's batch dimensions. */
const INNER = 3;

/** One shader per pair of transposes; bias and relu are flags (bias bound to a placeholder when absent). */
const code = (tile: GemmTile, transA: boolean, transB: boolean): string =>
  gemmShader({
    tile,
    decls: /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;`,
    bindings: 4,
    // Batch index z -> (i0, i1, i2) of the three shader dimensions; strides in matrices.
    fields: 'aBase: u32, bBase: u32, cBase: u32, s1: u32, s2: u32, as0: u32, as1: u32, as2: u32, bs0: u32, bs1: u32, bs2: u32, flags: u32',
    prologue: /* wgsl */ `
  let i2 = z % p.s2;
  let i1 = (z / p.s2) % p.s1;
  let i0 = z / (p.s2 * p.s1);
  let aOff = p.aBase + (i0 * p.as0 + i1 * p.as1 + i2 * p.as2) * p.m * p.k;
  let bOff = p.bBase + (i0 * p.bs0 + i1 * p.bs1 + i2 * p.bs2) * p.k * p.n;
  let cOff = p.cBase + z * p.m * p.n;`,
    loadA: transA ? 'a[aOff + kk * p.m + row]' : 'a[aOff + row * p.k + kk]',
    loadB: transB ? 'b[bOff + col * p.k + kk]' : 'b[bOff + kk * p.n + col]',
    store: /* wgsl */ `var y = v;
      if ((p.flags & ${BIAS_FLAG}u) != 0u) { y = y + bias[col]; }
      if ((p.flags & ${RELU_FLAG}u) != 0u) { y = select(0.0, y, y > 0.0); }
      c[cOff + row * p.n + col] = y;`,
    aMajor: transA ? 'm' : 'k',
    bMajor: transB ? 'k' : 'n',
  });

/** One batch dimension after broadcasting: its size and each operand's stride in matrices (0: broadcast). */
interface BatchDim {
  size: number;
  a: number;
  b: number;
}

/** The output batch dimensions with both operands' strides, size-1 dimensions dropped and even neighbours merged. */
function batchDims(aBatch: readonly number[], bBatch: readonly number[]): BatchDim[] {
  const nd = Math.max(aBatch.length, bBatch.length);
  const dims: BatchDim[] = [];
  let aStride = 1;
  let bStride = 1;
  for (let i = nd - 1; i >= 0; i--) {
    const da = aBatch[aBatch.length - nd + i] ?? 1;
    const db = bBatch[bBatch.length - nd + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ConvkitError(`MatMul kernel: batch dimensions ${fmtShape(aBatch)} and ${fmtShape(bBatch)} cannot be broadcast`);
    }
    const size = Math.max(da, db);
    if (size > 1) dims.unshift({ size, a: da === 1 ? 0 : aStride, b: db === 1 ? 0 : bStride });
    aStride *= da;
    bStride *= db;
  }
  const merged: BatchDim[] = [];
  for (const d of dims) {
    const prev = merged[merged.length - 1];
    if (prev && prev.a === d.a * d.size && prev.b === d.b * d.size) {
      merged[merged.length - 1] = { size: prev.size * d.size, a: d.a, b: d.b };
    } else {
      merged.push(d);
    }
  }
  return merged;
}

export const matMul: KernelSignatures['MatMul'] = (aT, bT, transposeA, transposeB, biasT, activation) => {
  const { m, k, n } = matMulDims(aT, bT, transposeA, transposeB);
  if (biasT && biasT.shape.reduce((s, d) => s * d, 1) !== n) {
    throw new ConvkitError(`MatMul kernel: bias ${fmtShape(biasT.shape)} should have ${n} elements (the last output dimension)`);
  }
  const dims = batchDims(aT.shape.slice(0, -2), bT.shape.slice(0, -2));
  const count = dims.reduce((s, d) => s * d.size, 1);
  checkBindable(count * m * n, `MatMul's output [${count} x ${m} x ${n}]`);
  const out = gpuEmpty(count * m * n);
  if (count * m * n === 0) return asF32(out);
  const tile = gemmTile();
  const inputs = [arg(aT), arg(bT), biasT ? arg(biasT) : placeholderArray()];
  const flags = (biasT ? BIAS_FLAG : 0) | (activation === 'relu' ? RELU_FLAG : 0);
  const text = code(tile, transposeA, transposeB);
  // The last INNER dimensions go to the shader (padded with size-1 ones); the rest are looped here.
  const outer = dims.slice(0, Math.max(0, dims.length - INNER));
  const inner = dims.slice(outer.length);
  while (inner.length < INNER) inner.unshift({ size: 1, a: 0, b: 0 });
  const innerCount = inner.reduce((s, d) => s * d.size, 1);
  const outerCount = count / innerCount;
  for (let o = 0; o < outerCount; o++) {
    let aBase = 0;
    let bBase = 0;
    let rest = o;
    for (let d = outer.length - 1; d >= 0; d--) {
      const idx = rest % outer[d]!.size;
      rest = Math.floor(rest / outer[d]!.size);
      aBase += idx * outer[d]!.a;
      bBase += idx * outer[d]!.b;
    }
    dispatchGemm({
      code: text,
      tile,
      inputs,
      outputs: [out],
      m,
      n,
      k,
      batch: innerCount,
      params: [
        ['u32', aBase * m * k],
        ['u32', bBase * k * n],
        ['u32', o * innerCount * m * n],
        ['u32', inner[1]!.size],
        ['u32', inner[2]!.size],
        ...inner.map((d): ['u32', number] => ['u32', d.a]),
        ...inner.map((d): ['u32', number] => ['u32', d.b]),
        ['u32', flags],
      ],
    });
  }
  return asF32(out);
};
