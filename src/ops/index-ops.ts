import { kernel } from '../backend/registry.js';
import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { contiguousStrides, normAxis } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { expectTensor, kernelIndices, kin, kout } from './kernel-io.js';
import { copyArray } from '../tensor/copy-array.js';

/**
 * Ops that produce or consume int32 indices: argmax (predicted class), topk (top-5 accuracy),
 * gather (pick one score per row). NaN counts as the largest value, as in PyTorch.
 */

/** The multi-index, e.g. [2, 0, 1], of row-major position `flat` in `shape`. */
export function multiIndex(flat: number, shape: readonly number[]): number[] {
  const strides = contiguousStrides(shape);
  return shape.map((d, i) => Math.floor(flat / strides[i]!) % Math.max(d, 1));
}

/** `multiIndex` as text for error messages: '[2, 0, 1]'. */
export function positionOf(flat: number, shape: readonly number[]): string {
  return fmtShape(multiIndex(flat, shape));
}

/**
 * Index of the maximum along `dim` as int32 (the first one among ties); without `dim`, the
 * index into the flattened tensor, as a 0-d tensor.
 */
export function argmax(x: Tensor, dim?: number, opts: { keepdim?: boolean } = {}): Tensor {
  expectTensor(x, 'argmax', 'input');
  if (dim === undefined || dim === null) {
    if (x.size === 0) throw new ConvkitError(`argmax: the input ${fmtShape(x.shape)} is empty, so it has no maximum`);
    const idx = kernel('ArgMax')({ data: kin(x, 'argmax').data, shape: [x.size] }, 0);
    return new Tensor(idx, opts.keepdim ? x.shape.map(() => 1) : []);
  }
  // A 0-d tensor is one row of one element, as in PyTorch.
  const src = { data: kin(x, 'argmax').data, shape: x.ndim === 0 ? [1] : x.shape };
  const axis = normAxis(dim, src.shape.length, 'argmax dim');
  if (src.shape[axis] === 0) throw new ConvkitError(`argmax: dimension ${axis} of ${fmtShape(x.shape)} is empty, so it has no maximum`);
  const idx = kernel('ArgMax')(src, axis);
  const shape = x.ndim === 0 ? [] : opts.keepdim ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  return new Tensor(idx, shape);
}

/** Options of `topk`. */
export interface TopkOptions {
  /** The k largest (default) or, with false, the k smallest. */
  largest?: boolean;
}

/**
 * The k largest values along `dim` (default the last), sorted from largest, with their int32
 * indices; ties keep the lower index first. `values` is differentiable.
 */
export function topk(x: Tensor, k: number, dim = -1, opts: TopkOptions = {}): { values: Tensor; indices: Tensor } {
  expectTensor(x, 'topk', 'input');
  if (x.ndim === 0) throw new ConvkitError('topk: the input is a scalar; reshape it to [1] first');
  const axis = normAxis(dim, x.ndim, 'topk dim');
  const n = x.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ConvkitError(`topk: k must be an integer in 0..${n} (the size of dimension ${axis} of ${fmtShape(x.shape)}), got ${k}`);
  }
  const largest = opts.largest ?? true;
  const shape = x.shape.map((d, i) => (i === axis ? k : d));
  const r = kernel('TopK')(kin(x, 'topk'), k, axis, largest);
  const indices = new Tensor(r.indices, shape);
  const values = record(kout(r.values, shape), 'topk', [x], (g) => [
    kout(kernel('GatherGrad')(kin(g), axis, r.indices, x.shape), x.shape),
  ]);
  return { values, indices };
}

/**
 * torch.gather: out[i][j] = x[i][index[i][j]] for dim 1 (and likewise for any dim). `index`
 * is int32 with x's number of dimensions and sizes no larger than x's outside `dim`; the
 * result has the index's shape. Differentiable w.r.t. x.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  expectTensor(x, 'gather', 'input');
  expectTensor(index, 'gather', 'index');
  if (index.dtype !== 'int32') {
    throw new ConvkitError(`gather: index must be an int32 tensor, got ${index.dtype}; create it with {dtype: 'int32'}`);
  }
  if (x.ndim === 0) throw new ConvkitError('gather: the input is a scalar; reshape it to [1] first');
  const axis = normAxis(dim, x.ndim, 'gather dim');
  if (index.ndim !== x.ndim || index.shape.some((d, i) => i !== axis && d > x.shape[i]!)) {
    throw new ConvkitError(
      `gather: index ${fmtShape(index.shape)} must have the input's ${x.ndim} dimensions, each no larger than the input's ` +
        `${fmtShape(x.shape)} except dimension ${axis}`,
    );
  }
  // A private copy: the backward must see the indices as they were, even if the caller reuses the buffer.
  const idx = copyArray(index.values() as Int32Array);
  const n = x.shape[axis]!;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < 0 || v >= n) {
      throw new ConvkitError(
        `gather: index ${v} at position ${positionOf(i, index.shape)} is out of range for dimension ${axis} of size ${n} (expected 0..${n - 1})`,
      );
    }
  }
  const onBackend = kernelIndices(idx);
  const y = kout(kernel('Gather')(kin(x, 'gather'), axis, onBackend, index.shape), index.shape);
  return record(y, 'gather', [x], (g) => [kout(kernel('GatherGrad')(kin(g), axis, onBackend, x.shape), x.shape)]);
}
