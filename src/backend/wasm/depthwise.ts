/**
 * Depthwise and small-group convolutions on the direct kernels of assembly/depthwise.ts, in all
 * three passes (the input gradient is also the transposed convolution's forward). There each
 * output costs only (channels per group) x kh x kw multiply-adds, too few for the GEMM's
 * packing to pay off, and a depthwise layer would be `groups` GEMMs with one-row A panels.
 * Each function returns null where these kernels do not apply, and conv2d.ts goes on with its
 * own paths.
 */
import type { Conv2DAttrs, KernelTensor } from '../kernels.js';
import { conv2dBackpropInput as jsInput } from '../js/conv2d.js';
import { roundUp } from './args.js';
import { DWC, EP, KIND } from './job-layout.js';
import { PARALLEL_MACS } from './gemm.js';
import { runtime } from './instance.js';
import type { WasmRuntime } from './runtime.js';

/**
 * 'auto': depthwise layers and the grouped layers these kernels run faster than the GEMM;
 * 'off': none (benchmarks compare against the old paths); 'all': every grouped layer (tests).
 */
export const depthwiseTuning: { mode: 'auto' | 'off' | 'all'; lanes: 'auto' | 'off' | 'all' } = { mode: 'auto', lanes: 'auto' };

interface Geo {
  n: number; c: number; h: number; w: number; k: number; g: number; cg: number; kg: number;
  kh: number; kw: number; sh: number; sw: number; pt: number; pl: number; dh: number; dw: number; oh: number; ow: number;
}

function geoOf(x: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs): Geo | null {
  if (x.length !== 4 || wShape.length !== 4) return null;
  const [n, c, h, w] = x as [number, number, number, number];
  const [k, cgw, kh, kw] = wShape as [number, number, number, number];
  const g = attrs.groups;
  if (!(g > 1) || c % g !== 0 || k % g !== 0 || cgw * g !== c || kh !== attrs.kernel[0] || kw !== attrs.kernel[1]) return null;
  const [oh, ow] = attrs.out;
  const [sh, sw] = attrs.stride, [dh, dw] = attrs.dilation;
  if (n * c * h * w === 0 || k === 0 || oh * ow === 0 || kh * kw === 0 || !(sh >= 1 && sw >= 1 && dh >= 1 && dw >= 1)) return null;
  if (attrs.pad.some((p) => p < 0)) return null;
  return { n, c, h, w, k, g, cg: c / g, kg: k / g, kh, kw, sh, sw, pt: attrs.pad[0], pl: attrs.pad[2], dh, dw, oh, ow };
}

export type Pass = 'forward' | 'input' | 'filter';

/**
 * Whether the direct kernels take this convolution's pass: every depthwise layer (one input
 * channel per group); with 2..16 channels and at most 16 filters per group, the strided ones,
 * and the forward with a folded batch norm. At stride 1 conv2d.ts's own direct kernels
 * (assembly/direct.ts: 4 filters x 8 pixels over all of a group's channels, and a filter
 * gradient that keeps 2 filters x 4 taps in registers) measured as fast in the forward and
 * input gradient and twice as fast in the filter gradient; they have no scale, though.
 */
function applies(d: Geo, pass: Pass, scaled = false): boolean {
  if (depthwiseTuning.mode === 'off') return false;
  if (depthwiseTuning.mode === 'all' || d.cg === 1) return true;
  const strided = d.sh > 1 || d.sw > 1;
  return d.cg <= 16 && d.kg <= 16 && (strided || (pass === 'forward' && scaled));
}

/** Whether a depthwise forward takes the lanes kernel (tests). */
export function depthwiseLanes(xShape: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs): boolean {
  const d = geoOf(xShape, wShape, attrs);
  return !!d && applies(d, 'forward', !!attrs.scale) && lanesApply(d);
}

/** Which passes of a convolution take the direct kernels (tests). */
export function depthwisePaths(xShape: readonly number[], wShape: readonly number[], attrs: Conv2DAttrs): Record<Pass, boolean> {
  const d = geoOf(xShape, wShape, attrs);
  return { forward: !!d && applies(d, 'forward', !!attrs.scale), input: !!d && applies(d, 'input'), filter: !!d && applies(d, 'filter') };
}

function allFinite(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return false;
  return true;
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);

/** Bytes of slab (and dy rows) a task keeps at most: within the per-core L2 with room to spare. */
const SLAB_BYTES = 128 << 10;

