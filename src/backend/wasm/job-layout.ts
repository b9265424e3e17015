/**
 * The argument slots of each task kind, mirrored from the AssemblyScript sources
 * (assembly/gemm.ts, col2im.ts, winograd-f23.ts, elementwise.ts, planes.ts, pool.ts). A job's
 * arguments are int32 words after the job block's header; pointers are byte offsets into the wasm memory and
 * strides are in floats.
 */

export const KIND = { gemm: 1, col2im: 2, winogradF23Banded: 3, winogradF23Filter: 4, elementwise: 5, gemv: 6, maxPool: 7, maxPoolGrad: 8, batchNorm: 9, channelSum: 10,
  maxPoolValues: 11, avgPool: 12, avgPoolGrad: 13, lrn: 14, lrnGrad: 19, directConv: 15, directFilter: 16, phases: 23, col2imPhase: 24,
  winogradF23Input: 21, winogradF23Flat: 22, winogradF43Input: 27, winogradF43Flat: 28, winogradF25Input: 29, winogradF25Flat: 30,
  winogradF43Filter: 31, winogradF43Banded: 32, winogradF25Filter: 33, winogradF25Banded: 34, winogradF25FilterGrad: 35,
  winogradF45Input: 36, winogradF45Flat: 37, winogradF45Filter: 38, winogradF45Banded: 39, winogradF45FilterGrad: 40,
  clamp: 65, clampGrad: 66, softplus: 67, softplusGrad: 68, prelu: 69, preluGrad: 70, pad: 71, padGrad: 72, gather: 73, argMax: 74, topK: 75,
  multiMargin: 76, multiMarginGrad: 77, adaptiveMaxPool: 78, lcForward: 79, lcInput: 80, lcFilter: 81,
  softmax: 57, nll: 58, unary: 59, broadcast: 60, reduce: 61,
  dwConv: 50, dwInput: 51, dwFilter: 52, dwLanes: 53, dwLanesFilter: 54, dwLanesInput: 55,
  winogradF23FilterGrad: 41, winogradF43FilterGrad: 42, flipFilters: 43,
  winogradDenseInput: 100, winogradDense: 101, winogradDenseFilter: 141, winogradDenseBanded: 142,
  sgd: 91, adam: 92,
  dilSplit: 120, dilMerge: 121,
  reluGradSum: 130,
  batchCols: 140,
  bnStatsPart: 170, bnStatsFinish: 171, bnGradPart: 172, bnGradApply: 173, bnStatsShift: 174, bnGradCoef: 175,
  smallMatmul: 180, smallDot: 181 } as const;

/** Header words of the job block (assembly/job.ts). */
export const JOB = { gen: 0, next: 1, fin: 2, ntasks: 3, kind: 4, ready: 5, exit: 6, scratch: 7, sstride: 8, dead: 9, join: 10, args: 16 } as const;
/** Bytes of the job block: header + up to 112 argument slots. */
export const JOB_BYTES = 512;

/** assembly/gemm.ts */
export const G = {
  M: 0, N: 1, K: 2,
  A: 3, ARS: 4, ACS: 5,
  BMODE: 6, B: 7, BRS: 8, BCS: 9,
  C: 10, LDC: 11, FLAGS: 12, BIAS: 13,
  TILEM: 14, TILEN: 15, TILESM: 16, TILESN: 17,
  NB2: 18, NBATCH: 19,
  AS1: 20, AS2: 21, BS1: 22, BS2: 23, CS1: 24, CS2: 25, BIASS2: 26,
  KIMG: 27, ASK: 28, BSK: 29, KPARTS: 30, CSPART: 31,
  GEO: 32, SCALE: 45, IOHW: 46, ISTRIDE: 47,
} as const;
export const BMODE = { strided: 0, im2col: 1, im2colT: 2, direct: 3, cols: 4, colsT: 5, phase: 6, phaseT: 7, phaseN: 8, rowsN: 9 } as const;
/** assembly/pack-multi.ts: [rows][images*ohw] <-> [images][rows][ohw] (DIR 0: to images) */
export const BC = { SRC: 0, DST: 1, ROWS: 2, IMAGES: 3, OHW: 4, DIR: 5, ROWB: 6 } as const;

