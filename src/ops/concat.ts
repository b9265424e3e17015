import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { normAxis, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { outputArray } from './kernel-io.js';

/**
 * Concatenation along one dimension (torch.cat). The copy is plain TypeScript: each input
 * contributes one contiguous chunk of `shape[dim] * inner` values per outer index, so no
 * kernel is needed, and int32 tensors (labels) concatenate as well as float32 ones.
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0) {
    throw new ConvkitError('cat: expected a non-empty array of tensors');
  }
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ConvkitError(`cat: element ${i} of the list is ${t === null ? 'null' : typeof t}, not a Tensor`);
  });
  const first = tensors[0]!;
  if (first.ndim === 0) throw new ConvkitError('cat: tensor 0 is 0-d (a scalar) and has no dimension to concatenate along; reshape it to [1]');
  const axis = normAxis(dim, first.ndim, 'cat dim');
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim) {
      throw new ConvkitError(
        `cat: tensor ${i} has ${t.ndim} dimensions ${fmtShape(t.shape)} but tensor 0 has ${first.ndim} ${fmtShape(first.shape)}; all must have the same number of dimensions`,
      );
    }
    if (t.dtype !== first.dtype) {
      throw new ConvkitError(`cat: tensor ${i} is ${t.dtype} but tensor 0 is ${first.dtype}; all must have the same dtype`);
    }
    const bad = t.shape.findIndex((d, k) => k !== axis && d !== first.shape[k]);
    if (bad >= 0) {
      throw new ConvkitError(
        `cat: tensor ${i} has shape ${fmtShape(t.shape)} but tensor 0 has ${fmtShape(first.shape)}: sizes must match except in dimension ${axis} ` +
          `(they differ in dimension ${bad}: ${t.shape[bad]} vs ${first.shape[bad]})`,
      );
    }
  });
  const outer = sizeOf(first.shape.slice(0, axis));
  const inner = sizeOf(first.shape.slice(axis + 1));
  const chunks = tensors.map((t) => t.shape[axis]! * inner);
  const row = chunks.reduce((a, b) => a + b, 0);
  const total = tensors.reduce((s, t) => s + t.shape[axis]!, 0);
  const outShape = first.shape.map((d, k) => (k === axis ? total : d));
  const out = outputArray(outer * row, first.dtype);
  let start = 0;
  tensors.forEach((t, i) => {
    const src = t.values();
    const c = chunks[i]!;
    for (let o = 0; o < outer; o++) out.set(src.subarray(o * c, (o + 1) * c), o * row + start);
    start += c;
  });
  const y = new Tensor(out, outShape);
  return record(y, 'cat', tensors, (g) => {
    const gv = g.values();
    let offset = 0;
    return tensors.map((t, i) => {
      const c = chunks[i]!;
      if (!t.requiresGrad) {
        offset += c;
        return null;
      }
      const part = outputArray(outer * c);
      for (let o = 0; o < outer; o++) part.set(gv.subarray(o * row + offset, o * row + offset + c), o * c);
      offset += c;
      return new Tensor(part, t.shape);
    });
  });
}

/** Alias of `cat` (torch.concat). */
export const concat = cat;
