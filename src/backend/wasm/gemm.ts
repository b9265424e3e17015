/**
 * Publishing a GEMM job: C = op(A) op(B) over batches, groups and (for the filter gradient)
 * a sum over images, with operands in the arena. `GemmSpec` names what assembly/gemm.ts reads;
 * `runGemm` picks the task tiling for the threads at hand and runs it.
 */
import { BMODE, E, EOP, G, KIND, MR, NR } from './job-layout.js';
import { roundUp } from './args.js';
import type { WasmRuntime } from './runtime.js';

/** Convolution geometry for the implicit-im2col B modes (one image, one group). */
export interface ConvGeo {
  c: number; h: number; w: number; kh: number; kw: number; sh: number; sw: number;
  pt: number; pl: number; dh: number; dw: number; oh: number; ow: number;
}

export interface GemmSpec {
  m: number;
  n: number;
  k: number;
  /** A(i, p) at a + i*ars + p*acs (floats, from the byte pointer a). */
  a: number; ars: number; acs: number;
  bmode: number;
  b: number; brs: number; bcs: number;
  c: number; ldc: number;
  flags: number;
  bias: number;
  /** Per-row multipliers (EP.scaleRow), indexed as the bias. */
  scale: number;
  /** Batch b = b1 * nb2 + b2 offsets every operand by b1*s1 + b2*s2 floats. */
  nb1: number; nb2: number;
  as1: number; as2: number; bs1: number; bs2: number; cs1: number; cs2: number; biass2: number;
  /** The K sum runs over `kImages` images, stepping A and B by ask / bsk floats. */
  kImages: number; ask: number; bsk: number;
  geo?: ConvGeo;
  /** Per-thread scratch beyond the packing buffers (the column matrix of BMODE.cols), bytes. */
  extraScratch: number;
  /** BMODE.phaseN / rowsN: B's columns per image, and floats between images' B. */
  iohw: number; istride: number;
  /** Columns per task at most (0: no limit): keeps a B block of a very wide N in cache. */
  maxTileN: number;
}

export function gemmSpec(s: Partial<GemmSpec> & Pick<GemmSpec, 'm' | 'n' | 'k' | 'a' | 'ars' | 'acs' | 'b' | 'brs' | 'bcs' | 'c' | 'ldc'>): GemmSpec {
  return {
    bmode: BMODE.strided, flags: 0, bias: 0, scale: 0, nb1: 1, nb2: 1,
    as1: 0, as2: 0, bs1: 0, bs2: 0, cs1: 0, cs2: 0, biass2: 0, kImages: 1, ask: 0, bsk: 0, extraScratch: 0, iohw: 0, istride: 0, maxTileN: 0,
    ...s,
  };
}

/** Below this many multiply-adds a job is not worth waking the workers for. */
export const PARALLEL_MACS = 1 << 18;

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
/** Tiles of a dimension of `size` cut into `count` tiles rounded up to multiples of `unit`. */
const tiles = (size: number, count: number, unit: number): number => ceilDiv(size, roundUp(ceilDiv(size, count), unit));

/**
 * Runs the job. `kParts` > 1 splits the image sum into partial products written `cspart`
 * floats apart (the caller adds them up): the only way to spread a small filter gradient
 * over threads.
 */
