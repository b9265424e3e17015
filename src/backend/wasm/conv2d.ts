/**
 * The three convolution kernels on the packed GEMM, with Winograd for 3x3 stride-1 layers and
 * bias + ReLU fused into the epilogue. im2col is implicit: B panels are packed straight from
 * the image (no column matrix), except with few filters per group, where each task writes its
 * image's column matrix into scratch and the micro-kernel reads it in place (colsMode).
 * Strided convolutions first split the input into its stride phases (phase.ts), so B packs
 * with contiguous loads as at stride 1; col2im adds up through phase planes too. Few filters
 * per group at stride 1 (LeNet, the CIFAR demo) skip the GEMM for a direct convolution
 * (assembly/direct.ts) in the forward pass, the stride-1 input gradient and the filter gradient.
 *   forward:          y_g = W_g [kg, cg*kh*kw] x im2col(x_g)         (1x1 stride 1: x_g itself)
 *   input gradient:   stride 1 -> a forward convolution of dy with the flipped, transposed
 *                     filters (so it gets Winograd too); 1x1 stride 1 -> W_g^T dy_g straight
 *                     into dx; otherwise dcols = W_g^T dy_g, col2im (strided.ts)
 * Strided convolutions with few output pixels per image run the forward pass and the input
 * gradient as one GEMM over the batch (strided.ts).
 *   filter gradient:  dW_g = sum over images of dy_g x im2col(x_g)^T; 3x3 and 5x5 stride 1 by
 *                     Winograd where its cost model says so (winograd-grad.ts, gradPlan)
 * Inputs the fast path does not cover go to the js reference, which also words the errors.
 */
import type { Conv2DAttrs, KernelTensor } from '../kernels.js';
import { roundUp } from './args.js';
import { conv2d as jsConv2d, conv2dBackpropFilter as jsFilter, conv2dBackpropInput as jsInput } from '../js/conv2d.js';
import { BMODE, DC, EP, FL, KIND } from './job-layout.js';
import { addParts, gemmSpec, PARALLEL_MACS, runGemm, sumParts, type ConvGeo } from './gemm.js';
import { runtime } from './instance.js';
import type { WasmRuntime } from './runtime.js';
import { runWinograd, winogradApplies } from './winograd.js';
import { runWinogradFilter, winogradFilterApplies } from './winograd-grad.js';
import { PHASE_BYTES, phaseGeo, runPhases } from './phase.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput, depthwiseConv2d } from './depthwise.js';
import { dilatedBackpropFilter, dilatedBackpropInput, dilatedConv2d } from './dilated.js';
import { transposedBackpropInput } from './transposed.js';
import { batchApplies, forwardBatched, forwardPointwiseBatched, inputGradCols, inputGradPointwiseBatched } from './strided.js';

interface Dims { n: number; c: number; h: number; w: number; k: number; g: number; cg: number; kg: number; rows: number; ohw: number }

function dims(x: readonly number[], w: readonly number[], attrs: Conv2DAttrs): Dims | null {
  if (x.length !== 4 || w.length !== 4) return null;
  const [n, c, h, wd] = x as [number, number, number, number];
  const [k, cgw, kh, kw] = w as [number, number, number, number];
  const g = attrs.groups;
  if (g < 1 || c % g !== 0 || k % g !== 0 || cgw * g !== c || kh !== attrs.kernel[0] || kw !== attrs.kernel[1]) return null;
  const ohw = attrs.out[0] * attrs.out[1];
  if (n * c * h * wd === 0 || k === 0 || ohw === 0 || kh * kw === 0) return null;
  return { n, c, h, w: wd, k, g, cg: c / g, kg: k / g, rows: (c / g) * kh * kw, ohw };
}

function geo(d: Dims, attrs: Conv2DAttrs): ConvGeo {
  return {
    c: d.cg, h: d.h, w: d.w, kh: attrs.kernel[0], kw: attrs.kernel[1], sh: attrs.stride[0], sw: attrs.stride[1],
    pt: attrs.pad[0], pl: attrs.pad[2], dh: attrs.dilation[0], dw: attrs.dilation[1], oh: attrs.out[0], ow: attrs.out[1],
  };
}

