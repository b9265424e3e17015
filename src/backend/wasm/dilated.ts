/**
 * Dilated stride-1 convolutions by phase decomposition. Output phase (a, b) of a dilation
 * (dh, dw) convolution, rows a + dh*u and columns b + dw*v, reads only the input phase
 * xpad[a + dh*u][b + dw*v] through the undilated filter: the layer is dh*dw independent
 * undilated convolutions. The input is split into its padded phase planes as a batch of
 * n*dh*dw images (assembly/phase.ts dilSplitTask), one undilated convolution with padding 0
 * runs them all (Winograd for 3x3, which dilation otherwise rules out), and the merge
 * interleaves the outputs back (dilMergeTask). Phases are all ceil(oh/dh) x ceil(ow/dw)
 * outputs; the merge drops the rows and columns past the layer's output.
 *   forward:         y = merge(conv(split(x, pad), w))
 *   input gradient:  a dilated forward convolution of dy with the flipped filters and the
 *                    complementary padding, decomposed the same way
 *   filter gradient: dW = filter gradient of the undilated convolution over the batch of
 *                    phases, split(x, pad) against split(dy) (Winograd's)
 * Taken only where the undilated convolution gets Winograd: the direct and GEMM kernels read
 * dilated taps in place at the same cost as undilated ones.
 */
import type { Conv2DAttrs, KernelTensor } from '../kernels.js';
import type { Epilogue } from './conv2d.js';
import { runtime } from './instance.js';
import { DM, DS, FL, KIND } from './job-layout.js';
import type { WasmRuntime } from './runtime.js';
import { winogradApplies } from './winograd.js';
import { runWinogradFilter, winogradFilterApplies } from './winograd-grad.js';

/**
 * Benchmarks and tests: 'off' leaves dilated and transposed convolutions to conv2d.ts's other
 * paths; `bytes`: phase planes and phase outputs at most at a time (the dilated forward runs
 * chunks of images; the filter gradient, which sums over all, takes twice that at most).
 */
export const phaseTuning: { mode: 'auto' | 'off'; bytes: number } = { mode: 'auto', bytes: 96 << 20 };

/** The convolution sizes of conv2d.ts (its Dims). */
export interface ConvDims { n: number; c: number; h: number; w: number; k: number; g: number; cg: number; kg: number; rows: number; ohw: number }

/** conv2d.ts's forward dispatch on arena pointers (Winograd, direct or GEMM). */
export type ForwardFn = (rt: WasmRuntime, x: number, w: number, ep: Epilogue, y: number, d: ConvDims, attrs: Conv2DAttrs) => void;

export function convDims(n: number, c: number, h: number, w: number, k: number, g: number, kh: number, kw: number, oh: number, ow: number): ConvDims {
  return { n, c, h, w, k, g, cg: c / g, kg: k / g, rows: (c / g) * kh * kw, ohw: oh * ow };
}

interface DilGeo {
  dh: number; dw: number;
  /** Phases: dh * dw. */
  ph: number;
  /** Outputs of each phase (rows, columns) and its padded input plane. */
  u: number; v: number; inH: number; inW: number;
  /** The undilated convolution of every phase. */
  sub: Conv2DAttrs;
}

function dilGeo(attrs: Conv2DAttrs): DilGeo | null {
  if (phaseTuning.mode === 'off') return null;
  const [dh, dw] = attrs.dilation;
  if (attrs.stride[0] !== 1 || attrs.stride[1] !== 1 || (dh === 1 && dw === 1) || !attrs.pad.every((p) => p >= 0)) return null;
  const [kh, kw] = attrs.kernel;
  const u = Math.ceil(attrs.out[0] / dh), v = Math.ceil(attrs.out[1] / dw);
  const sub: Conv2DAttrs = {
    kernel: [kh, kw], stride: [1, 1], dilation: [1, 1], groups: attrs.groups, pad: [0, 0, 0, 0], out: [u, v],
    activation: attrs.activation ?? 'none',
  };
  return { dh, dw, ph: dh * dw, u, v, inH: u + kh - 1, inW: v + kw - 1, sub };
}

/** Padded phase planes of `planes` planes (c per image, h x w) at x into dst: [image][a][b][channel][inH][inW]. */
function split(rt: WasmRuntime, x: number, dst: number, n: number, c: number, h: number, w: number, pt: number, pl: number, gm: DilGeo, inH: number, inW: number): void {
  const v = [
    [DS.X, x], [DS.P, dst], [DS.C, c], [DS.H, h], [DS.W, w], [DS.DH, gm.dh], [DS.DW, gm.dw],
    [DS.PT, pt], [DS.PL, pl], [DS.PH, inH], [DS.PW, inW],
  ] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
  rt.run(KIND.dilSplit, n * c, 0, n * c * gm.ph * inH * inW >= 1 << 15);
}

