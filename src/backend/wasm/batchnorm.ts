/**
 * Batch norm's training kernels on wasm (assembly/batchnorm.ts): per-channel statistics and the
 * gradients, float64 sums and formulas as the js reference, a task per run of channels.
 * Inputs are [N, C, ...] (BatchNorm1d's [N, C] included); small ones go to the js reference.
 */
import type { BatchNormGradients, BatchNormStatistics, KernelTensor } from '../kernels.js';
import { batchNormGrad as jsBatchNormGrad, batchNormStats as jsBatchNormStats } from '../js/normalization.js';
import { argF64, runSplit } from './args.js';
import { BG, BS, KIND } from './job-layout.js';
import { runtime } from './instance.js';

/** Below this many elements the js loops are as fast as a wasm call. */
export const BN_TRAIN_MIN = 2048;

function dims(shape: readonly number[]): { n: number; c: number; inner: number } {
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d]!;
  return { n: shape[0]!, c: shape[1]!, inner };
}

export function batchNormStats(x: KernelTensor): BatchNormStatistics {
  if (x.shape.length < 2 || x.data.length < BN_TRAIN_MIN) return jsBatchNormStats(x);
  const { n, c, inner } = dims(x.shape);
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pm = rt.alloc(c);
  const pv = rt.alloc(c);
  rt.args(BS, { X: px, MEAN: pm, VAR: pv, N: n, C: c, INNER: inner, COUNT: c });
  runSplit(rt, KIND.batchNormStats, BS.CPT, c, x.data.length, inner === 1 ? 4 : 1);
  return { mean: rt.read(pm, c), variance: rt.read(pv, c) };
}

export function batchNormGrad(
  x: KernelTensor, dy: KernelTensor, mean: KernelTensor, variance: KernelTensor, weight: KernelTensor | null, eps: number, batchStats: boolean,
  reluOutput: KernelTensor | null = null,
): BatchNormGradients {
  if (x.shape.length < 2 || x.data.length < BN_TRAIN_MIN) return jsBatchNormGrad(x, dy, mean, variance, weight, eps, batchStats, reluOutput);
  const { n, c, inner } = dims(x.shape);
  const size = x.data.length;
  const rt = runtime();
  rt.begin();
  rt.args(BG, { X: rt.put(x.data), DY: rt.put(dy.data), MEAN: rt.put(mean.data), VAR: rt.put(variance.data), W: weight ? rt.put(weight.data) : 0 });
  const pdx = rt.alloc(size);
  const pdw = rt.alloc(c);
  const pdb = rt.alloc(c);
  rt.args(BG, { DX: pdx, DW: pdw, DB: pdb, N: n, C: c, INNER: inner, COUNT: c, STATS: batchStats ? 1 : 0, Y: reluOutput ? rt.put(reluOutput.data) : 0 });
  argF64(rt, BG.EPS, eps);
  runSplit(rt, KIND.batchNormGrad, BG.CPT, c, 2 * size, inner === 1 ? 4 : 1);
  return { dx: rt.read(pdx, size), dweight: rt.read(pdw, c), dbias: rt.read(pdb, c) };
}