function pointwise(attrs: Conv2DAttrs, d: Dims): boolean {
  return attrs.kernel[0] === 1 && attrs.kernel[1] === 1 && attrs.stride[0] === 1 && attrs.stride[1] === 1 &&
    attrs.pad.every((p) => p === 0) && attrs.out[0] === d.h && attrs.out[1] === d.w;
}

/** At most this many filters per group: read B in place rather than pack it (gemm.ts). */
const SMALL_M = 32;

/**
 * Few filters per group: each B element feeds few multiply-adds, so the GEMM task writes its
 * image's column matrix into scratch (row copies) and reads it in place (BMODE.cols) instead
 * of packing B from the image element by element. Bytes of scratch that takes (+ 8 floats:
 * the kernel reads whole rows of 8).
 */
function colsMode(d: Dims, attrs: Conv2DAttrs, pass: 'forward' | 'filter'): boolean {
  if (d.kg > SMALL_M) return false;
  // Not for big images with many filters (RGB stems): their column matrix leaves the cache,
  // and measured 2x slower than packing straight from the image.
  if (!strided(attrs)) return d.rows * d.ohw <= 1 << 20;
  // Strided: the column matrix gathers every row element by element, where packing B from
  // the phase planes (phase.ts) is contiguous loads (and SIMD transposes for the filter
  // gradient). Only a forward column matrix that stays in L2 still pays for its pack-free
  // reads; the filter gradient takes the planes whenever the batch's fit.
  if (pass === 'forward') return d.rows * d.ohw <= COLS_L2;
  return 4 * d.n * d.c * phaseGeo(attrs).perChannel > PHASE_BYTES && d.rows * d.ohw <= 1 << 20;
}

/** Floats of column matrix that stay in L2 (512 KB). */
const COLS_L2 = 1 << 17;

function colsBytes(d: Dims): number {
  return 4 * (d.rows * d.ohw + 8);
}


/** Bytes of input slab (one output row band) the direct kernels keep per task at most. */
const SLAB_BYTES = 192 << 10;

/** Width of the direct forward kernel's slab rows: whole 16-pixel tiles plus the taps' reach. */
function slabWidth(attrs: Conv2DAttrs, tile: number): number {
  return roundUp(attrs.out[1], tile) + (attrs.kernel[1] - 1) * attrs.dilation[1];
}

/**
 * Few filters per group at stride 1 (not 1x1, which reads x in place): the direct kernels of
 * assembly/direct.ts, which read a zero-padded copy of the image through a per-tap offset table
 * instead of building or packing a column matrix.
 */
function directApplies(d: Dims, attrs: Conv2DAttrs): boolean {
  return d.kg <= SMALL_M && attrs.stride[0] === 1 && attrs.stride[1] === 1 && attrs.pad.every((p) => p >= 0) &&
    !pointwise(attrs, d) && d.rows <= 4608 &&
    4 * d.cg * (1 + (attrs.kernel[0] - 1) * attrs.dilation[0]) * slabWidth(attrs, 16) <= SLAB_BYTES;
}

function directArgs(rt: WasmRuntime, d: Dims, attrs: Conv2DAttrs): void {
  const v = [
    [DC.G, d.g], [DC.CG, d.cg], [DC.H, d.h], [DC.W_, d.w], [DC.KG, d.kg], [DC.KH, attrs.kernel[0]], [DC.KW, attrs.kernel[1]],
    [DC.PT, attrs.pad[0]], [DC.PL, attrs.pad[2]], [DC.DH, attrs.dilation[0]], [DC.DW, attrs.dilation[1]],
    [DC.OH, attrs.out[0]], [DC.OW, attrs.out[1]], [DC.N, d.n], [DC.XS, d.c * d.h * d.w], [DC.YS, d.k * d.ohw],
  ] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
}