/** assembly/phase.ts: the phase planes of strided convolutions */
export const PS = { X: 0, P: 1, H: 2, W: 3, SH: 4, SW: 5, PT: 6, PL: 7, NA: 8, NB: 9, PH: 10, PW: 11 } as const;
/** assembly/phase.ts: split into dilation phases (a batch of padded phase planes) and merge back */
export const DS = { X: 0, P: 1, C: 2, H: 3, W: 4, DH: 5, DW: 6, PT: 7, PL: 8, PH: 9, PW: 10 } as const;
export const DM = { Z: 0, Y: 1, G: 2, CG: 3, PH: 4, PW: 5, DH: 6, DW: 7, OT: 8, OL: 9, OH: 10, OW: 11 } as const;
/** Epilogue flags (assembly/kernel.ts). */
export const EP = { load: 1, biasRow: 2, biasCol: 4, relu: 8, scaleRow: 16 } as const;
/** Register tile of the micro-kernel. */
export const MR = 4;
export const NR = 8;

/** assembly/direct.ts (BANDS: forward, row bands per image; filter gradient, floats between parts) */
export const DC = {
  X: 0, W: 1, BIAS: 2, Y: 3, FLAGS: 4, G: 5, CG: 6, H: 7, W_: 8, KG: 9, KH: 10, KW: 11, PT: 12, PL: 13,
  DH: 14, DW: 15, OH: 16, OW: 17, BANDS: 18, N: 19, XS: 20, YS: 21, IPP: 22, IMGB: 23,
} as const;

/** assembly/depthwise.ts (for the input gradient X is dy, Y is dx; RPB rows per band; PSTRIDE floats between the filter gradient's parts) */
export const DWC = {
  X: 0, W: 1, BIAS: 2, SCALE: 3, Y: 4, FLAGS: 5, G: 6, CG: 7, KG: 8, H: 9, W_: 10, KH: 11, KW: 12, SH: 13, SW: 14,
  PT: 15, PL: 16, DH: 17, DW: 18, OH: 19, OW: 20, N: 21, RPB: 22, IPP: 23, PSTRIDE: 24,
} as const;

/** assembly/col2im.ts */
export const C2I = { COLS: 0, DX: 1, NPLANES: 2, GEO: 3, IMGS: 16, RS: 17 } as const;

/** assembly/winograd-f23.ts */
export const W = {
  X: 0, U: 1, Y: 2, BIAS: 3, RELU: 4, N: 5, C: 6, K: 7, H: 8, W: 9, OH: 10, OW: 11, PT: 12, PL: 13,
  TH: 14, TWP: 15, ROWS: 16, TPI: 17, WP: 18, KB: 19, KP: 20, G: 21,
  V: 22, TW4: 23, PANELS: 24, TC: 25, CC: 26, SCALE: 27,
} as const;
/** assembly/winograd-dense.ts: its jobs' slots beyond W's (variant, dense tiles per row, images per input task) */
export const WD = { VARIANT: 28, TWD: 29, IB: 30 } as const;

/** assembly/winogradgrad.ts: the filter gradient of 3x3 and 5x5 convolutions by Winograd (F(2x2, 3x3), F(4x4, 3x3), F(2x2, 5x5), F(4x4, 5x5)) */
export const FG = { X: 0, DY: 1, OUT: 2, N: 3, C: 4, K: 5, H: 6, W: 7, OH: 8, OW: 9, PT: 10, PL: 11, IPP: 12, RC: 13, SWAP: 14, IC: 15, KBLK: 16 } as const;

/** assembly/flip.ts: the flipped filters of the stride-1 input gradient */
export const FL = { SRC: 0, DST: 1, KG: 2, CG: 3, TAPS: 4, ROWS: 5 } as const;

/** assembly/elementwise.ts */
export const E = { OP: 0, A: 1, B: 2, OUT: 3, N: 4, CHUNK: 5, ALPHA: 6 } as const;
export const EOP = {
  relu: 1, leakyRelu: 2, neg: 3, abs: 4, sqrt: 5, square: 6,
  add: 10, sub: 11, mul: 12, div: 13, maximum: 14, minimum: 15, addRelu: 16, reluGrad: 20,
} as const;

