/**
 * MatMul on the packed GEMM: batched, transposes as strides, bias and ReLU fused into the
 * micro-kernel's epilogue. Shapes the fast path does not cover (mixed broadcast of several
 * batch dimensions, empty products) go to the js reference, which also words the errors.
 */
import type { KernelSignatures, KernelTensor } from '../kernels.js';
import { matMul as jsMatMul } from '../js/matmul.js';
import { sizeOf } from '../../tensor/shape.js';
import { BMODE, EP, G, KIND } from './job-layout.js';
import { gemmSpec, PARALLEL_MACS, runGemm, runGemv } from './gemm.js';
import { runtime } from './instance.js';
import type { WasmRuntime } from './runtime.js';
import { roundUp } from './args.js';

export const matMul: KernelSignatures['MatMul'] = (a, b, transposeA, transposeB, bias, activation) => {
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) return jsMatMul(a, b, transposeA, transposeB, bias, activation);
  const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
  const aCount = sizeOf(a.shape.slice(0, -2));
  const bCount = sizeOf(b.shape.slice(0, -2));
  const sameBatch = a.shape.slice(0, -2).join() === b.shape.slice(0, -2).join();
  // One stride per operand covers equal batches or a single matrix on one side.
  const simpleBatch = sameBatch || aCount === 1 || bCount === 1;
  if (k !== kb || k === 0 || m === 0 || n === 0 || !simpleBatch || (bias && bias.data.length !== n)) {
    return jsMatMul(a, b, transposeA, transposeB, bias, activation);
  }
  const count = Math.max(aCount, bCount);
  const rt = runtime();
  rt.begin();
  const pa = rt.put(a.data);
  const pb = rt.put(b.data);
  rt.alloc(8); // the in-place B reads whole rows of 8 past the last column
  const pbias = bias ? rt.put(bias.data) : 0;
  const pc = rt.alloc(count * m * n);
  const flags = (bias ? EP.biasCol : 0) | (activation === 'relu' ? EP.relu : 0);
  if (m < 4 && count === 1 && transposeB && !transposeA) {
    runGemv(rt, m, n, k, pa, pb, pc, pbias, flags);
  } else if (count === 1 && small(m, n, k, transposeA, transposeB)) {
    runSmall(rt, m, n, k, transposeA, transposeB, pa, pb, pc, pbias, flags);
  } else {
    runGemm(rt, gemmSpec({
      m, n, k,
      a: pa, ars: transposeA ? 1 : k, acs: transposeA ? m : 1,
      // Few rows: B is read in place (packing it would cost more than the multiplies).
      bmode: !transposeB && m <= 32 ? BMODE.direct : BMODE.strided,
      b: pb, brs: transposeB ? 1 : n, bcs: transposeB ? k : 1,
      c: pc, ldc: n, flags, bias: pbias,
      nb1: count, as1: aCount === 1 ? 0 : m * k, bs1: bCount === 1 ? 0 : k * n, cs1: m * n,
    }));
  }
  return rt.read(pc, count * m * n);
};

/**
 * Products whose smallest side is too short for the packed GEMM's packing and blocking to pay
 * (a fully-connected layer of a small network and its two gradients: N = 10 classes, or K =
 * 10 in the input gradient). The unpacked kernels stream B once per four rows of A.
 */
const SMALL_SIDE = 32;
/** ... or too few multiply-adds in all for the packing to pay. */
const SMALL_MACS = 1 << 16;

function small(m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): boolean {
  if (transposeA && transposeB) return false;
  // A B with few rows of A but B past L2 (an FC layer's input gradient at a small batch: B is
  // its weight): the outer-product kernel reads B in 8-column strips, a row apart each, so
  // every cache line it loads is on another page; the GEMM reading B in place takes it in
  // long row blocks (10 x 4096 x 4096: 19.3 -> 10.1 ms; 10 x 1024 x 1024: 0.72 -> 0.39 ms).
  if (!transposeA && !transposeB && n >= SMALL_SIDE && k >= SMALL_SIDE && 4 * k * n > B_CACHED_BYTES) return false;
  return Math.min(m, n, k) < SMALL_SIDE || m * n * k < SMALL_MACS;
}
const B_CACHED_BYTES = 1 << 20;

/** Tiles of `size` for about `want` tasks, rounded to multiples of `unit`. */
function tileOf(size: number, want: number, unit: number): number {
  return roundUp(Math.max(1, Math.ceil(size / Math.max(1, want))), unit);
}

/**
 * Bytes of B one task of the small kernels reads at most. A task runs its rows of A a few at a
 * time, each over the task's whole slice of B: a slice that stays in L2 comes from memory once
 * however many rows the task has. (Tiles of two rows and wide slices re-streamed a 4096 x 2048
 * weight from memory five times at batch 10: the FC layers of VGG ran at 15-30 GFLOP/s.)
 */
const B_SLICE_BYTES = 256 << 10;

/**
 * C = op(A) op(B) on assembly/gemv.ts's small kernels: dot products for A B^T (both operands'
 * rows run along K), outer products for A B with B's rows along N (A at any strides).
 */
function runSmall(
  rt: WasmRuntime, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean,
  pa: number, pb: number, pc: number, pbias: number, flags: number,
): void {
  const parallel = m * n * k >= PARALLEL_MACS;
  const want = parallel ? 4 * rt.threads() : 1;
  const dot = transposeB;
  const mUnit = dot ? 2 : 4, nUnit = dot ? 4 : 8;
  // Columns in slices of B that fit L2; rows split only where the slices are too few tasks.
  const sliceN = Math.max(nUnit, Math.floor(B_SLICE_BYTES / (4 * k) / nUnit) * nUnit);
  const tileN = Math.min(sliceN, roundUp(n, nUnit));
  const tilesN = Math.ceil(n / tileN);
  const tileM = tileOf(m, Math.min(Math.ceil(m / mUnit), Math.ceil(want / tilesN)), mUnit);
  rt.args(G, {
    M: m, N: n, K: k, A: pa, ARS: transposeA ? 1 : k, ACS: transposeA ? m : 1, B: pb, BRS: n, C: pc, LDC: n,
    FLAGS: flags, BIAS: pbias, TILEM: tileM, TILEN: tileN, TILESN: tilesN,
  });
  rt.run(dot ? KIND.smallDot : KIND.smallMatmul, Math.ceil(m / tileM) * tilesN, 0, parallel);
}