/** Direct forward convolution: a task is one image and group and a band of output rows. */
function runDirect(rt: WasmRuntime, x: number, w: number, bias: number, y: number, d: Dims, attrs: Conv2DAttrs, relu: boolean): void {
  const [kh] = attrs.kernel;
  const [dh] = attrs.dilation;
  const oh = attrs.out[0];
  const wx = slabWidth(attrs, 16);
  const images = d.n * d.g;
  const macs = d.n * d.k * d.rows * d.ohw;
  const threads = macs >= PARALLEL_MACS ? rt.plannedThreads() : 1;
  // Bands of output rows: enough tasks to balance the threads, each slab band within SLAB_BYTES.
  const maxRows = Math.max(1, Math.floor(SLAB_BYTES / (4 * d.cg * wx)) - (kh - 1) * dh);
  let bands = Math.max(Math.ceil(oh / maxRows), images >= 4 * threads ? 1 : Math.ceil((4 * threads) / images));
  bands = Math.min(bands, oh);
  const rpb = Math.ceil(oh / bands);
  bands = Math.ceil(oh / rpb);
  const scratch = 128 + roundUp(4 * d.rows, 64) + 4 * roundUp(d.kg, 4) * d.rows + 4 * d.cg * (rpb + (kh - 1) * dh) * wx + 64;
  directArgs(rt, d, attrs);
  rt.arg(DC.X, x);
  rt.arg(DC.W, w);
  rt.arg(DC.BIAS, bias);
  rt.arg(DC.Y, y);
  rt.arg(DC.FLAGS, (bias ? EP.biasRow : 0) | (relu ? EP.relu : 0));
  rt.arg(DC.BANDS, bands);
  rt.run(KIND.directConv, images * bands, scratch, macs >= PARALLEL_MACS);
}

/** Benchmarks: off leaves the layers of channelChunks to the GEMM (the path before it). */
export const chunkTuning = { on: true };

/**
 * Few filters over many channels (a prediction head: 512 -> 8 at 7x7, 256 -> 1 at 3x3): one
 * image's slab, or its tap table, is past what the direct kernels keep in scratch, and the GEMM
 * spends more on packing a column matrix than on multiplying (each element feeds kg
 * multiply-adds: 2-6 GFLOP/s). The channels then split into `chunks` equal runs, each a
 * convolution the direct kernels take (for the filter gradient, each chunk's filter columns
 * depend on its channels alone; the forward sums the chunks' outputs). Returns the smallest
 * such count (a divisor of c), or 0 where the layer is not of this kind or no chunk fits.
 */
function channelChunks(d: Dims, attrs: Conv2DAttrs, fits: (sub: Dims, attrs: Conv2DAttrs) => boolean): number {
  if (!chunkTuning.on || d.g !== 1 || d.kg > SMALL_M || pointwise(attrs, d)) return 0;
  const taps = attrs.kernel[0] * attrs.kernel[1];
  for (let q = 2; q <= Math.min(d.c, MAX_CHUNKS); q++) {
    if (d.c % q === 0 && fits(chunkDims(d, d.c / q, taps), attrs)) return q;
  }
  return 0;
}

/** More chunks than this (a prime channel count over the limit: one channel each) stay on the GEMM. */
const MAX_CHUNKS = 64;

/** The convolution of a run of cc channels (x's image stride stays the whole image's: c). */
function chunkDims(d: Dims, cc: number, taps: number): Dims {
  return { ...d, cg: cc, rows: cc * taps };
}

/**
 * W [kg, c*taps] -> [chunk][kg][cc*taps] in the arena (each chunk's filters contiguous, as the
 * direct kernels read them); returns its pointer.
 */
function chunkFilters(rt: WasmRuntime, w: number, kg: number, rows: number, chunks: number): number {
  const span = rows / chunks;
  const dst = rt.alloc(kg * rows);
  const f32 = rt.f32;
  for (let p = 0; p < chunks; p++) {
    for (let f = 0; f < kg; f++) {
      const from = (w >>> 2) + f * rows + p * span;
      f32.copyWithin((dst >>> 2) + (p * kg + f) * span, from, from + span);
    }
  }
  return dst;
}

/**
 * channelChunks' forward: chunk 0's convolution straight into y with the bias, then each
 * other chunk's into scratch and added to y in chunk order (one chunk's output in scratch at a
 * time), the last addition with the ReLU.
 */
