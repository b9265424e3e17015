/**
 * Batch norm's training kernels on wasm (assembly/bn-chunks.ts): per-channel statistics and the
 * gradients, float64 sums and formulas as the js reference. The work is split into units of
 * contiguous planes (see bnChunks), so every shape uses every thread and memory is read in
 * order; the sums go to float64 partials per chunk of images that a second job adds up per
 * channel in chunk order.
 * The chunks depend on the shape only, so the bits never depend on the thread count.
 * Inputs are [N, C, ...] (BatchNorm1d's [N, C] included); small ones go to the js reference.
 */
import type { BatchNormGradients, BatchNormStatistics, KernelTensor } from '../kernels.js';
import { batchNormGrad as jsBatchNormGrad, batchNormStats as jsBatchNormStats } from '../js/normalization.js';
import { argF64, runSplit } from './args.js';
import { BG, BS, KIND } from './job-layout.js';
import { runtime } from './instance.js';
import type { WasmRuntime } from './runtime.js';

/** Below this many elements the js loops are as fast as a wasm call. */
export const BN_TRAIN_MIN = 2048;

/** Elements a unit covers (at least one row): enough to amortize a unit, small enough to split any shape over the threads. */
export const BN_CHUNK = 16384;

/**
 * The unit grid of x [N, C, inner] (assembly/bn-chunks.ts): a unit is `ipc` images of `cb`
 * channels, contiguous in memory (whole images when cb == C, else cb planes of one image); for
 * [N, C] four channels (a vector) down `ipc` rows. Partials are per chunk of images.
 */
export function bnChunks(n: number, c: number, inner: number): { ipc: number; cb: number; chunks: number; units: number } {
  let ipc: number, cb: number;
  if (inner === 1) {
    cb = 4;
    ipc = BN_CHUNK / 4;
  } else {
    const rows = Math.max(1, Math.floor(BN_CHUNK / inner));
    cb = Math.min(c, rows);
    ipc = rows >= c ? Math.floor(rows / c) : 1;
  }
  const chunks = Math.ceil(n / ipc);
  return { ipc, cb, chunks, units: chunks * Math.ceil(c / cb) };
}

function dims(shape: readonly number[]): { n: number; c: number; inner: number } {
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d]!;
  return { n: shape[0]!, c: shape[1]!, inner };
}

/** Float64 partials, [chunks][C][2], 8-byte aligned (heap blocks are). */
function partials(rt: WasmRuntime, chunks: number, c: number): number {
  return rt.alloc(chunks * c * 4);
}

export function batchNormStats(x: KernelTensor): BatchNormStatistics {
  if (x.shape.length < 2 || x.data.length < BN_TRAIN_MIN) return jsBatchNormStats(x);
  const { n, c, inner } = dims(x.shape);
  const { ipc, cb, chunks, units } = bnChunks(n, c, inner);
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pm = rt.alloc(c);
  const pv = rt.alloc(c);
  rt.args(BS, { X: px, MEAN: pm, VAR: pv, N: n, C: c, INNER: inner, COUNT: units, IPC: ipc, PART: partials(rt, chunks, c), CHUNKS: chunks, SHIFT: rt.alloc(c), CB: cb });
  runSplit(rt, KIND.bnStatsShift, BS.CPT, c, c * 256);
  runSplit(rt, KIND.bnStatsPart, BS.CPT, units, x.data.length);
  rt.run(KIND.bnStatsFinish, 1, 0, false);
  return { mean: rt.read(pm, c), variance: rt.read(pv, c) };
}

export function batchNormGrad(
  x: KernelTensor, dy: KernelTensor, mean: KernelTensor, variance: KernelTensor, weight: KernelTensor | null, eps: number, batchStats: boolean,
  reluOutput: KernelTensor | null = null,
): BatchNormGradients {
  if (x.shape.length < 2 || x.data.length < BN_TRAIN_MIN) return jsBatchNormGrad(x, dy, mean, variance, weight, eps, batchStats, reluOutput);
  const { n, c, inner } = dims(x.shape);
  const { ipc, cb, chunks, units } = bnChunks(n, c, inner);
  const size = x.data.length;
  const rt = runtime();
  rt.begin();
  rt.args(BG, { X: rt.put(x.data), DY: rt.put(dy.data), MEAN: rt.put(mean.data), VAR: rt.put(variance.data), W: weight ? rt.put(weight.data) : 0 });
  const pdx = rt.alloc(size);
  const pdw = rt.alloc(c);
  const pdb = rt.alloc(c);
  rt.args(BG, {
    DX: pdx, DW: pdw, DB: pdb, N: n, C: c, INNER: inner, COUNT: units, STATS: batchStats ? 1 : 0, Y: reluOutput ? rt.put(reluOutput.data) : 0,
    IPC: ipc, PART: partials(rt, chunks, c), CHUNKS: chunks, CB: cb, COEF: rt.alloc(6 * c),
  });
  argF64(rt, BG.EPS, eps);
  runSplit(rt, KIND.bnGradPart, BG.CPT, units, size);
  runSplit(rt, KIND.bnGradCoef, BG.CPT, c, c * chunks);
  runSplit(rt, KIND.bnGradApply, BG.CPT, units, size);
  return { dx: rt.read(pdx, size), dweight: rt.read(pdw, c), dbias: rt.read(pdb, c) };
}