/** assembly/pool.ts (P and PG: max pooling with or without switches, and its gradient) */
export const P = { X: 0, OUT: 1, IDX: 2, H: 3, W: 4, OH: 5, OW: 6, KH: 7, KW: 8, SH: 9, SW: 10, PT: 11, PL: 12, DH: 13, DW: 14, PPT: 15, PLANES: 16 } as const;
export const PG = { DY: 0, IDX: 1, DX: 2, HW: 3, OHW: 4, PPT: 5, PLANES: 6, H: 7, W: 8, OH: 9, OW: 10 } as const;
export const AP = { X: 0, OUT: 1, TAB: 2, H: 3, W: 4, OH: 5, OW: 6, MODE: 7, DIV: 8, PPT: 9, PLANES: 10, KW: 11, SW: 12, PL: 13, J0: 14, J1: 15 } as const;
export const AVG = { inside: 0, padded: 1, fixed: 2 } as const;
/** assembly/lrn.ts: K, AOS (alpha / size) and COEF are float64s, two slots each; M is 4 * beta. */
export const LR = {
  X: 0, Y: 1, DY: 2, A: 3, B: 4, C: 5, INNER: 6, BEFORE: 7, AFTER: 8, PPT: 9, PLANES: 10, PASS: 11, K: 12, AOS: 14, M: 16, COEF: 18,
} as const;

/** assembly/planes.ts */
/** BN: VAR, W and B are per-channel pointers (W, B: 0 for none), EPS a float64 (two slots). */
export const BN = { X: 0, Y: 1, MEAN: 2, VAR: 3, B: 4, C: 5, INNER: 6, PPT: 7, PLANES: 8, RELU: 9, W: 10, EPS: 11 } as const;
export const RS = { X: 0, OUT: 1, A: 2, B: 3, C: 4, BPT: 5, MEAN: 6 } as const;
/** assembly/relu-grad-sum.ts: the masked gradient and its per-channel sum of [N, C, INNER] */
export const RGS = { Y: 0, DY: 1, OUT: 2, SUM: 3, N: 4, C: 5, INNER: 6, CPT: 7 } as const;

/** assembly/activations.ts (A and B are float64s, two slots each) */
export const AC = { X: 0, DY: 1, OUT: 2, N: 3, CHUNK: 4, A: 6, B: 8 } as const;
export const PR = { X: 0, W: 1, DY: 2, OUT: 3, ACC: 4, ROWS: 5, LEN: 6, C: 7, MODE: 8, RPT: 9, INNER: 10, N: 11 } as const;

/** assembly/pad.ts (VALUE is a float32) */
export const PD = { X: 0, OUT: 1, ROWS: 2, COLS: 3, H: 4, W: 5, OH: 6, OW: 7, J0: 8, J1: 9, SHIFT: 10, VALUE: 11, PPT: 12, PLANES: 13 } as const;

/** assembly/gather.ts */
export const GA = { X: 0, IDX: 1, OUT: 2, DIMS: 3, ND: 4, AXIS: 5, LINES: 6, LPT: 7, GRAD: 8 } as const;

/** assembly/topk.ts (ArgMax and TopK) */
export const AM = { X: 0, OUT: 1, VALS: 2, OUTER: 3, N: 4, INNER: 5, LPT: 6, K: 7, LARGEST: 8 } as const;

/** assembly/multi-margin.ts (MARGIN is a float64, two slots) */
export const MM = { X: 0, T: 1, DY: 2, OUT: 3, W: 4, N: 5, C: 6, P: 7, RPT: 8, MARGIN: 10 } as const;

/** assembly/adaptive-max-pool.ts */
export const AMP = { X: 0, OUT: 1, IDX: 2, TAB: 3, H: 4, W: 5, OH: 6, OW: 7, PPT: 8, PLANES: 9 } as const;

/**
 * assembly/locally-connected.ts. The input gradient reads dy at Y and writes dx at X; the filter
 * gradient reads x at X and dy at Y and writes dw at W.
 */
export const LC = {
  X: 0, W: 1, BIAS: 2, Y: 3, N: 4, C: 5, H: 6, W_: 7, K: 8, KH: 9, KW: 10, SH: 11, SW: 12, PT: 13, PL: 14, DH: 15, DW: 16, OH: 17, OW: 18,
  UPT: 19, UNITS: 20, CB: 21,
} as const;
/**
 * assembly/batchnorm.ts, bn-chunks.ts (EPS is a float64, two slots; BG.Y: a fused ReLU's output, 0 for none;
 * CPT: units per task, COUNT: units; IPC, CB: images and channels per unit; PART: float64 partials per chunk)
 */