function runDirectChunked(rt: WasmRuntime, x: number, w: number, ep: Epilogue, y: number, d: Dims, attrs: Conv2DAttrs, chunks: number): void {
  const cc = d.c / chunks;
  const sub = chunkDims(d, cc, attrs.kernel[0] * attrs.kernel[1]);
  const size = d.n * d.k * d.ohw;
  const wc = chunkFilters(rt, w, d.kg, d.rows, chunks);
  const run = (p: number, out: number) => runDirect(rt, x + 4 * p * cc * d.h * d.w, wc + 4 * p * d.kg * sub.rows, p ? 0 : ep.bias, out, sub, attrs, false);
  // [y's sum so far, this chunk]: addParts of two parts, the sum written back to y.
  const pair = rt.alloc(2 * size);
  run(0, pair);
  for (let p = 1; p < chunks; p++) {
    run(p, pair + 4 * size);
    addParts(rt, pair, size, 2, p === chunks - 1 ? y : pair, ep.relu && p === chunks - 1);
  }
}

/** What the forward kernels apply to each output: y = scale[k] * sum + bias[k], then ReLU (pointers, 0: none). */
export interface Epilogue {
  bias: number;
  scale: number;
  relu: boolean;
}

const epilogueFlags = (e: Epilogue): number => (e.bias ? EP.biasRow : 0) | (e.scale ? EP.scaleRow : 0) | (e.relu ? EP.relu : 0);

/** Forward convolution of arena operands into y (all byte pointers). */
function forward(rt: WasmRuntime, x: number, w: number, ep: Epilogue, y: number, d: Dims, attrs: Conv2DAttrs): void {
  const { bias, relu } = ep;
  if (winogradApplies(attrs, d.c, d.k, d.n)) {
    runWinograd(rt, x, w, ep, y, d.n, d.c, d.h, d.w, d.k, attrs);
    return;
  }
  // The direct kernels have no scale (a folded batch norm): those convolutions take the GEMM.
  if (!ep.scale && directApplies(d, attrs)) {
    runDirect(rt, x, w, bias, y, d, attrs, relu);
    return;
  }
  const chunks = ep.scale ? 0 : channelChunks(d, attrs, directApplies);
  if (chunks) {
    runDirectChunked(rt, x, w, ep, y, d, attrs, chunks);
    return;
  }
  const pw = pointwise(attrs, d);
  const cols = !pw && colsMode(d, attrs, 'forward');
  if (!cols && strided(attrs) && d.c * phaseGeo(attrs).perChannel * 4 <= PHASE_BYTES) {
    if (batchApplies(d, d.rows)) forwardBatched(rt, x, w, epilogueFlags(ep), ep.bias, ep.scale, y, d, attrs, geo(d, attrs));
    else forwardPhases(rt, x, w, ep, y, d, attrs);
    return;
  }
  // 1x1 with many filters on small images: one GEMM over the batch as for strided ones (with
  // few filters B is read in place per image, no packing to amortise).
  if (pw && d.kg > SMALL_M && batchApplies(d, d.rows)) {
    forwardPointwiseBatched(rt, x, w, epilogueFlags(ep), bias, ep.scale, y, d);
    return;
  }
  runGemm(rt, gemmSpec({
    m: d.kg, n: d.ohw, k: d.rows,
    a: w, ars: d.rows, acs: 1,
    bmode: cols ? BMODE.cols : pw ? (d.kg <= SMALL_M ? BMODE.direct : BMODE.strided) : BMODE.im2col,
    b: x, brs: d.h * d.w, bcs: 1,
    c: y, ldc: d.ohw,
    flags: epilogueFlags(ep), bias, scale: ep.scale,
    nb1: d.n, nb2: d.g,
    as1: 0, as2: d.kg * d.rows,
    bs1: d.c * d.h * d.w, bs2: d.cg * d.h * d.w,
    cs1: d.k * d.ohw, cs2: d.kg * d.ohw, biass2: d.kg,
    geo: geo(d, attrs),
    extraScratch: cols ? colsBytes(d) : 0,
  }));
}

function strided(attrs: Conv2DAttrs): boolean {
  return attrs.stride[0] > 1 || attrs.stride[1] > 1;
}

/**
 * Strided forward convolution: the images' phase planes (phase.ts), built a chunk of images at
 * a time, then the GEMM packs B from them with contiguous loads (or, where the planes are the
 * column matrix itself, 1x1 stride s, reads them as a plain matrix).
 */
