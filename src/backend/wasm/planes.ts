/**
 * Batch norm with given statistics, and the sums behind bias gradients (Reduce over every
 * axis but one block), on the per-plane wasm kernels of assembly/planes.ts (pooling is in
 * pool2d.ts). Small inputs and other shapes go to the js reference.
 */
import type { KernelTensor, ReduceOp } from '../kernels.js';
import { batchNorm as jsBatchNorm } from '../js/normalization.js';
import { reduce as jsReduce } from '../js/elementwise.js';
import { BN, KIND, RS } from './job-layout.js';
import { runtime } from './instance.js';
import { argF64 } from './args.js';
import { reduceGeneral } from './reduce.js';
import type { WasmRuntime } from './runtime.js';

const MIN_ELEMENTS = 4096;


export function batchNorm(
  x: KernelTensor, mean: KernelTensor, variance: KernelTensor, weight: KernelTensor | null, bias: KernelTensor | null, eps: number,
  activation: 'none' | 'relu' = 'none',
): Float32Array {
  if (x.shape.length < 2 || x.data.length < MIN_ELEMENTS) return jsBatchNorm(x, mean, variance, weight, bias, eps, activation);
  const c = x.shape[1]!;
  const planes = x.shape[0]! * c;
  const inner = x.data.length / planes;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const py = rt.alloc(x.data.length);
  rt.arg(BN.X, px);
  rt.arg(BN.Y, py);
  rt.arg(BN.MEAN, rt.put(mean.data));
  rt.arg(BN.VAR, rt.put(variance.data));
  rt.arg(BN.W, weight ? rt.put(weight.data) : 0);
  rt.arg(BN.B, bias ? rt.put(bias.data) : 0);
  argF64(rt, BN.EPS, eps);
  rt.arg(BN.C, c);
  rt.arg(BN.INNER, inner);
  rt.arg(BN.RELU, activation === 'relu' ? 1 : 0);
  rt.runUnits(KIND.batchNorm, BN.PPT, BN.PLANES, planes, x.data.length);
  return rt.read(py, x.data.length);
}

/**
 * Max, min, and sums over other axis sets: reduce.ts. Here:
 * sum or mean over every axis outside one contiguous block of kept axes (e.g. [0, 2, 3] of
 * NCHW for a conv bias gradient, [0] of [N, F] for a linear one): out[b] = sum x[a][b][c].
 */
export function reduce(x: KernelTensor, axes: readonly number[], op: ReduceOp): Float32Array {
  const nd = x.shape.length;
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const contiguous = kept.length > 0 && kept[kept.length - 1]! - kept[0]! === kept.length - 1;
  if (x.data.length < MIN_ELEMENTS) return jsReduce(x, axes, op);
  if ((op !== 'sum' && op !== 'mean') || !contiguous) return reduceGeneral(x, axes, op);
  const size = (from: number, to: number) => x.shape.slice(from, to).reduce((p, d) => p * d, 1);
  const A = size(0, kept[0]!);
  const B = size(kept[0]!, kept[kept.length - 1]! + 1);
  const C = size(kept[kept.length - 1]! + 1, nd);
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const po = rt.alloc(B);
  for (const [s, val] of [[RS.X, px], [RS.OUT, po], [RS.A, A], [RS.B, B], [RS.C, C], [RS.MEAN, op === 'mean' ? 1 : 0]] as const) rt.arg(s, val);
  rt.runUnits(KIND.channelSum, RS.BPT, RS.B, B, x.data.length);
  return rt.read(po, B);
}