function setArgs(rt: WasmRuntime, d: Geo, rpb: number): void {
  const v = [
    [DWC.G, d.g], [DWC.CG, d.cg], [DWC.KG, d.kg], [DWC.H, d.h], [DWC.W_, d.w], [DWC.KH, d.kh], [DWC.KW, d.kw],
    [DWC.SH, d.sh], [DWC.SW, d.sw], [DWC.PT, d.pt], [DWC.PL, d.pl], [DWC.DH, d.dh], [DWC.DW, d.dw],
    [DWC.OH, d.oh], [DWC.OW, d.ow], [DWC.N, d.n], [DWC.RPB, rpb],
  ] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
}

/**
 * Rows per band of `rows` output rows: at most `most` (the slab budget), and enough bands that
 * `units` (images x groups) of them keep every thread busy. Bands hold whole row pairs (`pair`).
 */
function rowsPerBand(rt: WasmRuntime, rows: number, most: number, units: number, pair: number, parallel: boolean): number {
  const threads = parallel ? rt.plannedThreads() : 1;
  let bands = Math.max(Math.ceil(rows / Math.max(1, most)), units >= 4 * threads ? 1 : Math.ceil((4 * threads) / units));
  bands = Math.min(bands, rows);
  let rpb = Math.ceil(rows / bands);
  if (rpb < rows && rpb > pair) rpb = Math.floor(rpb / pair) * pair;
  return Math.max(1, rpb);
}

const macsOf = (d: Geo): number => d.n * d.k * d.cg * d.kh * d.kw * d.oh * d.ow;

/** The forward slab's row: sw column phases of wq floats. */
function forwardRow(d: Geo): { wq: number; rowF: number } {
  const wq = roundUp(d.ow, 4) + Math.floor(((d.kw - 1) * d.dw) / d.sw);
  return { wq, rowF: d.sw * wq };
}

export function depthwiseConv2d(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, attrs: Conv2DAttrs): Float32Array | null {
  const d = geoOf(x.shape, w.shape, attrs);
  const scale = attrs.scale ?? null;
  if (!d || !applies(d, 'forward', !!scale) || (bias && bias.data.length !== d.k) || (scale && scale.data.length !== d.k)) return null;
  const rt = runtime();
  rt.begin();
  if (lanesApply(d)) return lanesForward(d, x.data, w.data, bias, scale, attrs.activation === 'relu');
  const K = d.cg * d.kh * d.kw;
  const { rowF } = forwardRow(d);
  const reach = (d.kh - 1) * d.dh + 1;
  const parallel = macsOf(d) >= PARALLEL_MACS;
  const most = Math.floor((SLAB_BYTES / (4 * d.cg * rowF) - reach) / d.sh) + 1;
  const rpb = rowsPerBand(rt, d.oh, most, d.n * d.g, 2, parallel);
  const sr = (rpb - 1) * d.sh + reach;
  const scratch = roundUp(8 * d.kg * K, 64) + roundUp(32 * K, 64) + 64 + 4 * d.cg * sr * rowF + 64;
  const py = rt.alloc(d.n * d.k * d.oh * d.ow);
  rt.arg(DWC.X, rt.put(x.data));
  rt.arg(DWC.W, rt.put(w.data));
  rt.arg(DWC.BIAS, bias ? rt.put(bias.data) : 0);
  rt.arg(DWC.SCALE, scale ? rt.put(scale.data) : 0);
  rt.arg(DWC.Y, py);
  rt.arg(DWC.FLAGS, (bias ? EP.biasRow : 0) | (scale ? EP.scaleRow : 0) | (attrs.activation === 'relu' ? EP.relu : 0));
  setArgs(rt, d, rpb);
  rt.run(KIND.dwConv, d.n * d.g * Math.ceil(d.oh / rpb), scratch, parallel);
  return rt.read(py, d.n * d.k * d.oh * d.ow);
}

/**
 * Whether the three passes take assembly/depthwise-lanes.ts (four channels in the SIMD lanes):
 * multiplier-1 depthwise layers whose padded plane fits LANES_SLAB_BYTES as pixel vectors.
 */
function lanesApply(d: Geo): boolean {
  if (depthwiseTuning.lanes === 'off' || d.cg !== 1 || d.kg !== 1) return false;
  return depthwiseTuning.lanes === 'all' || 16 * lanesSlab(d).sr * lanesSlab(d).sc <= LANES_SLAB_BYTES;
}

/** Pixel vectors of the lanes kernel's slab: rows and columns of the padded input that outputs read. */
function lanesSlab(d: Geo): { sr: number; sc: number } {
  return { sr: (d.oh - 1) * d.sh + (d.kh - 1) * d.dh + 1, sc: (d.ow - 1) * d.sw + (d.kw - 1) * d.dw + 1 };
}

/** The lanes kernel's slab limit, set by bench/depthwise.ts (--lanes): see lanesApply. */
const LANES_SLAB_BYTES = 256 << 10;

