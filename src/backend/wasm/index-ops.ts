/**
 * ArgMax, TopK (assembly/topk.ts), Gather and GatherGrad (assembly/gather.ts) on wasm, with
 * the js reference's rules (src/backend/js/index-ops.ts): NaN ranks largest, ties go to the
 * lower index, gather's gradient sums repeated indices in index order.
 */
import type { KernelTensor } from '../kernels.js';
import { contiguousStrides, sizeOf } from '../../tensor/shape.js';
import { AM, GA, KIND } from './job-layout.js';
import { roundUp, unitsPerTask } from './args.js';
import { runtime } from './instance.js';

/** x as [outer, n, inner] around `axis`. */
function around(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), n: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

export function argMax(x: KernelTensor, axis: number): Int32Array {
  const { outer, n, inner } = around(x.shape, axis);
  const lines = outer * inner;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const po = rt.alloc(lines);
  const { per, tasks, parallel } = unitsPerTask(rt, lines, x.data.length);
  // Lines per task a multiple of 4, so that the SIMD groups of four neighbours stay whole.
  const lpt = tasks > 1 ? roundUp(per, 4) : per;
  for (const [s, v] of [[AM.X, px], [AM.OUT, po], [AM.OUTER, outer], [AM.N, n], [AM.INNER, inner], [AM.LPT, lpt]] as const) rt.arg(s, v);
  rt.run(KIND.argMax, n > 0 ? Math.ceil(lines / lpt) : 0, 0, parallel);
  return n > 0 ? rt.readI32(po, lines) : new Int32Array(lines);
}

export function topK(x: KernelTensor, k: number, axis: number, largest: boolean): { values: Float32Array; indices: Int32Array } {
  const { outer, n, inner } = around(x.shape, axis);
  const lines = outer * inner;
  const size = lines * k;
  if (size === 0) return { values: new Float32Array(0), indices: new Int32Array(0) };
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pv = rt.alloc(size);
  const pi = rt.alloc(size);
  // Building a heap costs about 2 n steps per line, popping k about k log2 n.
  const { per, tasks, parallel } = unitsPerTask(rt, lines, lines * (2 * n + k * Math.log2(n + 1)));
  const v = [[AM.X, px], [AM.OUT, pi], [AM.VALS, pv], [AM.OUTER, outer], [AM.N, n], [AM.INNER, inner], [AM.LPT, per], [AM.K, k],
    [AM.LARGEST, largest ? 1 : 0]] as const;
  for (const [s, val] of v) rt.arg(s, val);
  rt.run(KIND.topK, tasks, 8 * n, parallel);
  return { values: rt.read(pv, size), indices: rt.readI32(pi, size) };
}

/**
 * Runs the gather kind over the lines of an index of `indexShape` (grad: dy of that shape
 * scattered into zeros of xShape).
 */
function gatherRun(src: Float32Array, xShape: readonly number[], axis: number, index: Int32Array, indexShape: readonly number[], grad: boolean): Float32Array {
  const nd = indexShape.length;
  const xStrides = contiguousStrides(xShape);
  const iStrides = contiguousStrides(indexShape);
  const dims = new Int32Array(3 * nd);
  for (let d = 0; d < nd; d++) {
    dims[3 * d] = indexShape[d]!;
    dims[3 * d + 1] = xStrides[d]!;
    dims[3 * d + 2] = iStrides[d]!;
  }
  const outLen = grad ? sizeOf(xShape) : sizeOf(indexShape);
  const len = indexShape[axis]!;
  const lines = len > 0 ? sizeOf(indexShape) / len : 0;
  const rt = runtime();
  rt.begin();
  const px = rt.put(src);
  const pidx = rt.putI32(index);
  const pdims = rt.putI32(dims);
  const po = rt.alloc(outLen);
  if (grad) rt.zero(po, outLen);
  const { per, tasks, parallel } = unitsPerTask(rt, lines, sizeOf(indexShape));
  const v = [[GA.X, px], [GA.IDX, pidx], [GA.OUT, po], [GA.DIMS, pdims], [GA.ND, nd], [GA.AXIS, axis], [GA.LINES, lines], [GA.LPT, per],
    [GA.GRAD, grad ? 1 : 0]] as const;
  for (const [s, val] of v) rt.arg(s, val);
  rt.run(KIND.gather, lines > 0 ? tasks : 0, 4 * nd, parallel);
  return rt.read(po, outLen);
}

export function gather(x: KernelTensor, axis: number, index: Int32Array, indexShape: readonly number[]): Float32Array {
  return gatherRun(x.data, x.shape, axis, index, indexShape, false);
}

export function gatherGrad(dy: KernelTensor, axis: number, index: Int32Array, xShape: readonly number[]): Float32Array {
  return gatherRun(dy.data, xShape, axis, index, dy.shape, true);
}
