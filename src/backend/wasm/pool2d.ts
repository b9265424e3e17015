/**
 * Pooling on the wasm kernels of assembly/pool.ts (LRN: assembly/lrn.ts): max pooling (with switches, without them
 * for inference, and the gradient), average and adaptive average pooling and their
 * gradients, and across-channel LRN with its gradient. Inputs below a size threshold (where
 * copying into wasm memory costs more than it saves) and other shapes go to the js reference.
 * (Not to be confused with pool.ts, the worker thread pool.)
 */
import type { AvgPool2DAttrs, KernelTensor, LRNAttrs, PoolWithArgmax, Window2D } from '../kernels.js';
import * as js from '../js/pool2d.js';
import { lrn as jsLrn, lrnGrad as jsLrnGrad } from '../js/normalization.js';
import { AP, AVG, KIND, LR, P, PG } from './job-layout.js';
import { runtime } from './instance.js';
import type { WasmRuntime } from './runtime.js';

/**
 * Below these many input elements (of x, or of dy for MaxPool2DGrad) the js reference is as
 * fast: a wasm call costs some microseconds whatever its size (measured; LRN's js loop is
 * slow enough to be worth even small inputs).
 */
const MAX_MIN = 2048;
const MAX_GRAD_MIN = 4096;
const AVG_MIN = 4096;
const ADAPTIVE_MIN = 16384;
const LRN_MIN = 512;


const f64 = new Float64Array(1);
const f64words = new Int32Array(f64.buffer);
/** A float64 argument in slots i and i + 1 (little-endian, as wasm reads it). */
function argF64(rt: WasmRuntime, i: number, v: number): void {
  f64[0] = v;
  rt.arg(i, f64words[0]!);
  rt.arg(i + 1, f64words[1]!);
}

function is4d(x: KernelTensor, min: number): boolean {
  return x.shape.length === 4 && x.data.length >= min;
}

const elements = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Sets the max-pooling arguments (pi = 0: no switches). */
function maxPoolArgs(rt: WasmRuntime, x: KernelTensor, a: Window2D, px: number, po: number, pi: number): void {
  const [, , h, w] = x.shape as [number, number, number, number];
  const v = [[P.X, px], [P.OUT, po], [P.IDX, pi], [P.H, h], [P.W, w], [P.OH, a.out[0]], [P.OW, a.out[1]], [P.KH, a.kernel[0]], [P.KW, a.kernel[1]],
    [P.SH, a.stride[0]], [P.SW, a.stride[1]], [P.PT, a.pad[0]], [P.PL, a.pad[2]], [P.DH, a.dilation[0]], [P.DW, a.dilation[1]]] as const;
  for (const [s, val] of v) rt.arg(s, val);
}

/** Max pooling of arena operands; with switches when `switches` (training), else values only. */
function maxPool(x: KernelTensor, a: Window2D, switches: boolean): { output: Float32Array; indices: Int32Array | null } {
  const planes = x.shape[0]! * x.shape[1]!;
  const size = planes * a.out[0] * a.out[1];
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const po = rt.alloc(size);
  const pi = switches ? rt.alloc(size) : 0;
  maxPoolArgs(rt, x, a, px, po, pi);
  rt.runUnits(switches ? KIND.maxPool : KIND.maxPoolValues, P.PPT, P.PLANES, planes, size * a.kernel[0] * a.kernel[1]);
  return { output: rt.read(po, size), indices: switches ? rt.readI32(pi, size) : null };
}

export function maxPool2DWithArgmax(x: KernelTensor, a: Window2D): PoolWithArgmax {
  if (!is4d(x, MAX_MIN)) return js.maxPool2DWithArgmax(x, a);
  const { output, indices } = maxPool(x, a, true);
  return { output, indices: indices! };
}

/** Max pooling without switches (inference). */
export function maxPool2D(x: KernelTensor, a: Window2D): Float32Array {
  if (!is4d(x, MAX_MIN)) return js.maxPool2D(x, a);
  return maxPool(x, a, false).output;
}

export function maxPool2DGrad(dy: KernelTensor, indices: Int32Array, inputShape: readonly number[]): Float32Array {
  if (inputShape.length !== 4 || dy.shape.length !== 4 || dy.data.length < MAX_GRAD_MIN) return js.maxPool2DGrad(dy, indices, inputShape);
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const planes = n * c;
  const ohw = dy.shape[2]! * dy.shape[3]!;
  const rt = runtime();
  rt.begin();
  const pdy = rt.put(dy.data);
  const pi = rt.putI32(indices);
  const pdx = rt.alloc(planes * h * w);
  rt.args(PG, { DY: pdy, IDX: pi, DX: pdx, HW: h * w, OHW: ohw, H: h, W: w, OH: dy.shape[2]!, OW: dy.shape[3]! });
  rt.runUnits(KIND.maxPoolGrad, PG.PPT, PG.PLANES, planes, planes * h * w);
  return rt.read(pdx, planes * h * w);
}