function lanesForward(d: Geo, x: Float32Array, w: Float32Array, bias: KernelTensor | null, scale: KernelTensor | null, relu: boolean): Float32Array {
  const rt = runtime();
  rt.begin();
  const { sr, sc } = lanesSlab(d);
  const taps = d.kh * d.kw;
  const py = rt.alloc(d.n * d.k * d.oh * d.ow);
  rt.arg(DWC.X, rt.put(x));
  rt.arg(DWC.W, rt.put(w));
  rt.arg(DWC.BIAS, bias ? rt.put(bias.data) : 0);
  rt.arg(DWC.SCALE, scale ? rt.put(scale.data) : 0);
  rt.arg(DWC.Y, py);
  rt.arg(DWC.FLAGS, (bias ? EP.biasRow : 0) | (scale ? EP.scaleRow : 0) | (relu ? EP.relu : 0));
  setArgs(rt, d, 0);
  // Mirrors dwLanesTask's scratch: the taps' weight vectors, their offsets, the slab.
  rt.run(KIND.dwLanes, d.n * Math.ceil(d.c / 4), 16 * taps + 4 * roundUp(taps, 16) + 16 * sr * sc, macsOf(d) >= PARALLEL_MACS);
  return rt.read(py, d.n * d.k * d.oh * d.ow);
}

/**
 * The input gradient on the lanes kernels. At stride 1 it is a forward convolution of dy with
 * the flipped filters and the complementary padding, which measured 1.2-1.5x faster than the
 * scatter kernel and the row kernel (unless a filter holds a NaN or Inf: the forward would
 * multiply it by dy's zero padding, where the reference adds nothing).
 */
function lanesInput(d: Geo, dy: KernelTensor, w: KernelTensor): Float32Array {
  if (d.sh === 1 && d.sw === 1 && allFinite(w.data)) {
    const taps = d.kh * d.kw;
    const flipped = new Float32Array(w.data.length);
    for (let c = 0; c < d.c; c++) for (let k = 0; k < taps; k++) flipped[c * taps + k] = w.data[c * taps + taps - 1 - k]!;
    const g: Geo = { ...d, h: d.oh, w: d.ow, oh: d.h, ow: d.w, pt: (d.kh - 1) * d.dh - d.pt, pl: (d.kw - 1) * d.dw - d.pl };
    return lanesForward(g, dy.data, flipped, null, null, false);
  }
  const rt = runtime();
  rt.begin();
  const { sr, sc } = lanesSlab(d);
  const taps = d.kh * d.kw;
  const size = d.n * d.c * d.h * d.w;
  const pdx = rt.alloc(size);
  rt.arg(DWC.X, rt.put(dy.data));
  rt.arg(DWC.W, rt.put(w.data));
  rt.arg(DWC.Y, pdx);
  setArgs(rt, d, 0);
  // Mirrors dwLanesInputTask's scratch: weight vectors, tap offsets, dy's pixel vectors, the slab.
  rt.run(KIND.dwLanesInput, d.n * Math.ceil(d.c / 4), 16 * taps + 4 * roundUp(taps, 16) + 16 * d.oh * d.ow + 16 * sr * sc, macsOf(d) >= PARALLEL_MACS);
  return rt.read(pdx, size);
}

/**
 * The filter gradients' operands and their split of the images into parts, when `units` (groups
 * of channels) are too few to keep the threads busy: each part's partial dW at pdw, PSTRIDE
 * (`size`) floats apart, added up in part order by readSum. The split follows the planned thread
 * count, so the bits never depend on timing.
 */
function filterParts(rt: WasmRuntime, d: Geo, x: KernelTensor, dy: KernelTensor, size: number, units: number, parallel: boolean): { pdw: number; kParts: number } {
  const threads = rt.plannedThreads();
  const parts = threads > 1 && parallel && units < 4 * threads ? Math.min(d.n, Math.ceil((4 * threads) / units)) : 1;
  const ipp = Math.ceil(d.n / parts);
  const kParts = Math.ceil(d.n / ipp);
  const pdw = rt.alloc(size * kParts);
  rt.arg(DWC.X, rt.put(x.data));
  rt.arg(DWC.W, rt.put(dy.data));
  rt.arg(DWC.Y, pdw);
  rt.arg(DWC.IPP, ipp);
  rt.arg(DWC.PSTRIDE, size);
  return { pdw, kParts };
}