function forwardPhases(rt: WasmRuntime, x: number, w: number, ep: Epilogue, y: number, d: Dims, attrs: Conv2DAttrs): void {
  const pg = phaseGeo(attrs);
  const perImage = d.c * pg.perChannel;
  const chunk = Math.max(1, Math.min(d.n, Math.floor(PHASE_BYTES / 4 / perImage)));
  const pp = rt.alloc(chunk * perImage + 8); // + 8: BMODE.direct reads whole rows of 8
  for (let n0 = 0; n0 < d.n; n0 += chunk) {
    const cnt = Math.min(chunk, d.n - n0);
    runPhases(rt, x + 4 * n0 * d.c * d.h * d.w, pp, cnt * d.c, d.h, d.w, attrs, pg);
    runGemm(rt, gemmSpec({
      m: d.kg, n: d.ohw, k: d.rows,
      a: w, ars: d.rows, acs: 1,
      bmode: pg.inPlace ? (d.kg <= SMALL_M ? BMODE.direct : BMODE.strided) : BMODE.phase,
      b: pp, brs: d.ohw, bcs: 1,
      c: y + 4 * n0 * d.k * d.ohw, ldc: d.ohw,
      flags: epilogueFlags(ep), bias: ep.bias, scale: ep.scale,
      nb1: cnt, nb2: d.g,
      as1: 0, as2: d.kg * d.rows,
      bs1: perImage, bs2: d.cg * pg.perChannel,
      cs1: d.k * d.ohw, cs2: d.kg * d.ohw, biass2: d.kg,
      geo: geo(d, attrs),
    }));
  }
}

/** Which convolutions take the direct kernels (tests): forward and filter gradient. */
export function directPaths(xShape: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs): { forward: boolean; filter: boolean } {
  const d = dims(xShape, wShape, attrs);
  const winoFilter = !!d && d.g === 1 && winogradFilterApplies(attrs, d.n, d.c, d.k, runtime().plannedThreads(), filterGemmSlowdown(d, attrs));
  return { forward: !!d && !winogradApplies(attrs, d.c, d.k, d.n) && directApplies(d, attrs), filter: !!d && !winoFilter && directFilterApplies(d, attrs) };
}

/** Channel chunks of the few-filters-many-channels paths (tests): forward and filter gradient, 0 where not taken. */
export function channelChunkPaths(xShape: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs): { forward: number; filter: number } {
  const d = dims(xShape, wShape, attrs);
  if (!d) return { forward: 0, filter: 0 };
  const p = directPaths(xShape, wShape, attrs);
  const winoFilter = d.g === 1 && winogradFilterApplies(attrs, d.n, d.c, d.k, runtime().plannedThreads(), filterGemmSlowdown(d, attrs));
  return {
    forward: p.forward || winogradApplies(attrs, d.c, d.k, d.n) ? 0 : channelChunks(d, attrs, directApplies),
    filter: p.filter || winoFilter ? 0 : channelChunks(d, attrs, directFilterApplies),
  };
}

export function conv2d(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, attrs: Conv2DAttrs): Float32Array {
  const direct = depthwiseConv2d(x, w, bias, attrs) ?? dilatedConv2d(x, w, bias, attrs, forward);
  if (direct) return direct;
  const d = dims(x.shape, w.shape, attrs);
  const scale = attrs.scale ?? null;
  if (!d || (bias && bias.data.length !== d.k) || (scale && scale.data.length !== d.k)) return jsConv2d(x, w, bias, attrs);
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pw = rt.put(w.data);
  const ep: Epilogue = { bias: bias ? rt.put(bias.data) : 0, scale: scale ? rt.put(scale.data) : 0, relu: attrs.activation === 'relu' };
  const py = rt.alloc(d.n * d.k * d.ohw);
  forward(rt, px, pw, ep, py, d, attrs);
  return rt.read(py, d.n * d.k * d.ohw);
}

/** Filters per task of the flip job. */
const FLIP_ROWS = 16;

/**
 * W [K, cg, kh, kw] -> W' [C, kg, kh, kw]: per group, in/out channels swapped, taps rotated 180
 * degrees (assembly/flip.ts). Returns its pointer.
 */