/**
 * Window tables for the average kernels: rlo[oh], rhi[oh], rpad[oh], clo[ow], chi[ow],
 * cpad[ow] (rows [lo, hi) inside the image, and the window's length within the padded input).
 */
type Span = (o: number) => { lo: number; hi: number; padded: number };

function spanTable(oh: number, ow: number, rows: Span, cols: Span): Int32Array {
  const t = new Int32Array(3 * (oh + ow));
  for (let i = 0; i < oh; i++) {
    const s = rows(i);
    t[i] = s.lo;
    t[oh + i] = s.hi;
    t[2 * oh + i] = s.padded;
  }
  const c0 = 3 * oh;
  for (let j = 0; j < ow; j++) {
    const s = cols(j);
    t[c0 + j] = s.lo;
    t[c0 + ow + j] = s.hi;
    t[c0 + 2 * ow + j] = s.padded;
  }
  return t;
}

/** at::avg_pool2d's window along one axis (as avgSpan in the js reference). */
function avgSpan(stride: number, kernel: number, padBefore: number, padAfter: number, size: number): Span {
  return (o) => {
    const start = o * stride - padBefore;
    const end = Math.min(start + kernel, size + padAfter);
    return { padded: end - start, lo: Math.max(start, 0), hi: Math.min(end, size) };
  };
}

/** PyTorch's adaptive window: [floor(o*in/out), ceil((o+1)*in/out)). */
function adaptiveSpan(size: number, out: number): Span {
  return (o) => ({ lo: Math.floor((o * size) / out), hi: Math.ceil(((o + 1) * size) / out), padded: 0 });
}

/**
 * Interior columns of a regular window (kernel kw, stride sw, left pad pl) over width w: the
 * outputs [j0, j1) whose windows lie wholly inside the image, which the kernels run in SIMD.
 */
interface Interior { kw: number; sw: number; pl: number; j0: number; j1: number }

function interior(kw: number, sw: number, pl: number, w: number, ow: number): Interior {
  const j1 = Math.max(0, Math.min(ow, Math.floor((w - kw + pl) / sw) + 1));
  return { kw, sw, pl, j0: Math.min(Math.ceil(pl / sw), j1), j1 };
}

const NO_INTERIOR: Interior = { kw: 1, sw: 1, pl: 0, j0: 0, j1: 0 };

/** Runs an average-pooling kind: x (or dy) in, `outLen` floats out. */
function runAvg(
  kind: number, src: Float32Array, outLen: number, planes: number, h: number, w: number, oh: number, ow: number,
  table: Int32Array, mode: number, fixed: number, inner: Interior, work: number,
): Float32Array {
  const rt = runtime();
  rt.begin();
  const px = rt.put(src);
  const pt = rt.putI32(table);
  const po = rt.alloc(outLen);
  const v = [[AP.X, px], [AP.OUT, po], [AP.TAB, pt], [AP.H, h], [AP.W, w], [AP.OH, oh], [AP.OW, ow], [AP.MODE, mode], [AP.DIV, fixed],
    [AP.KW, inner.kw], [AP.SW, inner.sw], [AP.PL, inner.pl], [AP.J0, inner.j0], [AP.J1, inner.j1]] as const;
  for (const [s, val] of v) rt.arg(s, val);
  rt.runUnits(kind, AP.PPT, AP.PLANES, planes, work);
  return rt.read(po, outLen);
}

function avgTable(a: AvgPool2DAttrs, h: number, w: number): Int32Array {
  const [pt, pb, pl, pr] = a.pad;
  return spanTable(a.out[0], a.out[1], avgSpan(a.stride[0], a.kernel[0], pt, pb, h), avgSpan(a.stride[1], a.kernel[1], pl, pr, w));
}

function avgMode(a: AvgPool2DAttrs): [number, number] {
  if (a.divisorOverride !== null) return [AVG.fixed, a.divisorOverride];
  return [a.countIncludePad ? AVG.padded : AVG.inside, 0];
}

export function avgPool2D(x: KernelTensor, a: AvgPool2DAttrs): Float32Array {
  // An integer override beyond int32 would not survive the argument slot.
  if (!is4d(x, AVG_MIN) || (a.divisorOverride !== null && (a.divisorOverride | 0) !== a.divisorOverride)) return js.avgPool2D(x, a);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = a.out;
  const [mode, fixed] = avgMode(a);
  const inner = interior(a.kernel[1], a.stride[1], a.pad[2], w, ow);
  return runAvg(KIND.avgPool, x.data, n * c * oh * ow, n * c, h, w, oh, ow, avgTable(a, h, w), mode, fixed, inner, n * c * oh * ow * a.kernel[0] * a.kernel[1]);
}

