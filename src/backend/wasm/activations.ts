/**
 * Clamp / hardtanh, softplus and PReLU with their gradients on assembly/activations.ts, for
 * every input size (tiny arrays run the same code as one task). Results are the js
 * reference's (src/backend/js/activations.ts): clamp and PReLU bit for bit, softplus through
 * the same float64 formulas; PReLU's weight gradient sums float64 partials in a fixed order.
 */
import type { KernelTensor } from '../kernels.js';
import { sizeOf } from '../../tensor/shape.js';
import { AC, KIND, PR } from './job-layout.js';
import { argF64, unitsPerTask } from './args.js';
import { runtime } from './instance.js';

/** Elements per task of the cheap kinds, and of softplus (an exp and a log1p per element). */
const CHUNK = 1 << 15;
const SOFTPLUS_CHUNK = 1 << 12;

function elementwise(kind: number, x: Float32Array, dy: Float32Array | null, a: number, b: number, chunk: number): Float32Array {
  const n = x.length;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x);
  const pdy = dy ? rt.put(dy) : 0;
  const out = rt.alloc(n);
  for (const [s, v] of [[AC.X, px], [AC.DY, pdy], [AC.OUT, out], [AC.N, n], [AC.CHUNK, chunk]] as const) rt.arg(s, v);
  argF64(rt, AC.A, a);
  argF64(rt, AC.B, b);
  rt.run(kind, Math.ceil(n / chunk), 0, n >= 2 * chunk);
  return rt.read(out, n);
}

export function clamp(x: KernelTensor, lo: number, hi: number): Float32Array {
  // Rounding is monotonic, so min(max(v, lo), hi) rounded equals the same in float32 bounds.
  return elementwise(KIND.clamp, x.data, null, Math.fround(lo), Math.fround(hi), CHUNK);
}

const bits = new Float32Array(1);
const bitsU = new Uint32Array(bits.buffer);

/** The next float32 above (dir 1) or below (-1) float32 f; NaN past the infinities (no x qualifies). */
function nextF32(f: number, dir: 1 | -1): number {
  if (Number.isNaN(f) || f === dir * Infinity) return NaN;
  if (f === 0) return dir * 2 ** -149;
  bits[0] = f;
  bitsU[0] = bitsU[0]! + ((f > 0) === (dir > 0) ? 1 : -1);
  return bits[0]!;
}

/** The smallest float32 >= t (strict: > t). */
function f32Above(t: number, strict: boolean): number {
  const f = Math.fround(t);
  return f > t || (!strict && f === t) ? f : nextF32(f, 1);
}

/** The largest float32 <= t (strict: < t). */
function f32Below(t: number, strict: boolean): number {
  const f = Math.fround(t);
  return f < t || (!strict && f === t) ? f : nextF32(f, -1);
}

/**
 * dy where lo <= x <= hi (or strictly inside). A float32 x compares with the float64 bounds as
 * it does with the float32 thresholds found here, so the kernel compares in float32.
 */
export function clampGrad(x: KernelTensor, dy: KernelTensor, lo: number, hi: number, inclusive: boolean): Float32Array {
  return elementwise(KIND.clampGrad, x.data, dy.data, f32Above(lo, !inclusive), f32Below(hi, !inclusive), CHUNK);
}

export function softplus(x: KernelTensor, beta: number, threshold: number): Float32Array {
  return elementwise(KIND.softplus, x.data, null, beta, threshold, SOFTPLUS_CHUNK);
}

export function softplusGrad(x: KernelTensor, dy: KernelTensor, beta: number, threshold: number): Float32Array {
  return elementwise(KIND.softplusGrad, x.data, dy.data, beta, threshold, SOFTPLUS_CHUNK);
}

/** Rows of one shared slope when there is one channel. */
const SHARED_ROW = 1 << 14;

/** How PReLU's slopes repeat: see the layout notes in assembly/activations.ts. */
interface PreluPlan {
  mode: 0 | 1;
  rows: number;
  len: number;
  /** Channels the rows cycle through (mode 0), or in each row (mode 1). */
  c: number;
  inner: number;
  /** The slopes as the kernel reads them: w itself, or mode 1's row of LEN slopes. */
  slopes: Float32Array;
}

function preluPlan(x: KernelTensor, w: KernelTensor): PreluPlan {
  const total = x.data.length;
  // As the reference: a single slope, or a 0-d / 1-d x, is one channel.
  if (w.data.length === 1 || x.shape.length < 2) {
    return { mode: 0, rows: Math.ceil(total / SHARED_ROW), len: SHARED_ROW, c: 1, inner: total, slopes: w.data };
  }
  const c = x.shape[1]!;
  const inner = sizeOf(x.shape.slice(2));
  if (inner >= 8 || c * inner === 0) return { mode: 0, rows: inner ? total / inner : 0, len: inner, c, inner, slopes: w.data };
  const len = c * inner;
  const slopes = new Float32Array(len);
  for (let j = 0; j < len; j++) slopes[j] = w.data[Math.floor(j / inner)]!;
  return { mode: 1, rows: total / len, len, c, inner, slopes };
}

function preluRun(kind: number, x: KernelTensor, w: KernelTensor, dy: KernelTensor | null): { out: Float32Array; acc: Float64Array | null; plan: PreluPlan } {
  const plan = preluPlan(x, w);
  const total = x.data.length;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pw = rt.put(plan.slopes);
  const pdy = dy ? rt.put(dy.data) : 0;
  const out = rt.alloc(total);
  const accLen = dy ? (plan.mode === 0 ? plan.rows : plan.rows * plan.c) : 0;
  const pacc = dy ? rt.alloc(2 * accLen) : 0;
  const { per, tasks, parallel } = unitsPerTask(rt, plan.rows, total * (dy ? 2 : 1));
  const v = [[PR.X, px], [PR.W, pw], [PR.DY, pdy], [PR.OUT, out], [PR.ACC, pacc], [PR.ROWS, plan.rows], [PR.LEN, plan.len], [PR.C, plan.c],
    [PR.MODE, plan.mode], [PR.RPT, per], [PR.INNER, plan.inner], [PR.N, total]] as const;
  for (const [s, val] of v) rt.arg(s, val);
  rt.run(kind, tasks, 0, parallel);
  const acc = dy ? new Float64Array(rt.f32.buffer, pacc, accLen).slice() : null;
  return { out: rt.read(out, total), acc, plan };
}

export function prelu(x: KernelTensor, w: KernelTensor): Float32Array {
  return preluRun(KIND.prelu, x, w, null).out;
}

export function preluGrad(x: KernelTensor, w: KernelTensor, dy: KernelTensor): { dx: Float32Array; dw: Float32Array } {
  const { out, acc, plan } = preluRun(KIND.preluGrad, x, w, dy);
  const sums = new Float64Array(w.data.length);
  if (plan.mode === 0) for (let r = 0; r < plan.rows; r++) sums[r % plan.c]! += acc![r]!;
  else for (let r = 0; r < plan.rows; r++) for (let c = 0; c < plan.c; c++) sums[c]! += acc![r * plan.c + c]!;
  return { dx: out, dw: Float32Array.from(sums) };
}
