import { record } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { normAxis, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { kernel } from '../backend/registry.js';
import { currentDeviceMemory } from '../backend/device-args.js';
import { kin, kout, outputArray } from './kernel-io.js';

/**
 * Concatenation along one dimension (torch.cat). The copy is plain TypeScript: each input
 * contributes one contiguous chunk of `shape[dim] * inner` values per outer index, so no
 * kernel is needed, and int32 tensors (labels) concatenate as well as float32 ones. On a
 * device backend (webgpu) float32 tensors concatenate with kernels instead (catOnDevice).
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
  if (currentDeviceMemory() && first.dtype === 'float32' && outer * row > 0) return catOnDevice(tensors, outer, chunks, outShape);
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

/**
 * cat where the values stay on the device: each input, seen as [outer, chunk, 1], is padded
 * with zero rows to its place in [outer, row, 1] (Pad2D) and the padded inputs are summed
 * (adding zeros changes no value, only -0 becomes +0); each gradient is g cropped back to the
 * input's rows (Pad2D with negative pads).
 */
function catOnDevice(tensors: readonly Tensor[], outer: number, chunks: readonly number[], outShape: readonly number[]): Tensor {
  const row = chunks.reduce((a, b) => a + b, 0);
  const flat = [outer * row];
  let sum: Tensor | null = null;
  let start = 0;
  for (let i = 0; i < tensors.length; i++) {
    const c = chunks[i]!;
    if (c > 0) {
      const placed = kout(kernel('Pad2D')({ data: kin(tensors[i]!, 'cat').data, shape: [outer, c, 1] }, [start, row - start - c, 0, 0], 'constant', 0), flat);
      sum = sum === null ? placed : kout(kernel('Binary')(kin(sum), kin(placed), 'add', flat), flat);
    }
    start += c;
  }
  if (sum === null) throw new ConvkitError('internal error: cat on the device with every input empty');
  const out = sum.reshape(outShape);
  return record(out, 'cat', tensors, (g) => {
    const gk = { data: kin(g).data, shape: [outer, row, 1] };
    let offset = 0;
    return tensors.map((t, i) => {
      const c = chunks[i]!;
      const s = offset;
      offset += c;
      if (!t.requiresGrad || c === 0) return null;
      return kout(kernel('Pad2D')(gk, [-s, -(row - s - c), 0, 0], 'constant', 0), t.shape);
    });
  });
}

/** Alias of `cat` (torch.concat). */
export const concat = cat;