function flipFilters(rt: WasmRuntime, w: Float32Array, d: Dims, kh: number, kw: number): number {
  const src = rt.put(w);
  const dst = rt.alloc(w.length);
  const v = [[FL.SRC, src], [FL.DST, dst], [FL.KG, d.kg], [FL.CG, d.cg], [FL.TAPS, kh * kw], [FL.ROWS, FLIP_ROWS]] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
  rt.run(KIND.flipFilters, d.g * Math.ceil(d.kg / FLIP_ROWS), 0, w.length >= 1 << 16);
  return dst;
}

export function conv2dBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Conv2DAttrs): Float32Array {
  const direct = depthwiseBackpropInput(dy, w, inputShape, attrs) ?? dilatedBackpropInput(dy, w, inputShape, attrs, forward) ??
    transposedBackpropInput(dy, w, inputShape, attrs, forward);
  if (direct) return direct;
  const d = dims(inputShape, w.shape, attrs);
  if (!d || dy.shape.join() !== [d.n, d.k, attrs.out[0], attrs.out[1]].join()) return jsInput(dy, w, inputShape, attrs);
  const [kh, kw] = attrs.kernel;
  const [dh, dw] = attrs.dilation;
  const full = [dh * (kh - 1), dh * (kh - 1), dw * (kw - 1), dw * (kw - 1)];
  const pads = attrs.pad.map((p, i) => full[i]! - p);
  const rt = runtime();
  rt.begin();
  const pdy = rt.put(dy.data);
  const size = d.n * d.c * d.h * d.w;
  const flipped: Conv2DAttrs = {
    kernel: [kh, kw], stride: [1, 1], dilation: [dh, dw], groups: d.g, activation: 'none',
    pad: pads as [number, number, number, number], out: [d.h, d.w],
  };
  // Stride 1: dx = conv(dy, flipped filters) with the complementary padding, a forward
  // convolution (Winograd for 3x3). With few input channels that convolution's GEMM has few
  // rows, and when its column matrix is also the larger one (K*H*W vs C*outH*outW: LeNet's
  // unpadded 5x5), W^T dy + col2im moves several times less data.
  // (The direct kernels of few filters read dy in place through an offset table: no column
  // matrix either way, so the flip always wins there.)
  if (pointwise(attrs, d)) {
    // 1x1 stride 1: dx_g = W_g^T dy_g is the whole gradient (no column matrix, nothing to add
    // up), the GEMM reading W transposed: no flipped copy of the filters.
    const pw = rt.put(w.data);
    const pdx = rt.alloc(size);
    if (d.cg > SMALL_M && batchApplies(d, d.kg)) {
      inputGradPointwiseBatched(rt, pdy, pw, pdx, d);
      return rt.read(pdx, size);
    }
    runGemm(rt, gemmSpec({
      m: d.cg, n: d.ohw, k: d.kg,
      a: pw, ars: 1, acs: d.cg,
      bmode: d.cg <= SMALL_M ? BMODE.direct : BMODE.strided,
      b: pdy, brs: d.ohw, bcs: 1,
      c: pdx, ldc: d.ohw,
      nb1: d.n, nb2: d.g, as1: 0, as2: d.kg * d.cg,
      bs1: d.k * d.ohw, bs2: d.kg * d.ohw, cs1: d.c * d.ohw, cs2: d.cg * d.ohw,
    }));
    return rt.read(pdx, size);
  }
  const fd: Dims = { n: d.n, c: d.k, h: attrs.out[0], w: attrs.out[1], k: d.c, g: d.g, cg: d.kg, kg: d.cg, rows: d.kg * kh * kw, ohw: d.h * d.w };
  const flip = attrs.stride[0] === 1 && attrs.stride[1] === 1 && pads.every((p) => p >= 0) &&
    (d.cg > SMALL_M || winogradApplies(flipped, d.k, d.c, d.n) || directApplies(fd, flipped) || d.kg * d.h * d.w <= 2 * d.cg * d.ohw);
  if (flip) {
    const pw = flipFilters(rt, w.data, d, kh, kw);
    const pdx = rt.alloc(size);
    forward(rt, pdy, pw, { bias: 0, scale: 0, relu: false }, pdx, fd, flipped);
    return rt.read(pdx, size);
  }
  // Strided (and the rest): dcols = W^T dy and col2im (strided.ts).
  const pw = rt.put(w.data);
  const pdx = rt.alloc(size);
  inputGradCols(rt, pw, pdy, pdx, d, attrs, geo(d, attrs));
  return rt.read(pdx, size);
}

