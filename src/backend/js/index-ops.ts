import type { KernelTensor } from '../kernels.js';
import { contiguousStrides, sizeOf } from '../../tensor/shape.js';

/**
 * Index-producing and index-consuming kernels: argmax, top-k, gather and its gradient
 * (scatter-add). Indices are int32. NaN counts as larger than every number, as in PyTorch,
 * so that a diverged row shows up in argmax instead of being silently skipped.
 */

/** a ranks before b in descending order (NaN first). */
function greater(a: number, b: number): boolean {
  return a > b || (Number.isNaN(a) && !Number.isNaN(b));
}

/** x with `axis` removed -> the index of the first maximum along it. */
export function argMax(x: KernelTensor, axis: number): Int32Array {
  const outer = sizeOf(x.shape.slice(0, axis));
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = 0;
      for (let j = 1; j < n; j++) {
        if (greater(x.data[base + j * inner]!, x.data[base + best * inner]!)) best = j;
      }
      out[o * inner + i] = best;
    }
  }
  return out;
}

/**
 * The k largest (or smallest) values along `axis`, sorted, with their indices; the output has
 * x's shape with `axis` of size k. Ties keep the lower index first, so results are deterministic.
 */
export function topK(x: KernelTensor, k: number, axis: number, largest: boolean): { values: Float32Array; indices: Int32Array } {
  const outer = sizeOf(x.shape.slice(0, axis));
  const n = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const values = new Float32Array(outer * k * inner);
  const indices = new Int32Array(outer * k * inner);
  const order = new Array<number>(n);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      for (let j = 0; j < n; j++) order[j] = j;
      order.sort((p, q) => {
        const a = x.data[base + p * inner]!;
        const b = x.data[base + q * inner]!;
        if (largest ? greater(a, b) : greater(b, a)) return -1;
        if (largest ? greater(b, a) : greater(a, b)) return 1;
        return p - q;
      });
      for (let j = 0; j < k; j++) {
        const dst = o * k * inner + j * inner + i;
        values[dst] = x.data[base + order[j]! * inner]!;
        indices[dst] = order[j]!;
      }
    }
  }
  return { values, indices };
}

/**
 * Calls fn(position in index, position in x) for every element of an index tensor of shape
 * `indexShape`, where the x position uses index[pos] along `axis` and pos's own coordinates
 * elsewhere (torch.gather's addressing). Indices are assumed already validated.
 */
function walkGather(
  xShape: readonly number[],
  axis: number,
  index: Int32Array,
  indexShape: readonly number[],
  fn: (pos: number, src: number) => void,
): void {
  const xStrides = contiguousStrides(xShape);
  const nd = indexShape.length;
  const coord = new Array<number>(nd).fill(0);
  const n = sizeOf(indexShape);
  // `rest` is the x offset from every coordinate except `axis`, updated incrementally.
  let rest = 0;
  for (let pos = 0; pos < n; pos++) {
    fn(pos, rest + index[pos]! * xStrides[axis]!);
    for (let d = nd - 1; d >= 0; d--) {
      coord[d]!++;
      if (d !== axis) rest += xStrides[d]!;
      if (coord[d]! < indexShape[d]!) break;
      if (d !== axis) rest -= xStrides[d]! * indexShape[d]!;
      coord[d] = 0;
    }
  }
}

/** out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`; out has the index's shape. */
export function gather(x: KernelTensor, axis: number, index: Int32Array, indexShape: readonly number[]): Float32Array {
  const out = new Float32Array(sizeOf(indexShape));
  walkGather(x.shape, axis, index, indexShape, (pos, src) => {
    out[pos] = x.data[src]!;
  });
  return out;
}

/** The gradient of gather: dy scattered back into zeros of xShape, repeated indices summed. */
export function gatherGrad(dy: KernelTensor, axis: number, index: Int32Array, xShape: readonly number[]): Float32Array {
  const out = new Float32Array(sizeOf(xShape));
  walkGather(xShape, axis, index, dy.shape, (pos, dst) => {
    out[dst]! += dy.data[pos]!;
  });
  return out;
}