export function avgPool2DGrad(dy: KernelTensor, inputShape: readonly number[], a: AvgPool2DAttrs): Float32Array {
  if (inputShape.length !== 4 || elements(inputShape) < AVG_MIN ||
    (a.divisorOverride !== null && (a.divisorOverride | 0) !== a.divisorOverride)) return js.avgPool2DGrad(dy, inputShape, a);
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const [oh, ow] = a.out;
  const [mode, fixed] = avgMode(a);
  // The SIMD rows store rather than add, so only windows that never overlap (2x2 at stride 2 across, rows apart).
  const disjoint = a.kernel[1] === 2 && a.stride[1] === 2 && a.stride[0] >= a.kernel[0];
  const inner = disjoint ? interior(2, 2, a.pad[2], w, ow) : NO_INTERIOR;
  return runAvg(KIND.avgPoolGrad, dy.data, n * c * h * w, n * c, h, w, oh, ow, avgTable(a, h, w), mode, fixed, inner, n * c * (h * w + oh * ow * a.kernel[0] * a.kernel[1]));
}

export function adaptiveAvgPool2D(x: KernelTensor, outSize: readonly [number, number]): Float32Array {
  if (!is4d(x, ADAPTIVE_MIN)) return js.adaptiveAvgPool2D(x, outSize);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = outSize;
  const table = spanTable(oh, ow, adaptiveSpan(h, oh), adaptiveSpan(w, ow));
  // Adaptive windows are regular when the sizes divide: w / ow wide, at that stride.
  const inner = w % ow === 0 ? interior(w / ow, w / ow, 0, w, ow) : NO_INTERIOR;
  return runAvg(KIND.avgPool, x.data, n * c * oh * ow, n * c, h, w, oh, ow, table, AVG.inside, 0, inner, x.data.length * 2);
}

export function adaptiveAvgPool2DGrad(dy: KernelTensor, inputShape: readonly number[]): Float32Array {
  if (inputShape.length !== 4 || elements(inputShape) < ADAPTIVE_MIN) return js.adaptiveAvgPool2DGrad(dy, inputShape);
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const [oh, ow] = [dy.shape[2]!, dy.shape[3]!];
  const table = spanTable(oh, ow, adaptiveSpan(h, oh), adaptiveSpan(w, ow));
  const inner = w === 2 * ow && h % oh === 0 ? interior(2, 2, 0, w, ow) : NO_INTERIOR;
  return runAvg(KIND.avgPoolGrad, dy.data, n * c * h * w, n * c, h, w, oh, ow, table, AVG.inside, 0, inner, n * c * h * w * 3);
}

/** Sets the LRN arguments shared by forward and backward. */
function lrnArgs(rt: WasmRuntime, x: KernelTensor, a: LRNAttrs): { planes: number; inner: number } {
  const c = x.shape[1]!;
  const planes = x.shape[0]! * c;
  const inner = x.data.length / planes;
  for (const [s, val] of [[LR.C, c], [LR.INNER, inner], [LR.BEFORE, Math.floor(a.size / 2)], [LR.AFTER, Math.floor((a.size - 1) / 2)]] as const) rt.arg(s, val);
  argF64(rt, LR.K, a.k);
  argF64(rt, LR.AOS, a.alpha / a.size);
  rt.arg(LR.M, 4 * a.beta);
  argF64(rt, LR.COEF, (2 * a.alpha * a.beta) / a.size);
  return { planes, inner };
}

/** The kernels raise s to beta = m/4 for m in 1..16 (0.75 is AlexNet's and everyone's). */
function lrnOnWasm(x: KernelTensor, a: LRNAttrs): boolean {
  const m = 4 * a.beta;
  return x.shape.length >= 3 && x.data.length >= LRN_MIN && Number.isInteger(m) && m >= 1 && m <= 16;
}

export function lrn(x: KernelTensor, a: LRNAttrs): Float32Array {
  if (!lrnOnWasm(x, a)) return jsLrn(x, a);
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const py = rt.alloc(x.data.length);
  rt.arg(LR.X, px);
  rt.arg(LR.Y, py);
  const { planes } = lrnArgs(rt, x, a);
  rt.runUnits(KIND.lrn, LR.PPT, LR.PLANES, planes, x.data.length * (a.size + 8));
  return rt.read(py, x.data.length);
}

export function lrnGrad(x: KernelTensor, dy: KernelTensor, a: LRNAttrs): Float32Array {
  if (!lrnOnWasm(x, a)) return jsLrnGrad(x, dy, a);
  const n = x.data.length;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pdy = rt.put(dy.data);
  const pA = rt.alloc(2 * n);
  const pB = rt.alloc(2 * n);
  const pdx = rt.alloc(n);
  for (const [s, val] of [[LR.X, px], [LR.DY, pdy], [LR.A, pA], [LR.B, pB], [LR.Y, pdx]] as const) rt.arg(s, val);
  const { planes } = lrnArgs(rt, x, a);
  rt.arg(LR.PASS, 0);
  rt.runUnits(KIND.lrnGrad, LR.PPT, LR.PLANES, planes, n * (a.size + 16));
  rt.arg(LR.PASS, 1);
  rt.runUnits(KIND.lrnGrad, LR.PPT, LR.PLANES, planes, n * (a.size + 2));
  return rt.read(pdx, n);
}
