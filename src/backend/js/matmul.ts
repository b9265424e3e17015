import type { KernelSignatures, KernelTensor } from '../kernels.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { sizeOf } from '../../tensor/shape.js';

/**
 * Matrix multiply, the reference version. `gemm` is the one inner routine: the MatMul kernel
 * and the im2col convolutions (conv2d.ts) both call it on sub-ranges of their buffers.
 *
 * The loop order follows the layout of B so that the innermost loop always walks memory
 * contiguously (the cache-friendly order):
 *   B stored [k, n]: i-k-j, C[i, :] += A[i, p] * B[p, :] (a row of B and a row of C);
 *   B stored [n, k] (transB): i-j-k, C[i, j] = dot(A[i, :], B[j, :]) (two rows).
 * Sums are rounded to float32 at every step (in C itself, or with Math.fround), as a float32
 * GEMM accumulates, so that faster backends can be held to tight tolerances.
 */

/**
 * C[m, n] (+)= op(A)[m, k] op(B)[k, n], every matrix row-major inside its buffer starting at
 * the given offset. A is stored [m, k], or [k, m] when transA; B is [k, n], or [n, k] when
 * transB. With accumulate false, C is overwritten; with true, the product is added to it.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  transA: boolean,
  b: Float32Array,
  bOff: number,
  transB: boolean,
  c: Float32Array,
  cOff: number,
  accumulate: boolean,
): void {
  if (!accumulate) c.fill(0, cOff, cOff + m * n);
  if (m === 0 || n === 0 || k === 0) return;
  // A(i, p) sits at aOff + i*aRow + p*aCol (strided when transposed).
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  if (!transB) {
    for (let i = 0; i < m; i++) {
      const cRow = cOff + i * n;
      for (let p = 0; p < k; p++) {
        const aip = a[aOff + i * aRow + p * aCol]!;
        const bRow = bOff + p * n;
        for (let j = 0; j < n; j++) c[cRow + j]! += aip * b[bRow + j]!;
      }
    }
    return;
  }
  for (let i = 0; i < m; i++) {
    const cRow = cOff + i * n;
    const aStart = aOff + i * aRow;
    for (let j = 0; j < n; j++) {
      const bRow = bOff + j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s = Math.fround(s + a[aStart + p * aCol]! * b[bRow + p]!);
      c[cRow + j]! += s;
    }
  }
}

/** Right-aligned (NumPy) broadcast of two batch shapes; the kernel contract allows equal or 1. */
function broadcastBatch(a: readonly number[], b: readonly number[]): number[] {
  const nd = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    const da = a[a.length - nd + i] ?? 1;
    const db = b[b.length - nd + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ConvkitError(`MatMul kernel: batch dimensions ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Offset (in matrices) of batch item `flat` of `outBatch` inside an operand with batch `own`. */
function batchOffset(flat: number, outBatch: readonly number[], own: readonly number[]): number {
  let offset = 0;
  let ownStride = 1;
  let rest = flat;
  // Walk dimensions from the last; broadcast (size-1 or missing) dimensions contribute nothing.
  for (let d = outBatch.length - 1; d >= 0; d--) {
    const idx = rest % outBatch[d]!;
    rest = Math.floor(rest / outBatch[d]!);
    const od = d - (outBatch.length - own.length);
    if (od >= 0) {
      if (own[od]! !== 1) offset += idx * ownStride;
      ownStride *= own[od]!;
    }
  }
  return offset;
}

/**
 * The sizes of a MatMul, op(A) [.., m, k] times op(B) [.., k, n], checked: both operands at least
 * 2-d and the inner dimensions equal. Shared by the backends' MatMul kernels.
 */
export function matMulDims(
  a: { readonly shape: readonly number[] },
  b: { readonly shape: readonly number[] },
  transposeA: boolean,
  transposeB: boolean,
): { m: number; k: number; n: number } {
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new ConvkitError(`MatMul kernel: both operands need at least 2 dimensions, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const ar = a.shape.length;
  const br = b.shape.length;
  const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (k !== kb) {
    throw new ConvkitError(
      `MatMul kernel: inner dimensions differ: ${fmtShape(a.shape)}${transposeA ? '^T' : ''} x ${fmtShape(b.shape)}${transposeB ? '^T' : ''} (${k} vs ${kb})`,
    );
  }
  return { m, k, n };
}

export const matMul: KernelSignatures['MatMul'] = (a, b, transposeA, transposeB, bias, activation) => {
  const { m, k, n } = matMulDims(a, b, transposeA, transposeB);
  if (bias && bias.data.length !== n) {
    throw new ConvkitError(`MatMul kernel: bias has ${bias.data.length} elements, expected ${n} (the last output dimension)`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastBatch(aBatch, bBatch);
  const count = sizeOf(batch);
  const out = new Float32Array(count * m * n);
  for (let t = 0; t < count; t++) {
    const aOff = batchOffset(t, batch, aBatch) * m * k;
    const bOff = batchOffset(t, batch, bBatch) * k * n;
    gemm(m, n, k, a.data, aOff, transposeA, b.data, bOff, transposeB, out, t * m * n, false);
  }
  if (bias) {
    const bv = bias.data;
    for (let r = 0; r < count * m; r++) {
      const row = r * n;
      for (let j = 0; j < n; j++) out[row + j]! += bv[j]!;
    }
  }
  if (activation === 'relu') reluInPlace(out);
  return out;
};

/** The fused epilogue shared by MatMul and Conv2D; same rule as the Unary 'relu' kernel. */
export function reluInPlace(v: Float32Array): void {
  for (let i = 0; i < v.length; i++) if (!(v[i]! > 0)) v[i] = 0;
}