/**
 * y [n, g*cg, oh, ow] from phase planes z [n][g][a][b][cg][ph][pw]: y[r][s] = phase
 * ((r + ot) % dh, (s + ol) % dw) at ((r + ot) / dh, (s + ol) / dw); zero past the planes.
 * Shared with transposed.ts.
 */
export function mergePhases(
  rt: WasmRuntime, z: number, y: number, n: number, g: number, cg: number, ph: number, pw: number,
  dh: number, dw: number, ot: number, ol: number, oh: number, ow: number,
): void {
  const v = [
    [DM.Z, z], [DM.Y, y], [DM.G, g], [DM.CG, cg], [DM.PH, ph], [DM.PW, pw], [DM.DH, dh], [DM.DW, dw],
    [DM.OT, ot], [DM.OL, ol], [DM.OH, oh], [DM.OW, ow],
  ] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
  rt.run(KIND.dilMerge, n * g * cg, 0, n * g * cg * oh * ow >= 1 << 15);
}

function applies(attrs: Conv2DAttrs, c: number, k: number): DilGeo | null {
  const gm = dilGeo(attrs);
  return gm && winogradApplies(gm.sub, c, k) ? gm : null;
}

/** y = dilated conv(x, w) with the epilogue, by phases (arena byte pointers). */
function forwardPhases(
  rt: WasmRuntime, fwd: ForwardFn, x: number, w: number, ep: Epilogue, y: number,
  n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs, gm: DilGeo,
): void {
  const [kh, kw] = attrs.kernel;
  const [oh, ow] = attrs.out;
  const perImage = gm.ph * (c * gm.inH * gm.inW + k * gm.u * gm.v);
  const chunk = Math.max(1, Math.min(n, Math.floor(phaseTuning.bytes / 4 / perImage)));
  const p = rt.alloc(chunk * gm.ph * c * gm.inH * gm.inW);
  const z = rt.alloc(chunk * gm.ph * k * gm.u * gm.v);
  for (let n0 = 0; n0 < n; n0 += chunk) {
    const cnt = Math.min(chunk, n - n0);
    split(rt, x + 4 * n0 * c * h * wd, p, cnt, c, h, wd, attrs.pad[0], attrs.pad[2], gm, gm.inH, gm.inW);
    fwd(rt, p, w, ep, z, convDims(cnt * gm.ph, c, gm.inH, gm.inW, k, attrs.groups, kh, kw, gm.u, gm.v), gm.sub);
    mergePhases(rt, z, y + 4 * n0 * k * oh * ow, cnt, 1, k, gm.u, gm.v, gm.dh, gm.dw, 0, 0, oh, ow);
  }
}

/** [n, c, h, w] and [k, c/g, kh, kw] consistent with attrs, or null. */
function sizes(x: readonly number[], w: readonly number[], attrs: Conv2DAttrs): { n: number; c: number; h: number; wd: number; k: number } | null {
  if (x.length !== 4 || w.length !== 4) return null;
  const [n, c, h, wd] = x as [number, number, number, number];
  const [k, cgw, kh, kw] = w as [number, number, number, number];
  const g = attrs.groups;
  if (g < 1 || c % g !== 0 || k % g !== 0 || cgw * g !== c || kh !== attrs.kernel[0] || kw !== attrs.kernel[1]) return null;
  if (n * c * h * wd * k * kh * kw * attrs.out[0] * attrs.out[1] === 0) return null;
  const [dh, dw] = attrs.dilation;
  if (attrs.out[0] !== h + attrs.pad[0] + attrs.pad[1] - dh * (kh - 1) || attrs.out[1] !== wd + attrs.pad[2] + attrs.pad[3] - dw * (kw - 1)) return null;
  return { n, c, h, wd, k };
}