function filterSlab(d: Dims, attrs: Conv2DAttrs): { owp: number; wx: number; rows: number; bytes: number } {
  const owp = roundUp(attrs.out[1], 4);
  const wx = owp + (attrs.kernel[1] - 1) * attrs.dilation[1];
  const rows = attrs.out[0] + (attrs.kernel[0] - 1) * attrs.dilation[0];
  return { owp, wx, rows, bytes: 4 * (d.kg * attrs.out[0] * owp + d.cg * rows * wx) };
}

const FILTER_BATCH_BYTES = 384 << 10;

/** The direct filter gradient (assembly/direct.ts) keeps a padded image and its dy in scratch. */
function directFilterApplies(d: Dims, attrs: Conv2DAttrs): boolean {
  return d.kg <= SMALL_M && attrs.stride[0] === 1 && attrs.stride[1] === 1 && attrs.pad.every((p) => p >= 0) &&
    !pointwise(attrs, d) && d.rows <= 4608 && filterSlab(d, attrs).bytes <= 512 << 10;
}

/**
 * How much slower than its multiply-adds suggest the filter gradient's fallback runs, for
 * Winograd's cost model: the GEMM over fewer than 32 columns of dW (C x F x F: the 3x3 first
 * layers, 1-3 input channels, with more filters than the direct kernel takes) spends more on
 * packing than on multiplies, about half its usual rate (bench/conv-shapes.ts --only=first
 * --pass=dw: 3 channels 1.3-1.9x faster by Winograd, 1 channel not).
 */
const FEW_COLUMNS_SLOWDOWN = 2.2;
function filterGemmSlowdown(d: Dims, attrs: Conv2DAttrs): number {
  return d.rows < 32 && !directFilterApplies(d, attrs) ? FEW_COLUMNS_SLOWDOWN : 1;
}

/**
 * dW = sum over images of dy x im2col(x)^T with the direct kernel: parts of the images into
 * partial dW's (the split follows the planned thread count, so the order of the additions, and
 * the bits, never depend on timing), added up here in part order.
 */
function runDirectFilter(rt: WasmRuntime, px: number, pdy: number, d: Dims, attrs: Conv2DAttrs): number {
  const size = d.k * d.rows;
  const macs = d.n * d.k * d.rows * d.ohw;
  const threads = rt.plannedThreads();
  const parts = threads > 1 && macs >= PARALLEL_MACS && d.g < 4 * threads ? Math.min(d.n, Math.ceil((4 * threads) / d.g)) : 1;
  const ipp = Math.ceil(d.n / parts);
  const kParts = Math.ceil(d.n / ipp);
  const pdw = rt.alloc(size * kParts);
  const { bytes } = filterSlab(d, attrs);
  // Images per batch: the accumulators stay in registers over a batch (fewer reductions), its
  // slabs and dy within FILTER_BATCH_BYTES.
  const imgb = Math.max(1, Math.min(ipp, 8, Math.floor(FILTER_BATCH_BYTES / bytes)));
  const scratch = roundUp(4 * (d.rows + 4), 64) + roundUp(4 * d.kg * d.rows, 64) + imgb * bytes + 64;
  directArgs(rt, d, attrs);
  rt.arg(DC.X, px);
  rt.arg(DC.W, pdy);
  rt.arg(DC.Y, pdw);
  rt.arg(DC.BANDS, size);
  rt.arg(DC.IPP, ipp);
  rt.arg(DC.IMGB, imgb);
  rt.run(KIND.directFilter, kParts * d.g, scratch, macs >= PARALLEL_MACS);
  addParts(rt, pdw, size, kParts);
  return pdw;
}

/**
 * channelChunks' filter gradient: the direct filter gradient of each chunk of channels (dy
 * shared), its [kg][cc*taps] columns copied into dW [kg][c*taps].
 */