export function runGemm(rt: WasmRuntime, s: GemmSpec, kParts = 1, cspart = 0): void {
  const macs = s.m * s.n * s.k * s.nb1 * s.nb2 * s.kImages;
  const parallel = macs >= PARALLEL_MACS;
  const threads = parallel ? rt.threads() : 1;
  const batches = s.nb1 * s.nb2 * kParts;
  // Enough tasks for dynamic load balancing (4 per thread), but tiles no smaller than the
  // blocking wants: N tiles of at least 256 columns, M tiles of at least 64 rows. Every M tile
  // packs its own B, so where packing B is dear (element by element from an image, or
  // transposed) M tiles keep at least 256 rows: 8 tiles of 64 made VGG's 7x7 layers slower
  // on two threads than on one.
  // Packing B from phase planes (strided convolutions) is contiguous loads, or gathers where
  // output rows are shorter than a panel: M tiles of 128 rows keep it a few percent.
  const dearB = s.bmode === BMODE.im2col || s.bmode === BMODE.im2colT || (s.bmode === BMODE.strided && s.bcs !== 1);
  const minM = dearB ? 256 : s.bmode === BMODE.phase ? 128 : 64;
  let tilesM = 1;
  let tilesN = 1;
  if (threads > 1 && batches < 4 * threads) {
    const want = ceilDiv(4 * threads, batches);
    tilesN = Math.max(1, Math.min(want, Math.floor(s.n / 256)));
    tilesM = Math.max(1, Math.min(ceilDiv(want, tilesN), Math.floor(s.m / minM)));
    // Few tasks: a count that is not a multiple of the threads leaves one idle at the end
    // (3 tasks on 2 threads run at 75%). Split a little finer where the tiles stay big enough.
    const tasks = (tm: number, tn: number): number => batches * tiles(s.m, tm, MR) * tiles(s.n, tn, NR);
    if (tasks(tilesM, tilesN) % threads !== 0) {
      search: for (let extra = 1; extra < threads; extra++) {
        for (const [tm, tn] of [[tilesM, tilesN + extra], [tilesM + extra, tilesN]] as const) {
          if (s.n / tn >= 128 && s.m / tm >= minM / 2 && tasks(tm, tn) % threads === 0) {
            tilesM = tm;
            tilesN = tn;
            break search;
          }
        }
      }
    }
  }
  if (s.maxTileN > 0) tilesN = Math.max(tilesN, ceilDiv(s.n, s.maxTileN));
  const tileN = roundUp(ceilDiv(s.n, tilesN), NR);
  const tileM = roundUp(ceilDiv(s.m, tilesM), MR);
  tilesN = ceilDiv(s.n, tileN);
  tilesM = ceilDiv(s.m, tileM);
  rt.args(G, {
    M: s.m, N: s.n, K: s.k, A: s.a, ARS: s.ars, ACS: s.acs, BMODE: s.bmode, B: s.b, BRS: s.brs, BCS: s.bcs, C: s.c, LDC: s.ldc,
    FLAGS: s.flags, BIAS: s.bias, TILEM: tileM, TILEN: tileN, TILESM: tilesM, TILESN: tilesN, NB2: s.nb2, NBATCH: s.nb1 * s.nb2,
    AS1: s.as1, AS2: s.as2, BS1: s.bs1, BS2: s.bs2, CS1: s.cs1, CS2: s.cs2, BIASS2: s.biass2, KIMG: s.kImages, ASK: s.ask, BSK: s.bsk,
    KPARTS: kParts, CSPART: cspart, SCALE: s.scale, IOHW: s.iohw, ISTRIDE: s.istride,
  });
  const g = s.geo;
  if (g) [g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.dh, g.dw, g.oh, g.ow].forEach((x, i) => rt.arg(G.GEO + i, x));
  rt.run(KIND.gemm, kParts * s.nb1 * s.nb2 * tilesM * tilesN, rt.gemmScratch + s.extraScratch, parallel);
}

/** y[m, n] = A W^T for M < 4 rows: W [N, K] streamed once (fully-connected at batch 1). */
export function runGemv(rt: WasmRuntime, m: number, n: number, k: number, a: number, w: number, c: number, bias: number, flags: number): void {
  const parallel = m * n * k >= PARALLEL_MACS;
  const threads = parallel ? rt.threads() : 1;
  const tileN = roundUp(ceilDiv(n, 8 * threads), 4);
  rt.args(G, { M: m, N: n, K: k, A: a, B: w, C: c, LDC: n, FLAGS: flags, BIAS: bias, TILEN: tileN });
  rt.run(KIND.gemv, ceilDiv(n, tileN), 0, parallel);
}

/** Floats per task of sumParts' additions. */
const SUM_CHUNK = 1 << 15;

/**
 * Adds `parts` partial results of n floats each, one after the other from ptr (the filter
 * gradients' partial dW's, a convolution's channel chunks), into `out` (the first part's
 * block by default), in part order (the bits never depend on timing). Large sums by the
 * elementwise job (in js they cost as much as a good part of a large dW's kernel); small ones
 * in js, where a wasm call per part would cost more than the additions.
 * `relu`: the last addition takes max(0, .) (a chunked forward convolution's ReLU).
 */
export function addParts(rt: WasmRuntime, ptr: number, n: number, parts: number, out = ptr, relu = false): void {
  if (n < 4096 && !relu) {
    const f32 = rt.f32;
    for (let p = 1; p < parts; p++) {
      const a = (p === 1 ? ptr : out) >>> 2, b = (ptr >>> 2) + p * n, o = out >>> 2;
      for (let i = 0; i < n; i++) f32[o + i] = f32[a + i]! + f32[b + i]!;
    }
    return;
  }
  for (let p = 1; p < parts; p++) {
    const op = relu && p === parts - 1 ? EOP.addRelu : EOP.add;
    const a = p === 1 ? ptr : out;
    [[E.OP, op], [E.A, a], [E.B, ptr + 4 * p * n], [E.OUT, out], [E.N, n], [E.CHUNK, SUM_CHUNK]].forEach(([s, v]) => rt.arg(s!, v!));
    rt.run(KIND.elementwise, Math.ceil(n / SUM_CHUNK), 0, n >= 4 * SUM_CHUNK);
  }
}

/** addParts into the first part, then read out. */
export function sumParts(rt: WasmRuntime, ptr: number, n: number, parts: number): Float32Array {
  addParts(rt, ptr, n, parts);
  return rt.read(ptr, n);
}