function lanesFilter(d: Geo, x: KernelTensor, dy: KernelTensor): Float32Array {
  const rt = runtime();
  rt.begin();
  const { sr, sc } = lanesSlab(d);
  const taps = d.kh * d.kw;
  const size = d.c * taps;
  const groups = Math.ceil(d.c / 4);
  const parallel = macsOf(d) >= PARALLEL_MACS;
  const { pdw, kParts } = filterParts(rt, d, x, dy, size, groups, parallel);
  setArgs(rt, d, 0);
  // Mirrors dwLanesFilterTask's scratch: the taps' sums, dy's pixel vectors, the slab.
  rt.run(KIND.dwLanesFilter, kParts * groups, 16 * taps + 16 * d.oh * d.ow + 16 * sr * sc, parallel);
  return rt.readSum(pdw, size, kParts);
}

export function depthwiseBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Conv2DAttrs): Float32Array | null {
  const d = geoOf(inputShape, w.shape, attrs);
  if (!d || !applies(d, 'input') || dy.shape.join() !== [d.n, d.k, d.oh, d.ow].join()) return null;
  if (lanesApply(d)) return lanesInput(d, dy, w);
  // The kernel multiplies every tap, the ones past dy's edges by the slab's zeros: a NaN or Inf
  // filter would make NaNs where the reference (which adds up only taps inside dy) has none.
  if (!allFinite(w.data)) return jsInput(dy, w, inputShape, attrs);
  const rt = runtime();
  rt.begin();
  // Mirrors the slab geometry of dwInputTask.
  const nqr = roundUp(Math.ceil(d.w / d.sw), 4);
  const cb0 = floorDiv(d.pl - (d.kw - 1) * d.dw, d.sw);
  const wsl = floorDiv(d.sw - 1 + d.sw * (nqr - 1) + d.pl, d.sw) - cb0 + 1;
  const srOf = (rpb: number) => Math.ceil((rpb - 1 + (d.kh - 1) * d.dh) / d.sh) + 1;
  const parallel = macsOf(d) >= PARALLEL_MACS;
  let most = d.h;
  while (most > 1 && 4 * d.kg * srOf(most) * wsl > SLAB_BYTES) most = Math.max(1, Math.floor(most / 2));
  const rpb = rowsPerBand(rt, d.h, most, d.n * d.g, 2 * d.sh, parallel);
  const classes = d.sh * d.sw;
  const scratch = roundUp(32 * classes * d.kg * d.kh * d.kw, 64) + roundUp(4 * classes, 64) + 64 +
    (d.sw > 1 ? roundUp(16 * d.sw * nqr, 64) : 0) + 4 * d.kg * srOf(rpb) * wsl + 64;
  const size = d.n * d.c * d.h * d.w;
  const pdx = rt.alloc(size);
  rt.arg(DWC.X, rt.put(dy.data));
  rt.arg(DWC.W, rt.put(w.data));
  rt.arg(DWC.Y, pdx);
  setArgs(rt, d, rpb);
  rt.run(KIND.dwInput, d.n * d.g * Math.ceil(d.h / rpb), scratch, parallel);
  return rt.read(pdx, size);
}

export function depthwiseBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], attrs: Conv2DAttrs): Float32Array | null {
  const d = geoOf(x.shape, filterShape, attrs);
  if (!d || !applies(d, 'filter') || dy.shape.join() !== [d.n, d.k, d.oh, d.ow].join()) return null;
  // Measured (bench/depthwise.ts --lanes): the row kernel's filter gradient stays ahead on large
  // planes and kernels past 5 x 5.
  if (lanesApply(d) && d.kh * d.kw <= 25 && d.oh * d.ow <= 56 * 56) return lanesFilter(d, x, dy);
  const rt = runtime();
  rt.begin();
  const K = d.cg * d.kh * d.kw;
  const size = d.k * K;
  const { rowF } = forwardRow(d);
  const owq = roundUp(d.ow, 4);
  const reach = (d.kh - 1) * d.dh + 1;
  const perRow = 4 * (d.cg * d.sh * rowF + d.kg * owq);
  const rpb = Math.max(1, Math.min(d.oh, Math.floor((SLAB_BYTES - 4 * d.cg * (reach - d.sh) * rowF) / perRow)));
  const srMax = (rpb - 1) * d.sh + reach;
  const scratch = roundUp(4 * K, 64) + roundUp(4 * d.kg * K, 64) + roundUp(4 * d.cg * srMax * rowF, 64) + 4 * d.kg * rpb * owq + 64;
  const parallel = macsOf(d) >= PARALLEL_MACS;
  const { pdw, kParts } = filterParts(rt, d, x, dy, size, d.g, parallel);
  setArgs(rt, d, rpb);
  rt.run(KIND.dwFilter, kParts * d.g, scratch, parallel);
  return rt.readSum(pdw, size, kParts);
}