function runDirectFilterChunked(rt: WasmRuntime, px: number, pdy: number, d: Dims, attrs: Conv2DAttrs, chunks: number): Float32Array {
  const cc = d.c / chunks;
  const sub = chunkDims(d, cc, attrs.kernel[0] * attrs.kernel[1]);
  const dw = rt.alloc(d.k * d.rows);
  for (let p = 0; p < chunks; p++) {
    const part = runDirectFilter(rt, px + 4 * p * cc * d.h * d.w, pdy, sub, attrs) >>> 2;
    const f32 = rt.f32;
    for (let f = 0; f < d.k; f++) f32.copyWithin((dw >>> 2) + f * d.rows + p * sub.rows, part + f * sub.rows, part + (f + 1) * sub.rows);
  }
  return rt.read(dw, d.k * d.rows);
}

export function conv2dBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], attrs: Conv2DAttrs): Float32Array {
  const direct = depthwiseBackpropFilter(x, dy, filterShape, attrs) ?? dilatedBackpropFilter(x, dy, filterShape, attrs);
  if (direct) return direct;
  const d = dims(x.shape, filterShape, attrs);
  if (!d || dy.shape.join() !== [d.n, d.k, attrs.out[0], attrs.out[1]].join()) return jsFilter(x, dy, filterShape, attrs);
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pdy = rt.put(dy.data);
  const size = d.k * d.rows;
  if (d.g === 1 && winogradFilterApplies(attrs, d.n, d.c, d.k, rt.plannedThreads(), filterGemmSlowdown(d, attrs))) {
    return runWinogradFilter(rt, px, pdy, d.n, d.c, d.h, d.w, d.k, attrs);
  }
  if (directFilterApplies(d, attrs)) return rt.read(runDirectFilter(rt, px, pdy, d, attrs), size);
  const chunks = channelChunks(d, attrs, directFilterApplies);
  if (chunks) return runDirectFilterChunked(rt, px, pdy, d, attrs, chunks);
  const pw = pointwise(attrs, d);
  // dW is small next to the work when images are many: split the image sum over threads
  // into partial dW's and add them up, rather than leave threads idle. The split follows the
  // planned thread count, so the order of the additions (and the bits) never depends on
  // whether the workers have started yet.
  const threads = rt.plannedThreads();
  const tiles = d.g * Math.max(1, Math.floor(d.kg / 64)) * Math.max(1, Math.floor(d.rows / 256));
  const parts = threads > 1 && tiles < 2 * threads ? Math.min(d.n, 2 * threads) : 1;
  const ipp = Math.ceil(d.n / parts);
  const kParts = Math.ceil(d.n / ipp);
  const pdw = rt.alloc(size * kParts);
  // dW_g = sum over images of dy_g x im2col(x_g)^T; with few filters the column matrix is
  // built per image in scratch (BMODE.colsT) rather than gathered element by element.
  const cols = !pw && colsMode(d, attrs, 'filter');
  // Strided: B from the images' phase planes (phase.ts), all images' at once.
  const pg = phaseGeo(attrs);
  const phases = !cols && strided(attrs) && 4 * d.n * d.c * pg.perChannel <= PHASE_BYTES;
  let b = px, bmode: number = cols ? BMODE.colsT : pw ? BMODE.strided : BMODE.im2colT;
  let bcs = d.h * d.w, bs1 = d.cg * d.h * d.w, bsk = d.c * d.h * d.w;
  if (phases) {
    b = rt.alloc(d.n * d.c * pg.perChannel);
    runPhases(rt, px, b, d.n * d.c, d.h, d.w, attrs, pg);
    bmode = pg.inPlace ? BMODE.strided : BMODE.phaseT;
    bcs = d.ohw;
    bs1 = d.cg * pg.perChannel;
    bsk = d.c * pg.perChannel;
  }
  runGemm(rt, gemmSpec({
    m: d.kg, n: d.rows, k: d.ohw,
    a: pdy, ars: d.ohw, acs: 1,
    bmode, b, brs: 1, bcs,
    c: pdw, ldc: d.rows,
    nb1: d.g, as1: d.kg * d.ohw, bs1, cs1: d.kg * d.rows,
    kImages: d.n, ask: d.k * d.ohw, bsk,
    geo: geo(d, attrs), extraScratch: cols ? colsBytes(d) : 0,
  }), kParts, size);
  return sumParts(rt, pdw, size, kParts);
}