/** Forward hook of conv2d.ts: the result, or null where this path does not apply. */
export function dilatedConv2d(x: KernelTensor, w: KernelTensor, bias: KernelTensor | null, attrs: Conv2DAttrs, fwd: ForwardFn): Float32Array | null {
  const s = sizes(x.shape, w.shape, attrs);
  const scale = attrs.scale ?? null;
  if (!s || (bias && bias.data.length !== s.k) || (scale && scale.data.length !== s.k)) return null;
  const gm = applies(attrs, s.c, s.k);
  if (!gm) return null;
  const rt = runtime();
  rt.begin();
  const px = rt.put(x.data);
  const pw = rt.put(w.data);
  const ep: Epilogue = { bias: bias ? rt.put(bias.data) : 0, scale: scale ? rt.put(scale.data) : 0, relu: attrs.activation === 'relu' };
  const size = s.n * s.k * attrs.out[0] * attrs.out[1];
  const py = rt.alloc(size);
  forwardPhases(rt, fwd, px, pw, ep, py, s.n, s.c, s.h, s.wd, s.k, attrs, gm);
  return rt.read(py, size);
}

/** Filters per task of the flip job (as conv2d.ts). */
const FLIP_ROWS = 16;

/** Input-gradient hook of conv2d.ts: dx = dilated conv(dy, flipped w) with the complementary padding. */
export function dilatedBackpropInput(dy: KernelTensor, w: KernelTensor, inputShape: readonly number[], attrs: Conv2DAttrs, fwd: ForwardFn): Float32Array | null {
  const s = sizes(inputShape, w.shape, attrs);
  if (!s || dy.shape.join() !== [s.n, s.k, attrs.out[0], attrs.out[1]].join()) return null;
  const [kh, kw] = attrs.kernel;
  const [dh, dw] = attrs.dilation;
  const full = [dh * (kh - 1), dh * (kh - 1), dw * (kw - 1), dw * (kw - 1)];
  const flipped: Conv2DAttrs = {
    kernel: [kh, kw], stride: [1, 1], dilation: [dh, dw], groups: attrs.groups, activation: 'none',
    pad: attrs.pad.map((p, i) => full[i]! - p) as [number, number, number, number], out: [s.h, s.wd],
  };
  const gm = applies(flipped, s.k, s.c);
  if (!gm || attrs.stride[0] !== 1 || attrs.stride[1] !== 1) return null;
  const rt = runtime();
  rt.begin();
  const g = attrs.groups, kg = s.k / g, cg = s.c / g;
  const src = rt.put(w.data);
  const pwf = rt.alloc(w.data.length);
  const v = [[FL.SRC, src], [FL.DST, pwf], [FL.KG, kg], [FL.CG, cg], [FL.TAPS, kh * kw], [FL.ROWS, FLIP_ROWS]] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
  rt.run(KIND.flipFilters, g * Math.ceil(kg / FLIP_ROWS), 0, w.data.length >= 1 << 16);
  const pdy = rt.put(dy.data);
  const size = s.n * s.c * s.h * s.wd;
  const pdx = rt.alloc(size);
  forwardPhases(rt, fwd, pdy, pwf, { bias: 0, scale: 0, relu: false }, pdx, s.n, s.k, attrs.out[0], attrs.out[1], s.c, flipped, gm);
  return rt.read(pdx, size);
}

/** Filter-gradient hook of conv2d.ts: Winograd's filter gradient over the batch of phases. */
export function dilatedBackpropFilter(x: KernelTensor, dy: KernelTensor, filterShape: readonly number[], attrs: Conv2DAttrs): Float32Array | null {
  const s = sizes(x.shape, filterShape, attrs);
  if (!s || attrs.groups !== 1 || dy.shape.join() !== [s.n, s.k, attrs.out[0], attrs.out[1]].join()) return null;
  const gm = dilGeo(attrs);
  const rt = runtime();
  // All images' phases at once (Winograd sums over them): where they fit.
  if (!gm || 4 * s.n * gm.ph * (s.c * gm.inH * gm.inW + s.k * gm.u * gm.v) > 2 * phaseTuning.bytes) return null;
  if (!winogradFilterApplies(gm.sub, s.n * gm.ph, s.c, s.k, rt.plannedThreads())) return null;
  rt.begin();
  const px = rt.put(x.data);
  const pdy = rt.put(dy.data);
  const p = rt.alloc(s.n * gm.ph * s.c * gm.inH * gm.inW);
  split(rt, px, p, s.n, s.c, s.h, s.wd, attrs.pad[0], attrs.pad[2], gm, gm.inH, gm.inW);
  const pz = rt.alloc(s.n * gm.ph * s.k * gm.u * gm.v);
  split(rt, pdy, pz, s.n, s.k, attrs.out[0], attrs.out[1], 0, 0, gm, gm.u, gm.v);
  return runWinogradFilter(rt, p, pz, s.n * gm.ph, s.c, gm.inH, gm.inW, s.k, gm.sub);
}