export const BS = { X: 0, MEAN: 1, VAR: 2, N: 3, C: 4, INNER: 5, CPT: 6, COUNT: 7, IPC: 8, PART: 9, CHUNKS: 10, SHIFT: 11, CB: 12 } as const;
export const BG = {
  X: 0, DY: 1, MEAN: 2, VAR: 3, W: 4, DX: 5, DW: 6, DB: 7, N: 8, C: 9, INNER: 10, CPT: 11, COUNT: 12, STATS: 13, EPS: 14, Y: 16, IPC: 17, PART: 18, CHUNKS: 19, CB: 20, COEF: 21,
} as const;

/** assembly/softmax.ts (UPT: units per task; a unit is a row, or four adjacent rows when inner > 1) */
export const SM = { X: 0, DY: 1, OUT: 2, OUTER: 3, N: 4, INNER: 5, OP: 6, UPT: 7, UNITS: 8 } as const;
export const SMOP = { softmax: 0, logSoftmax: 1, softmaxGrad: 2, logSoftmaxGrad: 3 } as const;
/** assembly/nll.ts (W: 0 for none; SPT: samples per task) */
export const NL = { X: 0, T: 1, W: 2, IGN: 3, OUT: 4, C: 5, INNER: 6, SPT: 7, N: 8, GRAD: 9, DY: 10 } as const;

/**
 * assembly/unary.ts (ALPHA: a float64, two slots; GRAD: dy * op'(x, y) instead of op(x)); strided
 * operands as B's: inner run L (0: all contiguous) with strides SX SY SDY, ND outer dims from
 * DIMS with strides from STX STY STDY
 */
export const U = { OP: 0, X: 1, Y: 2, DY: 3, OUT: 4, N: 5, CHUNK: 6, GRAD: 7, ALPHA: 8, L: 10, SX: 11, SY: 12, SDY: 13, ND: 14, DIMS: 15, STX: 21, STY: 27, STDY: 33, MAXD: 6 } as const;
export const UOP = {
  relu: 1, leakyRelu: 2, elu: 3, selu: 4, sigmoid: 5, tanh: 6, softplus: 7, exp: 8, log: 9, neg: 10, abs: 11, sqrt: 12, square: 13, reciprocal: 14,
  // declared pointwise ops (src/ops/pointwise/table.ts `simd`), 40-59
  silu: 40, hardsigmoid: 41, hardswish: 42, relu6: 43, mish: 44, gelu: 45,
} as const;
/** assembly/broadcast.ts: up to MAXD outer dims from DIMS, a's strides from STA, b's from STB */
export const B = { OP: 0, A: 1, B: 2, OUT: 3, N: 4, CHUNK: 5, L: 6, SA: 7, SB: 8, RELU: 9, ND: 10, DIMS: 11, STA: 17, STB: 23, MAXD: 6 } as const;
export const BOP = { add: 1, sub: 2, mul: 3, div: 4, pow: 5, maximum: 6, minimum: 7 } as const;
/** assembly/reduce.ts (DIV: a float64, two slots; up to MAXD kept and reduced dims; KC: mode-1 chunk) */
export const R = {
  X: 0, OUT: 1, OP: 2, MODE: 3, UPT: 4, UNITS: 5, NK: 6, NR: 7, INNER: 8, DIV: 9, CHUNKS: 11, KD: 12, KS: 18, RD: 24, RS: 30, MAXD: 6, KC: 512,
} as const;
export const ROP = { sum: 0, mean: 1, max: 2, min: 3 } as const;

/** assembly/optim.ts: job arguments (SGD: OS, Adam: OA) and the 8 words of a parameter's slot (SL). */
export const OP = { TAB: 0, SLOTS: 1 } as const;
export const OS = { LR: 2, MOM: 3, KEEP: 4, WD: 5, NESTEROV: 6 } as const;
export const OA = { B1: 2, C1: 3, B2: 4, C2: 5, EPS: 6, WD: 7, DECAY: 8, AMS: 9 } as const;
export const SL = { W: 0, G: 1, M: 2, V: 3, VMAX: 4, A: 6, B: 7, WORDS: 8 } as const;
